"""The four lists of the year-end workbook (organisations, members, KHTNV two years running, those
eligible for an award): a
mixin of `sheets.YearEndExport`, which gives it the period, the subtree and the shared queries."""

from django.utils.translation import gettext as _

from members.models import Member
from organizations.models import Organization
from vocabulary import Level

from ..core.selectors import previous_level
from ..rulebooks import khtnv_two_years_running
from .layout import CHUNK, MEMBER_ROW_FIELDS, ORGANIZATION_ROW_FIELDS, Column, Sheet, labels
from .statistics import award_lists


class ListSheets:
    """The sheets that list one row per organisation or member."""

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

        def rows():
            queryset = (
                self._organization_assessments()
                .select_related("organization")
                .only(*ORGANIZATION_ROW_FIELDS)
                .order_by("organization__path")
                .iterator(chunk_size=CHUNK)
            )
            for number, assessment in enumerate(queryset, start=1):
                org = assessment.organization
                grassroots = self.grassroots_of(org.path)
                yield [
                    number,
                    org.code,
                    org.name,
                    kinds.get(org.kind, org.kind),
                    sectors.get(org.sector, org.sector),
                    grassroots.name if grassroots else "",
                    org.founded_on,
                    assessment.decided_level if assessment.classified else "",
                    "" if assessment.classified else assessment.exclusion_text,
                    assessment.regrading_text,
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

    def _member_cells(self, number, assessment):
        member, cell = assessment.member, assessment.organization
        grassroots = self.grassroots_of(cell.path)
        return [
            number,
            member.full_name,
            member.card_number,
            member.date_of_birth,
            cell.name,
            grassroots.name if grassroots else "",
        ]

    def member_list(self):
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

        def rows():
            queryset = (
                self._member_assessments()
                .select_related("member", "organization")
                .only(*MEMBER_ROW_FIELDS)
                .order_by("organization__path", "member__sort_key", "pk")
                .iterator(chunk_size=CHUNK)
            )
            for number, assessment in enumerate(queryset, start=1):
                member = assessment.member
                yield [
                    *self._member_cells(number, assessment),
                    occupations.get(member.occupation, member.occupation),
                    yes if member.official_date is None else no,
                    assessment.decided_level if assessment.classified else "",
                    "" if assessment.classified else assessment.exclusion_text,
                    assessment.regrading_text,
                ]

        return Sheet(_("List of members"), columns, rows())

    def two_years_running(self):
        columns = [
            *self._member_columns(),
            Column(_("Level %(year)s") % {"year": self.period.year - 1}, 11),
            Column(_("Level %(year)s") % {"year": self.period.year}, 11),
        ]

        def rows():
            # Only this year's KHTNV can be a second one: the query keeps those, the rule decides.
            queryset = (
                self._member_assessments()
                .filter(classified=True, decided_level=Level.KHTNV)
                .annotate(previous_level=previous_level(self.period))
                .select_related("member", "organization")
                .only(*MEMBER_ROW_FIELDS)
                .order_by("organization__path", "member__sort_key", "pk")
                .iterator(chunk_size=CHUNK)
            )
            running = (a for a in queryset if khtnv_two_years_running(a.previous_level, a.decided_level))
            for number, assessment in enumerate(running, start=1):
                yield [*self._member_cells(number, assessment), assessment.previous_level, assessment.decided_level]

        return Sheet(_("KHTNV two years running"), columns, rows())

    def awards(self):
        """The members eligible for an award (R2018-AWARD): this year's HTXSNV, and whether it is their
        fifth HTXSNV year running."""
        lists = award_lists(self.period, self.organization)
        columns = [
            *self._member_columns(),
            Column(_("Level %(year)s") % {"year": self.period.year}, 11),
            Column(
                _("HTXSNV five years running (%(first)s–%(year)s)") % {"first": lists.first_year, "year": lists.year},
                16,
                wrap=True,
            ),
        ]
        yes = _("yes")

        def rows():
            for number, assessment in enumerate(lists.this_year, start=1):
                yield [
                    *self._member_cells(number, assessment),
                    assessment.decided_level,
                    yes if assessment.running else "",
                ]

        return Sheet(_("Eligible for awards"), columns, rows())
