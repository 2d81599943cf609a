"""The members' and organisations' records turned into the plain facts the rulebooks read.

Built in bulk: one query per kind of record for a whole list of members, whatever its length. What a
form says (scores, ratings, task shares) is added by `assessments.evaluations`, the one place that
asks the rulebook about a subject; this module reads the records of the year only.
"""

from __future__ import annotations

import calendar
import datetime
from collections import defaultdict, namedtuple
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import F, Q, QuerySet

from members.models import (
    CivilServiceRating,
    CommitteeSuspension,
    DegradationConclusion,
    DisciplineDecision,
    LeaderYear,
    LeavePeriod,
    Member,
    TemporaryAttachment,
    Transfer,
)
from organizations.models import Organization
from vocabulary import Level

from ..rulebooks import (
    Discipline,
    MemberFacts,
    MemberStatus,
    Occupation,
    OrganizationFacts,
    OrganizationKind,
    Parameters,
    TransferFact,
    get_rulebook,
    leader_facts,
    lowest,
    member_facts,
)
from ..rulebooks.arithmetic import add_months

if TYPE_CHECKING:
    from .models import Period


NO_MONTHS = Decimal(0)
NO_KEYS: frozenset[str] = frozenset()
# The codes the database holds, read as the rulebooks' members once and for all (a province's list reads
# 100,000 of each; what is not here is left to MemberFacts to read, or refuse).
STATUSES = {status.value: status for status in MemberStatus}
OCCUPATIONS = {occupation.value: occupation for occupation in Occupation}
LEVELS = {level.value: level for level in Level}


def period_parameters(period: Period) -> Parameters:
    """The period's one resolved parameter set (its JSON over the regime's defaults), kept on the
    instance: every screen, check, export and statistic of the period reads this, and nothing else."""
    cached = getattr(period, "_resolved_parameters", None)
    key = (period.regime, period.year, repr(period.parameters))
    if cached is None or cached[0] != key:
        params = get_rulebook(period.regime).parameters(period.parameters, year=period.year)
        cached = (key, params)
        period._resolved_parameters = cached
    return cached[1]


def months_between(start: datetime.date, end: datetime.date) -> int:
    """Whole calendar months from `start` to `end` (15/1 to 14/7 is 5, to 15/7 is 6)."""
    return max(0, (end.year - start.year) * 12 + end.month - start.month - (1 if end.day < start.day else 0))


def calendar_months(start: datetime.date, end: datetime.date) -> Decimal:
    """The calendar months from `start` to `end`, both days included, with the days left over as a
    fraction of the month they fall in: 1/3 to 31/5 is 3, 10/2 to 9/5 is 3, 1/1 to 15/1 about 0.48."""
    if end < start:
        return Decimal(0)
    after = end + datetime.timedelta(days=1)
    whole = months_between(start, after)
    reached = add_months(start, whole)
    rest = (after - reached).days
    if not rest:
        return Decimal(whole)
    length = calendar.monthrange(reached.year, reached.month)[1]
    return Decimal(whole) + Decimal(rest) / Decimal(length)


def _within(start: datetime.date, end: datetime.date, year: int) -> tuple[datetime.date, datetime.date]:
    return max(start, datetime.date(year, 1, 1)), min(end, datetime.date(year, 12, 31))


def headed_units(members: Iterable[Member]) -> dict[int, tuple[int, ...]]:
    """{member pk: the pks of the organisations they head}: a cell's secretary heads the cell (the party
    post); the secretary of a committee above it heads that committee (`Member.headed_committee`).
    Members who head nothing are left out. No query."""
    heads = {}
    for m in members:
        units = []
        if m.party_post == Member.PartyPost.SECRETARY and m.cell_id:
            units.append(m.cell_id)
        if m.headed_committee_id:
            units.append(m.headed_committee_id)
        if units:
            heads[m.pk] = tuple(units)
    return heads


def unit_level(units: Iterable[int], unit_levels: dict[int, str]) -> Level | None:
    """The level a leader is held to: the lowest decided level of the organisations they head (a leader
    who heads a cell and a committee is above neither); None while none of them is decided."""
    return lowest(*(unit_levels.get(unit) or None for unit in units))


# The member's own columns the facts read, as plain values (`MemberRow`): opening a province's period
# reads 100,000 of them, where full Member objects cost several seconds.
MEMBER_COLUMNS = (
    "pk",
    "cell_id",
    "party_post",
    "headed_committee_id",
    "admission_date",
    "status",
    "status_since",
    "official_date",
    "occupation",
    "is_leader",
    "full_name",
)


class MemberRow(namedtuple("MemberRow", MEMBER_COLUMNS)):
    __slots__ = ()

    @property
    def id(self) -> int:
        """The pk, named as on a Member object (where `pk` is a property and `id` a plain attribute)."""
        return self.pk


