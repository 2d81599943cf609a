"""The arithmetic the rulebooks share: exact decimals, month offsets and counts by level."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from vocabulary import Level

# --- Numbers ----------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def typed_decimal(text: str) -> Decimal:
    """`to_decimal` of a text, each text read once: a province's forms type the same few numbers
    thousands of times ("8", "9.5"), and a Decimal is immutable, so the one read is shared."""
    return to_decimal(text)


def to_decimal(value) -> Decimal:
    """A Decimal from an int, a str, a Decimal or a float (through its shortest repr); finite only."""
    if type(value) is Decimal and value.is_finite():
        # Already one (most calls on a province's list): no conversion.
        return value
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
