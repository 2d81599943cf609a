"""The facts of party organisations and of their leadership collectives, as the rulebooks read them.

An organisation's level rests on the levels decided below it: all its members (a cell's rules) and its
subordinate organisations (a committee's); its leadership collective's level is checked against the
organisation's. Both are read with the year's records on the organisations themselves
(`OrganizationRecord`: disciplined, disunity, corruption) and with what the board entered of the
organisation's year (`OrganizationYear`: the levels of the same-level government, Front and mass
organisations; the plan share and basic targets of the unit its collective leads). Built in bulk, for any number of
organisations of one period: a fixed number of queries (the levels below are counted by the database,
then summed here by path prefix).
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from django.db import connections
from django.db.models import Count, Q, QuerySet

from members.models import DegradationConclusion, DisciplineDecision, Member
from members.selectors import CURRENT_STATUSES
from organizations.models import Organization, OrganizationRecord, OrganizationYear
from vocabulary import Level

from ..rulebooks import CollectiveFacts, Discipline, OrganizationFacts, OrganizationKind
from .models import Assessment, MemberLevelCount, Period

# The posts that make a member of a cell's leadership collective (chi ủy: secretary, deputy, members).
# From this many organisations on, their records are read by a join on their common subtree.
LONG_LIST = 1000
# Under this many organisations, LevelsBelow reads each one's subtree rather than their common one.
SUBTREES_LISTED = 200

COLLECTIVE_POSTS = (
    Member.PartyPost.SECRETARY,
    Member.PartyPost.DEPUTY_SECRETARY,
    Member.PartyPost.COMMITTEE_MEMBER,
)


@dataclass
class Pending:
    """What is still undecided below an organisation: the decisions its own must wait for."""

    members: int = 0  # classified members under it with no decided level
    subordinates: list[str] = field(default_factory=list)  # names of subordinate organisations undecided
    collective: bool = False  # its leadership collective is to be classified and is undecided

    def __bool__(self) -> bool:
        return bool(self.members or self.subordinates or self.collective)


def _common_path(organizations: Iterable[Organization]) -> str:
    return common_path([org.path for org in organizations])


def common_path(paths: Iterable[str]) -> str:
    """The path of the deepest organisation whose subtree holds every one of `paths` ("" for none)."""
    paths = list(paths)
    if not paths:
        return ""
    steplen = Organization.steplen
    prefix = os.path.commonprefix(paths)
    return prefix[: len(prefix) - len(prefix) % steplen]


def forms_under(path: str) -> Q:
    """The forms assessed in the subtree of the organisation at `path`. Every form of a period is under
    the root of its tree: a root's subtree is the whole of its periods, with no organisation to join."""
    if len(path) == Organization.steplen:
        return Q()
    return Q(organization__path__startswith=path)


def _summed_up_to(counts: QuerySet, lengths: Iterable[int], within: str) -> list[tuple[str, str, int]]:
    """[(path prefix, level, n)]: `counts` ((organisation id, decided_level, n) rows) summed by the prefix of each
    organisation's path of each of `lengths` (a listed organisation's path and those under it), the
    organisations counted being under the path `within`: one query, on both databases. (The organisations
    are joined within it, by its index: a province's few thousand, not the country's 300,000.)"""
    sql, params = counts.query.sql_with_params()
    table = Organization._meta.db_table
    sums, joined = [], []
    for length in sorted(lengths):
        sums.append(
            f"SELECT SUBSTR(o.path, 1, {int(length)}), c.decided_level, CAST(SUM(c.n) AS INTEGER) "
            f"FROM counted c INNER JOIN {table} o ON o.id = c.organization_id "
            f"WHERE o.path LIKE %s AND LENGTH(o.path) >= {int(length)} GROUP BY 1, 2"
        )
        joined.append(f"{within}%")
    with connections[counts.db].cursor() as cursor:
        cursor.execute(f"WITH counted AS ({sql}) " + " UNION ALL ".join(sums), (*params, *joined))
        return cursor.fetchall()


