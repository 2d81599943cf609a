"""The forms of the members app: the upload of a spreadsheet to import, and the rows of the file.

Each row of an import is checked by a ModelForm of the model it creates, so the rules of a field (its
length, its choices, whether it is required) and the model's own `clean` are the ones the admin and
the rest of the application use. The form fields here only read what a spreadsheet holds: Excel dates
and serial numbers, numbers typed where text is meant, a choice written as its code or as its label
in either language, "Có"/"Không".

What needs the whole file or the database at once (card numbers and codes already taken or repeated,
the cell or the parent organisation and the user's scope) is checked by `importing`, in bulk.
"""

import datetime

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Layout
from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import construct_instance
from django.template.defaultfilters import floatformat
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from openpyxl.utils.datetime import from_excel

from organizations.models import Organization
from organizations.vietnamese import fold

from .models import Member

EARLIEST_DATE = datetime.date(1900, 1, 1)
TRUE_WORDS = {"co", "x", "1", "yes", "true", "dung"}
FALSE_WORDS = {"khong", "0", "no", "false", "sai", ""}
MAX_LENGTH_MESSAGE = _("At most %(limit_value)s characters.")


class SharedField:
    """A field the import's forms never change: every form of a file uses the same one instead of a
    copy of its own (a form copies its fields, which for thousands of rows is most of the work)."""

    def __deepcopy__(self, memo):
        return self


def cell_text(value):
    """A spreadsheet cell as text: a whole number typed in a text column loses its ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


class TextCellField(SharedField, forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("error_messages", {})
        kwargs["error_messages"].setdefault("max_length", MAX_LENGTH_MESSAGE)
        super().__init__(**kwargs)

    def to_python(self, value):
        return super().to_python(cell_text(value))


class CardNumberField(TextCellField):
    """A party card number: digits and letters (and - . /), kept as written, leading zeros included."""

    def to_python(self, value):
        if isinstance(value, float) and not value.is_integer():
            raise ValidationError(_("A card number is made of digits and letters."), code="invalid")
        text = super().to_python(value)
        if not all(ch.isalnum() or ch in "-./" for ch in text):
            raise ValidationError(_("A card number is made of digits and letters."), code="invalid")
        return text


def _parse_date_text(text):
    text = text.split(" ")[0]  # "19/05/1990 00:00:00"
    for separator in ("/", "-", "."):
        parts = text.split(separator)
        if len(parts) == 3 and all(part.isdigit() for part in parts):
            if len(parts[0]) == 4:
                year, month, day = parts
            elif len(parts[2]) == 4:
                day, month, year = parts
            else:
                break
            try:
                return datetime.date(int(year), int(month), int(day))
            except ValueError as exc:
                raise ValidationError(_("This date does not exist."), code="no_such_day") from exc
    raise ValidationError(_("Not a date: enter dd/mm/yyyy."), code="invalid")


class SpreadsheetDateField(SharedField, forms.DateField):
    """A date from an Excel date, an Excel serial number, or text dd/mm/yyyy or yyyy-mm-dd; not before
    1900 and not in the future."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.datetime):
            day = value.date()
        elif isinstance(value, datetime.date):
            day = value
        elif isinstance(value, int | float) and not isinstance(value, bool):
            if not 1 <= value < 2958466:
                raise ValidationError(_("Not a date: enter dd/mm/yyyy."), code="invalid")
            day = from_excel(value).date()
        else:
            day = _parse_date_text(str(value).strip())
        if day < EARLIEST_DATE:
            raise ValidationError(_("The date is before 1900."), code="too_early")
        if day > timezone.localdate():
            raise ValidationError(_("The date is in the future."), code="future")
        return day


def choices_lookup(choices):
    """A lookup from the code, the English and the Vietnamese label of each choice to its value."""
    lookup = {}
    for value, label in choices:
        keys = {value.lower()}
        for language in ("en", "vi"):
            with translation.override(language):
                keys.add(str(label).lower())
        for key in keys:
            lookup[key] = value
    folded = {}
    for key, value in lookup.items():
        folded.setdefault(fold(key), set()).add(value)
    for key, values in folded.items():
        if len(values) == 1:  # without diacritics, only where it stays unambiguous
            lookup.setdefault(key, next(iter(values)))
    return lookup


class LabelChoiceField(SharedField, forms.ChoiceField):
    """A choice written as its code, its English label or its Vietnamese label (with or without
    diacritics where that stays unambiguous). Empty, it is `default`."""

    def __init__(self, *, choices, default="", **kwargs):
        super().__init__(choices=choices, **kwargs)
        self.default = default
        # Built on first use and shared by the copies of the field that every form instance makes:
        # reading every label in two languages is not a cost to pay for each row of a file.
        self._lookup = {}

    @property
    def lookup(self):
        if not self._lookup:
            self._lookup.update(choices_lookup(self.choices))
        return self._lookup

    def to_python(self, value):
        text = cell_text(value)
        if not text:
            return self.default
        found = self.lookup.get(text.lower(), self.lookup.get(fold(text.lower())))
        if found is None:
            raise ValidationError(_("Unknown value “%(value)s”."), code="invalid_choice", params={"value": text})
        return found


