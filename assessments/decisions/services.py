"""Recording levels (the one service for members and organisations, under the rules and the quota)
and the quota's exceptions. The end of the year (finalising, publishing, reopening) is in closing.py."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from organizations import policy
from organizations.models import Organization
from vocabulary import Level

from ..core.errors import WorkflowError
from ..core.models import Assessment, AuditEntry, Period
from ..core.text import lang
from ..core.transitions import audit_fields, log_action
from ..core.workflow import state_allows
from ..rulebooks import (
    Parameters,
    QuotaResult,
    Rulebook,
    get_rulebook,
)
from . import links
from .selectors import (
    Choices,
    QuotaBox,
    Row,
    decision_rows,
    member_assessments,
    quota_box,
    tallies_by_organization,
    total_tally,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class DecisionError(WorkflowError):
    """Some decisions of the set were refused; `row_errors` maps assessment pk to messages."""

    def __init__(
        self, message: str, *, row_errors: dict[int, list[str]] | None = None, quota: QuotaResult | None = None
    ) -> None:
        super().__init__(message)
        self.row_errors = row_errors or {}
        self.quota = quota


def check_decider(user: User, organization: Organization) -> None:
    """Refuse (WorkflowError) unless `user` may decide the levels of `organization`'s members."""
    policy.require(user, "decision.record", organization)


def decisions_record(
    *,
    period: Period,
    organization: Organization,
    user: User,
    choices: Choices,
    exception_reason: str | None = "",
    rows: list[Row] | None = None,
) -> tuple[int, QuotaBox]:
    """Record the levels of `choices` ({assessment pk: (level, note)}) for members of `organization`.

    Everything is checked before anything is written: the period, the decider, every level against
    the rules, and the quota of the whole organisation as it would stand. `rows`, when the caller has
    just read them (for the suggestions), spares reading the chosen subjects again."""
    check_decider(user, organization)
    base = member_assessments(period, organization)
    rulebook = get_rulebook(period.regime)
    params = rulebook.parameters(period.parameters, year=period.year)
    if rows is None:
        rows, rulebook, params = decision_rows(period, organization, base.filter(pk__in=list(choices)))
    return record_levels(
        period=period,
        group=organization,
        group_queryset=base,
        rows=rows,
        rulebook=rulebook,
        params=params,
        user=user,
        choices=choices,
        exception_reason=exception_reason,
        subject_kind="member",
    )


def _check_choices(
    rows: Iterable[Row], choices: Choices, period: Period
) -> tuple[dict[int, tuple[Level, str]], dict[int, list[str]]]:
    """{pk: (Level, note)} of the choices the rules allow, and {pk: [messages]} of those they refuse."""
    by_pk = {row.assessment.pk: row for row in rows}
    row_errors, chosen = {}, {}
    language = lang()
    for pk, (level, note) in choices.items():
        row = by_pk.get(pk)
        if row is None:
            raise WorkflowError(_("A subject in this list does not belong to this organisation."))
        if not level:
            continue
        if not row.assessment.classified:
            row_errors[pk] = [_("This subject is not to be classified.")]
            continue
        try:
            level = Level.coerce(level)
        except ValueError:
            row_errors[pk] = [_("Unknown level.")]
            continue
        if period.is_locked and not row.assessment.reopened:
            row_errors[pk] = [_("This review period is finalised: nothing can be changed.")]
            continue
        state = Assessment.State.DECIDED if row.assessment.reopened else row.assessment.state
        if not state_allows(AuditEntry.Action.DECIDE, state):
            row_errors[pk] = [_("This form can no longer be decided.")]
            continue
        forbidden = row.evaluation.explain(level)
        if forbidden:
            row_errors[pk] = [
                _("The rules do not allow %(level)s:") % {"level": level.value},
                *(f.message(language) for f in forbidden),
            ]
            continue
        # "Nothing could be checked yet" (no ratings entered) is shown, but asks for no reason.
        concerns = [f for f in row.evaluation.warnings(level) if not f.unchecked]
        note = (note or "").strip()
        if concerns and not note:
            row_errors[pk] = [_("A warning of the rules concerns this level: please write the reason.")]
            continue
        chosen[pk] = (level, note)
    return chosen, row_errors


