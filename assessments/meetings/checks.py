"""Checking the minutes as typed: the date, the attendance and every member's numbers, each problem
with its own message."""

import datetime
import re
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..core.errors import WorkflowError
from .sheet import (
    ATTENDANCE_FIELDS,
    COUNT_FIELDS,
    LEVEL_NAMES,
    MAX_COMMENT,
    MAX_COUNT,
    SHARED_FIELDS,
    count_label,
    name_list,
    row_key,
    show_date,
)


@dataclass
class MeetingInput:
    """The minutes as typed: raw strings, checked and converted by `check_meeting`."""

    held_on: str = ""
    members_total: str = ""
    present: str = ""
    absent: str = ""
    absentees: list = field(default_factory=list)  # public ids of the absent members' assessments
    rows: dict = field(default_factory=dict)  # assessment public id -> {field name: raw string}


@dataclass
class CheckedMeeting:
    held_on: datetime.date
    members_total: int
    present: int
    absent: int
    absentee_member_ids: set
    rows: dict  # assessment pk -> {"comments": str, field: int | None}
    # Lines with shared numbers typed but no level count yet: not counted, their numbers not saved.
    pending: set = field(default_factory=set)  # assessment pks


def _number(raw, errors, key):
    """A whole number from the form, or None when empty; a message in `errors` when it is not one."""
    raw = (raw or "").strip()
    if raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        errors.setdefault(key, []).append(_("Please enter a whole number."))
        return False
    if value < 0:
        errors.setdefault(key, []).append(_("The number cannot be negative."))
        return False
    if value > MAX_COUNT:
        errors.setdefault(key, []).append(_("The number is too large (at most %(max)d).") % {"max": MAX_COUNT})
        return False
    return value


DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})$")


YEAR_MONTH_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def parse_date(raw):
    """A date written day/month/year (25/11/2026, 25-11-2026, 25.11.2026) or as the browser sends it
    (2026-11-25); None when it is not a date."""
    raw = (raw or "").strip()
    match = YEAR_MONTH_DAY.match(raw)
    if match:
        year, month, day = map(int, match.groups())
    else:
        match = DAY_MONTH_YEAR.match(raw)
        if not match:
            return None
        day, month, year = map(int, match.groups())
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def _date(raw, errors, key, *, year=None):
    """The date of the meeting: given, a real date, not after today and not before the year reviewed."""
    raw = (raw or "").strip()
    today = timezone.localdate()
    if not raw:
        errors.setdefault(key, []).append(
            _("Please enter the date of the meeting as day/month/year, for example %(example)s.")
            % {"example": show_date(today)}
        )
        return None
    value = parse_date(raw)
    if value is None:
        errors.setdefault(key, []).append(
            _(
                "“%(value)s” is not a date. Please write the date of the meeting as day/month/year, "
                "for example %(example)s."
            )
            % {"value": raw[:40], "example": show_date(today)}
        )
        return None
    if value > today:
        errors.setdefault(key, []).append(
            _("The date of the meeting (%(date)s) is after today (%(today)s). Please enter the day the cell met.")
            % {"date": show_date(value), "today": show_date(today)}
        )
        return None
    if year is not None and value.year < year:
        errors.setdefault(key, []).append(
            _("The date of the meeting (%(date)s) is before the year under review (%(year)d). Please check the year.")
            % {"date": show_date(value), "year": year}
        )
        return None
    return value


def missing_message():
    """The message of a number left empty in a line that is being counted."""
    return _("Please fill in this number.")


def check_counts(numbers, present, errors, key):
    """The arithmetic of one member's line; `numbers` maps each count field to an int, None (empty) or
    False (already refused). Messages go to `errors` under `key(field)`, and what the line as a whole
    lacks under `key("line")`. A line without any level count is not counted yet: nothing to check."""
    if all(numbers.get(name) is None for name in LEVEL_NAMES):
        return
    given = {name: value for name, value in numbers.items() if value is not None}
    missing = [name for name in COUNT_FIELDS if numbers.get(name) is None]
    for name in missing:
        errors.setdefault(key(name), []).append(missing_message())
    if missing:
        errors.setdefault(key("line"), []).append(
            _(
                "This line still lacks: %(fields)s. Fill them in, or empty the four level counts "
                "to leave this member for later."
            )
            % {"fields": ", ".join(count_label(name) for name in missing)}
        )
    if missing or any(value is False for value in given.values()):
        return
    issued, received, valid = numbers["issued"], numbers["received"], numbers["valid"]
    if isinstance(present, int) and present is not False and issued > present:
        errors.setdefault(key("issued"), []).append(
            _("Ballots issued (%(issued)d) cannot be more than the members present (%(present)d).")
            % {"issued": issued, "present": present}
        )
    if received > issued:
        errors.setdefault(key("received"), []).append(
            _("Ballots received (%(received)d) cannot be more than the ballots issued (%(issued)d).")
            % {"received": received, "issued": issued}
        )
    if valid > received:
        errors.setdefault(key("valid"), []).append(
            _("Valid ballots (%(valid)d) cannot be more than the ballots received (%(received)d).")
            % {"valid": valid, "received": received}
        )
    if valid == 0:
        errors.setdefault(key("valid"), []).append(
            _("With no valid ballot no level can be proposed: leave the line empty until the ballots are counted.")
        )
    total = sum(numbers[name] for name in LEVEL_NAMES)
    if total != valid:
        errors.setdefault(key("levels"), []).append(
            _(
                "The ballots for the four levels add up to %(total)d, but the valid ballots are %(valid)d. "
                "They must be equal: a ballot with no level ticked for this member is invalid for them."
            )
            % {"total": total, "valid": valid}
        )


