"""The seven sheets of the year-end workbook for a period and an organisation subtree, each a header and
a generator of rows."""

from collections import defaultdict

from django.db.models import Case, Count, Exists, OuterRef, Q, Value, When
from django.utils.translation import gettext as _

from organizations.models import Organization
from vocabulary import Level

from ..core.facts import period_parameters
from ..core.models import Assessment
from ..core.selectors import previous_level
from ..core.text import lang
from ..rulebooks import get_rulebook, khtnv_two_years_running
from .layout import (
    BOARD,
    EXCUSED,
    K_CIVIL_SERVICE,
    K_DEGRADATION,
    K_DISCIPLINE,
    K_JUDGEMENT,
    KHTNV_REASONS,
    NEW_MEMBER,
    OTHER,
    REASONS,
    SUSPENDED,
    Column,
    Sheet,
    Tally,
    level_columns,
    reason_category,
    share,
)
from .lists import ListSheets


class YearEndExport(ListSheets):
    """The seven sheets of one period for the subtree of `organization`: the summaries here, the lists
    in `lists.ListSheets`."""

    def __init__(self, period, organization):
        self.period = period
        self.organization = organization
        self.rulebook = get_rulebook(period.regime)
        self.params = period_parameters(period)
        self._grassroots = None
        self._member_tallies = None

    # --- Shared data --------------------------------------------------------------------------

    def _assessments(self):
        return Assessment.objects.filter(period=self.period, organization__path__startswith=self.organization.path)

    def _member_assessments(self):
        return self._assessments().filter(member__isnull=False)

    def _organization_assessments(self):
        return self._assessments().filter(member__isnull=True, subject_kind=Assessment.SubjectKind.ORGANIZATION)

    @property
    def grassroots(self):
        """{path: organisation} of the grassroots organisations the subtree's members belong to."""
        if self._grassroots is None:
            path, step = self.organization.path, self.organization.steplen
            ancestors = [path[:end] for end in range(step, len(path), step)]
            self._grassroots = {
                org.path: org
                for org in Organization.objects.filter(kind__in=Organization.GRASSROOTS_KINDS)
                .filter(Q(path__startswith=path) | Q(path__in=ancestors))
                .order_by("path")
            }
            self._lengths = sorted({len(p) for p in self._grassroots})
        return self._grassroots

    def grassroots_of(self, path):
        grassroots = self.grassroots
        for length in self._lengths:
            org = grassroots.get(path[:length])
            if org is not None:
                return org
        return None

    def _khtnv_reason(self):
        """For a KHTNV member, the first of the year's records that makes one KHTNV (else the judgement)."""
        from members.models import CivilServiceRating, DegradationConclusion, DisciplineDecision

        year = self.period.year
        return Case(
            When(~Q(decided_level=Level.KHTNV), then=Value("")),
            When(
                Exists(DisciplineDecision.objects.filter(member=OuterRef("member"), decided_on__year=year)),
                then=Value(K_DISCIPLINE),
            ),
            When(
                Exists(DegradationConclusion.objects.filter(member=OuterRef("member"), concluded_on__year=year)),
                then=Value(K_DEGRADATION),
            ),
            When(
                Exists(CivilServiceRating.objects.filter(member=OuterRef("member"), year=year, level=Level.KHTNV)),
                then=Value(K_CIVIL_SERVICE),
            ),
            default=Value(K_JUDGEMENT),
        )

    def member_tallies(self):
        """{grassroots path: Tally} of the members: three grouped queries, counted per cell, and the
        paths of the subtree's organisations. The counts by state and level read the forms alone
        (grouped by the cell's id); the probationary members and this year's KHTNV (why, and whether the second year
        running) are few, each counted by a query of its own, which reads the members' records for them
        only (a country's tallies read 6 million members' rows in 10 s as one query, in about 2 s so)."""
        if self._member_tallies is not None:
            return self._member_tallies
        members = self._member_assessments()
        paths = dict(Organization.objects.filter(path__startswith=self.organization.path).values_list("pk", "path"))
        tallies = defaultdict(Tally)
        # The organisations directly under the root the members are in (what `member_parts` splits by).
        length = len(self.organization.path) + self.organization.steplen
        self._member_prefixes = prefixes = set()
        by_cell = members.values(
            "organization_id", "classified", "decided_level", "exclusion_reason", "exclusion_overridden"
        ).annotate(n=Count("pk"))
        for row in by_cell.order_by():
            path = paths[row["organization_id"]]
            prefixes.add(path[:length])
            tally = self._tally_of(tallies, path)
            n = row["n"]
            tally.total += n
            if row["classified"]:
                tally.classified += n
                if row["decided_level"]:
                    tally.levels[row["decided_level"]] += n
            else:
                tally.reasons[reason_category(row["exclusion_reason"], row["exclusion_overridden"])] += n
        probationary = members.filter(member__official_date__isnull=True).values("organization_id")
        for row in probationary.annotate(n=Count("pk")).order_by():
            self._tally_of(tallies, paths[row["organization_id"]]).probationary += row["n"]
        khtnv = (
            members.filter(classified=True, decided_level=Level.KHTNV)
            .annotate(previous_level=previous_level(self.period), khtnv_reason=self._khtnv_reason())
            .values("organization_id", "previous_level", "khtnv_reason")
            .annotate(n=Count("pk"))
        )
        for row in khtnv.order_by():
            tally = self._tally_of(tallies, paths[row["organization_id"]])
            tally.khtnv_reasons[row["khtnv_reason"]] += row["n"]
            if khtnv_two_years_running(row["previous_level"], Level.KHTNV):
                tally.two_years += row["n"]
        self._member_tallies = tallies
        return tallies

    def _tally_of(self, tallies, path):
        """The Tally of the grassroots organisation over `path` ("" for none)."""
        org = self.grassroots_of(path)
        return tallies[org.path if org else ""]

    # --- The sheets ---------------------------------------------------------------------------

    def sheets(self):
        """The sheets in order; when the members are more than a sheet holds (`member_parts`), a sheet
        of their totals by part follows the summary by grassroots organisation, and each list of members
        is one sheet per part."""
        parts = self.member_parts()
        if parts is None:
            return [
                self.organizations_by_sector(),
                self.members_by_grassroots(),
                self.organization_list(),
                self.member_list(),
                self.quota_control(),
                self.two_years_running(),
                self.awards(),
            ]
        return [
            self.organizations_by_sector(),
            self.members_by_grassroots(),
            self.members_by_part(parts),
            self.organization_list(),
            *(self.member_list(part) for part in parts),
            self.quota_control(),
            *(self.two_years_running(part) for part in parts),
            *(self.awards(part) for part in parts),
        ]

    def organizations_by_sector(self):
        columns = [
            Column(_("Sector"), 46, wrap=True),
            Column(_("Organisations"), 9, "number"),
            Column(_("Classified"), 9, "number"),
            Column(_("Not classified"), 9, "number"),
            Column(_("Not yet decided"), 9, "number"),
            *level_columns(),
            Column(_("HTXSNV as a share of HTTNV"), 16, "percent"),
        ]

        def rows():
            tallies = defaultdict(Tally)
            grouped = (
                self._organization_assessments()
                .values("organization__sector", "classified", "decided_level")
                .annotate(n=Count("pk"))
                .order_by()
            )
            for row in grouped:
                tally = tallies[row["organization__sector"]]
                tally.total += row["n"]
                if row["classified"]:
                    tally.classified += row["n"]
                    if row["decided_level"]:
                        tally.levels[row["decided_level"]] += row["n"]
            total = Tally()
            for sector, label in Organization.Sector.choices:
                if sector in tallies:
                    total.add(tallies[sector])
                    yield self._summary_row(str(label), tallies[sector])
            yield self._summary_row(_("Total"), total)

        return Sheet(_("Organisations by sector"), columns, rows())

    @staticmethod
    def _summary_row(label, tally):
        return [
            label,
            tally.total,
            tally.classified,
            tally.not_classified,
            tally.undecided,
            *tally.level_cells(),
            share(tally.levels[Level.HTXSNV], tally.levels[Level.HTTNV]),
        ]

    def members_by_grassroots(self):
        reason_labels = {
            EXCUSED: _("Not classified: excused"),
            SUSPENDED: _("Not classified: suspended"),
            NEW_MEMBER: _("Not classified: admitted less than 6 months"),
            BOARD: _("Not classified: board's decision"),
            OTHER: _("Not classified: other reason"),
        }
        khtnv_labels = {
            K_DISCIPLINE: _("KHTNV: disciplined in the year"),
            K_DEGRADATION: _("KHTNV: degradation concluded"),
            K_CIVIL_SERVICE: _("KHTNV: civil-service rating KHTNV"),
            K_JUDGEMENT: _("KHTNV: the committee's judgement"),
        }
        columns = [
            Column(_("Grassroots organisation"), 36, wrap=True),
            Column(_("Members"), 8, "number"),
            Column(_("Classified"), 8, "number"),
            Column(_("Not classified"), 8, "number"),
            *(Column(reason_labels[reason], 9, "number") for reason in REASONS),
            Column(_("Not yet decided"), 8, "number"),
            *level_columns(),
            *(Column(khtnv_labels[reason], 9, "number") for reason in KHTNV_REASONS),
            Column(_("Probationary members"), 9, "number"),
            Column(_("KHTNV two years running"), 9, "number"),
        ]

        def rows():
            tallies = self.member_tallies()
            total = Tally()
            for path, org in self.grassroots.items():
                tally = tallies.get(path, Tally())
                total.add(tally)
                yield self._member_row(org.name, tally)
            yield self._member_row(_("Total"), total)

        return Sheet(_("Members by grassroots organisation"), columns, rows())

    def members_by_part(self, parts: list[Organization]) -> Sheet:
        """The members' totals by part of the subtree (a national export: by province), with the same
        columns as the summary by grassroots organisation, from its tallies."""
        summary = self.members_by_grassroots()
        columns = [Column(_("Organisation"), 36, wrap=True), *summary.columns[1:]]
        root = self.organization
        length = len(root.path) + root.steplen

        def rows():
            tallies = {part.path: Tally() for part in parts}
            for path, tally in self.member_tallies().items():
                part = path[:length] if len(path) >= length else root.path
                tallies.setdefault(part if part in tallies else root.path, Tally()).add(tally)
            total = Tally()
            names = {part.path: part.name for part in parts}
            for path, tally in tallies.items():
                total.add(tally)
                yield self._member_row(names.get(path, root.name), tally)
            yield self._member_row(_("Total"), total)

        return Sheet(_("Members by organisation directly under the committee"), columns, rows())

    @staticmethod
    def _member_row(label, tally):
        return [
            label,
            tally.total,
            tally.classified,
            tally.not_classified,
            *(tally.reasons[reason] for reason in REASONS),
            tally.undecided,
            *tally.level_cells(),
            *(tally.khtnv_reasons[reason] for reason in KHTNV_REASONS),
            tally.probationary,
            tally.two_years,
        ]

    def quota_control(self):
        columns = [
            Column(_("Grassroots organisation"), 36, wrap=True),
            Column(_("Members"), 9, "number"),
            Column(_("Classified"), 9, "number"),
            Column("HTTNV", 9, "number"),
            Column(_("Quota basis"), 9, "number"),
            Column(_("Cap of HTXSNV"), 9, "number"),
            Column(_("Proposed HTXSNV"), 9, "number"),
            Column(_("Actual share"), 9, "percent"),
            Column(_("Verdict"), 19, wrap=True),
            Column(_("Rule"), 56, wrap=True),
        ]
        language = lang()

        def rows():
            tallies = self.member_tallies()
            for path, org in self.grassroots.items():
                tally = tallies.get(path, Tally())
                quota = self.rulebook.quota(dict(tally.levels), self.params, subject_kind="member")
                verdict = (
                    _("Within the quota")
                    if quota.within
                    else _("%(count)d over the quota") % {"count": quota.count - quota.cap_count}
                )
                yield [
                    org.name,
                    tally.total,
                    tally.classified,
                    tally.levels[Level.HTTNV],
                    quota.denominator,
                    quota.cap_count,
                    quota.count,
                    share(quota.count, quota.denominator),
                    verdict,
                    quota.message(language),
                ]

        return Sheet(_("Quota control"), columns, rows())
