"""The assessment's transition table: which step moves a form from which states to which, and the
policy action that authorises it; and `available()`, the steps a user can take on a form right now.

One table, read by the services (which enforce it through `transitions`) and by the screens (which
show only the buttons that would work). Views and the admin never test states or roles themselves.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from organizations import policy
from organizations.policy import Relation

from .models import Assessment, AuditEntry, Period
from .transitions import Step, table

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

S = Assessment.State
A = AuditEntry.Action

# How a user stands to an assessment: the policy's relations to its organisation and its member.
Actor = Relation

ASSESSMENT = table(
    # The grassroots level decides every classified member, whether or not the form came in. The
    # authority is over the deciding grassroots organisation, checked once for the whole set.
    Step(
        A.DECIDE,
        gettext_lazy("Decide the level"),
        (S.NOT_STARTED, S.DRAFT, S.SUBMITTED, S.RETURNED, S.CELL_REVIEWED, S.DECIDED),
        S.DECIDED,
        "decision.record",
    ),
    Step(A.SAVE, gettext_lazy("Save draft"), (S.NOT_STARTED, S.DRAFT, S.RETURNED), S.DRAFT, "review.write"),
    Step(A.SUBMIT, gettext_lazy("Submit"), (S.NOT_STARTED, S.DRAFT, S.RETURNED), S.SUBMITTED, "review.write"),
    Step(
        A.RETURN,
        gettext_lazy("Return for revision"),
        (S.SUBMITTED,),
        S.RETURNED,
        "review.return",
        needs_reason=True,
    ),
    # From the meeting's ballot count; recorded again when the minutes are corrected.
    Step(
        A.RECORD_PROPOSAL,
        gettext_lazy("Record the cell's proposal"),
        (S.SUBMITTED, S.CELL_REVIEWED),
        S.CELL_REVIEWED,
        "meeting.record",
    ),
)
ACTIONS = ASSESSMENT

# The steps of a self-review, taken while the period is open; the others follow the period's own steps.
NEEDS_OPEN_PERIOD = (A.SAVE, A.SUBMIT, A.RETURN)


def actors_for(user: User | AnonymousUser, assessment: Assessment) -> frozenset[Relation]:
    """How `user` stands to `assessment` (empty: no business with it). Evaluators see organisations,
    not people: on a member's review they have no standing."""
    owner = assessment.member.user_id if assessment.member_id else None
    found = policy.relations(user, assessment.organization, owner_id=owner)
    if assessment.member_id is not None:
        found -= {Relation.EVALUATOR}
    return found


def state_allows(name: str, state: str) -> bool:
    step = ASSESSMENT.get(name)
    return step is not None and state in step.sources


def refusal(
    assessment: Assessment,
    name: str,
    user: User | AnonymousUser,
    *,
    actors: frozenset[Relation] | None = None,
    now: datetime.datetime | None = None,
) -> str | None:
    """Why `user` may not take step `name` on `assessment` now, or None: the period, the policy, the
    table and the self-review deadline, in that order."""
    step = ASSESSMENT[name]
    period = assessment.period
    if period.is_locked:
        return _("This review period is finalised: nothing can be changed.")
    if name in NEEDS_OPEN_PERIOD and period.state != Period.State.OPEN:
        return _("This review period is not open.")
    actors = actors_for(user, assessment) if actors is None else actors
    if not policy.RULES[step.policy].relations & actors:
        return str(policy.RULES[step.policy].refusal)
    if not state_allows(name, assessment.state):
        return _("“%(action)s” is not possible while the form is “%(state)s”.") % {
            "action": step.label,
            "state": assessment.get_state_display(),
        }
    due = period.self_review_due
    today = timezone.localdate(now) if now else timezone.localdate()
    if (
        name in (A.SAVE, A.SUBMIT)
        and due
        and today > due
        and Relation.SELF in actors
        and Relation.MANAGER not in actors
    ):
        return _("The deadline for self-reviews was %(date)s. Please ask your cell secretary.") % {
            "date": due.strftime("%d/%m/%Y")
        }
    return None


def available(
    assessment: Assessment, user: User | AnonymousUser, *, actors: frozenset[Relation] | None = None
) -> list[str]:
    """The self-review steps `user` can take on `assessment` right now (the buttons to show)."""
    actors = actors_for(user, assessment) if actors is None else actors
    return [name for name in (A.SAVE, A.SUBMIT, A.RETURN) if refusal(assessment, name, user, actors=actors) is None]
