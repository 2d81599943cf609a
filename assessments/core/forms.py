"""What the forms of every stage share (a level, the version a page was loaded at, a formset whose
forms are named after their subject), and the form of the board's roster.

The pages that post many rows (the ballot count of a meeting, the levels of a decision screen) name
each input after the subject of its row (`row-<public id>-issued`, `level-<pk>`), not after its
position, and post no management form: a row is saved when its inputs are in the request, so htmx
can post one row and the page's button can post a page of them with the same form.
"""

import re

from django import forms
from django.forms.formsets import INITIAL_FORM_COUNT, MAX_NUM_FORM_COUNT, MIN_NUM_FORM_COUNT, TOTAL_FORM_COUNT
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from vocabulary import Level


def _level_choices():
    return [("", ""), *((level.value, level.value) for level in Level.best_first())]


class LevelField(forms.ChoiceField):
    """A level code, or nothing (not decided, not stated)."""

    def __init__(self, **kwargs):
        super().__init__(
            choices=_level_choices,
            required=False,
            error_messages={"invalid_choice": _("Unknown level.")},
            **kwargs,
        )


class RowForm(forms.Form):
    """A row of a table whose inputs are named `<field>-<row key>` (`level-12`), the row key being the
    form's prefix."""

    def add_prefix(self, field_name):
        return f"{field_name}-{self.prefix}" if self.prefix else field_name


class VersionField(forms.IntegerField):
    """The version of the record the page was loaded at, posted back to detect a stale copy.

    Missing or not a number, it is -1, which never matches a record: the save is refused as a conflict."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def to_python(self, value):
        try:
            return int(str(value).strip())
        except (TypeError, ValueError):
            return -1


class KeyedFormSet(forms.BaseFormSet):
    """A formset with one form per key, each form named by its key.

    `keys` are the subjects the page may post, in page order. Unbound, there is a form for each (with
    `initial`, a mapping of key to initial values). Bound, there is a form for each key whose inputs
    are in the data, found by `key_pattern` (a regex whose first group is the key); keys posted that
    are not among `keys` are kept in `unknown` for `clean` to refuse. With `keys=None` every posted key
    is taken (the service then checks that each belongs to the page)."""

    key_pattern = re.compile(r"^row-([^-]+)-\w+$")
    extra = 0
    min_num = 0
    max_num = 0
    absolute_max = 0
    can_order = can_delete = can_delete_extra = False
    validate_min = validate_max = False
    renderer = None

    def __init__(self, data=None, *, keys=None, initial=None, auto_id="%s", **kwargs):
        posted = self.posted_keys(data) if data is not None else []
        if data is None:
            self.keys = list(keys or [])
            self.unknown = []
        elif keys is None:
            self.keys, self.unknown = posted, []
        else:
            allowed = [str(key) for key in keys]
            wanted = set(posted)
            self.keys = [key for key in allowed if key in wanted]
            self.unknown = [key for key in posted if key not in set(allowed)]
        initial = initial or {}
        super().__init__(data, auto_id=auto_id, initial=[initial.get(key) or {} for key in self.keys] or None, **kwargs)
        # No cap beyond the keys themselves: the request's field limit bounds what can be posted.
        self.max_num = self.absolute_max = len(self.keys)

    @classmethod
    def posted_keys(cls, data):
        """The keys of the rows in `data`, in the order they come, each once."""
        keys = {}
        for name in data:
            match = cls.key_pattern.match(name)
            if match:
                keys.setdefault(match.group(1), None)
        return list(keys)

    @cached_property
    def management_form(self):
        # The number of forms follows from the keys; the page posts no management form.
        count = len(self.keys)
        form = forms.formsets.ManagementForm(
            {
                f"{self.prefix}-{TOTAL_FORM_COUNT}": count,
                f"{self.prefix}-{INITIAL_FORM_COUNT}": count,
                f"{self.prefix}-{MIN_NUM_FORM_COUNT}": 0,
                f"{self.prefix}-{MAX_NUM_FORM_COUNT}": count,
            },
            auto_id=self.auto_id,
            prefix=self.prefix,
            renderer=self.renderer,
        )
        form.full_clean()
        return form

    def total_form_count(self):
        return len(self.keys)

    def initial_form_count(self):
        # Every row is an existing subject: none of them may be left out as an empty extra form.
        return len(self.keys)

    def form_prefix(self, key):
        return f"{self.prefix}-{key}"

    def add_prefix(self, index):
        if isinstance(index, int) and 0 <= index < len(self.keys):
            return self.form_prefix(self.keys[index])
        return self.form_prefix(index)

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        form.key = self.keys[i]
        return form

    @cached_property
    def by_key(self):
        """{key: form}."""
        return {form.key: form for form in self.forms}

    def cleaned_by_key(self):
        """{key: cleaned data} of a valid formset."""
        return {form.key: form.cleaned_data for form in self.forms}


class ClassificationForm(forms.Form):
    """The board's decision on whether a subject is classified, with its reason (the roster's rows)."""

    classified = forms.TypedChoiceField(choices=[("1", "1"), ("0", "0")], coerce=lambda value: value == "1")
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        error_messages={
            "required": _("Please write the reason for the board's decision."),
            "max_length": _("The reason is longer than %(limit_value)d characters. Please shorten it."),
        },
    )


class ActionReasonForm(forms.Form):
    """The reason an admin action asks for on its intermediate page (returning forms, reopening
    subjects, deciding above the quota): required or not, with the action's own message."""

    reason = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": _("The reason is longer than %(limit_value)d characters. Please shorten it.")},
    )

    def __init__(self, *args, required=True, missing="", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = required
        if missing:
            self.fields["reason"].error_messages["required"] = missing
