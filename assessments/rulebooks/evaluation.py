"""What the rulebooks return: findings, exclusions, 2025 scores, evaluations and quota checks.

The messages are written in Vietnamese (they cite Vietnamese documents) with an English twin for the
English UI. Pure standard-library Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from vocabulary import ExclusionReason, Level

from .scales import Severity, SubjectKind, lowest


@dataclass(frozen=True)
class Finding:
    """One rule's verdict on a subject.

    cap: the highest level the rule allows ("at most"); a BLOCK finding without a cap blocks every level
    until its cause is fixed (a missing comment, a missing civil-service rating). mitigable: the
    deciding level may grade above the cap with a written reason (the 2025 discretionary mitigation).
    unchecked: a warning that the rule could not be checked for lack of data (levels of subordinates or
    of same-level bodies not known, nothing rated or scored yet); it flags the levels above its cap but
    does not lower the suggested level.
    """

    rule_id: str
    severity: Severity
    message_vi: str
    message_en: str
    cap: Level | None = None
    mitigable: bool = False
    mark: str = "V"
    unchecked: bool = False

    def message(self, lang: str) -> str:
        return self.message_vi if lang == "vi" else self.message_en

    def forbids(self, level: Level | str, mitigated: Iterable[str] = ()) -> bool:
        if self.severity != Severity.BLOCK:
            return False
        if self.mitigable and self.rule_id in set(mitigated):
            return False
        return self.cap is None or Level.coerce(level) > self.cap

    def flags(self, level: Level | str) -> bool:
        """A warning that concerns `level`."""
        return self.severity == Severity.WARN and (self.cap is None or Level.coerce(level) > self.cap)


@dataclass(frozen=True)
class Exclusion:
    """Why a subject is not classified (không xếp loại). reviewed: it still writes a self-review.

    `values` are what the message cites (a date, a number of months), written as the message writes
    them, the same in both languages: with the rule id and the reason they are all it takes to write
    the message again in either language (`exclusion_message`), so the caller stores those three."""

    reason: ExclusionReason
    rule_id: str
    message_vi: str
    message_en: str
    reviewed: bool = False
    values: Mapping[str, str] = field(default_factory=dict)

    def message(self, lang: str) -> str:
        return self.message_vi if lang == "vi" else self.message_en


@dataclass(frozen=True)
class Score:
    """A 2025 score: the general group (out of 30), the results group (out of 70) and the total."""

    general: Decimal
    results: Decimal
    missing: tuple[str, ...] = ()  # points items left empty (counted as 0)
    declared: Decimal | None = None  # a total known without its points (a paper form)

    @property
    def total(self) -> Decimal:
        return self.declared if self.declared is not None else self.general + self.results


@dataclass(frozen=True)
class Evaluation:
    """The findings on one subject and what they allow.

    `allowed(level)` enforces the BLOCK findings; `suggested_level()` also follows the warnings (not the
    unchecked ones): it is the highest level that no enabled rule caps (2018: the highest level whose
    conditions hold; 2025: the lower of the score band and the conditions, a trigger overriding both).
    """

    regime: str
    subject_kind: SubjectKind
    findings: tuple[Finding, ...] = ()
    not_classified: Exclusion | None = None
    score: Score | None = None
    band: Level | None = None
    proposed_level: Level | None = None

    @property
    def rule_ids(self) -> frozenset[str]:
        return frozenset(finding.rule_id for finding in self.findings)

    def by_rule(self, rule_id: str) -> tuple[Finding, ...]:
        return tuple(finding for finding in self.findings if finding.rule_id == rule_id)

    @property
    def cap(self) -> Level | None:
        """The lowest cap of the BLOCK findings, before any mitigation."""
        return lowest(*(f.cap for f in self.findings if f.severity == Severity.BLOCK))

    @property
    def advisory_cap(self) -> Level | None:
        """The lowest cap of the BLOCK and WARN findings."""
        return lowest(*(f.cap for f in self.findings if f.severity != Severity.INFO))

    @property
    def unchecked(self) -> tuple[Finding, ...]:
        """The warnings of rules that could not be checked for lack of data."""
        return tuple(f for f in self.findings if f.unchecked)

    @property
    def mitigable(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.mitigable)

    @property
    def is_classified(self) -> bool:
        return self.not_classified is None

    def explain(self, level: Level | str, mitigated: Iterable[str] = ()) -> tuple[Finding, ...]:
        """The BLOCK findings that forbid `level` (empty when it is allowed, unless not classified)."""
        mitigated = set(mitigated)
        return tuple(f for f in self.findings if f.forbids(level, mitigated))

    def warnings(self, level: Level | str) -> tuple[Finding, ...]:
        """The WARN findings that concern `level`: it is allowed, but someone should look again."""
        return tuple(f for f in self.findings if f.flags(level))

    def allowed(self, level: Level | str, mitigated: Iterable[str] = ()) -> bool:
        """Whether `level` may be decided. `mitigated`: ids of mitigable findings the deciding level overrides."""
        if self.not_classified is not None:
            return False
        return not self.explain(level, mitigated)

    def allowed_levels(self, mitigated: Iterable[str] = ()) -> tuple[Level, ...]:
        """The levels `allowed`, best first, in one pass over the findings: those at or under the lowest
        cap of the BLOCK findings not mitigated, none when one of them has no cap (a ranking reads it
        for each of its thousands of rows)."""
        if self.not_classified is not None:
            return ()
        mitigated = set(mitigated)
        ceiling = None
        for finding in self.findings:
            if finding.severity != Severity.BLOCK or (finding.mitigable and finding.rule_id in mitigated):
                continue
            if finding.cap is None:
                return ()
            cap = Level.coerce(finding.cap)
            if ceiling is None or cap < ceiling:
                ceiling = cap
        levels = Level.best_first()
        return levels if ceiling is None else tuple(level for level in levels if not level > ceiling)

    def suggested_level(self, mitigated: Iterable[str] = ()) -> Level | None:
        if self.not_classified is not None:
            return None
        mitigated = set(mitigated)
        caps = [
            f.cap
            for f in self.findings
            if f.severity != Severity.INFO and not f.unchecked and not (f.mitigable and f.rule_id in mitigated)
        ]
        return lowest(Level.HTXSNV, *caps)

    @property
    def level(self) -> Level | None:
        """The suggested level without mitigation."""
        return self.suggested_level()

    @property
    def proposal_problems(self) -> tuple[Finding, ...]:
        """The findings that forbid or flag the proposed level, if one was given."""
        if self.proposed_level is None:
            return ()
        return self.explain(self.proposed_level) + self.warnings(self.proposed_level)


@dataclass(frozen=True)
class QuotaResult:
    """The quota check of one group: at most `cap_count` HTXSNV for `denominator` counted subjects."""

    rule_id: str
    rate: Decimal
    denominator: int
    cap_count: int
    count: int  # subjects at HTXSNV
    severity: Severity
    message_vi: str
    message_en: str
    mark: str = "V"

    @property
    def within(self) -> bool:
        return self.count <= self.cap_count

    @property
    def allowed(self) -> bool:
        """False only when the quota is exceeded and the rule blocks."""
        return self.within or self.severity != Severity.BLOCK

    @property
    def excess(self) -> int:
        return max(0, self.count - self.cap_count)

    def message(self, lang: str) -> str:
        return self.message_vi if lang == "vi" else self.message_en

    def as_finding(self) -> Finding | None:
        if self.within:
            return None
        return Finding(self.rule_id, self.severity, self.message_vi, self.message_en, mark=self.mark)