class LevelsBelow:
    """The levels decided (and still undecided) under a set of organisations of one period: three queries."""

    def __init__(self, period: Period, organizations: Iterable[Organization]) -> None:
        self.period = period
        self.organizations = {org.path: org for org in organizations}
        self.prefix = _common_path(self.organizations.values())
        self.member_levels: defaultdict[str, Counter[str]] = defaultdict(Counter)  # org path -> {level: n}
        self.members_undecided: Counter[str] = Counter()
        self.subordinate_levels: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.subordinates_undecided: defaultdict[str, list[str]] = defaultdict(list)
        self.own_level: dict[tuple[str, str], str] = {}  # (org path, subject kind) -> decided level
        self.collective_undecided: set[str] = set()
        if not self.organizations:
            return
        steplen = Organization.steplen
        under = self._subtrees()
        # The members' levels by organisation, as the database keeps them counted (MemberLevelCount: a
        # cell's few rows, not its members' forms); summed by the database up to each listed
        # organisation's depth (the prefix of its path), so that a city's ten thousand cells come back as
        # its grassroots organisations' few rows, and no organisation's path is read here.
        members = MemberLevelCount.objects.filter(under, period=period, n__gt=0).values_list(
            "organization_id", "decided_level", "n"
        )
        for path, level, n in _summed_up_to(members, {len(path) for path in self.organizations}, self.prefix):
            if path not in self.organizations:
                continue
            if level:
                self.member_levels[path][level] += n
            else:
                self.members_undecided[path] += n
        reviews = (
            Assessment.objects.filter(under, period=period, member__isnull=True, classified=True)
            .values_list("organization__path", "organization__name", "subject_kind", "decided_level")
            .order_by("organization__path")
        )
        for path, name, kind, level in reviews:
            if kind == Assessment.SubjectKind.COLLECTIVE:
                if path in self.organizations:
                    self.own_level[(path, kind)] = level
                    if not level:
                        self.collective_undecided.add(path)
                continue
            if path in self.organizations:
                self.own_level[(path, kind)] = level
            parent = path[:-steplen]
            if parent in self.organizations:
                if level:
                    self.subordinate_levels[parent][level] += 1
                else:
                    self.subordinates_undecided[parent].append(name)

    def _subtrees(self, lookup: str = "organization__path") -> Q:
        """The subtrees of the organisations: each one's own when they are few (a cluster of the root's
        organisations, a page of them: their common subtree may be the whole province), else their
        common subtree. `lookup`: the path's (the forms' organisation's, or an organisation's own)."""
        if len(self.organizations) >= SUBTREES_LISTED:
            if lookup == "organization__path":
                return forms_under(self.prefix)
            return Q(**{f"{lookup}__startswith": self.prefix})
        under = Q()
        for path in self.organizations:
            under |= Q(**{f"{lookup}__startswith": path})
        return under

    @cached_property
    def records(self) -> dict[str, set[str]]:
        """{organisation path: the kinds of its records of the year} for the organisations and the
        organisations directly under them: one query, made when the rules first need it."""
        if not self.organizations:
            return {}
        deepest = max(org.depth for org in self.organizations.values())
        kinds: defaultdict[str, set[str]] = defaultdict(set)
        rows = OrganizationRecord.objects.filter(
            decided_on__year=self.period.year,
            organization__path__startswith=self.prefix,
            organization__depth__lte=deepest + 1,
        ).values_list("organization__path", "kind")
        for path, kind in rows.order_by():
            kinds[path].add(kind)
        return kinds

    @cached_property
    def years(self) -> dict[int, OrganizationYear]:
        """{organisation pk: the board's record of its year} for the organisations: one query, made when
        the rules first need it."""
        if not self.organizations:
            return {}
        pks = {org.pk for org in self.organizations.values()}
        records = OrganizationYear.objects.filter(year=self.period.year)
        if len(pks) < LONG_LIST:
            records = records.filter(organization_id__in=pks)
        else:
            # Many organisations: by a join on their common subtree, not an IN list of their ids.
            records = records.filter(organization__path__startswith=self.prefix)
        return {record.organization_id: record for record in records if record.organization_id in pks}

    @cached_property
    def _disciplined_parents(self) -> set[str]:
        """The paths of the organisations with an organisation directly under them disciplined in the year."""
        steplen = Organization.steplen
        return {path[:-steplen] for path, kinds in self.records.items() if OrganizationRecord.Kind.DISCIPLINED in kinds}

    def subordinate_disciplined(self, organization: Organization) -> bool:
        """Whether an organisation directly under `organization` (trực thuộc) was disciplined in the year."""
        return organization.path in self._disciplined_parents

    def organization_facts(self, organization: Organization) -> OrganizationFacts:
        path = organization.path
        kind = OrganizationKind.CELL if organization.is_cell else OrganizationKind.COMMITTEE
        members = self.member_levels.get(path)
        subordinates = self.subordinate_levels.get(path)
        collective = self.own_level.get((path, Assessment.SubjectKind.COLLECTIVE)) or None
        records = self.records.get(path, set())
        year = self.years.get(organization.pk)
        return OrganizationFacts(
            kind=kind,
            founded_on=organization.founded_on,
            member_levels={Level.coerce(level): n for level, n in members.items()} if members else None,
            subordinate_levels={Level.coerce(level): n for level, n in subordinates.items()}
            if subordinates and kind == OrganizationKind.COMMITTEE
            else None,
            # 2018: the same-level government, Front and mass organisations (None: not entered yet).
            peer_levels=year.peer_levels() if year else None,
            collective_level=collective,
            disciplined=OrganizationRecord.Kind.DISCIPLINED in records,
            # 2018 [R]: internal disunity, or corruption or negativity that was disciplined.
            disunity_or_corruption=bool(
                records & {OrganizationRecord.Kind.PERSONNEL_OR_DISUNITY, OrganizationRecord.Kind.CORRUPTION}
            ),
        )

    def organization_level(self, organization: Organization) -> Level | None:
        level = self.own_level.get((organization.path, Assessment.SubjectKind.ORGANIZATION))
        return Level(level) if level else None

    def pending(self, organization: Organization) -> Pending:
        path = organization.path
        return Pending(
            members=self.members_undecided.get(path, 0),
            subordinates=list(self.subordinates_undecided.get(path, ())),
            collective=path in self.collective_undecided,
        )


