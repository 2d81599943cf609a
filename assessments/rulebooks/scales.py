"""The scales and codes every rulebook shares: ratings, subject kinds, severities, member-record codes.

`Level` itself is the project's, in `vocabulary`; here are its ordering helpers (`at_most`, `lowest`)
and the rule of KHTNV two years running. Pure standard-library Python: nothing here knows a model, a
request or a translation catalogue.
"""

from __future__ import annotations

from enum import Enum, StrEnum
from typing import TypeVar

from vocabulary import Level

_E = TypeVar("_E", bound=Enum)


def as_member(cls: type[_E], value: object) -> _E:
    """`cls(value)` for an enumeration, without Enum's call when `value` is a member or a known value
    (the rulebooks' hot paths make hundreds of thousands of them on a province's list)."""
    if type(value) is cls:
        return value
    member = cls._value2member_map_.get(value) if isinstance(value, str) else None
    return member if member is not None else cls(value)


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
        # A code seen before: the member itself, without Enum's call (hot on a province's list).
        member = cls._value2member_map_.get(value) if isinstance(value, str) else None
        if member is not None:
            return member
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
