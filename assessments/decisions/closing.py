"""The end of the year: what still stands in the way of finalising (undecided subjects, reopened ones,
quota breaches), finalising, publishing, the board reopening one subject to decide it again, and the
board confirming again (or lowering) a decision that a re-grading below put back "to confirm" after
finalising."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, npgettext

from organizations import policy
from organizations.models import Organization
from vocabulary import Level

from ..core.errors import WorkflowError
from ..core.facts import period_parameters
from ..core.models import Assessment, AuditEntry, Period
from ..core.services import _locked_copy, period_step
from ..core.text import lang
from ..core.transitions import log_action
from ..rulebooks import (
    Evaluation,
    Finding,
    QuotaResult,
    get_rulebook,
)
from . import links
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


# --- Confirming again after finalising ------------------------------------------------------------------------

CONFIRM, LOWER = "confirm", "lower"


@dataclass
class ToConfirm:
    """A decision of a finalised period that a change below put back "to confirm": the rules' reading
    of it now, whether its level can be confirmed, and the level it would be lowered to."""

    assessment: Assessment
    evaluation: Evaluation
    confirmable: bool  # the rules allow the level (or forbid it only by what a written reason may set aside)
    lower_to: Level | None  # the highest level the rules allow below it; None: none (reopen it)

    @property
    def forbidding(self) -> list[str]:
        """What the rules now say against the level, beyond the finding that put it back (shown already)."""
        language, shown = lang(), self.assessment.to_confirm_reason
        forbidden = self.evaluation.explain(self.assessment.decided_level)
        return _cited_findings(f for f in forbidden if f.message(language) not in shown)

    @property
    def lower_concerns(self) -> list[str]:
        """The warnings on the level it would be lowered to: lowering to it asks for the reason."""
        if self.lower_to is None:
            return []
        return _cited_findings(f for f in self.evaluation.warnings(self.lower_to) if not f.unchecked)


def _cited_findings(findings: Iterable[Finding]) -> list[str]:
    language = lang()
    return [f"{f.rule_id}: {f.message(language)}" for f in findings]


def lower_level(evaluation: Evaluation, level: Level | str) -> Level | None:
    """The highest level below `level` that the rules allow (their cap, where it is below), or None."""
    level = Level.coerce(level)
    return next((allowed for allowed in evaluation.allowed_levels() if allowed < level), None)


def _confirmable(evaluation: Evaluation, level: Level | str) -> bool:
    return all(f.mitigable for f in evaluation.explain(level))


def decisions_to_confirm(period: Period) -> list[ToConfirm]:
    """Every decision of `period` put back "to confirm", in the order of the tree, with the rules'
    reading of it now: a fixed number of queries whatever their number."""
    flagged = list(
        Assessment.objects.filter(period=period, to_confirm=True, classified=True)
        .exclude(decided_level="")
        .select_related("member", "organization")
        .order_by("organization__path", "member__sort_key", "pk")
    )
    if not flagged:
        return []
    evaluations = links.evaluate_decided(period, flagged, get_rulebook(period.regime), period_parameters(period))
    return [
        ToConfirm(
            assessment=a,
            evaluation=evaluations[a.pk],
            confirmable=_confirmable(evaluations[a.pk], a.decided_level),
            lower_to=lower_level(evaluations[a.pk], a.decided_level),
        )
        for a in flagged
    ]


def decision_confirm_again(
    *, assessment: Assessment, user: User, action: str, reference: str = "", reason: str = ""
) -> Assessment:
    """The board settles, after finalising, a decision that a change below put back "to confirm",
    without reopening it: it confirms the level (when the rules allow it, or forbid it only by what its
    written reason sets aside: R2025-ALL-MITIGATE), or lowers it to the highest level the rules allow,
    a re-grading that keeps both levels and the reference of the board's decision (R2025-P-REGRADE).
    A warning of the rules on the level asks for the reason, as on the decision screens. Lowering
    re-checks what rests on the level, as any decision does; the history keeps the finding."""
    reason = (reason or "").strip()
    reference = (reference or "").strip()
    policy.require(user, "decision.confirm_again", assessment.period.organization)
    if action not in (CONFIRM, LOWER):
        raise WorkflowError(_("Choose whether to confirm the level or to lower it."))
    if action == LOWER and not reference:
        raise WorkflowError(_("Please give the number and date of the board's decision that re-grades it."))
    with transaction.atomic():
        current = _locked_copy(assessment)
        period = current.period
        if not period.is_locked:
            raise WorkflowError(
                _("Before the round is finalised, the deciding level decides it again on its decision screen.")
            )
        if not current.to_confirm or not current.decided_level or not current.classified:
            raise WorkflowError(_("This decision is not waiting to be confirmed."))
        if current.reopened:
            raise WorkflowError(_("This subject is reopened: its new level is decided on the decision screen."))
        rulebook, params = get_rulebook(period.regime), period_parameters(period)
        evaluation = links.evaluate_decided(period, [current], rulebook, params)[current.pk]
        before = current.decided_level
        level = Level.coerce(before) if action == CONFIRM else lower_level(evaluation, before)
        if level is None:
            raise WorkflowError(
                _("The rules allow no level below %(level)s here: reopen the subject to decide it again.")
                % {"level": before}
            )
        _check_level(evaluation, level, reason)
        mitigated = sorted({f.rule_id for f in evaluation.explain(level)})
        data = {"level": level.value, "finding": current.to_confirm_reason}
        if mitigated:
            data |= {"mitigated": mitigated, "rule": rulebook.mitigation_rule}
        if reference:
            data["reference"] = reference
        fields = ["to_confirm", "to_confirm_reason", "updated_at"]
        current.to_confirm, current.to_confirm_reason = False, ""
        if action == LOWER:
            current.regraded_from, current.regrading_reference = before, reference
            current.decided_level, current.decided_by, current.decided_at = level.value, user, timezone.now()
            current.version += 1
            fields += ["regraded_from", "regrading_reference", "decided_level", "decided_by", "decided_at", "version"]
            data |= {"regrading": True, "previous_level": before}
        current.save(update_fields=fields)
        log_action(
            AuditEntry.Action.CONFIRM_AGAIN if action == CONFIRM else AuditEntry.Action.LOWER_TO_CAP,
            assessment=current,
            actor=user,
            from_state=current.state,
            to_state=current.state,
            reason=reason,
            data=data,
        )
        if action == LOWER:
            # What rests on this level may no longer hold: it comes back here, to confirm in its turn.
            links.recheck(
                period=period,
                rulebook=rulebook,
                params=params,
                user=user,
                paths={current.organization.path},
                skip={current.pk},
            )
            if current.subject_kind == Assessment.SubjectKind.ORGANIZATION:
                links.recheck_leaders(
                    period=period, rulebook=rulebook, params=params, user=user, organizations={current.organization_id}
                )
    return current


def _check_level(evaluation: Evaluation, level: Level, reason: str) -> None:
    """Refuse (WorkflowError, with the rules' messages) a level the rules forbid, unless only by what the
    written reason may set aside; or one a warning concerns, without a reason."""
    forbidden = evaluation.explain(level)
    if forbidden and not (reason and all(f.mitigable for f in forbidden)):
        raise WorkflowError(
            _("The rules do not allow %(level)s:") % {"level": level.value}, errors=_cited_findings(forbidden)
        )
    concerns = [f for f in evaluation.warnings(level) if not f.unchecked]
    if concerns and not reason:
        raise WorkflowError(
            _("A warning of the rules concerns this level: please write the reason."), errors=_cited_findings(concerns)
        )
