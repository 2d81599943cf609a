"""Form templates as data: FormTemplate, its sections and items, their dict form and its validation.

A template is data (the board may edit a copy per period: `FormTemplate.from_dict(template.to_dict())`
round-trips and validates). Item kinds: text, rating (the 2018 four steps), points (0..max), checklist
(present/absent per entry), level (one of the four levels) and share (a percentage from 0 to 100 of
what its `measure` names: the year's tasks completed, on time, beyond requirements, or the earlier
shortcomings fixed; with `none_label_*`, it may also be answered "there were none"). A regime names its templates with
`TemplateKey`; form_files.py loads them from the data files, form_answers.py checks the answers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from types import MappingProxyType

from .arithmetic import to_decimal


class ItemKind(StrEnum):
    TEXT = "text"
    RATING = "rating"
    POINTS = "points"
    CHECKLIST = "checklist"
    LEVEL = "level"
    SHARE = "share"


# What a share item measures: the fields of the rulebook's Answers it fills (TaskStats, shortcomings_fixed).
TASKS_COMPLETED = "tasks.completed"
TASKS_ON_TIME = "tasks.on_time"
TASKS_EXCEEDING = "tasks.exceeding"
SHORTCOMINGS_FIXED = "shortcomings_fixed"
MEASURES = (TASKS_COMPLETED, TASKS_ON_TIME, TASKS_EXCEEDING, SHORTCOMINGS_FIXED)
SHARE_NONE = "none"  # the answer of a share item that allows it: there was nothing to count


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
    measure: str | None = None  # a share item: one of MEASURES
    none_label_vi: str = ""  # a share item that may be answered "there were none": that answer's label
    none_label_en: str = ""

    def label(self, lang: str) -> str:
        return self.label_vi if lang == "vi" else self.label_en

    @property
    def allows_none(self) -> bool:
        return bool(self.none_label_vi)

    def none_label(self, lang: str) -> str:
        return self.none_label_vi if lang == "vi" else self.none_label_en


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

    # A template is frozen: what is read of it for every subject of a list is worked out once and kept on
    # the instance (cached_property writes past the frozen dataclass; eq and hash read the fields only).
    @cached_property
    def _items(self) -> tuple[Item, ...]:
        return tuple(item for section in self.sections for item in section.items)

    @cached_property
    def _shares(self) -> Mapping[str, Item]:
        return MappingProxyType({item.measure: item for item in self._items if item.kind == ItemKind.SHARE})

    @cached_property
    def _ratings(self) -> tuple[Item, ...]:
        return tuple(i for i in self._items if i.kind == ItemKind.RATING)

    @cached_property
    def _points(self) -> tuple[Item, ...]:
        return tuple(i for i in self._items if i.kind == ItemKind.POINTS)

    def items(self) -> Iterator[Item]:
        return iter(self._items)

    def item(self, item_id: str) -> Item:
        for item in self.items():
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items())

    def rating_items(self, tag: str | None = None) -> tuple[Item, ...]:
        if tag is None:
            return self._ratings
        return tuple(i for i in self.items() if i.kind == ItemKind.RATING and (tag is None or tag in i.tags))

    @cached_property
    def _points_by_id(self) -> Mapping[str, Item]:
        return MappingProxyType({item.id: item for item in self._points})

    @cached_property
    def _points_by_group(self) -> dict[ScoreGroup, tuple[Item, ...]]:
        return {group: self._points_in(group) for group in ScoreGroup}

    @cached_property
    def points_groups(self) -> Mapping[str, ScoreGroup]:
        """{item id: its score group} of the points items in a group (read only)."""
        return MappingProxyType({item.id: group for group, items in self._points_by_group.items() for item in items})

    def points_by_id(self) -> Mapping[str, Item]:
        """{item id: item} of the points items, in the form's order (read only)."""
        return self._points_by_id

    def points_items(self, group: ScoreGroup | None = None) -> tuple[Item, ...]:
        if group is None:
            return self._points
        if group in self._points_by_group:
            return self._points_by_group[group]
        return self._points_in(group)

    def _points_in(self, group: ScoreGroup) -> tuple[Item, ...]:
        return tuple(
            item
            for section in self.sections
            if group is None or section.group == group
            for item in section.items
            if item.kind == ItemKind.POINTS
        )

    def share_items(self) -> Mapping[str, Item]:
        """{measure: item} of the share items (read only)."""
        return self._shares

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
        measures = [item.measure for item in template.items() if item.kind == ItemKind.SHARE]
        for measure in sorted({m for m in measures if measures.count(m) > 1}):
            problems.append(f"more than one share item measures {measure!r}")
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
    if item.kind == ItemKind.SHARE:
        if item.measure not in MEASURES:
            problems.append(f"share item {item.id!r} needs a measure, one of {', '.join(MEASURES)}")
        if bool(item.none_label_vi) != bool(item.none_label_en):
            problems.append(f"share item {item.id!r} needs none_label_vi and none_label_en together")
    elif item.measure is not None or item.none_label_vi or item.none_label_en:
        problems.append(f"item {item.id!r} is not a share item but has a measure or a none label")
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
        measure=data.get("measure"),
        none_label_vi=data.get("none_label_vi", ""),
        none_label_en=data.get("none_label_en", ""),
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
        "measure": item.measure,
        "none_label_vi": item.none_label_vi,
        "none_label_en": item.none_label_en,
    }


@dataclass(frozen=True)
class TemplateKey:
    """Where a regime finds a template: the data file, and the variants it may be asked for (first: default)."""

    file: str
    variants: tuple[str | None, ...] = (None,)
