"""The rule catalogue of a regime: every rule's id, source, confidence mark and message templates.

Each regime ships `data/<regime>/rules.json`. It lists every machine-checkable rule of the regime's
notes (data/regime-*.md §8, whose ids `data/<regime>/regime_ids.txt` copies: see `notes.py`) with a
status: "implemented" (the rulebook emits findings with this id), "elsewhere" (the project enforces it
outside this package, `where` names the modules) or "skipped" (no machine can check it; `reason` says
why). A rule the notes do not list names the notes' rule it details (`extends`) and says why it exists
(`reason`).
Messages are templates with {placeholders}; a Level, a Rating or a Share placeholder renders in the
language of the message.
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

from vocabulary import Level

from .scales import Rating, Severity

MARKS = ("V", "R")
# Words of a note for the developers (how far a rule was checked against its text): they belong in a
# rule's `note`, never in its `source`, which every message cites to the people using the application.
DEVELOPER_NOTE_MARKERS = ("chưa đối chiếu", "lawnet", "not verified")
STATUSES = ("implemented", "elsewhere", "skipped")
# Rendered messages kept per rule (RuleSpec.render): plenty for the distinct values of a country's list.
RENDERED_KEPT = 4096


class Share(Decimal):
    """A fraction rendered as a percentage: Share("0.455") -> "45,5%" (vi) or "45.5%" (en)."""


class Text(NamedTuple):
    """A value with a Vietnamese and an English form, rendered in the language of the message."""

    vi: str
    en: str


def render_value(value, lang: str) -> str:
    if isinstance(value, Level | Rating):
        return value.label(lang)
    if isinstance(value, Text):
        return value.vi if lang == "vi" else value.en
    if isinstance(value, Share):
        # One decimal at most: a third of a cell's members is "33,3%", not 28 digits.
        return _number((Decimal(value) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP), lang) + "%"
    if isinstance(value, Decimal):
        return _number(value, lang)
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, list | tuple):
        return "; ".join(render_value(item, lang) for item in value)
    return str(value)


def _number(value: Decimal, lang: str) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",") if lang == "vi" else text


@dataclass(frozen=True)
class RuleSpec:
    """One rule of a regime's catalogue. `messages` maps a variant name ("default", ...) to (vi, en)."""

    id: str
    regime: str
    mark: str  # V: read in a public copy; R: reported, not read (switchable, never a hard block)
    source: str
    status: str = "implemented"
    subjects: tuple[str, ...] = ()
    title_vi: str = ""
    title_en: str = ""
    messages: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    reason: str = ""  # why a rule is skipped, or why a rule the notes do not list exists
    where: str = ""  # "elsewhere": the modules of the project that enforce it, separated by ";"
    extends: str = ""  # a rule the notes do not list: the notes' rule it details
    note: str = ""  # for the developers: how far the rule was checked against its document; never shown

    @cached_property
    def implemented(self) -> bool:
        return self.status == "implemented"

    @cached_property
    def switchable(self) -> bool:
        """[R] rules are switches of the period's parameters (on/off, block/warn)."""
        return self.mark == "R" and self.implemented

    def variant_for(self, name: str) -> str:
        """The message variant called `name` if the rule has one, else the default."""
        return name if name in self.messages else "default"

    def render(self, lang: str, values: Mapping[str, object], variant: str = "default") -> str:
        # The same rule says the same thing of many subjects (a province's list renders its messages
        # hundreds of thousands of times): kept by language, variant and values, each value with its type
        # (a Level and its code compare equal but read differently). Unhashable values are not kept.
        try:
            key = (lang, variant, tuple((name, type(value), value) for name, value in values.items()))
            text = self._rendered.get(key)
        except TypeError:
            key, text = None, None
        if text is None:
            vi, en = self.messages[variant]
            rendered = {name: render_value(value, lang) for name, value in values.items()}
            text = f"{(vi if lang == 'vi' else en).format(**rendered)} ({self.source})"
            if key is not None and len(self._rendered) < RENDERED_KEPT:
                self._rendered[key] = text
        return text

    @cached_property
    def _rendered(self) -> dict[tuple, str]:
        return {}

    @cached_property
    def findings(self) -> dict[tuple, object]:
        """The findings of this rule made already, by what makes them (`Rulebook.finding`)."""
        return {}


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def load_catalogue(path: Path, regime: str) -> dict[str, RuleSpec]:
    """Read and check a rules.json: unique ids, known marks and statuses, twin messages with the same fields."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("regime") != regime:
        raise ValueError(f"{path}: regime is {data.get('regime')!r}, expected {regime!r}")
    rules: dict[str, RuleSpec] = {}
    for raw in data["rules"]:
        rule_id = raw.get("id", "?")
        status = raw.get("status", "implemented")
        messages = raw.get("messages", {})
        problems = []
        if rule_id in rules:
            problems.append("duplicate id")
        if raw.get("mark") not in MARKS:
            problems.append(f"mark must be one of {MARKS}")
        if status not in STATUSES:
            problems.append(f"status must be one of {STATUSES}")
        if not raw.get("source"):
            problems.append("source is required")
        elif any(marker in raw["source"] for marker in DEVELOPER_NOTE_MARKERS):
            problems.append("source cites the document only: a note on its checking goes in `note`")
        if status == "implemented":
            for key in ("title_vi", "title_en"):
                if not raw.get(key):
                    problems.append(f"{key} is required")
            if "default" not in messages:
                problems.append("a default message is required")
            for name, message in messages.items():
                if not message.get("vi") or not message.get("en"):
                    problems.append(f"message {name!r} needs vi and en")
                elif _placeholders(message["vi"]) != _placeholders(message["en"]):
                    problems.append(f"message {name!r}: vi and en must use the same placeholders")
        elif status == "elsewhere":
            if not raw.get("where"):
                problems.append("a rule enforced elsewhere needs a where")
        elif not raw.get("reason"):
            problems.append("a skipped rule needs a reason")
        if raw.get("extends") and not raw.get("reason"):
            problems.append("a rule that extends another needs a reason")
        if problems:
            raise ValueError(f"{path}: rule {rule_id}: {'; '.join(problems)}")
        rules[rule_id] = RuleSpec(
            id=rule_id,
            regime=regime,
            mark=raw["mark"],
            source=raw["source"],
            status=status,
            subjects=tuple(raw.get("subjects", ())),
            title_vi=raw.get("title_vi", ""),
            title_en=raw.get("title_en", ""),
            messages={name: (message["vi"], message["en"]) for name, message in messages.items()},
            reason=raw.get("reason", ""),
            where=raw.get("where", ""),
            extends=raw.get("extends", ""),
            note=raw.get("note", ""),
        )
    return rules


def default_severity(spec: RuleSpec) -> Severity:
    return Severity.WARN if spec.mark == "R" else Severity.BLOCK
