"""The vocabulary every rulebook shares: ratings, plain facts, findings and evaluations (the levels and
the reasons for not classifying are the project's, in `vocabulary`).

Pure standard-library Python. The callers fill the fact dataclasses from the database; the rulebooks
return findings. Nothing here knows a model, a request or a translation catalogue: the messages are
written in Vietnamese (they cite Vietnamese documents) with an English twin for the English UI.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from vocabulary import ExclusionReason, Level

# --- Ordered scales ---------------------------------------------------------------------------------


def at_most(a: Level | str | None, b: Level | str | None) -> Level | None:
    """The lower of two levels; None stands for "no limit"."""
    return lowest(a, b)


def lowest(*levels: Level | str | None) -> Level | None:
    """The lowest of the given levels, ignoring None; None when no level is given."""
    present = [Level.coerce(level) for level in levels if level is not None]
    return min(present) if present else None


def khtnv_two_years_running(previous_level: Level | str | None, level: Level | str | None) -> bool:
    """KHTNV last year and KHTNV this year (HD 02-HD/BTCTW năm 2021, mục II.1): the cell educates the
    member and considers removal from the Party. A level not known (None or "") never fires it.

    The one statement of the rule: the rulebooks' finding, the decision screens and the year-end
    workbook all ask it, each with the previous year's level as a fact."""
    if not previous_level or not level:
        return False
    return Level.coerce(previous_level) == Level.KHTNV and Level.coerce(level) == Level.KHTNV


class Rating(StrEnum):
    """The four steps of a 2018 criterion (cấp độ thực hiện), best first."""

    XUAT_SAC = "xuat_sac"
    TOT = "tot"
    TRUNG_BINH = "trung_binh"
    KEM = "kem"

    @classmethod
    def coerce(cls, value: Rating | str) -> Rating:
        if isinstance(value, cls):
            return value
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"unknown rating {value!r}; expected one of {', '.join(cls)}") from None

    @property
    def rank(self) -> int:
        return _RATING_RANK[self]

    @property
    def label_vi(self) -> str:
        return _RATING_LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _RATING_LABELS[self][1]

    def label(self, lang: str) -> str:
        return self.label_vi if lang == "vi" else self.label_en

    def __lt__(self, other):
        return self.rank < Rating.coerce(other).rank

    def __le__(self, other):
        return self.rank <= Rating.coerce(other).rank

    def __gt__(self, other):
        return self.rank > Rating.coerce(other).rank

    def __ge__(self, other):
        return self.rank >= Rating.coerce(other).rank


_RATING_RANK = {Rating.XUAT_SAC: 4, Rating.TOT: 3, Rating.TRUNG_BINH: 2, Rating.KEM: 1}
_RATING_LABELS = {
    Rating.XUAT_SAC: ("Xuất sắc", "Excellent"),
    Rating.TOT: ("Tốt", "Good"),
    Rating.TRUNG_BINH: ("Trung bình", "Average"),
    Rating.KEM: ("Kém", "Poor"),
}


class SubjectKind(StrEnum):
    MEMBER = "member"  # đảng viên
    LEADER = "leader"  # cán bộ lãnh đạo, quản lý
    COLLECTIVE = "collective"  # tập thể lãnh đạo, quản lý
    ORGANIZATION = "organization"  # tổ chức đảng: chi bộ or đảng bộ


class Severity(StrEnum):
    """BLOCK forbids the levels above the finding's cap; WARN only flags them; INFO is a note."""

    BLOCK = "block"
    WARN = "warn"
    INFO = "info"


# --- Codes shared with the member records (members.models uses the same strings) ---------------------


class MemberStatus(StrEnum):
    ACTIVE = "active"
    EXCUSED = "excused"  # miễn công tác và sinh hoạt đảng
    SUSPENDED = "suspended"  # đình chỉ sinh hoạt đảng
    TRANSFERRED_OUT = "transferred_out"
    DECEASED = "deceased"
    REMOVED = "removed"


class Occupation(StrEnum):
    CIVIL_SERVANT = "civil_servant"  # CBCCVC
    ARMED_FORCES = "armed_forces"
    WORKER = "worker"
    FARMER = "farmer"
    RETIRED = "retired"
    STUDENT = "student"
    PRIVATE_SECTOR = "private_sector"
    OTHER = "other"


class DisciplineForm(StrEnum):
    """Forms of party discipline, lightest first: khiển trách, cảnh cáo, cách chức, khai trừ."""

    REPRIMAND = "reprimand"
    WARNING = "warning"
    DISMISSAL = "dismissal"
    EXPULSION = "expulsion"

    @property
    def rank(self) -> int:
        return _DISCIPLINE_RANK[self]


_DISCIPLINE_RANK = {
    DisciplineForm.REPRIMAND: 1,
    DisciplineForm.WARNING: 2,
    DisciplineForm.DISMISSAL: 3,
    DisciplineForm.EXPULSION: 4,
}


class OrganizationKind(StrEnum):
    CELL = "cell"  # chi bộ: its members sit directly in it
    COMMITTEE = "committee"  # đảng bộ: it holds subordinate organisations


