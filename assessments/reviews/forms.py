"""The forms of a review: the answers to a rulebook's form template (the self-review, the analysis
form of a rater), built field by field from the template; the reason for returning a form; the rows of
the self-reviews handed in on paper.

A template is data, so the form is built from it: one field `item-<id>` for each item its author
types (a checklist reads its marks from `item-<id>-<entry>`; a share, its percentage from `item-<id>`
and its "there were none" box from `item-<id>-none`). The rulebook's `validate_answers`
stays the one statement of what an answer may be; the form runs it in `clean` and puts each of its
messages on the item's field, so the page shows Django's errors next to each item."""

import re

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.translation import gettext_lazy as _

from ..core.forms import KeyedFormSet, LevelField, RowForm, VersionField
from ..rulebooks import SHARE_NONE, ItemKind, validate_answers
from . import formview

MAX_TEXT = 20000  # characters in one answer: generous for a self-review, a guard against abuse


class ChecklistWidget(forms.Widget):
    """The marks of a checklist's entries, each posted as `<name>-<entry id>` (present or absent)."""

    def __init__(self, entries, attrs=None):
        super().__init__(attrs)
        self.entries = [entry.id for entry in entries]

    def value_from_datadict(self, data, files, name):
        return {entry: data.get(f"{name}-{entry}", "") for entry in self.entries if data.get(f"{name}-{entry}", "")}

    def value_omitted_from_data(self, data, files, name):
        return False


class ChecklistField(forms.Field):
    """{entry id: mark} of the entries marked; the rulebook checks the marks."""

    def __init__(self, *, entries, **kwargs):
        kwargs.setdefault("widget", ChecklistWidget(entries))
        super().__init__(required=False, **kwargs)

    def to_python(self, value):
        return dict(value or {})


class ShareWidget(forms.TextInput):
    """A percentage, and for an item that allows it the box "there were none" (`<name>-none`), which wins."""

    def value_from_datadict(self, data, files, name):
        if data.get(f"{name}-none"):
            return SHARE_NONE
        return super().value_from_datadict(data, files, name)

    def value_omitted_from_data(self, data, files, name):
        return False


class AnswerField(forms.CharField):
    """One typed answer: text, a rating, a level or points as typed. Line breaks are made plain; the
    text is kept as typed otherwise (spaces included), and the rulebook checks the value."""

    def __init__(self, **kwargs):
        super().__init__(
            required=False,
            strip=False,
            max_length=MAX_TEXT,
            error_messages={"max_length": _("An answer is longer than %(limit_value)d characters. Please shorten it.")},
            **kwargs,
        )

    def to_python(self, value):
        return super().to_python(value).replace("\r\n", "\n")


class AnswersForm(forms.Form):
    """The answers of `author` to `template` for `assessment`, merged over `existing` (the answers
    others wrote stay as they are). The cleaned data holds `answers`, every answer of the form after
    the save, and `level`, the level the author proposes.

    Header items filled from the records are stored as they stand at the time of writing, like the
    header of the paper form. `submit` asks for every required item (and every checklist entry)."""

    version = VersionField()

    def __init__(self, data=None, *, template, assessment, existing=None, author=formview.SUBJECT, **kwargs):
        self.template, self.assessment, self.author = template, assessment, author
        self.existing = dict(existing if existing is not None else assessment.answers)
        self.filled_by = kwargs.pop("filled_by", None)
        kwargs.setdefault("auto_id", "%s")
        super().__init__(data, **kwargs)
        language = formview.lang()
        self.prefilled, self.items = {}, {}
        for section in template.sections:
            if formview.section_author(template, section) != author:
                continue
            for item in section.items:
                prefilled = formview.prefill(item, assessment)
                if prefilled is not None:
                    self.prefilled[item.id] = prefilled
                    continue
                name = f"item-{item.id}"
                self.items[name] = item
                if item.kind == ItemKind.CHECKLIST:
                    self.fields[name] = ChecklistField(entries=item.entries, label=item.label(language))
                elif item.kind == ItemKind.SHARE:
                    self.fields[name] = AnswerField(label=item.label(language), widget=ShareWidget)
                else:
                    self.fields[name] = AnswerField(label=item.label(language))

    @property
    def submitting(self):
        """Whether the answers are handed in (every required item asked for) or saved as a draft."""
        return False

    def merged(self, values):
        """`existing` with the header from the records and `values` ({field name: value}) over it."""
        answers = dict(self.existing)
        for item_id, prefilled in self.prefilled.items():
            if prefilled:
                answers[item_id] = prefilled
            else:
                answers.pop(item_id, None)
        for name, item in self.items.items():
            value = values.get(name)
            if item.kind == ItemKind.CHECKLIST:
                answers[item.id] = dict(value or {})
            elif value in (None, ""):
                answers.pop(item.id, None)
            else:
                answers[item.id] = value
        return answers

    def typed_answers(self):
        """The answers as the page shows them: as posted when bound (even refused), as stored otherwise."""
        if not self.is_bound:
            return dict(self.existing)
        values = {}
        for name in self.items:
            value = self[name].value()
            if isinstance(value, str):
                value = value.replace("\r\n", "\n")
            values[name] = value
        return self.merged(values)

    def clean(self):
        data = super().clean()
        if any(name in self._errors for name in self.items):
            return data  # an answer too long: the rules are not read until it is shortened
        answers = self.merged(data)
        for error in validate_answers(self.template, answers, submit=self.submitting, filled_by=self.filled_by):
            name = f"item-{error.item_id}"
            message = error.message(formview.lang())
            self.add_error(name if name in self.fields else None, message)
        level_item = formview.level_item(self.template, self.author)
        data["answers"] = answers
        data["level"] = answers.get(level_item.id, "") if level_item else ""
        return data

    def error_messages_list(self):
        """Every message of a refused form, in the order of the items."""
        messages = list(self.errors.get(NON_FIELD_ERRORS, []))
        for name in self.fields:
            messages.extend(self.errors.get(name, []))
        return messages

    def errors_by_item(self):
        """{item id: [messages]} for the page, which draws each item from the template."""
        return {item.id: list(self.errors[name]) for name, item in self.items.items() if name in self.errors}


