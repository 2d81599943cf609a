"""The period's own steps and the helpers every stage's services share: who a user is to an
assessment, the check of the workflow table, the audit entry, opening and closing a period, and the
board's say on who is classified."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.selectors import current_members
from organizations import policy

from ..rulebooks import ParameterError, get_rulebook
from .errors import WorkflowError
from .facts import member_facts_for, organization_facts, period_parameters
from .models import Assessment, AuditEntry, Period
from .transitions import PERIOD, Change, log_action, transition
from .workflow import ASSESSMENT, Actor, actors_for, refusal

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from organizations.policy import SystemActor

    from ..rulebooks import Exclusion


def _check(
    assessment: Assessment, action_name: str, user: User, *, now: datetime.datetime | None = None
) -> frozenset[Actor]:
    """Refuse the step unless the period, the policy, the workflow table and the deadline allow it."""
    actors = actors_for(user, assessment)
    message = refusal(assessment, action_name, user, actors=actors, now=now)
    if message is not None:
        raise WorkflowError(message)
    return actors


@contextmanager
def assessment_step(
    assessment: Assessment, name: str, user: User, *, reason: str = "", now: datetime.datetime | None = None
) -> Iterator[Change[Assessment]]:
    """Take step `name` of the assessment's table (`workflow.ASSESSMENT`) through `transition`: the
    period, the policy, the state and the deadline are checked on the locked row. A secretary writing
    a member's own self-review acts in the member's place, and the trail says so."""

    def check(locked: Assessment) -> str | None:
        return refusal(locked, name, user, now=now)

    with transition(
        assessment,
        name,
        user,
        steps=ASSESSMENT,
        organization=assessment.organization,
        reason=reason,
        check=check,
        related=("period", "member", "organization"),
    ) as change:
        current = change.obj
        change.assessment = current
        change.actors = actors_for(user, current)
        if name in AuditEntry.ON_BEHALF_ACTIONS and current.member_id and Actor.SELF not in change.actors:
            change.on_behalf_of = current.member
        yield change


def _locked_copy(assessment: Assessment) -> Assessment:
    return (
        Assessment.objects.select_for_update(of=("self",))
        .select_related("period", "member", "organization")
        .get(pk=assessment.pk)
    )


@dataclass
class OpenedPeriod:
    period: Period
    members: int
    leaders: int
    organizations: int
    collectives: int
    excluded: list[tuple[str, Exclusion]]  # (subject name, the rulebook's Exclusion)


def period_open(
    *, period: Period, user: User | SystemActor, reference_date: datetime.date | None = None
) -> OpenedPeriod:
    """Open a prepared period: one assessment for every member and organisation under its
    organisation, each member checked against the rulebook's exclusions (not classified, with the
    reason). Bulk writes: the cost does not grow with the number of queries, only with the rows."""
    policy.require(user, "period.manage", period.organization)
    rulebook = get_rulebook(period.regime)
    try:
        params = period_parameters(period)
    except ParameterError as error:
        raise WorkflowError(_("The parameters of this period are not valid."), errors=list(error.issues)) from error
    reference_date = reference_date or period.self_review_due or timezone.localdate()
    with period_step(period, "open", user) as change:
        locked = change.obj
        root = locked.organization
        members = list(current_members().under(root).select_related("cell").order_by("pk"))
        facts = member_facts_for(members, locked.year)
        excluded = []
        rows = []
        counts = {kind: 0 for kind in Assessment.SubjectKind.values}
        for member in members:
            kind = Assessment.SubjectKind.LEADER if member.is_leader else Assessment.SubjectKind.MEMBER
            exclusion = rulebook.exclusion(facts[member.pk], reference_date, params)
            if exclusion is not None:
                excluded.append((member.full_name, exclusion))
            rows.append(
                Assessment(
                    period=locked,
                    subject_kind=kind,
                    member=member,
                    organization=member.cell,
                    form_variant=rulebook.choose_variant(kind, facts[member.pk]) or "",
                    **Assessment.exclusion_fields(exclusion),
                )
            )
            counts[kind] += 1
        # The organisations under the root (the root itself is reviewed by the level above).
        for org in root.subtree().exclude(pk=root.pk).order_by("path"):
            if org.dissolved_on and org.dissolved_on < datetime.date(locked.year, 1, 1):
                continue
            exclusion = rulebook.exclusion(organization_facts(org), reference_date, params)
            if exclusion is not None:
                excluded.append((org.name, exclusion))
            kinds = [Assessment.SubjectKind.ORGANIZATION]
            if not org.kind == org.Kind.SUBORDINATE_CELL:
                # Committees and grassroots cells also review their leadership collective.
                kinds.append(Assessment.SubjectKind.COLLECTIVE)
            for kind in kinds:
                rows.append(
                    Assessment(
                        period=locked,
                        subject_kind=kind,
                        organization=org,
                        form_variant=rulebook.choose_variant(kind) or "",
                        **Assessment.exclusion_fields(exclusion),
                    )
                )
                counts[kind] += 1
        Assessment.objects.bulk_create(rows, batch_size=1000)
        locked.opened_at = timezone.now()
        locked.opened_by = policy.actor_user(user)
        change.update_fields += ["opened_at", "opened_by"]
        change.data = {"assessments": len(rows), "not_classified": len(excluded), "reference_date": str(reference_date)}
    return OpenedPeriod(
        period=locked,
        members=counts[Assessment.SubjectKind.MEMBER],
        leaders=counts[Assessment.SubjectKind.LEADER],
        organizations=counts[Assessment.SubjectKind.ORGANIZATION],
        collectives=counts[Assessment.SubjectKind.COLLECTIVE],
        excluded=excluded,
    )


def assessment_classification_override(
    *, assessment: Assessment, user: User, classified: bool, reason: str | None
) -> Assessment:
    """The board decides that a subject is (or is not) classified, against the computed roster."""
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError(_("Please write the reason for the board's decision."))
    policy.require(user, "classification.override", assessment.organization)
    with transaction.atomic():
        current = _locked_copy(assessment)
        if current.period.is_locked:
            raise WorkflowError(_("This review period is finalised: nothing can be changed."))
        before = current.classified
        # The board's decision replaces the rule's: a subject it leaves out keeps the board's reason here;
        # the reason for putting one back is in the history.
        for name, value in Assessment.exclusion_fields(None).items():
            setattr(current, name, value)
        current.classified = classified
        current.exclusion_note = "" if classified else reason
        current.exclusion_overridden = True
        current.save(
            update_fields=[
                "classified",
                "exclusion_overridden",
                "exclusion_reason",
                "exclusion_rule",
                "exclusion_values",
                "exclusion_note",
                "updated_at",
            ]
        )
        log_action(
            AuditEntry.Action.CLASSIFICATION_OVERRIDE,
            assessment=current,
            actor=user,
            from_state=current.state,
            to_state=current.state,
            reason=reason,
            data={"classified_before": before, "classified": classified},
        )
    return current


def period_close(*, period: Period, user: User | SystemActor) -> Period:
    """Close an open period: self-reviews and forms can no longer be changed; decisions come next."""
    with period_step(period, "close", user) as change:
        pass
    return change.obj


@contextmanager
def period_step(period: Period, name: str, user: User | SystemActor) -> Iterator[Change[Period]]:
    """Take step `name` of the period's table (`transitions.PERIOD`): the board of the period's
    organisation only (`policy.SYSTEM` for the command line: `open_period`, the demo)."""
    with transition(period, name, user, steps=PERIOD, organization=period.organization) as change:
        yield change