# --- Numbers ----------------------------------------------------------------------------------------


def to_decimal(value) -> Decimal:
    """A Decimal from an int, a str, a Decimal or a float (through its shortest repr); finite only."""
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, float):
        value = repr(value)
    try:
        result = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(f"not a number: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the end of a shorter month (31/8 + 6 months = 28 or 29/2)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def counts_of(counts: Mapping[Level | str, int] | None) -> dict[Level, int]:
    """Counts by level with every level present; keys may be Level members or code strings."""
    result = dict.fromkeys(Level.best_first(), 0)
    for key, value in (counts or {}).items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"count for {key!r} must be a whole number ≥ 0, not {value!r}")
        result[Level.coerce(key)] += value
    return result


# --- Facts the callers supply -------------------------------------------------------------------------


@dataclass(frozen=True)
class Discipline:
    """A discipline decision of the year (kỷ luật). Decisions with the same violation_key are one violation."""

    decided_on: date
    form: DisciplineForm
    in_official_duties: bool = False  # vi phạm liên quan đến chức trách, nhiệm vụ trong thực thi công vụ
    violation_key: str | None = None  # None: the decision is its own violation
    from_previous_unit: bool = False  # 2025: a violation committed at the member's previous unit
    related_to_remit: bool = True  # 2025: related to the collective's current remit

    def __post_init__(self):
        object.__setattr__(self, "form", DisciplineForm(self.form))

    @property
    def key(self) -> str:
        return self.violation_key or f"{self.decided_on.isoformat()}:{self.form}"


@dataclass(frozen=True)
class TransferFact:
    """A transfer into the member's current cell during the year."""

    transferred_on: date
    months_in_former_cell: int  # months of the year spent in the former cell or unit
    former_cell_comment_received: bool = False


@dataclass(frozen=True)
class TaskStats:
    """Shares of the year's tasks (fractions from 0 to 1, not percentages).

    completed: share of tasks completed; on_time: share completed on time (≤ completed);
    exceeding: share completed beyond requirements. For a leader under the 2025 rules these are the
    tasks of the localities and units the leader directly leads.
    """

    completed: Decimal
    on_time: Decimal | None = None
    exceeding: Decimal | None = None

    def __post_init__(self):
        for name in ("completed", "on_time", "exceeding"):
            value = getattr(self, name)
            if value is None:
                continue
            value = to_decimal(value)
            if not Decimal(0) <= value <= Decimal(1):
                raise ValueError(f"TaskStats.{name} is a share from 0 to 1, not {value}")
            object.__setattr__(self, name, value)
        if self.on_time is not None and self.on_time > self.completed:
            raise ValueError("TaskStats.on_time cannot exceed TaskStats.completed")

    @property
    def not_completed(self) -> Decimal:
        return Decimal(1) - self.completed

    @property
    def late(self) -> Decimal | None:
        """Share of tasks completed, but not on time."""
        return None if self.on_time is None else self.completed - self.on_time


@dataclass(frozen=True)
class MemberFacts:
    """What the database knows about a member for the year under review.

    Lists hold only the records of the year under review (the caller filters by year).
    """

    admission_date: date
    status: MemberStatus = MemberStatus.ACTIVE
    status_since: date | None = None
    official_date: date | None = None  # None while probationary (dự bị)
    suspended_from_committee_only: bool = False  # đình chỉ sinh hoạt cấp ủy: still classified
    occupation: Occupation = Occupation.OTHER
    in_political_system: bool | None = None  # 2025 form 2B/2C; None: derived from the occupation
    civil_service_level: Level | None = None  # the state-side rating of the year (CBCCVC only)
    disciplines: tuple[Discipline, ...] = ()
    counted_violation_keys: frozenset[str] = frozenset()  # violations already counted in an earlier year
    degradation_concluded: bool = False  # kết luận suy thoái, "tự diễn biến", "tự chuyển hóa"
    violated_prohibitions: bool = False  # 2025: vi phạm những điều đảng viên không được làm
    breached_exemplary_duty: bool = False  # 2025: vi phạm quy định về trách nhiệm nêu gương
    sick_leave_days: int = 0
    maternity_leave: bool = False
    transfers: tuple[TransferFact, ...] = ()
    temporary_attachment: bool = False  # sinh hoạt tạm thời
    temporary_cell_comment_received: bool = False
    is_leader: bool = False
    party_post: str = ""
    previous_level: Level | None = None  # the level of the previous year

    def __post_init__(self):
        object.__setattr__(self, "status", MemberStatus(self.status))
        object.__setattr__(self, "occupation", Occupation(self.occupation))
        if self.civil_service_level is not None:
            object.__setattr__(self, "civil_service_level", Level.coerce(self.civil_service_level))
        if self.previous_level is not None:
            object.__setattr__(self, "previous_level", Level.coerce(self.previous_level))
        object.__setattr__(self, "disciplines", tuple(self.disciplines))
        object.__setattr__(self, "transfers", tuple(self.transfers))
        object.__setattr__(self, "counted_violation_keys", frozenset(self.counted_violation_keys))

    @property
    def is_civil_servant(self) -> bool:
        return self.occupation == Occupation.CIVIL_SERVANT

    @property
    def is_probationary(self) -> bool:
        return self.official_date is None

    def status_on(self, day: date) -> MemberStatus:
        """The status at `day`: a status that began after it does not count yet."""
        if self.status_since is not None and self.status_since > day:
            return MemberStatus.ACTIVE
        return self.status


