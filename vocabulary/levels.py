"""The four quality levels (design.md section 2), best first."""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    """The four quality levels, best first. Compares by rank: `Level.HTXSNV > Level.HTTNV`.

    The value is the short code stored in the database, and a Level is equal to its code string, so
    `{Level.HTNV: 3}["HTNV"]` works. Ordering also accepts code strings.
    """

    HTXSNV = "HTXSNV"
    HTTNV = "HTTNV"
    HTNV = "HTNV"
    KHTNV = "KHTNV"

    @classmethod
    def coerce(cls, value: Level | str) -> Level:
        if isinstance(value, cls):
            return value
        # A code seen before: the member itself, without Enum's call (hot on a province's list).
        member = cls._value2member_map_.get(value) if isinstance(value, str) else None
        if member is not None:
            return member
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"unknown level {value!r}; expected one of {', '.join(cls)}") from None

    @classmethod
    def best_first(cls) -> tuple[Level, ...]:
        return (cls.HTXSNV, cls.HTTNV, cls.HTNV, cls.KHTNV)

    @classmethod
    def codes(cls) -> tuple[str, ...]:
        """The codes as plain strings, best first."""
        return tuple(level.value for level in cls.best_first())

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def label_vi(self) -> str:
        return _LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _LABELS[self][1]

    def label(self, lang: str) -> str:
        return self.label_vi if lang == "vi" else self.label_en

    def __lt__(self, other):
        return self.rank < Level.coerce(other).rank

    def __le__(self, other):
        return self.rank <= Level.coerce(other).rank

    def __gt__(self, other):
        return self.rank > Level.coerce(other).rank

    def __ge__(self, other):
        return self.rank >= Level.coerce(other).rank


_RANK = {Level.HTXSNV: 4, Level.HTTNV: 3, Level.HTNV: 2, Level.KHTNV: 1}
_LABELS = {
    Level.HTXSNV: ("Hoàn thành xuất sắc nhiệm vụ", "Excellently completed duties"),
    Level.HTTNV: ("Hoàn thành tốt nhiệm vụ", "Well completed duties"),
    Level.HTNV: ("Hoàn thành nhiệm vụ", "Completed duties"),
    Level.KHTNV: ("Không hoàn thành nhiệm vụ", "Did not complete duties"),
}
