"""The four lists of the year-end workbook (organisations, members, KHTNV two years running, those
eligible for an award): a mixin of `sheets.YearEndExport`, which gives it the period, the subtree and the
shared queries.

Each list is one query read as plain tuples (`values_list`, joined in the database, fetched in chunks by
a server-side cursor on PostgreSQL, a few chunks ahead by a thread while the rows before are written:
`bulk.fetched_ahead`): no model instance is built per row, and the memory is a few chunks',
whatever the number of members. The `LIST_QUERIES` are also what `bench/export_floor.py` asks the
database to COPY, the floor the export is measured against.
"""

import json

from django.db.models import BooleanField, Case, ExpressionWrapper, F, Q, QuerySet, TextField, Value, When
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from bulk import fetched_ahead
from members.models import Member
from organizations.models import Organization
from vocabulary import Level

from ..core.selectors import previous_level
from ..core.text import lang
from ..rulebooks import exclusion_message, khtnv_two_years_running
from . import layout
from .layout import CHUNK, Column, Sheet, distinct_names, labels
from .parallel import Recipe
from .statistics import AWARD_YEARS_RUNNING, years_running_ids

# The columns each list reads, in the order of its tuples; the assessments' answers (JSON) stay in the
# database, and an exclusion's values come as their JSON text (`values_json`), read only for the few
# different ones, not decoded for every row.
ORGANIZATION_VALUES = (
    "classified",
    "decided_level",
    "regraded_from",
    "regrading_reference",
    "exclusion_reason",
    "exclusion_rule",
    "exclusion_values_json",
    "exclusion_note",
    "organization__code",
    "organization__name",
    "organization__path",
    "organization__kind",
    "organization__sector",
    "organization__founded_on",
)
# (A member's list reads, of a classified member, no reason (NULL, not four empty texts), whether the
# member is probationary, not the date, and the cell's id, its names read once (`places`): a country's
# six million rows are each made into Python values.)
MEMBER_VALUES = (
    "classified",
    "decided_level",
    "regraded_from",
    "regrading_reference",
    "excluded_reason",
    "excluded_rule",
    "exclusion_values_json",
    "excluded_note",
    "member__full_name",
    "member__card_number",
    "member__date_of_birth",
    "member__occupation",
    "probationary",
    "organization_id",
)
PERSON_VALUES = (
    "member__full_name",
    "member__card_number",
    "member__date_of_birth",
    "organization__name",
    "organization__path",
)
MEMBER_ORDER = ("organization__path", "member__sort_key", "pk")


def values_json() -> Cast:
    """An exclusion's values as the text of their JSON."""
    return Cast("exclusion_values", TextField())


def unless_classified(expression):
    """`expression` (a field's name or an expression) for a subject not classified, NULL for the others."""
    if isinstance(expression, str):
        expression = F(expression)
    return Case(When(classified=False, then=expression), default=Value(None), output_field=TextField())


def exclusion_text(rule, reason, values, note, language):
    """Why a subject is not classified, from its stored columns (as Assessment.exclusion_text_in)."""
    parts = []
    if rule:
        parts.append(exclusion_message(rule, reason, values, language))
    if note:
        parts.append(note)
    return "; ".join(parts)


class ExclusionTexts:
    """exclusion_text of a list's rows, each different one made once: a province's thousands of members
    not classified share a few dozen rules, reasons and values (and the rule's message costs a lookup of
    the registered regimes each time)."""

    LIMIT = 10_000  # different texts kept

    def __init__(self, language: str) -> None:
        self.language = language
        self.texts = {}

    def __call__(self, rule: str, reason: str, values_json: str | None, note: str) -> str:
        key = (rule, reason, values_json, note)
        text = self.texts.get(key)
        if text is None:
            if len(self.texts) >= self.LIMIT:
                self.texts.clear()
            values = json.loads(values_json) if values_json else None
            text = self.texts[key] = exclusion_text(rule, reason, values or {}, note, self.language)
        return text


def regrading_text(regraded_from, decided_level, reference):
    """The re-grading from its stored columns (as Assessment.regrading_text)."""
    if not regraded_from:
        return ""
    text = f"{regraded_from} → {decided_level or '…'}"
    return f"{text} ({reference})" if reference else text