@dataclass(frozen=True)
class LeaderFacts(MemberFacts):
    """A leader or manager: the member facts plus those of the unit they head."""

    is_leader: bool = True
    unit_level: Level | None = None  # the level of the organisation, unit or collective they head
    remit_corruption_disciplined: bool = False  # corruption, waste or negativity in the remit, disciplined
    unit_plan_share: Decimal | None = None  # share of the unit's plan completed (2025: < 0.70 triggers)
    basic_targets_missed: bool = False  # 2025: the 5 basic socio-economic targets not met (where they apply)
    units_led_levels: Mapping[Level, int] | None = None  # levels of the localities and units they lead
    low_confidence_share: Decimal | None = None  # share of low-confidence votes in the year's vote, if any

    def __post_init__(self):
        super().__post_init__()
        if self.unit_level is not None:
            object.__setattr__(self, "unit_level", Level.coerce(self.unit_level))
        for name in ("unit_plan_share", "low_confidence_share"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, to_decimal(value))


@dataclass(frozen=True)
class CollectiveFacts:
    """A leadership collective (tập thể lãnh đạo, quản lý) for the year."""

    founded_on: date | None = None
    organization_level: Level | None = None  # the level of its organisation, agency or unit
    member_disciplines: tuple[Discipline, ...] = ()  # discipline of its members in the year
    counted_violation_keys: frozenset[str] = frozenset()
    member_degradation_concluded: bool = False
    personnel_or_unity_concluded: bool = False  # sai phạm công tác cán bộ, mất đoàn kết, bè phái, chạy chức...
    subordinate_disciplined: bool = False  # a subordinate unit was disciplined
    unit_plan_share: Decimal | None = None
    basic_targets_missed: bool = False
    member_count: int | None = None

    def __post_init__(self):
        if self.organization_level is not None:
            object.__setattr__(self, "organization_level", Level.coerce(self.organization_level))
        object.__setattr__(self, "member_disciplines", tuple(self.member_disciplines))
        object.__setattr__(self, "counted_violation_keys", frozenset(self.counted_violation_keys))
        if self.unit_plan_share is not None:
            object.__setattr__(self, "unit_plan_share", to_decimal(self.unit_plan_share))


@dataclass(frozen=True)
class OrganizationFacts:
    """A party organisation (chi bộ or đảng bộ) for the year.

    member_levels: the levels of all its members; subordinate_levels: those of its subordinate
    organisations (a committee only); peer_levels: those of the same-level government, Fatherland
    Front and mass organisations. None means "not known yet"; an empty tuple of peers means "none".
    """

    kind: OrganizationKind = OrganizationKind.CELL
    founded_on: date | None = None
    member_levels: Mapping[Level, int] | None = None
    subordinate_levels: Mapping[Level, int] | None = None
    peer_levels: tuple[Level, ...] | None = None
    collective_level: Level | None = None
    disciplined: bool = False
    force_majeure: bool = False
    disunity_or_corruption: bool = False  # 2018 [R]: internal disunity, or corruption disciplined

    def __post_init__(self):
        object.__setattr__(self, "kind", OrganizationKind(self.kind))
        if self.peer_levels is not None:
            object.__setattr__(self, "peer_levels", tuple(Level.coerce(level) for level in self.peer_levels))
        if self.collective_level is not None:
            object.__setattr__(self, "collective_level", Level.coerce(self.collective_level))


@dataclass(frozen=True)
class Answers:
    """What the raters gave: ratings (2018) or points (2025), plus the assessment of the year's tasks.

    ratings: criterion id -> Rating; points: criterion id -> points; tasks: task shares (2018 uses
    `completed` only); shortcomings_fixed: share of the earlier shortcomings fixed, None if there were none.
    """

    ratings: Mapping[str, Rating] = field(default_factory=dict)
    points: Mapping[str, Decimal] = field(default_factory=dict)
    tasks: TaskStats | None = None
    shortcomings_fixed: Decimal | None = None

    def __post_init__(self):
        object.__setattr__(self, "ratings", {key: Rating.coerce(value) for key, value in self.ratings.items()})
        object.__setattr__(self, "points", {key: to_decimal(value) for key, value in self.points.items()})
        if self.shortcomings_fixed is not None:
            value = to_decimal(self.shortcomings_fixed)
            if not Decimal(0) <= value <= Decimal(1):
                raise ValueError(f"shortcomings_fixed is a share from 0 to 1, not {value}")
            object.__setattr__(self, "shortcomings_fixed", value)


# --- Results --------------------------------------------------------------------------------------------


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

    @property
    def total(self) -> Decimal:
        return self.general + self.results


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
        mitigated = set(mitigated)
        return tuple(level for level in Level.best_first() if self.allowed(level, mitigated))

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