class YesNoField(SharedField, forms.Field):
    """ "Có" or "Không" (or x, 1, yes, true; 0, no, false); empty is no."""

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def to_python(self, value):
        if isinstance(value, bool):
            return value
        key = fold(cell_text(value))
        if key in TRUE_WORDS:
            return True
        if key in FALSE_WORDS:
            return False
        raise ValidationError(_("Enter “Có” or “Không”."), code="invalid")


class ImportRowForm(forms.ModelForm):
    """What the rows of every import share: the form is bound to one row ({field: cell value}).

    A file holds thousands of rows, so what would cost a query for each row is left to `importing`,
    which does it for the whole file at once: the unique fields (a card number, a code already taken
    or repeated) are checked there, and the model's check constraints are not run against the
    database, since the model's `clean` repeats each of them with the same message."""

    def _post_clean(self):
        exclude = self._get_validation_exclusions()
        try:
            self.instance = construct_instance(self, self.instance, self._meta.fields, self._meta.exclude)
        except ValidationError as error:
            self._update_errors(error)
        try:
            self.instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            self._update_errors(error)


class SlugCellField(SharedField, forms.SlugField):
    def to_python(self, value):
        return super().to_python(cell_text(value))


class EmailCellField(SharedField, forms.EmailField):
    pass


class MemberImportForm(ImportRowForm):
    """One row of a members import. The cell is not a field: `importing` finds it by its code (and
    checks it is a cell within the user's scope) and gives the form an instance in that cell."""

    gender = LabelChoiceField(choices=Member.Gender.choices)
    occupation = LabelChoiceField(choices=Member.Occupation.choices)
    party_post = LabelChoiceField(choices=Member.PartyPost.choices, required=False)
    status = LabelChoiceField(choices=Member.Status.choices, required=False, default=Member.Status.ACTIVE)
    is_leader = YesNoField()

    class Meta:
        model = Member
        fields = [
            "full_name",
            "gender",
            "date_of_birth",
            "card_number",
            "admission_date",
            "official_date",
            "work_unit",
            "occupation",
            "party_post",
            "government_post",
            "is_leader",
            "status",
            "email",
            "phone",
        ]
        field_classes = {
            "full_name": TextCellField,
            "card_number": CardNumberField,
            "date_of_birth": SpreadsheetDateField,
            "admission_date": SpreadsheetDateField,
            "official_date": SpreadsheetDateField,
            "work_unit": TextCellField,
            "government_post": TextCellField,
            "phone": TextCellField,
            "email": EmailCellField,
        }
        error_messages = {
            "email": {"invalid": _("Not a valid email address."), "max_length": MAX_LENGTH_MESSAGE},
        }


class OrganizationImportForm(ImportRowForm):
    """One row of an organisations import. The parent and the cluster are found by `importing`."""

    kind = LabelChoiceField(choices=Organization.Kind.choices)
    sector = LabelChoiceField(choices=Organization.Sector.choices, required=False, default=Organization.Sector.OTHER)

    class Meta:
        model = Organization
        fields = ["code", "name", "kind", "sector", "founded_on"]
        field_classes = {"code": SlugCellField, "name": TextCellField, "founded_on": SpreadsheetDateField}
        error_messages = {
            "code": {
                "invalid": _("A code is made of letters without diacritics, digits, hyphens and underscores."),
                "max_length": MAX_LENGTH_MESSAGE,
            },
        }


class ImportUploadForm(forms.Form):
    """The import screen's form: what the file holds, the file, and whether to check it or import it.
    Which kinds the user may import is the view's to decide; `kinds` are those offered."""

    kind = forms.ChoiceField(label=_("What does the file contain?"), widget=forms.RadioSelect, choices=())
    file = forms.FileField(
        label=_("File (.xlsx or .csv)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
        error_messages={"required": _("Choose a file to upload."), "empty": _("The file is empty.")},
    )
    action = forms.ChoiceField(choices=[("dry_run", "dry_run"), ("commit", "commit")], required=False)

    def __init__(self, *args, kinds, max_mb, **kwargs):
        super().__init__(*args, **kwargs)
        labels = {"members": _("Party members"), "organizations": _("Organisations")}
        self.fields["kind"].choices = [(kind, labels[kind]) for kind in kinds]
        self.fields["file"].help_text = _("At most %(size)s MB. CSV files in UTF-8. Dates as dd/mm/yyyy.") % {
            "size": floatformat(max_mb, "-1")
        }
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(InlineRadios("kind"), "file")

    @property
    def commit(self):
        return self.cleaned_data.get("action") == "commit"
