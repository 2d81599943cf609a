"""The forms of the meeting page: the minutes (the date, the attendance, the members absent) and the
ballot count, one form for each member's line, named after the line's assessment.

They check and convert what was typed, each problem with its own message at its field; what depends
on the records (a decided member, a count from the online ballot) is the service's to refuse."""

import datetime
import re

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..core.forms import KeyedFormSet, VersionField
from .sheet import (
    COUNT_FIELDS,
    LEVEL_NAMES,
    MAX_COMMENT,
    MAX_COUNT,
    SHARED_FIELDS,
    count_label,
    share_label,
    show_date,
)


class CountField(forms.IntegerField):
    """A number of members or of ballots: a whole number from 0 to MAX_COUNT, or nothing."""

    default_error_messages = {
        "invalid": _("Please enter a whole number."),
        "required": _("Please enter this number."),
        "min_value": _("The number cannot be negative."),
        "max_value": _("The number is too large (at most %(limit_value)s)."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(min_value=0, max_value=MAX_COUNT, **kwargs)

    def to_python(self, value):
        # Whole numbers only: "2.0" is not a count of ballots, though IntegerField would take it.
        text = "" if value is None else str(value).strip()
        if text == "":
            return None
        try:
            return int(text)
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class ShareField(forms.DecimalField):
    """A percentage from 0 to 100 ("92,5" or "92.5"), or nothing."""

    default_error_messages = {
        "invalid": _("Please enter a percentage from 0 to 100."),
        "min_value": _("A share cannot be below 0%%."),
        "max_value": _("A share cannot be above 100%%."),
        "max_decimal_places": _("Please enter at most %(max)s decimal places."),
        "max_digits": _("Please enter a percentage from 0 to 100."),
        "max_whole_digits": _("Please enter a percentage from 0 to 100."),
    }

    def __init__(self, **kwargs):
        super().__init__(required=False, min_value=0, max_value=100, max_digits=5, decimal_places=2, **kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().removesuffix("%").strip().replace(",", ".")
        return super().to_python(value)


class CommentsField(forms.CharField):
    """Text typed in a textarea, with the browser's line breaks made plain."""

    def to_python(self, value):
        return super().to_python(value).replace("\r\n", "\n")


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


def missing_message():
    """The message of a number left empty in a line that is being counted."""
    return _("Please fill in this number.")


class MinutesForm(forms.Form):
    """The meeting: its date (typed day/month/year), the attendance, the members ticked absent, and
    the version of the minutes the page was loaded at.

    `roster` is every member's assessment of the cell (the absent may be any of them); `year`, the
    year under review, bounds the date from below."""

    version = VersionField()
    held_on = forms.CharField(label=_("Date of the meeting"), required=False, strip=True)
    members_total = CountField(label=_("Total members of the cell"), required=True)
    present = CountField(label=_("Present at the meeting"), required=True)
    absent = CountField(label=_("Absent from the meeting"), required=True)
    absentees = forms.MultipleChoiceField(
        label=_("Members ticked as absent"),
        required=False,
        error_messages={"invalid_choice": _("A member in this list does not belong to this cell.")},
    )

    def __init__(self, *args, roster, year=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.year = year
        self.fields["absentees"].choices = [(str(a.public_id), a.member.full_name) for a in roster]

    def clean_held_on(self):
        raw = self.cleaned_data["held_on"]
        today = timezone.localdate()
        if not raw:
            raise ValidationError(
                _("Please enter the date of the meeting as day/month/year, for example %(example)s."),
                code="required",
                params={"example": show_date(today)},
            )
        value = parse_date(raw)
        if value is None:
            raise ValidationError(
                _(
                    "“%(value)s” is not a date. Please write the date of the meeting as day/month/year, "
                    "for example %(example)s."
                ),
                code="invalid",
                params={"value": raw[:40], "example": show_date(today)},
            )
        if value > today:
            raise ValidationError(
                _("The date of the meeting (%(date)s) is after today (%(today)s). Please enter the day the cell met."),
                code="future",
                params={"date": show_date(value), "today": show_date(today)},
            )
        if self.year is not None and value.year < self.year:
            raise ValidationError(
                _(
                    "The date of the meeting (%(date)s) is before the year under review (%(year)d). "
                    "Please check the year."
                ),
                code="before_year",
                params={"date": show_date(value), "year": self.year},
            )
        return value

    def clean(self):
        data = super().clean()
        total, present, absent = data.get("members_total"), data.get("present"), data.get("absent")
        if None not in (total, present, absent):
            if total == 0:
                self.add_error("members_total", _("A cell meeting needs at least one member."))
            elif present + absent != total:
                self.add_error(
                    "members_total",
                    ValidationError(
                        _(
                            "Present (%(present)d) and absent (%(absent)d) must add up to the members of the "
                            "cell (%(total)d)."
                        ),
                        params={"present": present, "absent": absent, "total": total},
                    ),
                )
        absentees = data.get("absentees")
        if absent is not None and absentees is not None and len(absentees) != absent:
            self.add_error(
                "absentees",
                ValidationError(
                    _(
                        "You ticked %(ticked)d absent members, but the number absent is %(absent)d. "
                        "Please tick each absent member."
                    ),
                    params={"ticked": len(absentees), "absent": absent},
                ),
            )
        return data


class BallotCountForm(forms.Form):
    """One member's line: the comments and the seven numbers of the count.

    A line without any of the four level counts is not counted yet: its shared numbers (ballots
    issued, received, valid, typed once for everyone) wait unchecked and unsaved, and `pending` in the
    cleaned data says that they were typed. A line with a level count must have all seven numbers, and
    they must add up; `present`, the members present when it is known, bounds the ballots issued."""

    issued = CountField(label=_("Ballots issued"))
    received = CountField(label=_("Ballots received"))
    valid = CountField(label=_("Valid ballots"))
    htxsnv = CountField(label="HTXSNV")
    httnv = CountField(label="HTTNV")
    htnv = CountField(label="HTNV")
    khtnv = CountField(label="KHTNV")
    tasks_completed = ShareField(label=share_label("tasks_completed"))
    tasks_on_time = ShareField(label=share_label("tasks_on_time"))
    tasks_exceeding = ShareField(label=share_label("tasks_exceeding"))
    comments = CommentsField(
        label=_("Comments"),
        required=False,
        max_length=MAX_COMMENT,
        error_messages={
            "max_length": _("The comments are longer than %(limit_value)d characters. Please shorten them.")
        },
    )

    def __init__(self, *args, present=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.present = present

    def _typed(self, name):
        return str(self[name].data or "").strip() != ""

    def _check_shares(self, data):
        """The tasks on time, or beyond requirements, are a part of the tasks completed."""
        completed = data.get("tasks_completed")
        for name in ("tasks_on_time", "tasks_exceeding"):
            part = data.get(name)
            if part is None or name in self._errors:
                continue
            if completed is None and "tasks_completed" not in self._errors:
                self.add_error("tasks_completed", _("Please enter the share of tasks completed as well."))
            elif completed is not None and part > completed:
                self.add_error(
                    name,
                    ValidationError(
                        _(
                            "The shares do not add up: %(part)s%% %(what)s cannot be more than the "
                            "%(completed)s%% of tasks completed."
                        ),
                        code="shares",
                        params={
                            "part": _percent(part),
                            "what": _("on time") if name == "tasks_on_time" else _("beyond requirements"),
                            "completed": _percent(completed),
                        },
                    ),
                )

    def clean(self):
        data = super().clean()
        self._check_shares(data)
        if not any(self._typed(name) for name in LEVEL_NAMES):
            # Not counted yet: whatever the shared numbers are, they are neither checked nor saved.
            for name in SHARED_FIELDS:
                self._errors.pop(name, None)
            data.update(dict.fromkeys(COUNT_FIELDS))
            data["pending"] = any(self._typed(name) for name in SHARED_FIELDS)
            return data
        data["pending"] = False
        missing = [name for name in COUNT_FIELDS if name not in self._errors and data.get(name) is None]
        for name in missing:
            self.add_error(name, missing_message())
        if missing:
            self.add_error(
                None,
                ValidationError(
                    _(
                        "This line still lacks: %(fields)s. Fill them in, or empty the four level counts "
                        "to leave this member for later."
                    ),
                    code="incomplete",
                    params={"fields": ", ".join(str(count_label(name)) for name in missing)},
                ),
            )
        if any(name in self._errors for name in COUNT_FIELDS):
            return data
        self._check_arithmetic(data)
        return data

    def _check_arithmetic(self, numbers):
        issued, received, valid = numbers["issued"], numbers["received"], numbers["valid"]
        if self.present is not None and issued > self.present:
            self.add_error(
                "issued",
                ValidationError(
                    _("Ballots issued (%(issued)d) cannot be more than the members present (%(present)d)."),
                    params={"issued": issued, "present": self.present},
                ),
            )
        if received > issued:
            self.add_error(
                "received",
                ValidationError(
                    _("Ballots received (%(received)d) cannot be more than the ballots issued (%(issued)d)."),
                    params={"received": received, "issued": issued},
                ),
            )
        if valid > received:
            self.add_error(
                "valid",
                ValidationError(
                    _("Valid ballots (%(valid)d) cannot be more than the ballots received (%(received)d)."),
                    params={"valid": valid, "received": received},
                ),
            )
        if valid == 0:
            self.add_error(
                "valid",
                _("With no valid ballot no level can be proposed: leave the line empty until the ballots are counted."),
            )
        total = sum(numbers[name] for name in LEVEL_NAMES)
        if total != valid:
            self.add_error(
                None,
                ValidationError(
                    _(
                        "The ballots for the four levels add up to %(total)d, but the valid ballots are %(valid)d. "
                        "They must be equal: a ballot with no level ticked for this member is invalid for them."
                    ),
                    code="levels",
                    params={"total": total, "valid": valid},
                ),
            )


def _percent(value):
    return format(value.normalize(), "f")


class BallotCountFormSet(KeyedFormSet):
    """The lines of the count, `row-<assessment public id>-<field>`: the lines posted are the lines
    saved. A line of someone not on the cell's list of members to classify is refused."""

    form = BallotCountForm
    key_pattern = re.compile(r"^row-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-\w+$")

    @classmethod
    def get_default_prefix(cls):
        return "row"

    def clean(self):
        if self.unknown:
            raise ValidationError(_("A member in this list does not belong to this cell."), code="unknown")


def minutes_forms(data=None, *, sheet_roster, lines, year, initial=None, line_initial=None):
    """The minutes form and the formset of the lines, bound to `data` when given and checked.

    `sheet_roster` is every member's assessment of the cell, `lines` the public ids of those to
    classify. The lines are checked against the members present as typed, when that is a number."""
    form = MinutesForm(data, roster=sheet_roster, year=year, initial=initial)
    present = None
    if data is not None:
        form.is_valid()
        present = form.cleaned_data.get("present")
    formset = BallotCountFormSet(data, keys=lines, initial=line_initial, form_kwargs={"present": present})
    if data is not None:
        formset.is_valid()
    return form, formset


def field_errors(form, formset):
    """The messages of both forms keyed as the page lists them: a field of the minutes by its name, a
    field of a member's line as "<public id>:<field>" and what concerns the line as a whole as
    "<public id>:line"."""
    errors = {name: list(messages) for name, messages in form.errors.items() if name != NON_FIELD_ERRORS}
    for key, line in formset.by_key.items():
        for name, messages in line.errors.items():
            errors[f"{key}:{'line' if name == NON_FIELD_ERRORS else name}"] = list(messages)
    return errors


def add_line_errors(formset, errors):
    """Put the service's refusals ({"<public id>:<field or line>": [messages]}) on the lines' forms."""
    for key, messages in errors.items():
        public_id, _sep, name = key.partition(":")
        line = formset.by_key.get(public_id)
        if line is None:
            continue
        for message in messages:
            line.add_error(None if name in ("line", "levels") else name, message)


class BallotPaperForm(forms.Form):
    """The online ballot paper: one level for each member on it, `vote-<assessment public id>`.

    `subjects` are the assessments on the paper, `levels` the (value, label) of each level."""

    prefix_pattern = re.compile(r"^vote-(.+)$")

    def __init__(self, *args, subjects, levels, **kwargs):
        super().__init__(*args, **kwargs)
        self.subjects = list(subjects)
        for assessment in self.subjects:
            self.fields[f"vote-{assessment.public_id}"] = forms.ChoiceField(
                label=assessment.member.full_name,
                choices=levels,
                error_messages={
                    "required": _("Please choose one level for this member."),
                    "invalid_choice": _("Please choose one level for this member."),
                },
            )

    def clean(self):
        data = super().clean()
        if any(self.prefix_pattern.match(name) and name not in self.fields for name in self.data):
            raise ValidationError(_("A member in this ballot does not belong to this cell."), code="unknown")
        return data

    def choices(self):
        """{assessment public id: level} of a valid ballot paper, as `ballot.ballot_vote` takes them."""
        return {str(a.public_id): self.cleaned_data[f"vote-{a.public_id}"] for a in self.subjects}

    def rows(self):
        """(assessment, bound field) of each member on the paper, in its order."""
        return [(a, self[f"vote-{a.public_id}"]) for a in self.subjects]


class BallotCloseForm(forms.Form):
    """Closing the online ballot: counted, or, with `discard`, stopped without counting."""

    discard = forms.BooleanField(required=False)


class TransferCommentForm(forms.Form):
    """The former cell's written comment on a member it transferred away."""

    comment = forms.CharField(
        max_length=MAX_COMMENT,
        error_messages={
            "required": _("Please write the former cell's comment."),
            "max_length": _("The comment is too long (at most %(limit_value)d characters)."),
        },
    )