def record_levels(
    *,
    period: Period,
    group: Organization,
    group_queryset: QuerySet[Assessment],
    rows: list[Row],
    rulebook: Rulebook,
    params: Parameters,
    user: User,
    choices: Choices,
    exception_reason: str | None,
    subject_kind: str,
) -> tuple[int, QuotaBox]:
    """Check and record a set of levels for the subjects of `rows`, under the quota of `group`, whose
    subjects are `group_queryset`. Shared by the grassroots decision on members and the decisions on
    organisations and collectives. Deciding a subject "to confirm" again confirms it; the organisations
    and collectives decided above the subjects whose levels changed are checked again (`links.recheck`).
    Returns (number of levels written, the QuotaBox as it stands after the save)."""
    exception_reason = (exception_reason or "").strip()
    now = timezone.now()
    with transaction.atomic():
        # Serialises the decisions of one group: the quota below is counted on what is committed.
        Organization.objects.select_for_update().filter(pk=group.pk).values_list("pk", flat=True).first()
        period = Period.objects.get(pk=period.pk)
        if period.is_locked:
            # A finalised period changes only for the subjects the board reopened, with a reason.
            reopened = {row.assessment.pk for row in rows if row.assessment.reopened}
            if not choices or not set(choices) <= reopened:
                raise WorkflowError(_("This review period is finalised: nothing can be changed."))
        chosen, row_errors = _check_choices(rows, choices, period)
        if row_errors:
            raise DecisionError(_("Some levels were refused; nothing was saved."), row_errors=row_errors)
        locked = {
            values["pk"]: values
            for values in Assessment.objects.select_for_update()
            .filter(pk__in=list(chosen))
            .values("pk", "state", "decided_level", "decision_note", "reopened", "to_confirm")
        }
        if period.is_locked and any(not locked[pk]["reopened"] for pk in chosen):
            raise WorkflowError(_("This review period is finalised: nothing can be changed."))
        changed = {
            pk: (level, note)
            for pk, (level, note) in chosen.items()
            if locked[pk]["reopened"]
            or locked[pk]["to_confirm"]  # deciding again confirms it
            or locked[pk]["decided_level"] != level.value
            or locked[pk]["decision_note"] != note
        }
        tally = total_tally(tallies_by_organization(group_queryset, subject_kind))
        for pk, (level, _note) in changed.items():
            old = locked[pk]["decided_level"]
            if old:
                tally.decided[old] -= 1
            tally.decided[level.value] += 1
            if locked[pk]["reopened"]:
                tally.reopened -= 1
        box = quota_box(period, group, tally, subject_kind, rulebook, params)
        if changed and box.binding and not box.quota.within and not box.covered:
            if not exception_reason:
                raise DecisionError(
                    _(
                        "These decisions exceed the quota: %(message)s Write the reason for an exception, "
                        "or lower some levels."
                    )
                    % {"message": box.quota.message(lang())},
                    quota=box.quota,
                )
            box.exception = _record_exception(period, group, user, box.quota, subject_kind, exception_reason)
        published = period.state == Period.State.PUBLISHED
        # A re-grading after publication is published at once, like the first decision was.
        target = Assessment.State.PUBLISHED if published else Assessment.State.DECIDED
        groups = defaultdict(list)
        for pk, (level, note) in changed.items():
            groups[(level.value, note)].append(pk)
        for (level, note), pks in groups.items():
            Assessment.objects.filter(pk__in=pks).update(
                decided_level=level,
                decided_by=user,
                decided_at=now,
                decision_note=note,
                reopened=False,
                to_confirm=False,
                to_confirm_reason="",
                state=target,
                version=F("version") + 1,
                updated_at=now,
            )
        AuditEntry.objects.bulk_create(
            [
                AuditEntry(
                    **audit_fields(
                        AuditEntry.Action.DECIDE,
                        assessment_id=pk,
                        period=period,
                        actor=user,
                        from_state=locked[pk]["state"],
                        to_state=target,
                        reason=note,
                        data={"level": level.value, **({"regrading": True} if locked[pk]["reopened"] else {})},
                    ),
                )
                for pk, (level, note) in changed.items()
            ],
            batch_size=1000,
        )
        if changed:
            # The organisations and collectives decided above these subjects may no longer hold.
            subjects = {row.assessment.pk: row.assessment for row in rows}
            links.recheck(
                period=period,
                rulebook=rulebook,
                params=params,
                user=user,
                paths={subjects[pk].organization.path for pk in changed},
                skip=changed,
            )
    return len(changed), box


def _record_exception(
    period: Period, group: Organization, user: User, quota: QuotaResult, subject_kind: str, reason: str
) -> AuditEntry:
    return log_action(
        AuditEntry.Action.QUOTA_EXCEPTION,
        period=period,
        actor=user,
        reason=reason,
        data={"organization": group.code, "subjects": subject_kind, "count": quota.count, "cap": quota.cap_count},
    )


def exception_record(
    *,
    period: Period,
    group: Organization,
    group_queryset: QuerySet[Assessment],
    user: User,
    subject_kind: str,
    reason: str | None,
) -> AuditEntry:
    """Record why the group's HTXSNV count exceeds the quota, ahead of the decision that makes the
    quota binding: as the decided levels stand, or as they would if the proposals were accepted. The
    exception covers the larger of the two counts; a higher count needs a new one. The caller has
    checked that `user` decides for `group`."""
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError(_("Please write the reason for the exception."))
    if period.is_locked:
        raise WorkflowError(_("This review period is finalised: nothing can be changed."))
    with transaction.atomic():
        Organization.objects.select_for_update().filter(pk=group.pk).values_list("pk", flat=True).first()
        box = quota_box(period, group, total_tally(tallies_by_organization(group_queryset, subject_kind)), subject_kind)
        if box.quota.within and not box.projected_over:
            raise WorkflowError(_("The levels are within the quota, even with the proposals: no exception is needed."))
        widest = box.projected if box.projected_over and box.projected.count > box.quota.count else box.quota
        return _record_exception(period, group, user, widest, subject_kind, reason)
