"""Form templates: sections of items, loaded from the JSON data of a regime, and answer validation.

A template is data (the board may edit a copy per period: `FormTemplate.from_dict(template.to_dict())`
round-trips and validates). Item kinds: text, rating (the 2018 four steps), points (0..max), checklist
(present/absent per entry) and level (one of the four levels).

The loader understands three conveniences in the JSON files, resolved before validation:
- `{"include": "regime2025/annex_4.json"}` in a list of sections: the sections of that file;
- `"when": {"variant": "2B", "guidance": ["HD16"]}` on a section, item or include: kept only when every
  key matches the context (subject_kind, purpose, variant, guidance);
- `"entries_from": "manifestations_27"` on a checklist item: the entries of common/manifestations_27.json.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from vocabulary import Level

from .base import Rating, Score, to_decimal

DATA_ROOT = Path(__file__).parent / "data"


class ItemKind(StrEnum):
    TEXT = "text"
    RATING = "rating"
    POINTS = "points"
    CHECKLIST = "checklist"
    LEVEL = "level"


class FormPurpose(StrEnum):
    SELF_REVIEW = "self_review"  # written by the subject (bản kiểm điểm, báo cáo kiểm điểm)
    ANALYSIS = "analysis"  # filled by another rater (phiếu phân tích chất lượng)


class Presence(StrEnum):
    PRESENT = "present"  # có biểu hiện
    ABSENT = "absent"  # không có biểu hiện


class ScoreGroup(StrEnum):
    GENERAL = "general"  # nhóm tiêu chí chung (30)
    RESULTS = "results"  # nhóm tiêu chí về kết quả thực hiện nhiệm vụ (70)


class TemplateError(ValueError):
    def __init__(self, problems):
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class ChecklistEntry:
    id: str
    label_vi: str
    label_en: str
    group: str = ""
    awaiting_official_wording: bool = False
    keyword_vi: str = ""
    source: str = ""


@dataclass(frozen=True)
class Item:
    id: str
    kind: ItemKind
    label_vi: str
    label_en: str
    help_vi: str = ""
    help_en: str = ""
    required: bool = False
    max_points: Decimal | None = None
    tags: frozenset[str] = frozenset()
    entries: tuple[ChecklistEntry, ...] = ()
    rule_id: str | None = None  # the rule this item serves, reported with its errors
    prefill: str | None = None  # a member/organisation field the caller may prefill
    multiline: bool = True
    reference: str | None = None  # a reference list shown beside the item (e.g. manifestations_27)

    def label(self, lang: str) -> str:
        return self.label_vi if lang == "vi" else self.label_en


@dataclass(frozen=True)
class Section:
    id: str
    label_vi: str
    label_en: str
    items: tuple[Item, ...]
    help_vi: str = ""
    help_en: str = ""
    group: ScoreGroup | None = None
    max_points: Decimal | None = None
    filled_by: str | None = None  # None: the template's filled_by

    def label(self, lang: str) -> str:
        return self.label_vi if lang == "vi" else self.label_en


@dataclass(frozen=True)
class FormTemplate:
    id: str
    regime: str
    subject_kind: str
    purpose: FormPurpose
    code: str
    title_vi: str
    title_en: str
    sections: tuple[Section, ...]
    variant: str | None = None
    help_vi: str = ""
    help_en: str = ""
    total_points: Decimal | None = None
    filled_by: str = "subject"  # subject | rater | cell | committee

    def items(self) -> Iterator[Item]:
        for section in self.sections:
            yield from section.items

    def item(self, item_id: str) -> Item:
        for item in self.items():
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items())

    def rating_items(self, tag: str | None = None) -> tuple[Item, ...]:
        return tuple(i for i in self.items() if i.kind == ItemKind.RATING and (tag is None or tag in i.tags))

    def points_items(self, group: ScoreGroup | None = None) -> tuple[Item, ...]:
        return tuple(
            item
            for section in self.sections
            if group is None or section.group == group
            for item in section.items
            if item.kind == ItemKind.POINTS
        )

    def section_of(self, item_id: str) -> Section:
        for section in self.sections:
            if any(item.id == item_id for item in section.items):
                return section
        raise KeyError(item_id)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "regime": self.regime,
            "subject_kind": self.subject_kind,
            "purpose": self.purpose.value,
            "variant": self.variant,
            "code": self.code,
            "title_vi": self.title_vi,
            "title_en": self.title_en,
            "help_vi": self.help_vi,
            "help_en": self.help_en,
            "total_points": None if self.total_points is None else str(self.total_points),
            "filled_by": self.filled_by,
            "sections": [_section_to_dict(section) for section in self.sections],
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> FormTemplate:
        """Build and validate a template; raises TemplateError listing every problem."""
        problems: list[str] = []
        try:
            template = _template_from_dict(data)
        except (KeyError, TypeError, ValueError) as error:
            raise TemplateError([f"malformed template: {error!r}"]) from None
        seen_sections, seen_items = set(), set()
        for section in template.sections:
            if section.id in seen_sections:
                problems.append(f"duplicate section id {section.id!r}")
            seen_sections.add(section.id)
            if not section.items:
                problems.append(f"section {section.id!r} has no items")
            for item in section.items:
                problems.extend(_item_problems(item, seen_items))
                seen_items.add(item.id)
            if section.group is not None:
                problems.extend(_group_problems(section))
        if template.total_points is not None:
            grouped = [s for s in template.sections if s.group is not None]
            total = sum((s.max_points or Decimal(0) for s in grouped), Decimal(0))
            if total != template.total_points:
                problems.append(f"the scored groups add up to {total}, not {template.total_points}")
        elif template.points_items():
            problems.append("a template with points items needs total_points")
        if problems:
            raise TemplateError(problems)
        return template


def _item_problems(item: Item, seen: set[str]) -> list[str]:
    problems = []
    if not item.id:
        problems.append("an item has no id")
    if item.id in seen:
        problems.append(f"duplicate item id {item.id!r}")
    if not item.label_vi or not item.label_en:
        problems.append(f"item {item.id!r} needs label_vi and label_en")
    if item.kind == ItemKind.POINTS:
        if item.max_points is None or item.max_points <= 0:
            problems.append(f"points item {item.id!r} needs a positive max_points")
    elif item.max_points is not None:
        problems.append(f"item {item.id!r} is not a points item but has max_points")
    if item.kind == ItemKind.CHECKLIST:
        ids = [entry.id for entry in item.entries]
        if not ids:
            problems.append(f"checklist {item.id!r} has no entries")
        if len(ids) != len(set(ids)):
            problems.append(f"checklist {item.id!r} has duplicate entry ids")
    elif item.entries:
        problems.append(f"item {item.id!r} is not a checklist but has entries")
    return problems


def _group_problems(section: Section) -> list[str]:
    problems = []
    if section.max_points is None:
        return [f"scored section {section.id!r} needs max_points"]
    if any(item.kind != ItemKind.POINTS for item in section.items):
        problems.append(f"scored section {section.id!r} may hold only points items")
    total = sum((item.max_points or Decimal(0) for item in section.items), Decimal(0))
    if total != section.max_points:
        problems.append(f"the items of section {section.id!r} add up to {total}, not {section.max_points}")
    return problems


def _decimal_or_none(value) -> Decimal | None:
    return None if value is None else to_decimal(value)


def _template_from_dict(data: Mapping) -> FormTemplate:
    return FormTemplate(
        id=data["id"],
        regime=data["regime"],
        subject_kind=data["subject_kind"],
        purpose=FormPurpose(data["purpose"]),
        variant=data.get("variant"),
        code=data.get("code", ""),
        title_vi=data["title_vi"],
        title_en=data["title_en"],
        help_vi=data.get("help_vi", ""),
        help_en=data.get("help_en", ""),
        total_points=_decimal_or_none(data.get("total_points")),
        filled_by=data.get("filled_by", "subject"),
        sections=tuple(_section_from_dict(section) for section in data["sections"]),
    )


def _section_from_dict(data: Mapping) -> Section:
    return Section(
        id=data["id"],
        label_vi=data["label_vi"],
        label_en=data["label_en"],
        help_vi=data.get("help_vi", ""),
        help_en=data.get("help_en", ""),
        group=ScoreGroup(data["group"]) if data.get("group") else None,
        max_points=_decimal_or_none(data.get("max_points")),
        filled_by=data.get("filled_by"),
        items=tuple(_item_from_dict(item) for item in data["items"]),
    )


def _item_from_dict(data: Mapping) -> Item:
    return Item(
        id=data["id"],
        kind=ItemKind(data["kind"]),
        label_vi=data.get("label_vi", ""),
        label_en=data.get("label_en", ""),
        help_vi=data.get("help_vi", ""),
        help_en=data.get("help_en", ""),
        required=bool(data.get("required", False)),
        max_points=_decimal_or_none(data.get("max_points")),
        tags=frozenset(data.get("tags", ())),
        entries=tuple(ChecklistEntry(**entry) for entry in data.get("entries", ())),
        rule_id=data.get("rule_id"),
        prefill=data.get("prefill"),
        multiline=bool(data.get("multiline", True)),
        reference=data.get("reference"),
    )


def _section_to_dict(section: Section) -> dict:
    return {
        "id": section.id,
        "label_vi": section.label_vi,
        "label_en": section.label_en,
        "help_vi": section.help_vi,
        "help_en": section.help_en,
        "group": None if section.group is None else section.group.value,
        "max_points": None if section.max_points is None else str(section.max_points),
        "filled_by": section.filled_by,
        "items": [_item_to_dict(item) for item in section.items],
    }


def _item_to_dict(item: Item) -> dict:
    return {
        "id": item.id,
        "kind": item.kind.value,
        "label_vi": item.label_vi,
        "label_en": item.label_en,
        "help_vi": item.help_vi,
        "help_en": item.help_en,
        "required": item.required,
        "max_points": None if item.max_points is None else str(item.max_points),
        "tags": sorted(item.tags),
        "entries": [entry.__dict__.copy() for entry in item.entries],
        "rule_id": item.rule_id,
        "prefill": item.prefill,
        "multiline": item.multiline,
        "reference": item.reference,
    }


# --- Loading from the data files ------------------------------------------------------------------


def read_json(name: str, root: Path = DATA_ROOT):
    return json.loads((root / name).read_text(encoding="utf-8"))


def _matches(when: Mapping | None, context: Mapping) -> bool:
    if not when:
        return True
    for key, wanted in when.items():
        wanted = wanted if isinstance(wanted, list) else [wanted]
        if context.get(key) not in wanted:
            return False
    return True


def checklist_entries(name: str, root: Path = DATA_ROOT) -> list[dict]:
    """The entries of a checklist file (common/<name>.json) as template dicts.

    Only verified wording is shown as the resolution's text: a partial quotation says so, and a
    keyword-only entry is labelled as a keyword awaiting the official wording.
    """
    data = read_json(f"common/{name}.json", root)
    entries = []
    for group in data["groups"]:
        for raw in group["items"]:
            code, keyword = f"{group['code']}.{raw['number']}", raw.get("keyword_vi", "")
            if raw["wording"] == "verified":
                label_vi = raw["text_vi"]
            elif raw["wording"] == "partial":
                rest = f"; từ khóa phần còn lại: {keyword}" if keyword else ""
                label_vi = f"{raw['text_vi']} (chưa đủ nguyên văn Nghị quyết{rest})"
            else:
                label_vi = f"Biểu hiện {code} (chưa có nguyên văn Nghị quyết; từ khóa: {keyword})"
            label_en = (
                f"Manifestation {code} (official wording not yet entered; keyword: {raw['summary_en']})"
                if raw["wording"] == "keyword"
                else raw["summary_en"]
            )
            entries.append(
                {
                    "id": f"{group['code']}{raw['number']}",
                    "label_vi": label_vi,
                    "label_en": label_en,
                    "group": group["code"],
                    "awaiting_official_wording": raw["wording"] != "verified",
                    "keyword_vi": keyword,
                    "source": raw.get("source", ""),
                }
            )
    return entries


def _resolve_sections(sections, context, root) -> list[dict]:
    resolved = []
    for raw in sections:
        if not _matches(raw.get("when"), context):
            continue
        if "include" in raw:
            resolved.extend(_resolve_sections(read_json(raw["include"], root)["sections"], context, root))
            continue
        section = {key: value for key, value in raw.items() if key != "when"}
        items = []
        for item in raw["items"]:
            if not _matches(item.get("when"), context):
                continue
            item = {key: value for key, value in item.items() if key != "when"}
            if "entries_from" in item:
                item["entries"] = checklist_entries(item.pop("entries_from"), root)
            items.append(item)
        section["items"] = items
        resolved.append(section)
    return resolved


def load_template(name: str, *, regime: str, subject_kind: str, purpose: str, variant=None, context=None, root=None):
    """Load data/<name>, resolve includes and conditions for the context, and validate it."""
    root = root or DATA_ROOT
    raw = read_json(name, root)
    context = {"subject_kind": subject_kind, "purpose": purpose, "variant": variant, **(context or {})}
    suffix = f".{variant}" if variant else ""
    data = {
        **{key: value for key, value in raw.items() if key != "sections"},
        "id": f"{regime}.{subject_kind}.{purpose}{suffix}",
        "regime": regime,
        "subject_kind": subject_kind,
        "purpose": purpose,
        "variant": variant,
        "sections": _resolve_sections(raw["sections"], context, root),
    }
    for key in ("code", "title_vi", "title_en", "help_vi", "help_en"):
        # A per-variant or per-subject-kind value: {"2B": ..., "2C": ...} or {"member": ..., "leader": ...}.
        if isinstance(data.get(key), Mapping):
            data[key] = data[key].get(variant or "", data[key].get(subject_kind, ""))
    return FormTemplate.from_dict(data)


# --- Answers ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerError:
    item_id: str
    code: str  # unknown_item | wrong_type | required | unknown_rating | unknown_level | points_invalid |
    # points_negative | points_above_max | checklist_unknown_entry | checklist_invalid_value | checklist_incomplete
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
    return errors


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
    raise AssertionError(item.kind)


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


def score(template: FormTemplate, points: Mapping[str, Decimal]) -> Score:
    """The general and results totals of `points`; raises AnswersError on unknown items or bad points."""
    points_items = {item.id: item for item in template.points_items()}
    errors = [
        AnswerError(key, "unknown_item", f"Mục chấm điểm {key!r} không có trong mẫu.", f"No points item {key!r}.")
        for key in points
        if key not in points_items
    ]
    errors += [
        e
        for key, value in points.items()
        if key in points_items
        for e in _value_errors(points_items[key], value, submit=False)
    ]
    if errors:
        raise AnswersError(errors)
    totals = {group: Decimal(0) for group in ScoreGroup}
    for group in ScoreGroup:
        for item in template.points_items(group):
            if item.id in points:
                totals[group] += to_decimal(points[item.id])
    missing = tuple(item_id for item_id in points_items if item_id not in points)
    return Score(general=totals[ScoreGroup.GENERAL], results=totals[ScoreGroup.RESULTS], missing=missing)


@dataclass(frozen=True)
class TemplateKey:
    """Where a regime finds a template: the data file, and the variants it may be asked for (first: default)."""

    file: str
    variants: tuple[str | None, ...] = (None,)
