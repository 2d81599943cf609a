"""Selectors for the statistics page of a period and an organisation subtree: progress per child
organisation, the distribution of decided levels, and the same organisation year over year.

Every figure counts what the decision screens record: the decided level of a subject that is to be
classified. Each figure is one grouped query (by child organisation, by kind, by year), so the page
costs the same number of queries, and shows at most a page of rows, for a cell of five members as for
a province; the award lists are paged in the database too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from django.core.paginator import Page, Paginator
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet, Sum, Value
from django.utils.translation import gettext as _

from organizations.models import Organization
from vocabulary import Level

from ..core.models import Assessment, MemberLevelCount, Period
from ..core.organization_facts import forms_under
from ..core.selectors import LEVELS, PENDING_STATES, Distribution, _percent
from ..core.text import lang

PROGRESS_KEYS = ("members", "classified", "submitted", "proposed", "decided")


@dataclass
class ProgressRow:
    organization: Organization | None  # None: the total of the subtree
    members: int = 0
    classified: int = 0
    submitted: int = 0
    proposed: int = 0
    decided: int = 0

    @property
    def submitted_percent(self) -> int:
        return _percent(self.submitted, self.members)

    @property
    def proposed_percent(self) -> int:
        return _percent(self.proposed, self.classified)

    @property
    def decided_percent(self) -> int:
        return _percent(self.decided, self.classified)


@dataclass
class Stats:
    progress: list[ProgressRow]  # per child organisation of the page (or the organisation itself, for a cell)
    total: ProgressRow
    members: list[Distribution]  # per child organisation of the page
    members_total: Distribution
    organizations: list[Distribution]  # of organisations' levels, by kind of organisation
    years: list[tuple[Distribution, Distribution]]  # (members, organisations) per year, oldest first
    page: Page | None = None  # the page of child organisations the rows stand for


def level_labels() -> list[str]:
    """The column headings of a distribution: the four levels, then the undecided."""
    return [*LEVELS, _("Not yet decided")]


def level_headings() -> list[tuple[str, str]]:
    """(short heading, full name) per column of a distribution, for the tables."""
    language = lang()
    return [(level, Level(level).label(language)) for level in LEVELS] + [(_("Not yet decided"), "")]


# Child organisations per page of the statistics: a province's root has hundreds of them.
GROUPS_PER_PAGE = 50


def _groups(organization: Organization, page_number: Any = None) -> tuple[list[Organization], Page | None]:
    """The organisations the rows stand for, a page of them: the children, or the organisation itself if
    it has none (then no page)."""
    children = Organization.objects.get_children(organization).order_by("path")
    page = Paginator(children, GROUPS_PER_PAGE).get_page(page_number)
    groups = list(page.object_list)
    if not groups:
        return [organization], None
    return groups, page


def _member_counts(queryset: QuerySet, group_by: str) -> QuerySet:
    """The progress counts of `queryset`'s forms grouped by `group_by` and decided level. Every count
    reads only columns the index of the period's organisations holds (`classified`, never null, is what a
    filtered count counts), so PostgreSQL counts from the index alone."""
    classified = Q(classified=True)
    return (
        queryset.values(group_by, "decided_level")
        .annotate(
            # Prefixed: `classified` is also a field, which an annotation of that name would shadow.
            n_members=Count("*"),
            n_classified=Count("classified", filter=classified),
            n_submitted=Count("classified", filter=~Q(state__in=PENDING_STATES)),
            n_proposed=Count("classified", filter=classified & ~Q(cell_proposed_level="")),
            n_decided=Count("classified", filter=classified & ~Q(decided_level="")),
        )
        .order_by()
    )


def _add(row: dict[str, Any], progress: ProgressRow, distribution: Distribution) -> None:
    for key in PROGRESS_KEYS:
        setattr(progress, key, getattr(progress, key) + row[f"n_{key}"])
    level = row["decided_level"] if row["decided_level"] in LEVELS else ""
    distribution.add(level, row["n_classified"])


def stats_for(period: Period, organization: Organization, page_number: Any = None) -> Stats:
    """Every figure of the statistics page, in a fixed number of queries whatever the size of the
    subtree. The database counts, grouped by child organisation; a page of the children is shown."""
    groups, page = _groups(organization, page_number)
    progress = {group.path: ProgressRow(group) for group in groups}
    members = {group.path: Distribution(group.name) for group in groups}
    total = ProgressRow(None)
    members_total = Distribution(_("Total"))

    # One scan of the subtree, grouped by organisation, each one's rows added to its child's (the prefix
    # of its path, one length for all the children): the totals are the sum of every child's rows, the
    # page's rows are picked out of them.
    subtree = Assessment.objects.filter(forms_under(organization.path), period=period, member__isnull=False)
    length = len(groups[0].path)
    paths = Organization.objects.filter(path__startswith=organization.path).values_list("pk", "path").order_by()
    group_of = {pk: path[:length] for pk, path in paths}
    for row in _member_counts(subtree, "organization_id"):
        _add(row, total, members_total)
        group = group_of[row["organization_id"]]
        if group in progress:
            _add(row, progress[group], members[group])

    return Stats(
        progress=list(progress.values()),
        total=total,
        members=list(members.values()),
        members_total=members_total,
        organizations=_organization_levels(period, organization),
        years=_years(period, organization),
        page=page,
    )


def _kind_group(kind: str) -> Literal["grassroots", "subordinate"]:
    return "grassroots" if kind in Organization.GRASSROOTS_KINDS else "subordinate"


def _organization_levels(period: Period, organization: Organization) -> list[Distribution]:
    """The organisations under `organization` (not itself: its level is decided above it), in two
    rows: grassroots organisations (ranked by the board) and the cells and section committees under
    them (decided by their grassroots committee)."""
    result = {
        "grassroots": Distribution(_("Grassroots organisations")),
        "subordinate": Distribution(_("Cells and section committees under a grassroots committee")),
    }
    rows = (
        Assessment.objects.filter(
            period=period,
            # Implied by the kind, said for the database: the index of the organisations' own forms.
            member__isnull=True,
            subject_kind=Assessment.SubjectKind.ORGANIZATION,
            classified=True,
            organization__path__startswith=organization.path,
        )
        .exclude(organization=organization)
        .values("organization__kind", "decided_level")
        .annotate(n=Count("*"))
        .order_by()
    )
    for row in rows:
        level = row["decided_level"] if row["decided_level"] in LEVELS else ""
        result[_kind_group(row["organization__kind"])].add(level, row["n"])
    return [distribution for distribution in result.values() if distribution.classified]


def _years(period: Period, organization: Organization) -> list[tuple[Distribution, Distribution]]:
    """The annual periods of the same root organisation, oldest first, each with the distribution of
    the members' and the organisations' levels in the subtree of `organization` (as the tree is now)."""
    years = dict(
        Period.objects.filter(organization_id=period.organization_id, quarter__isnull=True).values_list("pk", "year")
    )
    by_year = {year: (Distribution(str(year)), Distribution(str(year))) for year in sorted(years.values())}
    # The members' levels from the counts the database keeps (MemberLevelCount: an organisation's few
    # rows, not its members' forms); the organisations' from their own forms.
    members = (
        MemberLevelCount.objects.filter(forms_under(organization.path), period_id__in=list(years), n__gt=0)
        .annotate(which=Value(0))
        .values_list("which", "period_id", "decided_level")
        .annotate(n=Sum("n"))
    )
    organizations = (
        Assessment.objects.filter(
            forms_under(organization.path),
            period_id__in=list(years),
            classified=True,
            member__isnull=True,
            subject_kind=Assessment.SubjectKind.ORGANIZATION,
        )
        .exclude(organization=organization)
        .annotate(which=Value(1))
        .values_list("which", "period_id", "decided_level")
        .annotate(n=Count("*"))
    )
    for index, period_id, level, n in members.order_by().union(organizations.order_by(), all=True):
        by_year[years[period_id]][index].add(level if level in LEVELS else "", n)
    return list(by_year.values())


def chart_data(stats: Stats) -> dict[str, Any]:
    """The figures of the charts, the same numbers as the tables beside them."""
    labels = level_labels()
    return {
        "levels": labels,
        "members": {"labels": labels, "counts": [count for count, _p in stats.members_total.cells]},
        "organizations": {
            "labels": labels,
            "series": [{"label": d.label, "counts": [count for count, _p in d.cells]} for d in stats.organizations],
        },
        "years": {
            "labels": [members.label for members, _orgs in stats.years],
            # One series per level (and the undecided): the % of the year's members to be classified.
            "series": [
                {"label": label, "percents": [members.cells[index][1] for members, _orgs in stats.years]}
                for index, label in enumerate(labels)
            ],
        },
    }


# The years of HTXSNV in a row that make a member eligible for the award "five years running" (R2018-AWARD).
AWARD_YEARS_RUNNING = 5


def years_running_ids(period: Period, decided: QuerySet[Assessment]) -> QuerySet[Assessment]:
    """The member ids, among the members of `decided` (this period's HTXSNV), that were HTXSNV in each of
    the `AWARD_YEARS_RUNNING - 1` years before (R2018-AWARD): the earlier years are the finalised annual
    periods of the same root organisation. A subquery grouped by member, not a count per row."""
    earlier_years = set(range(period.year - AWARD_YEARS_RUNNING + 1, period.year))
    return (
        Assessment.objects.filter(
            period__organization_id=period.organization_id,
            period__quarter__isnull=True,
            period__year__in=earlier_years,
            period__state__in=(Period.State.FINALISED, Period.State.PUBLISHED),
            member_id__in=decided.values("member_id"),
            classified=True,
            decided_level=Level.HTXSNV,
        )
        .order_by()
        .values("member_id")
        .annotate(years=Count("period__year", distinct=True))
        .filter(years=len(earlier_years))
        .values("member_id")
    )


# Members per page of each award list on the statistics page (the workbook lists them all).
AWARD_ROWS_PER_PAGE = 50


@dataclass
class AwardPages:
    """The award lists of the statistics page, a page of each: the lists of a province run to
    tens of thousands of members. Each row carries `.running`: whether it is the fifth HTXSNV year
    running."""

    year: int
    this_year: Page
    years_running: Page

    @property
    def first_year(self) -> int:
        return self.year - AWARD_YEARS_RUNNING + 1


def award_pages(
    period: Period, organization: Organization, this_page: Any = None, running_page: Any = None
) -> AwardPages:
    """The members of the subtree of `organization` decided HTXSNV in `period`, and those HTXSNV five
    years running (`years_running_ids`), a page of each: counted and paged by the database. Four queries
    (each list's count and page), whatever the size."""
    decided = Assessment.objects.filter(
        period=period,
        member__isnull=False,
        classified=True,
        decided_level=Level.HTXSNV,
        organization__path__startswith=organization.path,
    )
    running_ids = years_running_ids(period, decided)
    decided = (
        decided.annotate(running=ExpressionWrapper(Q(member_id__in=running_ids), output_field=BooleanField()))
        .select_related("member", "organization")
        .order_by("organization__path", "member__sort_key", "pk")
    )
    this_year = Paginator(decided, AWARD_ROWS_PER_PAGE).get_page(this_page)
    years_running = Paginator(decided.filter(member_id__in=running_ids), AWARD_ROWS_PER_PAGE).get_page(running_page)
    for page in (this_year, years_running):
        page.object_list = list(page.object_list)
    return AwardPages(year=period.year, this_year=this_year, years_running=years_running)