class ListSheets:
    """The sheets that list one row per organisation or member."""

    def grassroots_name(self, path):
        """The name of the grassroots organisation over `path` (a cell's or an organisation's), looked up
        once per path: the lists repeat the same few hundred cells. (The organisations are read before
        the first list's rows: while a list's rows are read, the connection is theirs, `fetched_ahead`.)"""
        names = self.__dict__.setdefault("_grassroots_names", {})
        name = names.get(path)
        if name is None:
            grassroots = self.grassroots_of(path)
            name = names[path] = grassroots.name if grassroots else ""
        return name

    # --- The queries ----------------------------------------------------------------------------

    def list_rows(self, queryset):
        """The rows of a list's query, fetched ahead (`bulk.fetched_ahead`): the organisations the
        rows name are read first, since the connection is the rows' while they are read."""
        self.grassroots_of(self.organization.path)
        return fetched_ahead(queryset, CHUNK)

    def organization_rows_query(self):
        return (
            self._organization_assessments()
            .annotate(exclusion_values_json=values_json())
            .order_by("organization__path")
            .values_list(*ORGANIZATION_VALUES)
        )

    def _members_in(self, part: Organization | None = None) -> QuerySet:
        """The member assessments of the subtree, or of one part of it (`member_parts`): an organisation
        directly under the root with those under it, or the root itself alone."""
        queryset = self._member_assessments()
        if part is None:
            return queryset
        if part.path == self.organization.path:
            return queryset.filter(organization__path=part.path)
        return queryset.filter(organization__path__startswith=part.path)

    def member_rows_query(self, part=None):
        return (
            self._members_in(part)
            .annotate(
                excluded_reason=unless_classified("exclusion_reason"),
                excluded_rule=unless_classified("exclusion_rule"),
                exclusion_values_json=unless_classified(values_json()),
                excluded_note=unless_classified("exclusion_note"),
                probationary=ExpressionWrapper(Q(member__official_date__isnull=True), output_field=BooleanField()),
            )
            .order_by(*MEMBER_ORDER)
            .values_list(*MEMBER_VALUES)
        )

    def two_years_query(self, part=None):
        # Only this year's KHTNV can be a second one: the query keeps those, the rule decides.
        return (
            self._members_in(part)
            .filter(classified=True, decided_level=Level.KHTNV)
            .annotate(previous=previous_level(self.period))
            .order_by(*MEMBER_ORDER)
            .values_list(*PERSON_VALUES, "previous", "decided_level")
        )

    def awards_query(self, part=None):
        return (
            self._members_in(part)
            .filter(classified=True, decided_level=Level.HTXSNV)
            .order_by(*MEMBER_ORDER)
            .values_list(*PERSON_VALUES, "member_id")
        )

    def list_queries(self):
        """The querysets of the four lists: the rows the export writes one per subject."""
        return [self.organization_rows_query(), self.member_rows_query(), self.two_years_query(), self.awards_query()]

    def award_years(self, part=None):
        """{member id} of this year's HTXSNV who were HTXSNV in each of the years before: one query."""
        return set(years_running_ids(self.period, self.awards_query(part)).values_list("member_id", flat=True))

    def member_parts(self) -> list[Organization] | None:
        """None when the members' rows fit on one sheet (`layout.SHEET_ROWS`); else the parts their lists
        are split into, one sheet each: the organisations directly under the root that have members (a
        national export: the provinces), in the tree's order, after the root itself when members belong to
        it directly. The count and the parts' paths come from the summary's tallies (no query of their
        own); the parts themselves, from one query of the organisations."""
        if sum(tally.total for tally in self.member_tallies().values()) <= layout.SHEET_ROWS:
            return None
        root = self.organization
        prefixes = self._member_prefixes
        parts = [root] if root.path in prefixes else []
        parts += Organization.objects.filter(path__in=prefixes - {root.path}).order_by("path")
        self._part_names = dict(
            zip((part.path for part in parts), distinct_names([part.name for part in parts]), strict=True)
        )
        return parts

    def _part_subject(self, subject: str, short: str, part: Organization | None, method: str) -> dict:
        """A list's printed title and its tab's name for one part: the list's short name and the part's
        (less the words all the parts' names begin with), cut to Excel's 31 characters and made unique by
        the workbook; and how another process makes the part's list again (`self.<method>(part)`)."""
        if part is None:
            return {"subject": subject}
        name = getattr(self, "_part_names", {}).get(part.path, part.name)
        return {"subject": f"{subject} – {part.name}", "tab": f"{short} – {name}", "recipe": Recipe(method, part.pk)}

    # --- The sheets -----------------------------------------------------------------------------

    def organization_list(self):
        columns = [
            Column(_("No."), 6, "number"),
            Column(_("Code"), 14, wrap=True),
            Column(_("Organisation"), 36, wrap=True),
            Column(_("Kind"), 18, wrap=True),
            Column(_("Sector"), 26, wrap=True),
            Column(_("Grassroots organisation"), 32, wrap=True),
            Column(_("Founding date"), 11, "date"),
            Column(_("Level"), 9),
            Column(_("Reason for not classifying"), 44, wrap=True),
            Column(_("Re-graded"), 30, wrap=True),
        ]
        kinds, sectors = labels(Organization.Kind), labels(Organization.Sector)
        excluded = ExclusionTexts(lang())

        def rows():
            queryset = self.list_rows(self.organization_rows_query())
            for number, row in enumerate(queryset, start=1):
                (classified, level, regraded_from, reference, reason, rule, values, note) = row[:8]
                code, name, path, kind, sector, founded_on = row[8:]
                yield [
                    number,
                    code,
                    name,
                    kinds.get(kind, kind),
                    sectors.get(sector, sector),
                    self.grassroots_name(path),
                    founded_on,
                    level if classified else "",
                    "" if classified else excluded(rule, reason, values, note),
                    regrading_text(regraded_from, level, reference),
                ]

        return Sheet(_("List of organisations"), columns, rows())

    def _member_columns(self):
        return [
            Column(_("No."), 7, "number"),
            Column(_("Full name"), 24, wrap=True),
            Column(_("Party card number"), 11),
            Column(_("Date of birth"), 11, "date"),
            Column(_("Cell"), 30, wrap=True),
            Column(_("Grassroots organisation"), 32, wrap=True),
        ]

    def places(self, part=None):
        """{organisation id: (its name, its grassroots organisation's name)} of the organisations whose
        members `member_list(part)` lists: one query, before the rows are read."""
        organizations = Organization.objects.all()
        if part is not None and part.path == self.organization.path:
            organizations = organizations.filter(path=part.path)
        else:
            organizations = organizations.filter(path__startswith=(part or self.organization).path)
        return {
            pk: (name, self.grassroots_name(path))
            for pk, name, path in organizations.values_list("pk", "name", "path").iterator(chunk_size=CHUNK)
        }

    def _person_cells(self, number, full_name, card_number, born, cell_name, cell_path):
        return [number, full_name, card_number, born, cell_name, self.grassroots_name(cell_path)]

    def member_list(self, part=None):
        columns = [
            *self._member_columns(),
            Column(_("Occupation group"), 26, wrap=True),
            Column(_("Probationary"), 8),
            Column(_("Level"), 9),
            Column(_("Reason for not classifying"), 44, wrap=True),
            Column(_("Re-graded"), 30, wrap=True),
        ]
        yes, no = _("yes"), _("no")
        occupations = labels(Member.Occupation)
        excluded = ExclusionTexts(lang())

        def rows():
            names = self.places(part)
            queryset = self.list_rows(self.member_rows_query(part))
            for number, row in enumerate(queryset, start=1):
                (classified, level, regraded_from, reference, reason, rule, values, note) = row[:8]
                full_name, card_number, born, occupation, probationary, cell = row[8:]
                cell_name, grassroots_name = names[cell]
                yield [
                    number,
                    full_name,
                    card_number,
                    born,
                    cell_name,
                    grassroots_name,
                    occupations.get(occupation, occupation),
                    yes if probationary else no,
                    level if classified else "",
                    "" if classified else excluded(rule, reason, values, note),
                    regrading_text(regraded_from, level, reference),
                ]

        return Sheet(
            columns=columns,
            rows=rows(),
            **self._part_subject(_("List of members"), _("Member list"), part, "member_list"),
        )

    def two_years_running(self, part=None):
        columns = [
            *self._member_columns(),
            Column(_("Level %(year)s") % {"year": self.period.year - 1}, 11),
            Column(_("Level %(year)s") % {"year": self.period.year}, 11),
        ]

        def rows():
            queryset = self.list_rows(self.two_years_query(part))
            running = (row for row in queryset if khtnv_two_years_running(row[5], row[6]))
            for number, row in enumerate(running, start=1):
                yield [*self._person_cells(number, *row[:5]), row[5], row[6]]

        return Sheet(
            columns=columns,
            rows=rows(),
            **self._part_subject(_("KHTNV two years running"), "KHTNV", part, "two_years_running"),
        )

    def awards(self, part=None):
        """The members eligible for an award (R2018-AWARD): this year's HTXSNV, and whether it is their
        fifth HTXSNV year running."""
        year = self.period.year
        first_year = year - AWARD_YEARS_RUNNING + 1
        columns = [
            *self._member_columns(),
            Column(_("Level %(year)s") % {"year": year}, 11),
            Column(
                _("HTXSNV five years running (%(first)s–%(year)s)") % {"first": first_year, "year": year},
                16,
                wrap=True,
            ),
        ]
        yes = _("yes")

        def rows():
            running = self.award_years(part)
            queryset = self.list_rows(self.awards_query(part))
            for number, row in enumerate(queryset, start=1):
                yield [*self._person_cells(number, *row[:5]), Level.HTXSNV.value, yes if row[5] in running else ""]

        return Sheet(
            columns=columns, rows=rows(), **self._part_subject(_("Eligible for awards"), _("Awards"), part, "awards")
        )
