"""The one way a state changes: lock the row, ask the policy and the object's table, save, and write
the audit entry (`transition`); and the one way an act is written to the audit trail (`log_action`).

A table is a dict of `Step`s: the audit action the step records, the states it leaves from, the state
it leads to, and the policy action that authorises it (`organizations.policy.RULES`). The assessment's
table is `workflow.ASSESSMENT`, the period's is `PERIOD` below, the ballot's `meetings.ballot.BALLOT`.
Services use them; screens ask `step_refusal()` to show only the buttons that would work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from organizations import policy
from organizations.policy import Relation

from .errors import WorkflowError
from .models import Assessment, AuditEntry, Period

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    from members.models import Member
    from organizations.models import Organization
    from organizations.policy import Message, SystemActor

# The model of the row a transition changes: a Period, an Assessment...
ModelT = TypeVar("ModelT", bound=models.Model)

A = AuditEntry.Action
_ACTIONS = frozenset(A.values)


@dataclass(frozen=True)
class Step:
    action: str  # an AuditEntry.Action: what the audit entry records
    label: Message
    sources: tuple[str, ...]  # the states the step leaves from
    target: str | None  # the state it leads to; None: the state does not change
    policy: str  # the action of organizations.policy that authorises it
    needs_reason: bool = False
    wrong_state: Message | None = None  # the refusal from another state (else a general one)


def table(*steps: Step) -> dict[str, Step]:
    return {step.action: step for step in steps}


P = Period.State
PERIOD = table(
    Step(
        A.OPEN,
        gettext_lazy("Open"),
        (P.PREPARING,),
        P.OPEN,
        "period.manage",
        wrong_state=gettext_lazy("This period has already been opened."),
    ),
    Step(
        A.CLOSE,
        gettext_lazy("Close"),
        (P.OPEN,),
        P.CLOSED,
        "period.manage",
        wrong_state=gettext_lazy("Only an open period can be closed."),
    ),
    # Finalised again after the board reopened subjects and they were decided again.
    Step(
        A.FINALISE,
        gettext_lazy("Finalise"),
        (P.OPEN, P.CLOSED, P.FINALISED),
        P.FINALISED,
        "period.manage",
        wrong_state=gettext_lazy("Only an open, closed or finalised period can be finalised."),
    ),
    Step(
        A.PUBLISH,
        gettext_lazy("Publish"),
        (P.FINALISED,),
        P.PUBLISHED,
        "period.manage",
        wrong_state=gettext_lazy("Only a finalised period can be published."),
    ),
)


def log_action(
    action: str,
    *,
    actor: User | SystemActor | None,
    period: Period | None = None,
    assessment: Assessment | None = None,
    on_behalf_of: Member | None = None,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write one entry of the audit trail. `action` must be one of `AuditEntry.Action`."""
    return AuditEntry.objects.create(
        **audit_fields(
            action,
            actor=actor,
            period=period,
            assessment=assessment,
            on_behalf_of=on_behalf_of,
            from_state=from_state,
            to_state=to_state,
            reason=reason,
            data=data,
        )
    )


def record_announced(
    sender: object,
    *,
    action: str,
    actor: User | SystemActor | None,
    data: dict[str, Any],
    period_id: int | None = None,
    **kwargs: Any,
) -> None:
    """The trail's receiver of the acts the lower apps announce (`organizations.audit`)."""
    period = Period.objects.get(pk=period_id) if period_id is not None else None
    log_action(action, actor=actor, period=period, data=data)


def audit_fields(
    action: str,
    *,
    actor: User | SystemActor | None,
    period: Period | None = None,
    assessment: Assessment | None = None,
    assessment_id: int | None = None,
    on_behalf_of: Member | None = None,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The fields of one audit entry, checked: for the services that write many at once (bulk_create).
    `assessment_id` instead of `assessment` when only the key is at hand."""
    if action not in _ACTIONS:
        raise ValueError(f"{action!r} is not an AuditEntry.Action")
    if period is None and assessment is not None:
        period = assessment.period
    fields = {
        "action": str(action),
        "actor": policy.actor_user(actor),
        "period": period,
        "on_behalf_of": on_behalf_of,
        "from_state": from_state,
        "to_state": to_state,
        "reason": reason,
        "data": data or {},
    }
    if assessment_id is not None:
        fields["assessment_id"] = assessment_id
    else:
        fields["assessment"] = assessment
    return fields


@dataclass
class Change(Generic[ModelT]):
    """The locked copy inside `transition()`: change `obj`, add to `data`; the exit saves and logs."""

    obj: ModelT
    step: Step
    from_state: str
    data: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    assessment: Assessment | None = None
    on_behalf_of: Member | None = None
    update_fields: list[str] = field(default_factory=list)
    actors: frozenset[Relation] = frozenset()
    log: bool = True  # False: a change with nothing to record (a draft saved again)


def step_refusal(
    steps: dict[str, Step],
    name: str,
    state: str,
    user: User | AnonymousUser | None,
    organization: Organization | None,
    *,
    owner_id: int | None = None,
) -> str | None:
    """Why `user` may not take step `name` from `state`, or None: the policy first, then the table."""
    step = steps[name]
    message = policy.refusal(user, step.policy, organization, owner_id=owner_id) if user is not None else None
    if message is not None:
        return str(message)
    if state not in step.sources:
        if step.wrong_state is not None:
            return str(step.wrong_state)
        return _("“%(action)s” is not possible in this state.") % {"action": step.label}
    return None


@contextmanager
def transition(
    obj: ModelT,
    name: str,
    user: User | SystemActor,
    *,
    steps: dict[str, Step],
    organization: Organization | None,
    period: Period | None = None,
    owner_id: int | None = None,
    reason: str = "",
    check: Callable[[ModelT], str | None] | None = None,
    related: tuple[str, ...] = (),
    state_field: str = "state",
) -> Iterator[Change[ModelT]]:
    """Take step `name` of `steps` on `obj` as `user`, in one transaction.

    Locks the row, refuses (WorkflowError) unless the policy and the table allow the step from the
    locked row's state, yields a `Change` for the caller's own edits, then sets the target state,
    saves and writes the audit entry. `check(locked)`, when given, is the whole refusal test instead
    (a table with more to say than policy and state: the assessment's period and deadline)."""
    step = steps[name]
    if check is None:
        # Authority first, whoever calls: `None` is no one and is refused; the command line is SYSTEM.
        policy.require(user, step.policy, organization, owner_id=owner_id)
    reason = (reason or "").strip()
    if step.needs_reason and not reason:
        raise WorkflowError(_("Please write the reason."))
    with transaction.atomic():
        locked = type(obj).objects.select_for_update(of=("self",)).select_related(*related).get(pk=obj.pk)
        before = getattr(locked, state_field)
        if check is not None:
            message = check(locked)
        else:
            message = step_refusal(steps, name, before, user, organization, owner_id=owner_id)
        if message is not None:
            raise WorkflowError(message)
        change = Change(obj=locked, step=step, from_state=before, reason=reason)
        yield change
        fields = list(change.update_fields)
        if step.target is not None and getattr(locked, state_field) == before:
            setattr(locked, state_field, step.target)
        if getattr(locked, state_field) != before:
            fields.append(state_field)
        if fields:
            locked.save(update_fields=sorted(set(fields)))
        if not change.log:
            return
        log_action(
            step.action,
            actor=user,
            period=period if period is not None else (locked if isinstance(locked, Period) else None),
            assessment=change.assessment,
            on_behalf_of=change.on_behalf_of,
            from_state=before,
            to_state=getattr(locked, state_field),
            reason=change.reason,
            data=change.data,
        )
