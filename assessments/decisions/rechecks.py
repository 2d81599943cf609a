"""The matters the board re-checks before the final decision (R2025-P-RECHECK): a complaint, a
denunciation, a pending discipline or a sign of disunity about a member or an organisation of the
period. Each is recorded open and later resolved with its outcome; while one is open, the period is
not finalised."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from organizations import policy

from ..core.errors import WorkflowError
from ..core.models import Assessment, AuditEntry, Period
from ..core.transitions import log_action
from .models import Recheck

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from organizations.policy import SystemActor


def open_rechecks(period: Period) -> list[Recheck]:
    """The matters of `period` still open, oldest first, with their subjects: one query."""
    return list(
        Recheck.objects.filter(period=period, resolved_on__isnull=True)
        .select_related("assessment__member", "assessment__organization")
        .order_by("opened_on", "pk")
    )


def rechecks_of(period: Period) -> list[Recheck]:
    """Every matter of `period`, the open ones first: one query."""
    return list(
        Recheck.objects.filter(period=period)
        .select_related("assessment__member", "assessment__organization", "opened_by", "resolved_by")
        .order_by(F("resolved_on").desc(nulls_first=True), "-opened_on", "-pk")
    )


def find_subject(period: Period, reference: str) -> Assessment:
    """The assessment of `period` that a party card number (a member) or an organisation's code names."""
    reference = (reference or "").strip()
    found = (
        Assessment.objects.filter(period=period)
        .filter(
            Q(member__card_number=reference)
            | Q(member__isnull=True, organization__code=reference, subject_kind=Assessment.SubjectKind.ORGANIZATION)
        )
        .select_related("member", "organization")
        .first()
    )
    if found is None or not reference:
        raise WorkflowError(
            _("No member (by party card number) or organisation (by code) of this review period is %(reference)s.")
            % {"reference": reference or "—"}
        )
    return found


def recheck_open(
    *,
    period: Period,
    assessment: Assessment,
    kind: str,
    summary: str,
    user: User | SystemActor,
    opened_on: datetime.date | None = None,
) -> Recheck:
    """Record a matter to re-check about the subject of `assessment`: the period cannot be finalised
    until it is resolved."""
    policy.require(user, "recheck.manage", period.organization)
    summary = (summary or "").strip()
    if not summary:
        raise WorkflowError(_("Please summarise the matter to re-check."))
    if kind not in Recheck.Kind.values:
        raise WorkflowError(_("Choose the kind of matter."))
    if assessment.period_id != period.pk:
        raise WorkflowError(_("This subject is not reviewed in this period."))
    if period.state == Period.State.PUBLISHED:
        raise WorkflowError(_("The results are published: a matter found now leads to re-grading the subject."))
    with transaction.atomic():
        recheck = Recheck.objects.create(
            period=period,
            assessment=assessment,
            kind=kind,
            summary=summary,
            opened_on=opened_on or timezone.localdate(),
            opened_by=policy.actor_user(user),
        )
        log_action(
            AuditEntry.Action.RECHECK_OPEN,
            period=period,
            assessment=assessment,
            actor=user,
            reason=summary,
            data={"recheck": recheck.pk, "kind": kind},
        )
    return recheck


def recheck_resolve(
    *, recheck: Recheck, resolution: str, user: User | SystemActor, resolved_on: datetime.date | None = None
) -> Recheck:
    """Record the outcome of a matter to re-check: it no longer holds the period."""
    policy.require(user, "recheck.manage", recheck.period.organization)
    resolution = (resolution or "").strip()
    if not resolution:
        raise WorkflowError(_("Please write the outcome of the re-check."))
    with transaction.atomic():
        current = Recheck.objects.select_for_update().select_related("period").get(pk=recheck.pk)
        if current.resolved_on is not None:
            raise WorkflowError(_("This matter has already been resolved."))
        current.resolved_on = resolved_on or timezone.localdate()
        current.resolved_by = policy.actor_user(user)
        current.resolution = resolution
        current.save(update_fields=["resolved_on", "resolved_by", "resolution"])
        log_action(
            AuditEntry.Action.RECHECK_RESOLVE,
            period=current.period,
            assessment=current.assessment,
            actor=user,
            reason=resolution,
            data={"recheck": current.pk, "kind": current.kind},
        )
    return current
