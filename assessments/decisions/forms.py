"""The forms of the decision screens: a row's level and reason (one row through htmx, a page of rows
with the page's button), the filters, the competent level's decision on an exception to the quota, the
bulk acceptance of the suggestions, the board's reason for reopening a subject, and its answer after
finalising to a decision put back "to confirm".

They check and convert what was posted; the rules, the quota and who may decide are the services'."""

import re

from crispy_forms.helper import FormHelper
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ..core.forms import KeyedFormSet, LevelField, RowForm
from .models import Recheck
from .services import ExceptionDecision, decision_date_problem

MAX_NOTE = 2000
MAX_DECISION_TEXT = 200

SHOW_CHOICES = [
    ("", pgettext_lazy("decision filter", "Everyone")),
    ("undecided", pgettext_lazy("decision filter", "Not decided yet")),
    ("decided", pgettext_lazy("decision filter", "Decided")),
    ("attention", pgettext_lazy("decision filter", "With a finding of the rules")),
    ("reopened", pgettext_lazy("decision filter", "Reopened by the board")),
]


class DecisionForm(RowForm):
    """One row of a decision screen: `level-<pk>`, `note-<pk>`, and `accept-<pk>`, the row's "accept
    the suggestion" button, whose level wins when it is pressed. The form's prefix is the row's pk."""

    level = LevelField(label=_("Decision"))
    note = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=MAX_NOTE,
        error_messages={"max_length": _("The reason is longer than %(limit_value)d characters. Please shorten it.")},
    )
    accept = LevelField(label=_("Accept"))

    def chosen(self):
        """The level the row shows as chosen: the one posted (even a refused one), else the stored one."""
        if not self.is_bound:
            return self["level"].value() or ""
        if self.errors.get("accept") or self.errors.get("level"):
            return ""  # an unknown level is shown as not decided, never as the list's first level
        return self["accept"].data or self["level"].data or ""

    def clean(self):
        data = super().clean()
        if data.get("accept"):
            data["level"] = data["accept"]
        return data

    def choice(self):
        """(level, reason) as `services.record_levels` takes them."""
        return self.cleaned_data.get("level", ""), self.cleaned_data.get("note", "")


class DecisionFormSet(KeyedFormSet):
    """The rows posted: every `level-<pk>` or `accept-<pk>` is a row (with its `note-<pk>`)."""

    form = DecisionForm
    key_pattern = re.compile(r"^(?:level|accept)-(\d+)$")

    def form_prefix(self, key):
        return str(key)

    def choices(self):
        """{pk: (level, reason)} of every row posted, the rows left undecided included."""
        return {int(form.key): form.choice() for form in self.forms}


def row_form(assessment):
    """The form of a row as stored: its decided level and its reason."""
    form = DecisionForm(
        prefix=str(assessment.pk),
        auto_id="%s",
        initial={"level": assessment.decided_level, "note": assessment.decision_note},
    )
    form.key = str(assessment.pk)
    return form


class FiltersForm(forms.Form):
    """What the screen shows: a cell (members) or a cluster and an area (the ranking), the kind of rows,
    the page. A value that does not fit is left out."""

    cell = forms.CharField(required=False, max_length=40)
    cluster = forms.CharField(required=False, max_length=40)
    area = forms.CharField(required=False, max_length=40)
    show = forms.ChoiceField(required=False, choices=SHOW_CHOICES)
    page = forms.CharField(required=False, max_length=6)

    def values(self):
        """{cell, cluster, area, show, page}: each as given when it is valid, empty otherwise."""
        self.is_valid()
        return {name: self.cleaned_data.get(name) or "" for name in self.fields}


