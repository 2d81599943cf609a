"""Selectors that turn the member records into the plain facts the rulebooks read.

Built in bulk: one query per kind of record for a whole subtree, whatever its size.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db.models import F, Q

from members.models import CivilServiceRating, DegradationConclusion, DisciplineDecision, LeavePeriod, Transfer

from ..rulebooks import Discipline, MemberFacts, OrganizationFacts, OrganizationKind, TransferFact

if TYPE_CHECKING:
    from members.models import Member
    from organizations.models import Organization


def _months_between(start: datetime.date, end: datetime.date) -> int:
    return max(0, (end.year - start.year) * 12 + end.month - start.month - (1 if end.day < start.day else 0))


def _overlap_days(start: datetime.date, end: datetime.date, year: int) -> int:
    first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    start, end = max(start, first), min(end, last)
    return (end - start).days + 1 if end >= start else 0


def member_facts_for(members: Iterable[Member], year: int) -> dict[int, MemberFacts]:
    """{member pk: MemberFacts} for the year, from the members' records: six queries in all."""
    members = list(members)
    ids = [m.pk for m in members]
    year_start, year_end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)

    disciplines = defaultdict(list)
    for d in DisciplineDecision.objects.filter(member_id__in=ids, decided_on__year=year).order_by("decided_on"):
        disciplines[d.member_id].append(
            Discipline(decided_on=d.decided_on, form=d.form, in_official_duties=d.in_official_duties)
        )
    ratings = dict(CivilServiceRating.objects.filter(member_id__in=ids, year=year).values_list("member_id", "level"))
    degraded = set(
        DegradationConclusion.objects.filter(member_id__in=ids, concluded_on__year=year).values_list(
            "member_id", flat=True
        )
    )
    sick_days = defaultdict(int)
    maternity = set()
    leaves = LeavePeriod.objects.filter(member_id__in=ids, starts_on__lte=year_end, ends_on__gte=year_start)
    for leave in leaves:
        if leave.kind == LeavePeriod.Kind.SICK:
            sick_days[leave.member_id] += _overlap_days(leave.starts_on, leave.ends_on, year)
        else:
            maternity.add(leave.member_id)
    transfers = defaultdict(list)
    # The transfers of the year, and one after it that moved the member's open review of the year to
    # the receiving cell. The months are calendar months of the year spent in the former cell: from
    # the latest of 1 January, the admission and the previous transfer, to the transfer or the year's end.
    next_year = datetime.date(year + 1, 1, 1)
    moved_review = Q(
        transferred_on__gte=next_year,
        member__assessments__period__year=year,
        member__assessments__former_organization=F("from_cell"),
    )
    since = {m.pk: max(year_start, m.admission_date) for m in members}
    for t in (
        Transfer.objects.filter(Q(transferred_on__year=year) | moved_review, member_id__in=ids)
        .select_related("from_cell")
        .distinct()
        .order_by("transferred_on", "pk")
    ):
        start = since[t.member_id]
        transfers[t.member_id].append(
            TransferFact(
                transferred_on=t.transferred_on,
                months_in_former_cell=_months_between(start, min(t.transferred_on, next_year)),
                former_cell_comment_received=bool(t.former_cell_comment.strip()),
                former_cell=t.from_cell.name,
            )
        )
        since[t.member_id] = max(start, t.transferred_on)

    facts = {}
    for m in members:
        facts[m.pk] = MemberFacts(
            admission_date=m.admission_date,
            status=m.status,
            status_since=m.status_since,
            official_date=m.official_date,
            occupation=m.occupation,
            civil_service_level=ratings.get(m.pk),
            disciplines=tuple(disciplines[m.pk]),
            degradation_concluded=m.pk in degraded,
            sick_leave_days=sick_days[m.pk],
            maternity_leave=m.pk in maternity,
            transfers=tuple(transfers[m.pk]),
            is_leader=m.is_leader,
            party_post=m.party_post,
        )
    return facts


def organization_facts(organization: Organization) -> OrganizationFacts:
    kind = OrganizationKind.CELL if organization.is_cell else OrganizationKind.COMMITTEE
    return OrganizationFacts(kind=kind, founded_on=organization.founded_on)
