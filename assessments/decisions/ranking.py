"""Decisions on organisations: a grassroots committee decides its cells; the city board ranks the
grassroots organisations. Each row shows the organisation's own proposal, the evaluators' aggregate,
the levels of its members, what the rules say and a suggested level; the list is in a suggested order.
The leadership collectives of the same organisations are decided by the same deciders, in a tab.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr
from django.utils.translation import gettext as _

from bulk import frozen_gc, made_with
from organizations import policy
from organizations.models import Organization
from vocabulary import Level

from ..core.facts import period_parameters
from ..core.models import Assessment, Period
from ..core.organization_facts import LevelsBelow, collective_facts_for
from ..core.text import lang
from ..evaluations import answers_for, variant_of
from ..reviews.selectors import analysis_summaries
from ..rulebooks import Evaluation, Parameters, Rulebook, get_rulebook
from . import links
from .conflicts import Conflicts
from .selectors import PROPOSAL_FIELDS, Choices, QuotaBox, Row, Tally, suggestion, tally_row
from .services import ExceptionDecision, record_levels

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _decided_kinds(parent: Organization) -> tuple[str, ...]:
    if parent.depth == 1:
        return tuple(Organization.GRASSROOTS_KINDS)
    return (Organization.Kind.SUBORDINATE_CELL, Organization.Kind.SECTION_COMMITTEE)


def decided_organizations(parent: Organization) -> QuerySet[Organization]:
    """The organisations whose levels `parent` decides: a committee's cells, or a root's grassroots."""
    return parent.subtree().exclude(pk=parent.pk).filter(kind__in=_decided_kinds(parent))


def _decided(parent: Organization) -> Q:
    """The forms whose organisation is one `parent` decides (`decided_organizations`), by a join on the
    organisation: the one the screens read its name, cluster and path from (not a second, a subquery's)."""
    return Q(organization__path__startswith=parent.path, organization__kind__in=_decided_kinds(parent)) & ~Q(
        organization_id=parent.pk
    )


def ranking_action(parent: Organization) -> str:
    """The policy action of deciding the levels below `parent`: the root ranks its grassroots
    organisations (the board), a grassroots committee its cells."""
    return "ranking.grassroots" if parent.depth == 1 else "ranking.cells"


def check_ranker(user: User, parent: Organization) -> None:
    policy.require(user, ranking_action(parent), parent)


def organization_assessments(period: Period, parent: Organization) -> QuerySet[Assessment]:
    """The reviews of the organisations whose levels `parent` decides (the unit of the quota)."""
    return Assessment.objects.filter(
        _decided(parent),
        period=period,
        member__isnull=True,
        subject_kind=Assessment.SubjectKind.ORGANIZATION,
    )


def collective_assessments(period: Period, parent: Organization) -> QuerySet[Assessment]:
    """The reviews of the leadership collectives of the organisations `parent` decides: decided on the
    same screen, under the same right, in a tab of their own (their quota counts apart)."""
    return Assessment.objects.filter(
        _decided(parent),
        period=period,
        member__isnull=True,
        subject_kind=Assessment.SubjectKind.COLLECTIVE,
    )


# The cluster filter's value for the organisations that belong to no cluster (a slug never has it).
NO_CLUSTER = "_none"


@dataclass
class ClusterSummary:
    """One cluster (cụm thi đua) of the ranking: its code (NO_CLUSTER for the organisations in none),
    its name and where its subjects' levels stand."""

    code: str
    name: str
    tally: Tally = field(default_factory=Tally)
    subjects: int = 0


def _count(summary: ClusterSummary | AreaSummary, row: dict, proposal: str) -> None:
    """A grouped row's subjects counted in a cluster's or an area's summary: all of them, and those
    classified by their decided level, else by what is proposed."""
    summary.subjects += row["n"]
    if not row["classified"]:
        return
    summary.tally.classified += row["n"]
    if row["decided_level"]:
        summary.tally.decided[row["decided_level"]] += row["n"]
    elif row[proposal]:
        summary.tally.proposed[row[proposal]] += row["n"]


# A ranking of more organisations than this is not read at once (each is read with the levels decided
# below it): it is grouped by the organisations directly under the one that ranks (a country's
# provinces), and one group is ranked at a time. The screens are measured at 3,000 rows.
RANKING_ROWS_MAX = 3000


@dataclass
class AreaSummary:
    """One area of a long ranking: an organisation directly under the one that ranks (`path`), its code
    and name, and where the levels of the subjects under it stand."""

    code: str
    name: str
    path: str
    tally: Tally = field(default_factory=Tally)
    subjects: int = 0


@dataclass
class RankingSummary:
    """Where the levels of a ranking's subjects stand, from one grouped query whatever their number (a
    row a cluster, area and level): as a whole (the quota box's tally), by cluster, and by area (the
    organisations directly under the one that ranks) when asked."""

    total: Tally
    clusters: list[ClusterSummary]
    rows: list[dict]
    proposal: str

    def areas(self, cluster: str = "") -> list[AreaSummary]:
        """The subjects grouped by area (those of the cluster `cluster` only, if given), in the tree's
        order: one query more, for the areas' names."""
        summaries: dict[str, AreaSummary] = {}
        for row in self.rows:
            if cluster and (row["organization__cluster__code"] or NO_CLUSTER) != cluster:
                continue
            summary = summaries.get(row["area"])
            if summary is None:
                summary = summaries[row["area"]] = AreaSummary(code="", name="", path=row["area"])
            _count(summary, row, self.proposal)
        for code, name, path in Organization.objects.filter(path__in=summaries).values_list("code", "name", "path"):
            summaries[path].code, summaries[path].name = code, name
        return sorted((s for s in summaries.values() if s.code), key=lambda s: s.path)


def ranking_summary(
    queryset: QuerySet[Assessment], subject_kind: str = "organization", parent: Organization | None = None
) -> RankingSummary:
    """The RankingSummary of `queryset`'s subjects (by area, the areas under `parent`, if given): one
    query, grouped in the database, a row a cluster, area and level; the clusters by name, those in none
    last."""
    proposal = PROPOSAL_FIELDS[subject_kind]
    columns = [
        "organization__cluster__code",
        "organization__cluster__name",
        "classified",
        "decided_level",
        proposal,
        "reopened",
    ]
    if parent is not None:
        queryset = queryset.annotate(area=Substr("organization__path", 1, len(parent.path) + parent.steplen))
        columns.append("area")
    rows = list(queryset.values(*columns).annotate(n=Count("*")).order_by())
    total = Tally()
    clusters: dict[str, ClusterSummary] = {}
    for row in rows:
        if row["classified"]:
            tally_row(total, row, proposal)
        code = row["organization__cluster__code"] or NO_CLUSTER
        summary = clusters.get(code)
        if summary is None:
            name = row["organization__cluster__name"] or _("Not in a cluster")
            summary = clusters[code] = ClusterSummary(code=code, name=name)
        _count(summary, row, proposal)
    ordered = sorted(clusters.values(), key=lambda s: (s.code == NO_CLUSTER, _natural(s.name), s.code))
    return RankingSummary(total=total, clusters=ordered, rows=rows, proposal=proposal)


def in_area(queryset: QuerySet[Assessment], area: AreaSummary) -> QuerySet[Assessment]:
    """The subjects of `queryset` under the area's organisation."""
    return queryset.filter(organization__path__startswith=area.path)


def _natural(name: str) -> list[tuple[int, int | str]]:
    """A name's sort key with its numbers read as numbers: "Cụm số 2" before "Cụm số 10"."""
    return [(1, int(part)) if part.isdigit() else (0, part.casefold()) for part in re.split(r"(\d+)", name)]


def in_cluster(queryset: QuerySet[Assessment], code: str) -> QuerySet[Assessment]:
    """The subjects of `queryset` whose organisation is in the cluster `code` (NO_CLUSTER: in none)."""
    if code == NO_CLUSTER:
        return queryset.filter(organization__cluster__isnull=True)
    return queryset.filter(organization__cluster__code=code)


def _read(row: Row, evaluation: Evaluation, proposal: Level | str | None, language: str) -> None:
    row.evaluation = evaluation
    row.cap = evaluation.cap
    row.blocking = [f.message(language) for f in evaluation.findings if f.severity == "block"]
    row.warnings = [f.message(language) for f in evaluation.findings if f.severity == "warn" and not f.unchecked]
    row.unchecked = bool(evaluation.unchecked)
    row.allowed = evaluation.allowed_levels()
    row.suggested = suggestion(proposal, evaluation)


def _summary(levels: list[tuple[str, int]]) -> str:
    return "; ".join(f"{level} {n}" for level, n in levels if n)


def _order(row: Row) -> tuple[int, float, str]:
    level = row.assessment.decided_level or (row.suggested.value if row.suggested else "")
    rank = Level(level).rank if level else 0  # higher is better; undecided and unsuggested last
    return (-rank, -row.good_share, row.assessment.organization.sort_key)


def ranking_rows(
    period: Period, parent: Organization, queryset: QuerySet[Assessment] | None = None
) -> tuple[list[Row], Rulebook, Parameters]:
    """The rows of the ranking (all of them, or those of `queryset`), in the suggested order: best
    suggested level first, then the share of members at HTTNV or better. Each organisation is read with
    the levels decided below it: its members, its subordinate organisations, its leadership collective,
    and what is still undecided there (the order). A fixed number of queries whatever the size of the
    tree: the levels below are counted by the database (`core.organization_facts`)."""
    # The collector held still: a city's 2,671 rows made and read 0.32 s, not 0.39 (the young
    # collections walked the rows again and again while they were being made).
    with frozen_gc():
        return _ranking_rows(period, parent, queryset)


def _ranking_rows(
    period: Period, parent: Organization, queryset: QuerySet[Assessment] | None
) -> tuple[list[Row], Rulebook, Parameters]:
    rulebook = get_rulebook(period.regime)
    params = period_parameters(period)
    queryset = organization_assessments(period, parent) if queryset is None else queryset
    # Made from plain values: a city's 2,671 forms and organisations in half the time of the ORM's.
    assessments = made_with(queryset, "organization")
    levels = LevelsBelow(period, [a.organization for a in assessments])
    summaries = analysis_summaries(assessments)
    answers = answers_for(period, [a for a in assessments if a.classified], rulebook, params)
    rows = []
    language = lang()
    # Plain strings: an enum's value read 70,000 times was 5% of a city's ranking.
    codes, good = Level.codes(), (Level.HTXSNV.value, Level.HTTNV.value)
    for assessment in assessments:
        organization = assessment.organization
        counts = levels.member_levels.get(organization.path, {})
        row = Row(assessment=assessment, cap=None)
        row.member_levels = [(code, counts.get(code, 0)) for code in codes]
        row.members_decided = sum(counts.values())
        good_members = sum(counts.get(code, 0) for code in good)
        row.good_share = good_members / row.members_decided if row.members_decided else 0
        subordinates = levels.subordinate_levels.get(organization.path, {})
        row.subordinate_levels = [(code, subordinates.get(code, 0)) for code in codes]
        row.subordinates_decided = sum(subordinates.values())
        row.member_summary = _summary(row.member_levels)
        row.subordinate_summary = _summary(row.subordinate_levels)
        row.collective_level = levels.own_level.get((organization.path, Assessment.SubjectKind.COLLECTIVE), "")
        row.evaluations = summaries[assessment.pk]
        if assessment.classified:
            evaluation = links.evaluate_organization(
                period,
                rulebook,
                params,
                organization,
                levels,
                answers[assessment.pk],
                variant_of(rulebook, assessment, rulebook.evaluation_purpose),
            )
            # The organisation's own proposal (its review), else what the evaluators propose.
            _read(row, evaluation, assessment.self_level or row.evaluations["top_level"], language)
        rows.append(row)
    rows.sort(key=_order)
    return rows, rulebook, params


def collective_rows(
    period: Period, parent: Organization, queryset: QuerySet[Assessment] | None = None
) -> tuple[list[Row], Rulebook, Parameters]:
    """The rows of the leadership collectives (all of them, or those of `queryset`), in the order of
    the tree, each read with its organisation's decided level and its post holders' records. A fixed
    number of queries whatever the size."""
    rulebook = get_rulebook(period.regime)
    params = period_parameters(period)
    queryset = collective_assessments(period, parent) if queryset is None else queryset
    assessments = sorted(made_with(queryset, "organization"), key=lambda a: a.organization.sort_key)
    organizations = [a.organization for a in assessments]
    levels = LevelsBelow(period, organizations)
    facts = collective_facts_for(period, organizations, levels)
    summaries = analysis_summaries(assessments)
    answers = answers_for(period, [a for a in assessments if a.classified], rulebook, params)
    rows = []
    language = lang()
    for assessment in assessments:
        organization = assessment.organization
        row = Row(assessment=assessment, cap=None)
        row.member_levels, row.members_decided, row.good_share = [], 0, 0
        row.organization_level = levels.own_level.get((organization.path, Assessment.SubjectKind.ORGANIZATION), "")
        row.evaluations = summaries[assessment.pk]
        if assessment.classified:
            evaluation = rulebook.evaluate_collective(
                facts[organization.pk],
                answers[assessment.pk],
                params,
                variant=variant_of(rulebook, assessment, rulebook.evaluation_purpose),
            )
            _read(row, evaluation, assessment.self_level or row.evaluations["top_level"], language)
        rows.append(row)
    return rows, rulebook, params


def ranking_record(
    *,
    period: Period,
    parent: Organization,
    user: User,
    choices: Choices,
    exception: ExceptionDecision | None = None,
    rows: list[Row] | None = None,
    subject_kind: str = "organization",
    conflicts: Conflicts | None = None,
    undecided_only: bool = False,
) -> tuple[int, QuotaBox]:
    """Record the levels of `choices` for the organisations `parent` decides, or (`subject_kind`
    "collective") for their leadership collectives, under the same right."""
    check_ranker(user, parent)
    collectives = subject_kind == "collective"
    base = collective_assessments(period, parent) if collectives else organization_assessments(period, parent)
    rulebook = get_rulebook(period.regime)
    params = period_parameters(period)
    if rows is None:
        read = collective_rows if collectives else ranking_rows
        rows, rulebook, params = read(period, parent, base.filter(pk__in=list(choices)))
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
        subject_kind=subject_kind,
        conflicts=conflicts,
        undecided_only=undecided_only,
    )
