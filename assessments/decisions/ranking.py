"""Decisions on organisations: a grassroots committee decides its cells; the city board ranks the
grassroots organisations. Each row shows the organisation's own proposal, the evaluators' aggregate,
the levels of its members, what the rules say and a suggested level; the list is in a suggested order.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import TYPE_CHECKING

from django.db.models import Count, QuerySet

from organizations import policy
from organizations.models import Organization
from vocabulary import Level

from ..core.facts import period_parameters
from ..core.models import Assessment, Period
from ..core.text import lang
from ..reviews.selectors import analysis_summaries
from ..rulebooks import OrganizationFacts, OrganizationKind, Parameters, Rulebook, get_rulebook
from .selectors import Choices, QuotaBox, Row, suggestion
from .services import ExceptionDecision, record_levels

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def decided_organizations(parent: Organization) -> QuerySet[Organization]:
    """The organisations whose levels `parent` decides: a committee's cells, or a root's grassroots."""
    subtree = parent.subtree().exclude(pk=parent.pk)
    if parent.depth == 1:
        return subtree.filter(kind__in=Organization.GRASSROOTS_KINDS)
    return subtree.filter(kind__in=(Organization.Kind.SUBORDINATE_CELL, Organization.Kind.SECTION_COMMITTEE))


def ranking_action(parent: Organization) -> str:
    """The policy action of deciding the levels below `parent`: the root ranks its grassroots
    organisations (the board), a grassroots committee its cells."""
    return "ranking.grassroots" if parent.depth == 1 else "ranking.cells"


def check_ranker(user: User, parent: Organization) -> None:
    policy.require(user, ranking_action(parent), parent)


def organization_assessments(period: Period, parent: Organization) -> QuerySet[Assessment]:
    """The reviews of the organisations whose levels `parent` decides (the unit of the quota)."""
    return Assessment.objects.filter(
        period=period,
        member__isnull=True,
        subject_kind=Assessment.SubjectKind.ORGANIZATION,
        organization__in=decided_organizations(parent),
    )


def ranking_rows(
    period: Period, parent: Organization, queryset: QuerySet[Assessment] | None = None
) -> tuple[list[Row], Rulebook, Parameters]:
    """The rows of the ranking (all of them, or those of `queryset`), in the suggested order: best
    suggested level first, then the share of members at HTTNV or better. A fixed number of queries
    whatever the size of the tree: the members' levels are counted per cell by the database."""
    rulebook = get_rulebook(period.regime)
    params = period_parameters(period)
    queryset = organization_assessments(period, parent) if queryset is None else queryset
    assessments = list(queryset.select_related("organization"))
    # Members' decided levels, counted per cell, then summed per organisation by path prefix.
    member_levels = defaultdict(Counter)
    grouped = (
        Assessment.objects.filter(period=period, member__isnull=False, organization__path__startswith=parent.path)
        .exclude(decided_level="")
        .values_list("organization__path", "decided_level")
        .annotate(n=Count("pk"))
        .order_by()
    )
    paths = {a.organization.path: a.pk for a in assessments}
    lengths = {len(path) for path in paths}
    for cell_path, level, n in grouped:
        for length in lengths:
            pk = paths.get(cell_path[:length])
            if pk is not None:
                member_levels[pk][level] += n
    summaries = analysis_summaries(assessments)
    language = lang()
    rows = []
    for assessment in assessments:
        organization = assessment.organization
        counts = {Level(level): n for level, n in member_levels[assessment.pk].items()}
        row = Row(assessment=assessment, cap=None)
        row.member_levels = [(level.value, counts.get(level, 0)) for level in Level.best_first()]
        row.members_decided = sum(counts.values())
        good = counts.get(Level.HTXSNV, 0) + counts.get(Level.HTTNV, 0)
        row.good_share = good / row.members_decided if row.members_decided else 0
        row.evaluations = summaries[assessment.pk]
        if assessment.classified:
            kind = OrganizationKind.CELL if organization.is_cell else OrganizationKind.COMMITTEE
            facts = OrganizationFacts(
                kind=kind,
                founded_on=organization.founded_on,
                member_levels=counts if kind == OrganizationKind.CELL and counts else None,
            )
            evaluation = rulebook.evaluate_organization(facts, None, params)
            row.evaluation = evaluation
            row.cap = evaluation.cap
            row.blocking = [f.message(language) for f in evaluation.findings if f.severity == "block"]
            row.warnings = [
                f.message(language) for f in evaluation.findings if f.severity == "warn" and not f.unchecked
            ]
            row.unchecked = bool(evaluation.unchecked)
            row.allowed = evaluation.allowed_levels()
            # The organisation's own proposal (its review), else what the evaluators propose.
            row.suggested = suggestion(assessment.self_level or row.evaluations["top_level"], evaluation)
        rows.append(row)

    def order(row: Row) -> tuple[int, float, str]:
        level = row.assessment.decided_level or (row.suggested.value if row.suggested else "")
        rank = Level(level).rank if level else 0  # higher is better; undecided and unsuggested last
        return (-rank, -row.good_share, row.assessment.organization.sort_key)

    rows.sort(key=order)
    return rows, rulebook, params


def ranking_record(
    *,
    period: Period,
    parent: Organization,
    user: User,
    choices: Choices,
    exception: ExceptionDecision | None = None,
    rows: list[Row] | None = None,
) -> tuple[int, QuotaBox]:
    check_ranker(user, parent)
    base = organization_assessments(period, parent)
    rulebook = get_rulebook(period.regime)
    params = period_parameters(period)
    if rows is None:
        rows, rulebook, params = ranking_rows(period, parent, base.filter(pk__in=list(choices)))
    return record_levels(
        period=period,
        group=parent,
        group_queryset=base,
        rows=rows,
        rulebook=rulebook,
        params=params,
        user=user,
        choices=choices,
        exception=exception,
        subject_kind="organization",
    )