def member_rows(queryset: QuerySet[Member]) -> list[MemberRow]:
    """The members of `queryset` as MemberRow tuples (what `member_facts_for` reads): one query."""
    return [MemberRow(*values) for values in queryset.values_list(*MEMBER_COLUMNS)]


@dataclass(frozen=True)
class Scope:
    """Where the records of a long list of members are read: every member whose cell lies under `path`,
    and the few others (`outside`, by pk). A list of 100,000 members is read by a join on the subtree,
    not by an `IN` list of 100,000 ids; what is read beyond the list is left aside in Python."""

    path: str
    outside: tuple[int, ...] = ()
    # A run of the tree instead of a subtree: the cells whose path is from `path` to `upto`, both
    # included, in the tree's order (a part of a province's opening: `OpeningRows`).
    upto: str = ""

    def members(self, prefix: str = "member__") -> Q:
        """The condition on a model with a foreign key to Member named by `prefix`."""
        if self.upto:
            condition = Q(**{f"{prefix}cell__path__gte": self.path, f"{prefix}cell__path__lte": self.upto})
        else:
            condition = Q(**{f"{prefix}cell__path__startswith": self.path})
        if self.outside:
            condition |= Q(**{f"{prefix[: -len('__')]}_id__in" if prefix else "pk__in": self.outside})
        return condition


def _of_members(ids: list[int], scope: Scope | None) -> Q:
    return scope.members() if scope is not None else Q(member_id__in=ids)


