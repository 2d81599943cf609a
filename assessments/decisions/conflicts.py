"""Where a decider stands aside: their own level, the organisations they lead or whose committee they
sit on, and the conflicts of interest the board recorded. The policy (`organizations.policy.stand_aside`)
decides; this reads the facts it needs once for a screen or a save, and asks it for each subject."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from members.models import Member
from members.selectors import CURRENT_STATUSES
from organizations import policy
from vocabulary import Level

from ..core.models import Assessment
from ..core.organization_facts import COLLECTIVE_POSTS
from .models import DecisionConflict
from .selectors import PROPOSAL_FIELDS

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


class Conflicts:
    """One decider's reasons to stand aside, for subjects of one kind: one query for members (the
    conflicts on record), two for organisations and collectives (and the posts the decider holds in a
    cell's committee). Nothing is read for the command line (`user` None)."""

    def __init__(self, user: User | AnonymousUser | None, subject_kind: str = "member") -> None:
        self.user, self.subject_kind = user, subject_kind
        self.members: set[int] = set()
        self.organizations: set[int] = set()
        self.seats: set[int] = set()  # the cells on whose committee (chi ủy) the decider sits
        if user is None or not user.is_authenticated:
            return
        for member_id, organization_id in DecisionConflict.objects.filter(user=user).values_list(
            "member_id", "organization_id"
        ):
            if member_id:
                self.members.add(member_id)
            if organization_id:
                self.organizations.add(organization_id)
        if subject_kind != "member":
            self.seats = set(
                Member.objects.filter(
                    user=user, party_post__in=COLLECTIVE_POSTS, status__in=CURRENT_STATUSES
                ).values_list("cell_id", flat=True)
            )

    def refusal(self, assessment: Assessment) -> str:
        """The message of the reason to stand aside from `assessment` (its member loaded), or ""."""
        if assessment.member_id is not None:
            message = policy.stand_aside(
                self.user, owner_id=assessment.member.user_id, recorded=assessment.member_id in self.members
            )
        else:
            message = policy.stand_aside(
                self.user,
                assessment.organization,
                seated=assessment.organization_id in self.seats,
                recorded=assessment.organization_id in self.organizations,
            )
        return str(message) if message else ""

    def refused(
        self, assessments: Iterable[Assessment], choices: Mapping[int, tuple[str, str]]
    ) -> dict[int, list[str]]:
        """{pk: [message]} of the subjects of `choices` given a level that the decider stands aside from."""
        refused = {}
        for assessment in assessments:
            level = choices.get(assessment.pk, ("", ""))[0]
            if level and (message := self.refusal(assessment)):
                refused[assessment.pk] = [message]
        return refused

    def exception_refusal(self, group_queryset: QuerySet[Assessment], subject_kind: str, *, projected: bool) -> str:
        """The message refusing the exception to the quota when a subject the decider stands aside from is
        among the HTXSNV it would allow (decided so, or with `projected`, proposed so and undecided), or "".
        One query; only the subjects that could be theirs are read, except organisations (few)."""
        if self.user is None or not self.user.is_authenticated:
            return ""
        htxsnv = Q(decided_level=Level.HTXSNV)
        if projected:
            htxsnv |= Q(decided_level="", **{PROPOSAL_FIELDS[subject_kind]: Level.HTXSNV})
        queryset = group_queryset.filter(htxsnv, classified=True)
        if subject_kind == "member":
            queryset = queryset.filter(Q(member__user=self.user) | Q(member_id__in=self.members)).select_related(
                "member"
            )
        else:
            queryset = queryset.select_related("organization")
        if any(self.refusal(assessment) for assessment in queryset):
            return str(policy.STAND_ASIDE["exception"])
        return ""
