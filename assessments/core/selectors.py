"""Reads over the levels that several pages show: a subject's levels by year, the cell's level beside a
member's, the members' levels of the year before, and the count of levels of a group (`Distribution`);
and the rulebook's warnings on the period's dates (`schedule_warnings`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import OuterRef, Q, QuerySet, Subquery

from organizations.access import scope_for
from vocabulary import Level

from ..rulebooks import Severity, get_rulebook
from .models import Assessment, Period

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    from members.models import Member
    from organizations.models import Organization

    from .facts import Scope


def level_history(
    user: User | AnonymousUser, *, member: Member | None = None, organization: Organization | None = None
) -> list[Assessment]:
    """The levels of a member (or an organisation) across periods, newest first: one query.

    Those who manage the subject see every decided level; the member sees only published ones."""
    queryset = (
        Assessment.objects.exclude(decided_level="")
        .select_related("period")
        .order_by("-period__year", "-period__quarter")
    )
    if member is not None:
        queryset = queryset.filter(member=member)
        own = member.user_id == user.pk
        subject_organization = member.cell
    else:
        queryset = queryset.filter(organization=organization, member__isnull=True, subject_kind="organization")
        own = False
        subject_organization = organization
    if own and not scope_for(user).manages_organization(subject_organization):
        queryset = queryset.filter(period__state=Period.State.PUBLISHED)
    return list(queryset)


def cell_levels(assessments: Iterable[Assessment]) -> dict[tuple[int, int], Assessment]:
    """{(period id, organisation id): the organisation's review} for the organisation each member's
    assessment in `assessments` was made in (the member's cell), where its level is decided: one query.

    The caller decides who may see which level; a member sees only those of published periods."""
    pairs = {(a.period_id, a.organization_id) for a in assessments if a.member_id}
    if not pairs:
        return {}
    reviews = Assessment.objects.filter(
        period_id__in={period_id for period_id, _org in pairs},
        organization_id__in={organization_id for _period, organization_id in pairs},
        subject_kind=Assessment.SubjectKind.ORGANIZATION,
    ).exclude(decided_level="")
    return {
        (review.period_id, review.organization_id): review
        for review in reviews.select_related("organization")
        if (review.period_id, review.organization_id) in pairs
    }


def _previous_year(period: Period) -> QuerySet[Assessment]:
    """The members' levels decided in the year before `period`: the annual period of the same root."""
    # The period by a scalar subquery, so the database reads that one period's rows by its index rather
    # than walking every period's to join them (a province ten years on holds a million).
    previous = Period.objects.filter(
        organization_id=period.organization_id, year=period.year - 1, quarter__isnull=True
    ).values("pk")[:1]
    return Assessment.objects.filter(period_id=Subquery(previous), member__isnull=False).exclude(decided_level="")


def previous_levels(period: Period, members: Iterable[int], *, scope: Scope | None = None) -> dict[int, str]:
    """{member id: the level decided the year before `period`} for `members` (ids, or a queryset of
    ids): one query. Members with no level that year are left out. With `scope` (a long list: where
    its members are) the members are found by a join on the subtree, not by their ids, and the
    answer may hold others of the subtree too."""
    condition = scope.members() if scope is not None else Q(member__in=members)
    return dict(_previous_year(period).filter(condition).values_list("member_id", "decided_level"))


def previous_level(period: Period) -> Subquery:
    """The level decided the year before `period`, as an expression over an assessment's member (None
    if none), for a query that counts or lists many members at once."""
    return Subquery(_previous_year(period).filter(member=OuterRef("member")).values("decided_level")[:1])


LEVELS = Level.codes()
# The states of a self-review not handed in yet: those the reminders are for.
PENDING_STATES = (Assessment.State.NOT_STARTED, Assessment.State.DRAFT, Assessment.State.RETURNED)


def _percent(part: int, whole: int) -> int:
    """A whole percentage, halves rounded up as people do by hand (62.5 -> 63, not Python's 62)."""
    return (200 * part + whole) // (2 * whole) if whole else 0


@dataclass
class Distribution:
    """How many subjects to be classified there are, and how many were decided at each level."""

    label: str
    classified: int = 0
    levels: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))

    @property
    def decided(self) -> int:
        return sum(self.levels.values())

    @property
    def undecided(self) -> int:
        return self.classified - self.decided

    @property
    def cells(self) -> list[tuple[int, int]]:
        """(count, % of those to be classified) per level, best first, then the undecided."""
        counts = [self.levels[level] for level in LEVELS] + [self.undecided]
        return [(count, _percent(count, self.classified)) for count in counts]

    def add(self, level: str, count: int) -> None:
        self.classified += count
        if level:
            self.levels[level] += count


@dataclass(frozen=True)
class ScheduleWarning:
    """A finding of the rulebook on the period's dates, in the page's language; `cell` names the cell whose
    meeting it concerns; `note` is True for a note (INFO) rather than a warning."""

    message: str
    cell: str = ""
    note: bool = False


def schedule_warnings(period: Period, language: str) -> list[ScheduleWarning]:
    """The rulebook's findings on the period's due dates (R2018-P-TIMING, R2025-P-DEADLINES), then on each
    cell meeting's date (R2025-P-MEETING), cells in the order of the tree. One query, for the meetings."""
    rulebook = get_rulebook(period.regime)
    params = rulebook.parameters(period.parameters, year=period.year)
    schedule = period.schedule
    found = [("", finding) for finding in rulebook.schedule_findings(schedule, params)]
    meetings = period.meetings.order_by("organization__path").values_list("organization__name", "held_on")
    for cell, held_on in meetings:
        found += [(cell, finding) for finding in rulebook.meeting_findings(held_on, schedule, params)]
    return [
        ScheduleWarning(finding.message(language), cell, finding.severity == Severity.INFO) for cell, finding in found
    ]