def member_facts_for(
    members: Iterable[Member | MemberRow],
    year: int,
    *,
    previous: dict[int, str] | None = None,
    unit_levels: dict[int, str] | None = None,
    leaders: Iterable[int] = (),
    scope: Scope | None = None,
) -> dict[int, MemberFacts]:
    """{member pk: MemberFacts} for the year, from the members' records: eight queries in all (seven
    when no member is reviewed as a leader), read as plain values.

    `members`: Member objects or MemberRow tuples; `previous`: last year's levels by member;
    `unit_levels`: the decided level of each organisation (by pk) this year, for the leaders who head
    one (`headed_units`); `leaders`: the members reviewed as leaders, who get LeaderFacts; `scope`: for
    a long list, where its members are (their records are read by a join on that subtree, not by
    their ids)."""
    members = list(members)
    ids = [m.id for m in members]  # once, and not by `pk`: on a Member object that is a property
    wanted = set(ids)
    previous = previous or {}
    unit_levels = unit_levels or {}
    leaders = set(leaders)
    heads = headed_units(m for pk, m in zip(ids, members, strict=True) if pk in leaders) if leaders else {}
    year_start, year_end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    of_members = _of_members(ids, scope)

    disciplines, counted = defaultdict(list), defaultdict(set)
    rows = (
        DisciplineDecision.objects.filter(of_members, decided_on__year=year)
        .order_by("decided_on", "pk")
        .values_list(
            "member_id", "decided_on", "form", "in_official_duties", "violation_reference", "counted_in_earlier_year"
        )
    )
    for member_id, decided_on, form, in_official_duties, reference, earlier in rows:
        if member_id not in wanted:
            continue
        discipline = Discipline(
            decided_on=decided_on,
            form=form,
            in_official_duties=in_official_duties,
            violation_key=reference.strip() or None,
        )
        disciplines[member_id].append(discipline)
        if earlier:
            counted[member_id].add(discipline.key)
    ratings = dict(CivilServiceRating.objects.filter(of_members, year=year).values_list("member_id", "level"))
    conclusions = defaultdict(set)
    for member_id, kind in DegradationConclusion.objects.filter(of_members, concluded_on__year=year).values_list(
        "member_id", "kind"
    ):
        conclusions[member_id].add(kind)
    sick_days, sick_months = defaultdict(int), defaultdict(Decimal)
    maternity = set()
    leaves = LeavePeriod.objects.filter(of_members, starts_on__lte=year_end, ends_on__gte=year_start).values_list(
        "member_id", "kind", "starts_on", "ends_on"
    )
    for member_id, kind, starts_on, ends_on in leaves:
        if member_id not in wanted:
            continue
        if kind == LeavePeriod.Kind.SICK:
            start, end = _within(starts_on, ends_on, year)
            sick_days[member_id] += (end - start).days + 1
            sick_months[member_id] += calendar_months(start, end)
        else:
            maternity.add(member_id)
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
    moves = [
        row
        for row in Transfer.objects.filter(Q(transferred_on__year=year) | moved_review, of_members)
        .distinct()
        .order_by("transferred_on", "pk")
        .values_list("member_id", "transferred_on", "former_cell_comment", "from_cell__name")
        if row[0] in wanted
    ]
    moved = {row[0] for row in moves}
    since = {pk: max(year_start, m.admission_date) for pk, m in zip(ids, members, strict=True) if pk in moved}
    for member_id, transferred_on, comment, from_cell in moves:
        start = since[member_id]
        transfers[member_id].append(
            TransferFact(
                transferred_on=transferred_on,
                months_in_former_cell=months_between(start, min(transferred_on, next_year)),
                former_cell_comment_received=bool(comment.strip()),
                former_cell=from_cell,
            )
        )
        since[member_id] = max(start, transferred_on)

    attachments = {}
    for member_id, comment in TemporaryAttachment.objects.filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=year_start), of_members, starts_on__lte=year_end
    ).values_list("member_id", "comment"):
        # Attached for a time this year: the temporary cell's comment is received once every one has it.
        attachments[member_id] = attachments.get(member_id, True) and bool(comment.strip())
    committee_suspended = dict(
        CommitteeSuspension.objects.filter(of_members, year=year).values_list("member_id", "suspended_on")
    )
    leader_years = {}
    if leaders:
        chosen = scope.members() if scope is not None else Q(member_id__in=[pk for pk in ids if pk in leaders])
        for record in LeaderYear.objects.filter(chosen, year=year):
            leader_years[record.member_id] = record

    Kind = DegradationConclusion.Kind
    suspended = Member.Status.SUSPENDED
    facts = {}
    # One MemberFacts made straight from its values for each member (a province's list makes 100,000 of
    # them: `member_facts`); a leader's made from the member's (`leader_facts`).
    for pk, m in zip(ids, members, strict=True):
        concluded = conclusions.get(pk, ())
        # Suspended from the committee's activities only: one suspended from party activities is not.
        committee_only = pk in committee_suspended and m.status != suspended
        made = member_facts(
            m.admission_date,
            status=STATUSES.get(m.status, m.status),
            status_since=m.status_since,
            official_date=m.official_date,
            suspended_from_committee_only=committee_only,
            committee_suspended_on=committee_suspended.get(pk) if committee_only else None,
            occupation=OCCUPATIONS.get(m.occupation, m.occupation),
            civil_service_level=LEVELS.get(ratings[pk], ratings[pk]) if pk in ratings else None,
            disciplines=tuple(disciplines[pk]) if pk in disciplines else (),
            counted_violation_keys=frozenset(counted[pk]) if pk in counted else NO_KEYS,
            degradation_concluded=Kind.DEGRADATION in concluded,
            violated_prohibitions=Kind.PROHIBITIONS in concluded,
            breached_exemplary_duty=Kind.EXEMPLARY_DUTY in concluded,
            sick_leave_days=sick_days.get(pk, 0),
            sick_leave_months=sick_months.get(pk, NO_MONTHS),
            maternity_leave=pk in maternity,
            transfers=tuple(transfers[pk]) if pk in transfers else (),
            is_leader=m.is_leader,
            party_post=m.party_post,
            previous_level=LEVELS.get(previous[pk], previous[pk] or None) if pk in previous else None,
            temporary_attachment=pk in attachments,
            temporary_cell_comment_received=attachments.get(pk, False),
        )
        if pk in leaders:
            made = leader_facts(
                made, unit_level=unit_level(heads.get(pk, ()), unit_levels), **_leader_year(leader_years.get(pk))
            )
        facts[pk] = made
    return facts


def _leader_year(record: LeaderYear | None) -> dict:
    """The LeaderFacts of the units a leader leads, from the board's record of the year (none: not known)."""
    if record is None:
        return {}
    values = {
        "basic_targets_missed": record.basic_targets_missed,
        "remit_corruption_disciplined": record.remit_corruption_disciplined,
    }
    if record.unit_plan_share is not None:
        values["unit_plan_share"] = record.unit_plan_share / 100
    if record.low_confidence_share is not None:
        values["low_confidence_share"] = record.low_confidence_share / 100
    if record.units_led:
        khtnv = record.units_led_khtnv or 0
        others = record.units_led - khtnv
        values["units_led_levels"] = {"KHTNV": khtnv, "HTNV": others}  # only the KHTNV share is read
    return values


def organization_facts(organization: Organization) -> OrganizationFacts:
    """What the tree alone says of an organisation (its kind, its founding): enough for who is classified."""
    return tree_facts(organization.kind, organization.founded_on)


def tree_facts(kind: str, founded_on: datetime.date | None) -> OrganizationFacts:
    """`organization_facts` from an organisation's kind and founding date read as plain values."""
    cell = kind in Organization.CELL_KINDS
    return OrganizationFacts(kind=OrganizationKind.CELL if cell else OrganizationKind.COMMITTEE, founded_on=founded_on)