class LevelReasonField(forms.CharField):
    """The written reason for proposing a level above what the rules advise (asked only then)."""

    def __init__(self, **kwargs):
        super().__init__(
            label=_("Reason for proposing a level above what the rules advise"),
            required=False,
            max_length=2000,
            error_messages={
                "max_length": _("The reason is longer than %(limit_value)d characters. Please shorten it.")
            },
            **kwargs,
        )


class SelfReviewForm(AnswersForm):
    """The subject's own review: saved as a draft (the autosave too), or submitted (its own address)."""

    level_reason = LevelReasonField()

    def __init__(self, data=None, *, submit=False, **kwargs):
        self._submit = submit
        super().__init__(data, **kwargs)

    @property
    def submitting(self):
        return self._submit


class AnalysisForm(AnswersForm):
    """A rater's analysis form: saved, or handed in with the page's `submit` button."""

    submit = forms.BooleanField(required=False)
    level_reason = LevelReasonField()

    @property
    def submitting(self):
        return bool(getattr(self, "cleaned_data", {}).get("submit"))


class ReturnForm(forms.Form):
    """The secretary's reason for returning a self-review to the member."""

    reason = forms.CharField(
        label=_("Reason (the member will see it)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": _("Please write the reason for returning the form."),
            "max_length": _("The reason is longer than %(limit_value)d characters. Please shorten it."),
        },
    )


class PaperRowForm(RowForm):
    """A self-review handed in on paper: `received-<pk>` ticked, and `level-<pk>`, the level the paper
    proposes (empty when it states none). Where the regime scores (2025), `score-<pk>`: the total the
    paper gives out of 100, which the level's band starts from (required: without it no level can be
    decided)."""

    received = forms.BooleanField(required=False)
    level = LevelField(label=_("Level proposed on the paper"))
    score = forms.DecimalField(
        label=_("Total score on the paper"),
        required=False,
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        localize=True,
        error_messages={
            "invalid": _("Write the total score as a number from 0 to 100, for example 85 or 85,5."),
            "min_value": _("The total score is from 0 to 100."),
            "max_value": _("The total score is from 0 to 100."),
            "max_digits": _("Write the total score as a number from 0 to 100, for example 85 or 85,5."),
            "max_decimal_places": _("The total score has at most two decimals."),
        },
    )

    def __init__(self, *args, scored=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.scored = scored
        if not scored:
            del self.fields["score"]

    def clean(self):
        cleaned = super().clean()
        if self.scored and cleaned.get("score") is None and "score" not in self.errors:
            self.add_error("score", _("Write the total score the paper gives (out of 100)."))
        return cleaned


class PaperFormSet(KeyedFormSet):
    """The rows ticked as received. `keys` are the cell's forms still waiting for a self-review; a row
    posted for any other is refused."""

    form = PaperRowForm
    key_pattern = re.compile(r"^received-(\d+)$")

    def form_prefix(self, key):
        return str(key)

    def clean(self):
        if self.unknown:
            raise forms.ValidationError(
                _("A member in this list does not belong to this cell, or has submitted."), code="unknown"
            )

    def choices(self):
        """{pk: level} of the rows ticked, as `services.paper_self_reviews_record` takes them."""
        return {int(form.key): form.cleaned_data["level"] for form in self.forms}

    def scores(self):
        """{pk: total score} of the rows ticked, where the regime scores."""
        return {int(form.key): form.cleaned_data["score"] for form in self.forms if form.scored}
