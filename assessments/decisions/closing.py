"""The end of the year: what still stands in the way of finalising (undecided subjects, reopened ones,
quota breaches), finalising, publishing, and the board reopening one subject to decide it again."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from organizations import policy
from organizations.models import Organization

from ..core.errors import WorkflowError
from ..core.facts import period_parameters
from ..core.models import Assessment, AuditEntry, Period
from ..core.services import _locked_copy, period_step
from ..core.text import lang
from ..core.transitions import log_action
from ..rulebooks import (
    QuotaResult,
    get_rulebook,
)
from .selectors import exception_decision

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def quota_breaches(period: Period) -> list[tuple[Organization, str, QuotaResult]]:
    """[(group organisation, subject kind, QuotaResult)] of every group whose decided levels exceed the
    quota with no recorded exception covering them. Four queries for the whole period."""
    rulebook = get_rulebook(period.regime)
    params = period_parameters(period)
    root = period.organization
    organizations = list(root.subtree().only("pk", "path", "depth", "kind", "code", "name"))
    grassroots = [org for org in organizations if org.kind in Organization.GRASSROOTS_KINDS]
    committees = [org for org in grassroots if org.kind == Organization.Kind.GRASSROOTS_COMMITTEE]

    def group_of(path: str, candidates: Iterable[Organization]) -> Organization | None:
        return next((org for org in candidates if path.startswith(org.path)), None)

    counts = defaultdict(Counter)  # (group pk, subject kind) -> levels
    decided = (
        Assessment.objects.filter(period=period, classified=True)
        .exclude(decided_level="")
        .exclude(subject_kind=Assessment.SubjectKind.COLLECTIVE)
        .values_list("organization__path", "organization__kind", "member_id", "decided_level")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for path, kind, member_id, level, n in decided:
        if member_id is not None:
            group, subjects = group_of(path, grassroots), "member"
        elif kind in Organization.GRASSROOTS_KINDS:
            group, subjects = root, "organization"
        else:
            group, subjects = group_of(path, committees), "organization"
        if group is not None:
            counts[(group.pk, subjects)][level] += n
    # The latest exception of each group, as the decision screens read it (selectors.QuotaBox.covered):
    # it covers a count only with the competent level's decision, for at least that count, and within
    # what the rules allow an exception as the levels stand (none in 2018 unless the period allows it).
    covered = {}
    for entry in AuditEntry.objects.filter(period=period, action="quota_exception").order_by("at", "pk"):
        count = entry.data.get("count", 0) if exception_decision(entry) else -1
        covered[(entry.data.get("organization"), entry.data.get("subjects"))] = count
    by_pk = {org.pk: org for org in organizations}
    breaches = []
    for (group_pk, subjects), levels in counts.items():
        quota = rulebook.quota(dict(levels), params, subject_kind=subjects)
        if quota.within:
            continue
        group = by_pk[group_pk]
        raised = rulebook.exception_quota(dict(levels), params, subject_kind=subjects)
        if raised is None or not raised.within or covered.get((group.code, subjects), -1) < quota.count:
            breaches.append((group, subjects, quota))
    breaches.sort(key=lambda item: item[0].path)
    return breaches


def finalise_blockers(period: Period) -> list[str]:
    """What stands in the way of finalising: messages for the user, empty when nothing does."""
    blockers = []
    counts = Assessment.objects.filter(period=period, classified=True).aggregate(
        members=Count("pk", filter=Q(member__isnull=False, decided_level="")),
        organizations=Count("pk", filter=Q(subject_kind=Assessment.SubjectKind.ORGANIZATION, decided_level="")),
        reopened=Count("pk", filter=Q(reopened=True)),
    )
    if counts["members"]:
        blockers.append(
            ngettext(
                "%(count)d member to be classified has no decided level yet: decide them first.",
                "%(count)d members to be classified have no decided level yet: decide them first.",
                counts["members"],
            )
            % {"count": counts["members"]}
        )
    if counts["organizations"]:
        blockers.append(
            ngettext(
                "%(count)d party organisation has no decided level yet: rank it first.",
                "%(count)d party organisations have no decided level yet: rank them first.",
                counts["organizations"],
            )
            % {"count": counts["organizations"]}
        )
    if counts["reopened"]:
        blockers.append(
            ngettext(
                "%(count)d reopened subject is waiting for its new decision.",
                "%(count)d reopened subjects are waiting for their new decision.",
                counts["reopened"],
            )
            % {"count": counts["reopened"]}
        )
    for group, _subjects, quota in quota_breaches(period):
        blockers.append(
            _("%(organization)s exceeds the quota with no recorded exception: %(message)s")
            % {"organization": group.name, "message": quota.message(lang())}
        )
    return blockers


def period_finalise(*, period: Period, user: User | None) -> Period:
    """Lock the period: after this nothing changes, unless the board reopens a subject with a reason.

    Every classified member and organisation must be decided, every group within its quota (or with a
    recorded exception). A finalised period whose reopened subjects have been decided again is
    finalised again: the re-grading round is closed, and recorded."""
    with period_step(period, AuditEntry.Action.FINALISE, user) as change:
        locked = change.obj
        blockers = finalise_blockers(locked)
        if blockers:
            raise WorkflowError(_("The period cannot be finalised yet."), errors=blockers)
        if change.from_state == Period.State.FINALISED:
            regraded = AuditEntry.objects.filter(period=locked, action=AuditEntry.Action.REOPEN).count()
            change.data = {"again": True, "reopened_so_far": regraded}
    return change.obj


def period_publish(*, period: Period, user: User | None) -> Period:
    """Publish a finalised period: each member sees their level."""
    with period_step(period, AuditEntry.Action.PUBLISH, user) as change:
        published = Assessment.objects.filter(period=change.obj, state=Assessment.State.DECIDED).update(
            state=Assessment.State.PUBLISHED, reopened=False
        )
        change.data = {"published": published}
    return change.obj


def assessment_reopen(*, assessment: Assessment, user: User, reason: str | None) -> Assessment:
    """The board reopens one finalised subject so that its level can be decided again (re-grading)."""
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError(_("Please write the reason for reopening."))
    policy.require(user, "period.manage", assessment.period.organization)
    with transaction.atomic():
        current = _locked_copy(assessment)
        if not current.period.is_locked:
            raise WorkflowError(_("Only a subject of a finalised period is reopened; this one is still open."))
        current.reopened = True
        current.save(update_fields=["reopened", "updated_at"])
        log_action(
            AuditEntry.Action.REOPEN,
            assessment=current,
            actor=user,
            from_state=current.state,
            to_state=current.state,
            reason=reason,
        )
    return current
