"""The plain facts the callers supply: members, leaders, collectives, organisations, and the answers of a form.

Frozen dataclasses that the callers fill from the database (the lists hold the year's records only);
strings are accepted and coerced to the codes and levels. Pure standard-library Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import date
from decimal import Decimal

from vocabulary import Level

from .arithmetic import to_decimal
from .scales import DisciplineForm, MemberStatus, Occupation, OrganizationKind, Rating, as_member


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
    """A transfer into the member's current cell during the year (or after it, while its review is open)."""

    transferred_on: date
    months_in_former_cell: int  # calendar months of the year spent in the former cell or unit
    former_cell_comment_received: bool = False
    former_cell: str = ""  # its name, for the message that says who must send the comment


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
    committee_suspended_on: date | None = None  # the suspension's date, when known (2025: reviewed up to it)
    occupation: Occupation = Occupation.OTHER
    in_political_system: bool | None = None  # 2025 form 2B/2C; None: derived from the occupation
    civil_service_level: Level | None = None  # the state-side rating of the year (CBCCVC only)
    disciplines: tuple[Discipline, ...] = ()
    counted_violation_keys: frozenset[str] = frozenset()  # violations already counted in an earlier year
    degradation_concluded: bool = False  # kết luận suy thoái, "tự diễn biến", "tự chuyển hóa"
    violated_prohibitions: bool = False  # 2025: vi phạm những điều đảng viên không được làm
    breached_exemplary_duty: bool = False  # 2025: vi phạm quy định về trách nhiệm nêu gương
    sick_leave_days: int = 0
    sick_leave_months: Decimal = Decimal(0)  # calendar months of sick leave within the year (with a fraction)
    maternity_leave: bool = False
    transfers: tuple[TransferFact, ...] = ()
    temporary_attachment: bool = False  # sinh hoạt tạm thời
    temporary_cell_comment_received: bool = False
    is_leader: bool = False
    party_post: str = ""
    previous_level: Level | None = None  # the level of the previous year

    def __post_init__(self):
        # Each value made what it must be, and left as it is when it is that already (a province's
        # list makes 100,000 of these).
        setattr_ = object.__setattr__
        if type(self.status) is not MemberStatus:
            setattr_(self, "status", as_member(MemberStatus, self.status))
        if type(self.occupation) is not Occupation:
            setattr_(self, "occupation", as_member(Occupation, self.occupation))
        if self.civil_service_level is not None:
            setattr_(self, "civil_service_level", Level.coerce(self.civil_service_level))
        if self.previous_level is not None:
            setattr_(self, "previous_level", Level.coerce(self.previous_level))
        if type(self.disciplines) is not tuple:
            setattr_(self, "disciplines", tuple(self.disciplines))
        if type(self.transfers) is not tuple:
            setattr_(self, "transfers", tuple(self.transfers))
        if type(self.counted_violation_keys) is not frozenset:
            setattr_(self, "counted_violation_keys", frozenset(self.counted_violation_keys))
        if type(self.sick_leave_months) is not Decimal or not self.sick_leave_months.is_finite():
            setattr_(self, "sick_leave_months", to_decimal(self.sick_leave_months))

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


_MEMBER_FIELDS = tuple(f.name for f in fields(MemberFacts))
# (Every field but the admission date has a plain default.)
_MEMBER_DEFAULTS = {f.name: f.default for f in fields(MemberFacts) if f.default is not MISSING}


def member_facts(admission_date: date, **values) -> MemberFacts:
    """`MemberFacts(admission_date=…, **values)`, made without the frozen dataclass's __init__, which sets
    the 23 fields one at a time through object.__setattr__ (a province's list makes 100,000 of them,
    and that was a third of the facts' time): the defaults, then the values, then `__post_init__` as
    for any other. A name that is not a field is refused as the constructor refuses it."""
    unknown = values.keys() - _MEMBER_DEFAULTS.keys()
    if unknown:
        raise TypeError(f"MemberFacts has no field {sorted(unknown)[0]!r}")
    made = object.__new__(MemberFacts)
    own = made.__dict__
    own.update(_MEMBER_DEFAULTS)
    own.update(values)
    own["admission_date"] = admission_date
    made.__post_init__()
    return made


def leader_facts(facts: MemberFacts, **values) -> LeaderFacts:
    """A leader's facts: a member's `facts` with those of the units they head (`values`)."""
    return LeaderFacts(**{name: getattr(facts, name) for name in _MEMBER_FIELDS}, **values)


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
    `completed` only); shortcomings_fixed: share of the earlier shortcomings fixed, None if there were none;
    total: a 2025 score known only as its total (a paper form), used when no points are given.
    """

    ratings: Mapping[str, Rating] = field(default_factory=dict)
    points: Mapping[str, Decimal] = field(default_factory=dict)
    tasks: TaskStats | None = None
    shortcomings_fixed: Decimal | None = None
    total: Decimal | None = None  # 2025: the total written on a paper form, when its points were not typed in

    def __post_init__(self):
        object.__setattr__(self, "ratings", {key: Rating.coerce(value) for key, value in self.ratings.items()})
        object.__setattr__(self, "points", {key: to_decimal(value) for key, value in self.points.items()})
        if self.shortcomings_fixed is not None:
            value = to_decimal(self.shortcomings_fixed)
            if not Decimal(0) <= value <= Decimal(1):
                raise ValueError(f"shortcomings_fixed is a share from 0 to 1, not {value}")
            object.__setattr__(self, "shortcomings_fixed", value)
        if self.total is not None:
            value = to_decimal(self.total)
            if not Decimal(0) <= value <= Decimal(100):
                raise ValueError(f"total is a score from 0 to 100, not {value}")
            object.__setattr__(self, "total", value)

    @classmethod
    def read(cls, ratings: dict, points: dict, tasks: TaskStats | None, shortcomings_fixed=None, total=None) -> Answers:
        """Answers of values read already as the rulebook reads them (Rating members, finite Decimals
        within their range, as `answer_parts` and the paper total give them), not read again: a
        province's list makes 100,000 of them. The dictionaries are the Answers' own from then on."""
        made = object.__new__(cls)
        made.__dict__.update(
            ratings=ratings, points=points, tasks=tasks, shortcomings_fixed=shortcomings_fixed, total=total
        )
        return made


@dataclass(frozen=True)
class Schedule:
    """The dates of a review period, for `Rulebook.schedule_findings` and `meeting_findings`.

    `quarter` is None for the annual review; a due date is None when the board has not set it.
    """

    year: int
    quarter: int | None = None
    self_review_due: date | None = None
    cell_meeting_due: date | None = None
    grassroots_decision_due: date | None = None
    city_decision_due: date | None = None

    @property
    def annual(self) -> bool:
        return self.quarter is None

    def due_dates(self, *stages: str) -> list[tuple[str, date]]:
        """(stage, due date) of the named stages ("self_review_due", ...) that have one, in that order."""
        return [(stage, getattr(self, stage)) for stage in stages if getattr(self, stage) is not None]
