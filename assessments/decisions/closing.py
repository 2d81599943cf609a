"""The end of the year: what still stands in the way of finalising (undecided subjects, reopened ones,
quota breaches), finalising, publishing, and the board reopening one subject to decide it again."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, npgettext

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

    from organizations.policy import SystemActor


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


# How many names a blocker cites before "and N more".
NAMED_IN_BLOCKER = 3

# The rule that a reviewed subject must have a level before the round closes, and the rule that an open
# matter to re-check holds the round, by regime (the 2018 notes have no rule of their own for re-checks).
ALL_DECIDED_RULES = {"2018": "R2018-ALL-LEVEL", "2025": "R2025-ALL-REVIEW-CLASS"}
RECHECK_RULES = {"2025": "R2025-P-RECHECK"}


def _cited(rule_id: str, message: str) -> str:
    return f"{rule_id}: {message}" if rule_id else message


def _names(names: list[str], total: int) -> str:
    """The first names, and how many more: "A, B, C and 4 more"."""
    shown = ", ".join(names[:NAMED_IN_BLOCKER])
    if total > NAMED_IN_BLOCKER:
        more = total - NAMED_IN_BLOCKER
        return npgettext("finalise blocker", "%(names)s and %(count)d more", "%(names)s and %(count)d more", more) % {
            "names": shown,
            "count": more,
        }
    return shown


def _undecided_messages(kind: str, count: int, names: str) -> str:
    values = {"count": count, "names": names}
    if kind == Assessment.SubjectKind.MEMBER:
        return (
            ngettext(
                "%(count)d member to be classified has no decided level yet (%(names)s): decide them first.",
                "%(count)d members to be classified have no decided level yet (%(names)s): decide them first.",
                count,
            )
            % values
        )
    if kind == Assessment.SubjectKind.LEADER:
        return (
            ngettext(
                "%(count)d leader to be classified has no decided level yet (%(names)s): decide them first.",
                "%(count)d leaders to be classified have no decided level yet (%(names)s): decide them first.",
                count,
            )
            % values
        )
    if kind == Assessment.SubjectKind.COLLECTIVE:
        return (
            ngettext(
                "%(count)d leadership collective has no decided level yet (%(names)s): decide it first.",
                "%(count)d leadership collectives have no decided level yet (%(names)s): decide them first.",
                count,
            )
            % values
        )
    return (
        ngettext(
            "%(count)d party organisation has no decided level yet (%(names)s): rank it first.",
            "%(count)d party organisations have no decided level yet (%(names)s): rank them first.",
            count,
        )
        % values
    )


def undecided_by_kind(period: Period) -> dict[str, tuple[int, list[str]]]:
    """{subject kind: (how many classified subjects have no decided level, the first names)}: members,
    leaders, leadership collectives and organisations (R2025-ALL-REVIEW-CLASS). One query for the
    counts, one per kind with something missing for its first names."""
    kinds = [
        Assessment.SubjectKind.MEMBER,
        Assessment.SubjectKind.LEADER,
        Assessment.SubjectKind.COLLECTIVE,
        Assessment.SubjectKind.ORGANIZATION,
    ]
    undecided = Assessment.objects.filter(period=period, classified=True, decided_level="")
    counts = dict(
        undecided.filter(subject_kind__in=kinds).values_list("subject_kind").annotate(n=Count("pk")).order_by()
    )
    found = {}
    for kind in kinds:
        if not counts.get(kind):
            continue
        first = (
            undecided.filter(subject_kind=kind)
            .select_related("member", "organization")
            .order_by("organization__path", "member__sort_key", "pk")[:NAMED_IN_BLOCKER]
        )
        found[kind] = (counts[kind], [assessment.subject_name for assessment in first])
    return found


def finalise_blockers(period: Period) -> list[str]:
    """What stands in the way of finalising: messages for the user, each citing its rule where the regime
    has one; empty when nothing does."""
    from .rechecks import open_rechecks

    blockers = []
    rule_id = ALL_DECIDED_RULES.get(period.regime, "")
    for kind, (count, names) in undecided_by_kind(period).items():
        blockers.append(_cited(rule_id, _undecided_messages(kind, count, _names(names, count))))
    to_confirm = list(
        Assessment.objects.filter(period=period, to_confirm=True)
        .select_related("member", "organization")
        .order_by("organization__path", "member__sort_key", "pk")[: NAMED_IN_BLOCKER + 1]
    )
    if to_confirm:
        count = Assessment.objects.filter(period=period, to_confirm=True).count()
        names = _names([a.subject_name for a in to_confirm[:NAMED_IN_BLOCKER]], count)
        blockers.append(
            ngettext(
                "%(count)d decision must be confirmed again: a level decided below it changed (%(names)s).",
                "%(count)d decisions must be confirmed again: levels decided below them changed (%(names)s).",
                count,
            )
            % {"count": count, "names": names}
        )
    reopened = Assessment.objects.filter(period=period, reopened=True).count()
    if reopened:
        blockers.append(
            ngettext(
                "%(count)d reopened subject is waiting for its new decision.",
                "%(count)d reopened subjects are waiting for their new decision.",
                reopened,
            )
            % {"count": reopened}
        )
    rechecks = open_rechecks(period)
    if rechecks:
        described = [
            _("%(kind)s about %(subject)s") % {"kind": r.get_kind_display(), "subject": r.assessment.subject_name}
            for r in rechecks[:NAMED_IN_BLOCKER]
        ]
        blockers.append(
            _cited(
                RECHECK_RULES.get(period.regime, ""),
                ngettext(
                    "%(count)d matter to re-check is still open (%(names)s): record its outcome first.",
                    "%(count)d matters to re-check are still open (%(names)s): record their outcome first.",
                    len(rechecks),
                )
                % {"count": len(rechecks), "names": _names(described, len(rechecks))},
            )
        )
    for group, _subjects, quota in quota_breaches(period):
        blockers.append(
            _("%(organization)s exceeds the quota with no recorded exception: %(message)s")
            % {"organization": group.name, "message": quota.message(lang())}
        )
    return blockers


def period_finalise(*, period: Period, user: User | SystemActor) -> Period:
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


def period_publish(*, period: Period, user: User | SystemActor) -> Period:
    """Publish a finalised period: each member sees their level."""
    with period_step(period, AuditEntry.Action.PUBLISH, user) as change:
        published = Assessment.objects.filter(period=change.obj, state=Assessment.State.DECIDED).update(
            state=Assessment.State.PUBLISHED, reopened=False
        )
        change.data = {"published": published}
    return change.obj


def assessment_reopen(
    *, assessment: Assessment, user: User, reason: str | None, reference: str | None = None
) -> Assessment:
    """The board reopens one finalised subject so that its level can be decided again (re-grading).

    `reference` is the number and date of the board's decision to re-grade (Mẫu 03 in QĐ 366): kept on
    the subject and in the history beside the level it had, so that both levels show (R2025-P-REGRADE)."""
    reason = (reason or "").strip()
    reference = (reference or "").strip()
    if not reason:
        raise WorkflowError(_("Please write the reason for reopening."))
    policy.require(user, "period.manage", assessment.period.organization)
    with transaction.atomic():
        current = _locked_copy(assessment)
        if not current.period.is_locked:
            raise WorkflowError(_("Only a subject of a finalised period is reopened; this one is still open."))
        current.reopened = True
        current.regrading_reference = reference
        current.save(update_fields=["reopened", "regrading_reference", "updated_at"])
        log_action(
            AuditEntry.Action.REOPEN,
            assessment=current,
            actor=user,
            from_state=current.state,
            to_state=current.state,
            reason=reason,
            data={"level": current.decided_level, **({"reference": reference} if reference else {})},
        )
    return current