def check_meeting(data, roster, *, year=None):
    """(CheckedMeeting, errors): every field of the minutes checked against the cell's roster.

    The errors map a field to its messages; the CheckedMeeting is only meaningful without errors.
    `year`, the year under review, bounds the date of the meeting from below."""
    errors = {}
    held_on = _date(data.held_on, errors, "held_on", year=year)
    numbers = {}
    for name in ATTENDANCE_FIELDS:
        value = _number(getattr(data, name), errors, name)
        if value is None:
            errors.setdefault(name, []).append(_("Please enter this number."))
        numbers[name] = value
    total, present, absent = numbers["members_total"], numbers["present"], numbers["absent"]
    if all(isinstance(v, int) and v is not False for v in (total, present, absent)):
        if total == 0:
            errors.setdefault("members_total", []).append(_("A cell meeting needs at least one member."))
        elif present + absent != total:
            errors.setdefault("members_total", []).append(
                _("Present (%(present)d) and absent (%(absent)d) must add up to the members of the cell (%(total)d).")
                % {"present": present, "absent": absent, "total": total}
            )
    by_public_id = {str(a.public_id): a for a in roster}
    absentee_ids = set()
    for public_id in data.absentees:
        assessment = by_public_id.get(str(public_id))
        if assessment is None:
            raise WorkflowError(_("A member in this list does not belong to this cell."))
        absentee_ids.add(assessment.member_id)
    if isinstance(absent, int) and absent is not False and len(absentee_ids) != absent:
        errors.setdefault("absentees", []).append(
            _(
                "You ticked %(ticked)d absent members, but the number absent is %(absent)d. "
                "Please tick each absent member."
            )
            % {"ticked": len(absentee_ids), "absent": absent}
        )
    rows, pending = {}, set()
    for public_id, raw in data.rows.items():
        assessment = by_public_id.get(str(public_id))
        if assessment is None or not assessment.classified:
            raise WorkflowError(_("A member in this list does not belong to this cell."))
        comments = (raw.get("comments") or "").replace("\r\n", "\n").strip()
        if len(comments) > MAX_COMMENT:
            errors.setdefault(row_key(assessment, "comments"), []).append(
                _("The comments are longer than %(max)d characters. Please shorten them.") % {"max": MAX_COMMENT}
            )
        line = {name: _number(raw.get(name), errors, row_key(assessment, name)) for name in LEVEL_NAMES}
        if all(value is None for value in line.values()):
            # Not counted yet: the shared numbers wait, unchecked and unsaved, for the level counts.
            line = dict.fromkeys(COUNT_FIELDS)
            if any((raw.get(name) or "").strip() for name in SHARED_FIELDS):
                pending.add(assessment.pk)
        else:
            line.update({name: _number(raw.get(name), errors, row_key(assessment, name)) for name in SHARED_FIELDS})
            check_counts(line, present, errors, lambda name, a=assessment: row_key(a, name))
        line["comments"] = comments
        rows[assessment.pk] = line
    checked = CheckedMeeting(
        held_on=held_on,
        members_total=total,
        present=present,
        absent=absent,
        absentee_member_ids=absentee_ids,
        rows=rows,
        pending=pending,
    )
    return checked, errors


def refusal_message(errors, roster):
    """The message at the top of refused minutes: what kinds of things are wrong, and where."""
    problems = []
    if "held_on" in errors:
        problems.append(_("the date of the meeting"))
    if any(name in errors for name in ATTENDANCE_FIELDS):
        problems.append(_("the number of members, present and absent"))
    if "absentees" in errors:
        problems.append(_("the members ticked as absent"))
    wrong_lines = {key.split(":", 1)[0] for key in errors if ":" in key}
    names = [a.member.full_name for a in roster if str(a.public_id) in wrong_lines]
    if names:
        problems.append(
            ngettext(
                "the line of %(count)d member (%(names)s)",
                "the lines of %(count)d members (%(names)s)",
                len(names),
            )
            % {"count": len(names), "names": name_list(names)}
        )
    return _(
        "The minutes have not been saved. Please correct: %(problems)s. "
        "Everything you typed is still on the page; the places to correct are marked in red."
    ) % {"problems": "; ".join(problems)}
