"""The answers of a form checked against its template (`validate_answers`) and the 2025 points totalled (`score`).

The answers map item ids to values: text, a rating code, points, a level code, a checklist of
`{entry id: "present" | "absent"}`, or a share: a percentage from 0 to 100 as typed ("92,5" or "92.5"),
or "none" where the item allows it. Each error carries a code and a message in both languages.
`task_shares` turns the share items' answers into the rulebook's TaskStats and shortcomings fixed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from vocabulary import Level

from .arithmetic import to_decimal
from .evaluation import Score
from .facts import TaskStats
from .forms import (
    SHARE_NONE,
    SHORTCOMINGS_FIXED,
    TASKS_COMPLETED,
    TASKS_EXCEEDING,
    TASKS_ON_TIME,
    FormTemplate,
    Item,
    ItemKind,
    Presence,
    ScoreGroup,
)
from .scales import Rating


@dataclass(frozen=True)
class AnswerError:
    item_id: str
    code: str  # unknown_item | wrong_type | required | unknown_rating | unknown_level | points_invalid |
    # points_negative | points_above_max | checklist_unknown_entry | checklist_invalid_value | checklist_incomplete |
    # share_invalid | share_out_of_range | share_none_not_allowed | shares_inconsistent
    message_vi: str
    message_en: str
    rule_id: str | None = None
    entry_id: str | None = None

    def message(self, lang: str) -> str:
        return self.message_vi if lang == "vi" else self.message_en


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, Mapping) and not value)


def validate_answers(template: FormTemplate, answers: Mapping, *, submit: bool = False, filled_by: str | None = None):
    """Errors in `answers` (item id -> value) against `template`; an empty list means valid.

    Drafts may leave items empty; with submit=True, every required item of the sections filled by
    `filled_by` (default: the template's author) must be answered and every checklist entry marked.
    """
    errors: list[AnswerError] = []
    filled_by = filled_by or template.filled_by
    items = {item.id: item for item in template.items()}
    for item_id in answers:
        if item_id not in items:
            errors.append(
                AnswerError(
                    item_id,
                    "unknown_item",
                    f"Mục {item_id!r} không có trong mẫu {template.code or template.id}.",
                    f"Item {item_id!r} is not in the form {template.code or template.id}.",
                )
            )
    for section in template.sections:
        author = section.filled_by or template.filled_by
        for item in section.items:
            value = answers.get(item.id)
            if _blank(value):
                if submit and item.required and author == filled_by:
                    errors.append(
                        AnswerError(
                            item.id,
                            "required",
                            f"Chưa trả lời mục bắt buộc: {item.label_vi}",
                            f"Required item not answered: {item.label_en}",
                            item.rule_id,
                        )
                    )
                continue
            errors.extend(_value_errors(item, value, submit=submit and author == filled_by))
    errors.extend(_share_consistency_errors(template, answers, errors))
    return errors


def percentage(value) -> Decimal:
    """A percentage as typed ("92,5", "92.5", "92.5 %", 92.5) as a number; ValueError when it is not one."""
    if isinstance(value, str):
        return _typed_percentage(value)
    return to_decimal(value)


@lru_cache(maxsize=4096)
def _typed_percentage(text: str) -> Decimal:
    # The same few shares are typed by thousands ("100", "95"): each text read once (a Decimal is
    # immutable, so the one read is shared).
    return to_decimal(text.strip().removesuffix("%").strip().replace(",", "."))


def _share_consistency_errors(template: FormTemplate, answers: Mapping, errors: list[AnswerError]) -> list[AnswerError]:
    """The tasks done on time, or beyond requirements, are a part of the tasks completed."""
    bad = {error.item_id for error in errors}
    items = template.share_items()
    completed_item = items.get(TASKS_COMPLETED)
    if completed_item is None or completed_item.id in bad or _blank(answers.get(completed_item.id)):
        return []
    completed = percentage(answers[completed_item.id])
    found = []
    for measure, vi, en in (
        (TASKS_ON_TIME, "đúng hạn", "on time"),
        (TASKS_EXCEEDING, "vượt mức yêu cầu", "beyond requirements"),
    ):
        item = items.get(measure)
        if item is None or item.id in bad or _blank(answers.get(item.id)):
            continue
        part = percentage(answers[item.id])
        if part > completed:
            found.append(
                AnswerError(
                    item.id,
                    "shares_inconsistent",
                    f"Các tỉ lệ không khớp nhau: tỉ lệ nhiệm vụ hoàn thành {vi} ({_percent(part, 'vi')}) không thể "
                    f"lớn hơn tỉ lệ nhiệm vụ hoàn thành ({_percent(completed, 'vi')}).",
                    f"The shares do not add up: the share of tasks completed {en} ({_percent(part, 'en')}) "
                    f"cannot be more than the share of tasks completed ({_percent(completed, 'en')}).",
                    item.rule_id,
                )
            )
    return found


def _percent(value: Decimal, lang: str) -> str:
    text = format(value.normalize(), "f")
    return (text.replace(".", ",") if lang == "vi" else text) + "%"


def _fraction(value) -> Decimal | None:
    """The fraction (0 to 1) a share item's answer gives; None when it gives none (blank, "none", not
    a number, outside 0 to 100)."""
    if _blank(value) or value == SHARE_NONE:
        return None
    try:
        share = percentage(value)
    except ValueError:
        return None
    return share / 100 if Decimal(0) <= share <= Decimal(100) else None


@lru_cache(maxsize=4096)
def _typed_fraction(text: str) -> Decimal | None:
    # The same few shares are typed by thousands: each text read once.
    return _fraction(text)


def task_shares(template: FormTemplate, answers: Mapping) -> tuple[TaskStats | None, Decimal | None]:
    """The rulebook's view of the share items answered: (TaskStats, share of earlier shortcomings fixed),
    fractions from 0 to 1. TaskStats needs the share completed; a share left empty or not valid is left out
    (an on-time or beyond share above the completed one leaves out the tasks); "none" fixed gives None."""
    fractions = {}
    for measure, item in template.share_items().items():
        value = answers.get(item.id)
        # Left out: blank, "none" (allowed or not), not a number, outside 0 to 100 (what _share_errors
        # refuses), each share read once.
        fraction = _typed_fraction(value) if type(value) is str else _fraction(value)
        if fraction is not None:
            fractions[measure] = fraction
    tasks = None
    if TASKS_COMPLETED in fractions:
        tasks = _task_stats(fractions[TASKS_COMPLETED], fractions.get(TASKS_ON_TIME), fractions.get(TASKS_EXCEEDING))
    return tasks, fractions.get(SHORTCOMINGS_FIXED)


@lru_cache(maxsize=4096)
def _task_stats(completed: Decimal, on_time: Decimal | None, exceeding: Decimal | None) -> TaskStats | None:
    """The TaskStats of three fractions; None when they do not hold together (a part above the whole).
    Made once for each set of shares (a TaskStats is frozen): thousands of forms give the same few."""
    try:
        tasks = TaskStats(completed=completed, on_time=on_time, exceeding=exceeding)
    except ValueError:
        return None
    if tasks.exceeding is not None and tasks.exceeding > tasks.completed:
        return None
    return tasks


def _value_errors(item: Item, value, *, submit: bool) -> list[AnswerError]:
    def error(code, vi, en, entry_id=None):
        return [AnswerError(item.id, code, vi, en, item.rule_id, entry_id)]

    if item.kind == ItemKind.TEXT:
        if not isinstance(value, str):
            return error("wrong_type", f"{item.label_vi}: phải là văn bản.", f"{item.label_en}: must be text.")
        return []
    if item.kind == ItemKind.RATING:
        try:
            Rating.coerce(value)
        except ValueError:
            return error(
                "unknown_rating",
                f"{item.label_vi}: mức đánh giá {value!r} không hợp lệ (Xuất sắc, Tốt, Trung bình, Kém).",
                f"{item.label_en}: unknown rating {value!r} (Excellent, Good, Average, Poor).",
            )
        return []
    if item.kind == ItemKind.LEVEL:
        try:
            Level.coerce(value)
        except ValueError:
            return error(
                "unknown_level",
                f"{item.label_vi}: mức xếp loại {value!r} không hợp lệ.",
                f"{item.label_en}: unknown level {value!r}.",
            )
        return []
    if item.kind == ItemKind.POINTS:
        try:
            points = to_decimal(value)
        except ValueError:
            return error("points_invalid", f"{item.label_vi}: điểm phải là một số.", f"{item.label_en}: not a number.")
        if points < 0:
            return error(
                "points_negative",
                f"{item.label_vi}: điểm không được âm ({points}).",
                f"{item.label_en}: points cannot be negative ({points}).",
            )
        if points > item.max_points:
            return error(
                "points_above_max",
                f"{item.label_vi}: {points} điểm vượt quá điểm tối đa {item.max_points}.",
                f"{item.label_en}: {points} points exceed the maximum of {item.max_points}.",
            )
        return []
    if item.kind == ItemKind.CHECKLIST:
        return _checklist_errors(item, value, submit=submit, error=error)
    if item.kind == ItemKind.SHARE:
        return _share_errors(item, value, error=error)
    raise AssertionError(item.kind)


def _share_errors(item: Item, value, *, error) -> list[AnswerError]:
    if value == SHARE_NONE:
        if item.allows_none:
            return []
        return error(
            "share_none_not_allowed",
            f"{item.label_vi}: hãy nhập một tỉ lệ phần trăm từ 0 đến 100.",
            f"{item.label_en}: please enter a percentage from 0 to 100.",
        )
    try:
        share = percentage(value)
    except ValueError:
        return error(
            "share_invalid",
            f"{item.label_vi}: tỉ lệ phải là một số phần trăm từ 0 đến 100.",
            f"{item.label_en}: the share must be a percentage from 0 to 100.",
        )
    if not Decimal(0) <= share <= Decimal(100):
        return error(
            "share_out_of_range",
            f"{item.label_vi}: tỉ lệ {_percent(share, 'vi')} nằm ngoài khoảng từ 0% đến 100%.",
            f"{item.label_en}: the share {_percent(share, 'en')} is outside 0% to 100%.",
        )
    return []


def _checklist_errors(item: Item, value, *, submit: bool, error) -> list[AnswerError]:
    if not isinstance(value, Mapping):
        return error(
            "wrong_type",
            f"{item.label_vi}: phải đánh dấu từng biểu hiện.",
            f"{item.label_en}: each entry must be marked.",
        )
    errors = []
    entries = {entry.id: entry for entry in item.entries}
    for entry_id, mark in value.items():
        if entry_id not in entries:
            errors += error(
                "checklist_unknown_entry",
                f"{item.label_vi}: không có biểu hiện {entry_id!r}.",
                f"{item.label_en}: no entry {entry_id!r}.",
                entry_id,
            )
        elif mark not in (Presence.PRESENT, Presence.ABSENT):
            errors += error(
                "checklist_invalid_value",
                f"{item.label_vi}: biểu hiện {entry_id} phải đánh dấu 'có' hoặc 'không có'.",
                f"{item.label_en}: entry {entry_id} must be marked present or absent.",
                entry_id,
            )
    missing = [entry_id for entry_id in entries if entry_id not in value]
    if submit and missing:
        errors += error(
            "checklist_incomplete",
            f"{item.label_vi}: còn {len(missing)} biểu hiện chưa đánh dấu 'có' hoặc 'không có' ({', '.join(missing)}).",
            f"{item.label_en}: {len(missing)} entries not marked present or absent ({', '.join(missing)}).",
        )
    return errors


class AnswersError(ValueError):
    def __init__(self, errors):
        self.errors = tuple(errors)
        super().__init__("; ".join(f"{e.item_id}: {e.message_en}" for e in self.errors))


GENERAL, RESULTS = ScoreGroup.GENERAL, ScoreGroup.RESULTS


def score(template: FormTemplate, points: Mapping[str, Decimal]) -> Score:
    """The general and results totals of `points`; raises AnswersError on unknown items or bad points."""
    points_items = template.points_by_id()
    groups = template.points_groups
    errors = []
    # Each group's total, item by item as the points come (the sum of exact decimals is the same in any
    # order); an item outside the groups counts in neither. One pass: a province's list scores 100,000.
    general = results = Decimal(0)
    for key, value in points.items():
        item = points_items.get(key)
        if item is None:
            errors.append(
                AnswerError(
                    key, "unknown_item", f"Mục chấm điểm {key!r} không có trong mẫu.", f"No points item {key!r}."
                )
            )
            continue
        if not (type(value) is Decimal and value.is_finite() and 0 <= value <= item.max_points):
            # (A finite Decimal within the item's points, what the forms' reading gives, is sound as it is.)
            wrong = _value_errors(item, value, submit=False)
            if wrong:
                errors += wrong
                continue
            value = to_decimal(value)
        group = groups.get(key)
        if group is GENERAL:
            general += value
        elif group is RESULTS:
            results += value
    if errors:
        raise AnswersError(errors)
    missing = ()
    if len(points) < len(points_items):
        missing = tuple(item_id for item_id in points_items if item_id not in points)
    return Score(general=general, results=results, missing=missing)