class ExceptionForm(forms.Form):
    """The competent level's decision on an exception to the quota: its number, date, issuing body and
    the reason. Required when recorded on its own; optional with a save (the service asks for it only
    when the save exceeds the quota), but then complete. Offered only where the rules allow an exception
    (every 2025 period; a 2018 period only when its parameters do)."""

    FIELDS = ("exception_number", "exception_date", "exception_body", "exception_reason")

    exception_number = forms.CharField(
        label=_("Number of the decision"),
        help_text=_("As written on the decision, for example 125-QĐ/TU."),
        max_length=MAX_DECISION_TEXT,
        error_messages={
            "required": _("Please write the number of the competent level's decision."),
            "max_length": _("This is longer than %(limit_value)d characters. Please shorten it."),
        },
    )
    exception_date = forms.DateField(
        label=_("Date of the decision"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": _("Please give the date of the decision."),
            "invalid": _("Please write the date of the decision as day/month/year."),
        },
    )
    exception_body = forms.CharField(
        label=_("Decided by"),
        help_text=_("The competent body, for example the Standing Committee of the City Party Committee."),
        max_length=MAX_DECISION_TEXT,
        error_messages={
            "required": _("Please write which body took the decision."),
            "max_length": _("This is longer than %(limit_value)d characters. Please shorten it."),
        },
    )
    exception_reason = forms.CharField(
        label=_("Reason for the exception"),
        help_text=_(
            "The unit's outstanding achievements. The decision covers the number of HTXSNV as it stands when "
            "recorded, within the raised rate; a higher number needs a new decision."
        ),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=MAX_NOTE,
        error_messages={
            "required": _("Please write the reason for the exception."),
            "max_length": _("The reason is longer than %(limit_value)d characters. Please shorten it."),
        },
    )

    def __init__(self, *args, year, required=True, **kwargs):
        # The rows' htmx requests include the fields by their ids, `#exception_number` and so on.
        kwargs.setdefault("auto_id", "%s")
        super().__init__(*args, **kwargs)
        self.year = year
        # With a save, the decision is optional as a whole: asked for complete once any of it is given.
        self.optional = not required and not any((self.data.get(name) or "").strip() for name in self.FIELDS)
        for name in self.FIELDS:
            self.fields[name].required = not self.optional
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def clean_exception_date(self):
        value = self.cleaned_data.get("exception_date")
        if value is not None:
            problem = decision_date_problem(value, self.year)
            if problem:
                raise ValidationError(problem, code="date")
        return value

    @property
    def decision(self):
        """The ExceptionDecision posted, or None (nothing given with a save, or the form is not valid)."""
        if not self.is_bound or self.optional or not self.is_valid():
            return None
        data = self.cleaned_data
        return ExceptionDecision(
            number=data["exception_number"],
            decided_on=data["exception_date"],
            body=data["exception_body"],
            reason=data["exception_reason"],
        )

    def messages(self):
        """The form's errors, one message each, in the order of the fields."""
        return [message for name in self.FIELDS for message in self.errors.get(name, [])]


class AcceptForm(forms.Form):
    """Accepting the suggestions of one cell (`cell`, its code) or of the whole group."""

    action = forms.ChoiceField(choices=[("accept_cell", "accept_cell"), ("accept_all", "accept_all")])
    cell = forms.CharField(required=False, max_length=40)

    def clean(self):
        data = super().clean()
        if data.get("action") == "accept_cell" and not data.get("cell"):
            raise ValidationError(_("Choose the cell whose suggestions are accepted."), code="no_cell")
        return data


class ReopenForm(forms.Form):
    """The board's reason for reopening a finalised subject, and the reference of its decision to re-grade."""

    reason = forms.CharField(
        label=_("Reason (recorded in the history)"),
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "required": _("Please write the reason for reopening."),
            "max_length": _("The reason is longer than %(limit_value)d characters. Please shorten it."),
        },
    )
    reference = forms.CharField(
        label=_("Re-grading decision (number and date)"),
        max_length=120,
        required=False,
        help_text=_(
            'The board\'s decision to grade the subject again (Mẫu 03 in QĐ 366), e.g. "QĐ số 12-QĐ/TU, 05/02/2026".'
        ),
    )


class ConfirmAgainForm(forms.Form):
    """The board's answer, after finalising, to a decision put back "to confirm": its button (confirm the
    level, or lower it to what the rules allow), the reference of its decision and the reason."""

    action = forms.ChoiceField(
        choices=[("confirm", "confirm"), ("lower", "lower")],
        error_messages={
            "required": _("Choose whether to confirm the level or to lower it."),
            "invalid_choice": _("Choose whether to confirm the level or to lower it."),
        },
    )
    reference = forms.CharField(
        label=_("Board's decision (number and date)"),
        max_length=120,
        required=False,
        error_messages={"max_length": _("The reference is longer than %(limit_value)d characters. Please shorten it.")},
    )
    reason = forms.CharField(
        label=_("Reason (recorded in the history)"),
        max_length=MAX_NOTE,
        required=False,
        error_messages={"max_length": _("The reason is longer than %(limit_value)d characters. Please shorten it.")},
    )

    def messages(self) -> list[str]:
        return [message for errors in self.errors.values() for message in errors]


class RecheckForm(forms.Form):
    """A matter the board must re-check before the final decision: about whom, what kind, what."""

    subject = forms.CharField(
        label=_("Party card number or organisation code"),
        max_length=40,
        error_messages={"required": _("Give the member's party card number or the organisation's code.")},
    )
    kind = forms.ChoiceField(label=pgettext_lazy("recheck", "Kind"), choices=Recheck.Kind.choices)
    summary = forms.CharField(
        label=_("Summary"),
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Please summarise the matter to re-check.")},
    )
    opened_on = forms.DateField(
        label=_("Received on"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class RecheckResolveForm(forms.Form):
    """The outcome of a re-check."""

    resolution = forms.CharField(
        label=_("Outcome"),
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Please write the outcome of the re-check.")},
    )
    resolved_on = forms.DateField(
        label=_("Resolved on"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class ScreenActionForm(forms.Form):
    """Which button of a decision screen was pressed; without one (a row saved by htmx, an unknown
    value), the rows are saved."""

    ACTIONS = ("save", "exception", "accept_cell", "accept_all")

    action = forms.ChoiceField(choices=[(name, name) for name in ACTIONS], required=False)

    def chosen(self) -> str:
        return (self.cleaned_data.get("action") or "save") if self.is_valid() else "save"