def _collective_members(period: Period, organizations: list[Organization]) -> tuple[dict, dict, set]:
    """({cell pk: post holders}, {cell pk: [Discipline]}, {cell pk with a degradation concluded}) for the
    cells among `organizations`: three queries. Only a cell's collective (its chi ủy) is on record: the
    members of a committee's are not (Member.party_post is a post in the member's cell)."""
    cells = [org.pk for org in organizations if org.is_cell]
    if not cells:
        return {}, {}, set()
    if len(cells) < LONG_LIST:
        where = {"cell_id__in": cells}
    else:
        # Many cells: by a join on their common subtree, not an IN list of their ids (others left aside).
        where = {"cell__path__startswith": _common_path(org for org in organizations if org.is_cell)}
    holders = Member.objects.filter(**where, party_post__in=COLLECTIVE_POSTS, status__in=CURRENT_STATUSES)
    counts = dict(holders.values_list("cell_id").annotate(n=Count("pk")).order_by())
    disciplines = defaultdict(list)
    decisions = DisciplineDecision.objects.filter(member__in=holders, decided_on__year=period.year).values_list(
        "member__cell_id", "decided_on", "form", "in_official_duties"
    )
    for cell_id, decided_on, form, in_official_duties in decisions.order_by("decided_on", "pk"):
        disciplines[cell_id].append(Discipline(decided_on=decided_on, form=form, in_official_duties=in_official_duties))
    degraded = set(
        DegradationConclusion.objects.filter(member__in=holders, concluded_on__year=period.year)
        .values_list("member__cell_id", flat=True)
        .distinct()
    )
    return counts, disciplines, degraded


def organization_facts_for(
    period: Period, organizations: Iterable[Organization], levels: LevelsBelow | None = None
) -> dict[int, OrganizationFacts]:
    """{organisation pk: OrganizationFacts} with the levels decided below each, the year's records on
    it and the board's record of its year: four queries."""
    organizations = list(organizations)
    levels = levels or LevelsBelow(period, organizations)
    return {org.pk: levels.organization_facts(org) for org in organizations}


def collective_facts_for(
    period: Period, organizations: Iterable[Organization], levels: LevelsBelow | None = None
) -> dict[int, CollectiveFacts]:
    """{organisation pk: CollectiveFacts} of the organisations' leadership collectives: the
    organisation's decided level, the year's records on it and on the organisations directly under it,
    the board's record of its year (the unit's plan share, the basic targets), and for a cell its post
    holders' disciplines and degradation conclusions of the year. Seven queries."""
    organizations = list(organizations)
    levels = levels or LevelsBelow(period, organizations)
    counts, disciplines, degraded = _collective_members(period, organizations)
    facts = {}
    for org in organizations:
        year = levels.years.get(org.pk)
        plan_share = year.unit_plan_share if year else None
        facts[org.pk] = CollectiveFacts(
            founded_on=org.founded_on,
            organization_level=levels.organization_level(org),
            member_disciplines=tuple(disciplines.get(org.pk, ())),
            member_degradation_concluded=org.pk in degraded,
            member_count=counts.get(org.pk, 0) if org.is_cell else None,
            personnel_or_unity_concluded=OrganizationRecord.Kind.PERSONNEL_OR_DISUNITY
            in levels.records.get(org.path, set()),
            subordinate_disciplined=levels.subordinate_disciplined(org),
            # 2025 C4: the unit the collective leads, as the board entered its year (a percentage there).
            unit_plan_share=plan_share / 100 if plan_share is not None else None,
            basic_targets_missed=bool(year and year.basic_targets_missed),
        )
    return facts
