"""Recording levels (the one service for members and organisations, under the rules and the quota)
and the quota's exceptions. The end of the year (finalising, publishing, reopening) is in closing.py.

An exception to the quota is the regulation's: in 2025 (R2025-Q-EXCEPTION) the competent level may
raise the rate up to 25% of the HTTNV count by a decision, whose number, date and issuing body are
recorded with the reason; above that nothing is accepted. In 2018 the texts provide no exception: any
excess is refused unless the period's parameters allow one (`quota_exception_allowed`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from bulk import insert_dicts, update_from_values
from organizations import policy
from organizations.models import Organization
from vocabulary import Level

from ..core.errors import WorkflowError
from ..core.facts import period_parameters
from ..core.models import Assessment, AuditEntry, Period
from ..core.text import lang
from ..core.transfers import transferred_refusal
from ..core.transitions import audit_fields, log_action
from ..core.workflow import state_allows
from ..rulebooks import (
    Parameters,
    QuotaResult,
    Rulebook,
    get_rulebook,
)
from . import links
from .conflicts import Conflicts
from .selectors import (
    Choices,
    QuotaBox,
    Row,
    decision_rows,
    member_assessments,
    quota_box,
    total_of,
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


@dataclass(frozen=True)
class ExceptionDecision:
    """The competent level's decision on an exception to the quota: its number, its date, the body that
    decided it, and the reason (the unit's outstanding achievements)."""

    number: str
    decided_on: date | None
    body: str
    reason: str

    def data(self) -> dict[str, str]:
        """What the exception's audit entry keeps of the decision (selectors.DECISION_KEYS)."""
        return {
            "decision_number": self.number.strip(),
            "decision_date": self.decided_on.isoformat() if self.decided_on else "",
            "decision_body": self.body.strip(),
        }


def decision_date_problem(decided_on: date, year: int, today: date | None = None) -> str:
    """Why `decided_on` cannot date the decision on the review of `year`, or "": it is taken during the
    review of the year or shortly after (by the end of the next year), and never in the future."""
    today = today or timezone.localdate()
    if decided_on > today:
        return _("The date of the decision cannot be in the future.")
    if not date(year, 1, 1) <= decided_on <= date(year + 1, 12, 31):
        return _("A decision on the review of %(year)d is dated in %(year)d or %(next)d.") % {
            "year": year,
            "next": year + 1,
        }
    return ""


def exception_problems(decision: ExceptionDecision, year: int) -> dict[str, str]:
    """{field: message} of what is missing or wrong in `decision`; empty when it can be recorded."""
    problems = {}
    if not decision.number.strip():
        problems["number"] = _("Please write the number of the competent level's decision.")
    if decision.decided_on is None:
        problems["date"] = _("Please give the date of the decision.")
    elif problem := decision_date_problem(decision.decided_on, year):
        problems["date"] = problem
    if not decision.body.strip():
        problems["body"] = _("Please write which body took the decision.")
    if not decision.reason.strip():
        problems["reason"] = _("Please write the reason for the exception.")
    return problems


def lock_group(group: Organization) -> None:
    """Lock the row of the organisation that owns a quota (the grassroots organisation for its members,
    the deciding organisation for the organisations and collectives below it) until the transaction
    ends. Every save of its levels and every exception takes this lock before counting, so concurrent
    saves are counted one after the other: under PostgreSQL's READ COMMITTED each statement after the
    lock sees what the previous holder committed. (SQLite serialises writers by itself.)"""
    Organization.objects.select_for_update().filter(pk=group.pk).values_list("pk", flat=True).first()


def check_decider(user: User, organization: Organization) -> None:
    """Refuse (WorkflowError) unless `user` may decide the levels of `organization`'s members."""
    policy.require(user, "decision.record", organization)


def check_group_decider(user: User, group: Organization, subject_kind: str) -> None:
    """Refuse unless `user` decides the subjects of `subject_kind` under `group`: its grassroots
    organisation for members and leaders, whoever ranks below it for organisations and collectives."""
    if subject_kind in (Assessment.SubjectKind.ORGANIZATION, Assessment.SubjectKind.COLLECTIVE):
        from .ranking import check_ranker  # ranking builds on this module

        check_ranker(user, group)
    else:
        check_decider(user, group)


def decisions_record(
    *,
    period: Period,
    organization: Organization,
    user: User,
    choices: Choices,
    exception: ExceptionDecision | None = None,
    rows: list[Row] | None = None,
    conflicts: Conflicts | None = None,
    undecided_only: bool = False,
) -> tuple[int, QuotaBox]:
    """Record the levels of `choices` ({assessment pk: (level, note)}) for members of `organization`.

    Everything is checked before anything is written: the period, the decider, every level against
    the rules, and the quota of the whole organisation as it would stand. `rows`, when the caller has
    just read them (for the suggestions), spares reading the chosen subjects again; `conflicts`, read for
    the same user and the same screen, spares reading them again."""
    check_decider(user, organization)
    base = member_assessments(period, organization)
    rulebook = get_rulebook(period.regime)
    params = period_parameters(period)
    if rows is None:
        rows, rulebook, params = decision_rows(period, organization, base.filter(pk__in=list(choices)))
    known = {row.assessment.pk for row in rows}
    strays = [pk for pk in choices if pk not in known]
    if strays:
        # A member transferred during the period: the receiving organisation decides (HD 21 tiết 6).
        refusal = transferred_refusal(period, organization, strays)
        if refusal:
            raise WorkflowError(refusal)
    return record_levels(
        period=period,
        group=organization,
        group_queryset=base,
        rows=rows,
        rulebook=rulebook,
        params=params,
        user=user,
        choices=choices,
        exception=exception,
        subject_kind="member",
        conflicts=conflicts,
        undecided_only=undecided_only,
    )


def _check_choices(
    rows: Iterable[Row], choices: Choices, period: Period
) -> tuple[dict[int, tuple[Level, str]], dict[int, list[str]], dict[int, list[str]]]:
    """{pk: (Level, note)} of the choices the rules allow, {pk: [messages]} of those they refuse, and
    {pk: [rule ids]} of the findings the deciding level set aside with its written reason (2025: a
    KHTNV trigger, R2025-ALL-MITIGATE)."""
    by_pk = {row.assessment.pk: row for row in rows}
    row_errors, chosen, mitigated = {}, {}, {}
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
        note = (note or "").strip()
        forbidden = row.evaluation.explain(level)
        if forbidden and note and all(f.mitigable for f in forbidden):
            # The competent level may set these aside, with its reason on record (Điều 11 khoản 4).
            mitigated[pk] = sorted({f.rule_id for f in forbidden})
            forbidden = ()
        if forbidden:
            row_errors[pk] = [
                _("The rules do not allow %(level)s:") % {"level": level.value},
                *(f"{f.rule_id}: {f.message(language)}" for f in forbidden),
            ]
            if all(f.mitigable for f in forbidden):
                row_errors[pk].append(
                    _(
                        "The deciding level may set this aside where the violation was remedied or there was "
                        "force majeure: write the reason, and it is recorded with the decision."
                    )
                )
            continue
        # "Nothing could be checked yet" (no ratings entered) is shown, but asks for no reason.
        concerns = [f for f in row.evaluation.warnings(level) if not f.unchecked]
        if concerns and not note:
            row_errors[pk] = [_("A warning of the rules concerns this level: please write the reason.")]
            continue
        chosen[pk] = (level, note)
    return chosen, row_errors, mitigated


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
    exception: ExceptionDecision | None = None,
    subject_kind: str,
    conflicts: Conflicts | None = None,
    undecided_only: bool = False,
) -> tuple[int, QuotaBox]:
    """Check and record a set of levels for the subjects of `rows`, under the quota of `group`, whose
    subjects are `group_queryset`. Shared by the grassroots decision on members and the decisions on
    organisations and collectives, on the screens and in the admin. Deciding a subject "to confirm" again
    confirms it; the organisations and collectives decided above the subjects whose levels changed are
    checked again (`links.recheck`). Returns (number of levels written, the QuotaBox as it stands after
    the save).

    Once every subject is decided the quota binds: a set that leaves the group over it is refused unless
    an exception on record covers it, or `exception` (the competent level's decision) is given and the
    count is within what the regime allows an exception (`check_exception`).

    The quota is counted inside the transaction, after locking the group's row (the organisation that
    owns the quota), so two saves for one group, from two officers at once, are counted one after the
    other: the second sees the first.

    A set that gives a level to a subject `user` stands aside from (their own, an organisation they lead
    or whose committee they sit on, a conflict on record: `conflicts.Conflicts`) is refused whole; the
    screens leave such rows out and say so. So is an exception while one of those is at HTXSNV.

    `undecided_only` (the proposals accepted at once, read as undecided before the rows were locked): a
    subject someone else decided meanwhile is left as they decided it, not written over; the count
    returned leaves it out.

    Who decides is checked here too, whoever calls."""
    check_group_decider(user, group, subject_kind)
    now = timezone.now()
    with transaction.atomic():
        lock_group(group)
        period = Period.objects.get(pk=period.pk)
        if period.is_locked:
            # A finalised period changes only for the subjects the board reopened, with a reason.
            reopened = {row.assessment.pk for row in rows if row.assessment.reopened}
            if not choices or not set(choices) <= reopened:
                raise WorkflowError(_("This review period is finalised: nothing can be changed."))
        # Nobody decides their own level, nor one they stand aside from (organizations.policy.stand_aside).
        if conflicts is None or conflicts.user != user or conflicts.subject_kind != subject_kind:
            conflicts = Conflicts(user, subject_kind)
        aside = conflicts.refused((row.assessment for row in rows), choices)
        if aside:
            raise DecisionError(next(iter(aside.values()))[0], row_errors=aside)
        chosen, row_errors, mitigated = _check_choices(rows, choices, period)
        if row_errors:
            raise DecisionError(_("Some levels were refused; nothing was saved."), row_errors=row_errors)
        locked = {
            values["pk"]: values
            for values in Assessment.objects.select_for_update()
            .filter(pk__in=list(chosen))
            .values("pk", "state", "decided_level", "decision_note", "reopened", "regrading_reference", "to_confirm")
        }
        if undecided_only:
            chosen = {pk: value for pk, value in chosen.items() if not locked[pk]["decided_level"]}
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
        tally = total_of(group_queryset, subject_kind)
        for pk, (level, _note) in changed.items():
            old = locked[pk]["decided_level"]
            if old:
                tally.decided[old] -= 1
            tally.decided[level.value] += 1
            if locked[pk]["reopened"]:
                tally.reopened -= 1
        box = quota_box(period, group, tally, subject_kind, rulebook, params)
        if changed and box.binding and not box.quota.within and not box.covered:
            check_exception(box, box.quota, box.raised)
            if exception is None:
                raise DecisionError(
                    _(
                        "These decisions exceed the quota: %(message)s Record the competent level's decision "
                        "on the exception (its number, date, issuing body and the reason), or lower some levels."
                    )
                    % {"message": box.quota.message(lang())},
                    quota=box.quota,
                )
            problems = exception_problems(exception, period.year)
            if problems:
                raise DecisionError(" ".join(problems.values()), quota=box.quota)
            if refusal := conflicts.exception_refusal(group_queryset, subject_kind, projected=False):
                raise DecisionError(refusal, quota=box.quota)
            box.exception = _record_exception(period, group, user, box, box.quota, subject_kind, exception)
        published = period.state == Period.State.PUBLISHED
        # A re-grading after publication is published at once, like the first decision was.
        target = Assessment.State.PUBLISHED if published else Assessment.State.DECIDED
        # One UPDATE … FROM (VALUES …) for the levels and notes, whatever their mix (the rows are locked
        # above and their versions go up by one, as every save of a form does).
        update_from_values(
            Assessment,
            ("decided_level", "decision_note"),
            [(pk, level.value, note) for pk, (level, note) in changed.items()],
            set_values={
                "decided_by_id": user.pk,
                "decided_at": now,
                "reopened": False,
                "to_confirm": False,
                "to_confirm_reason": "",
                "state": target,
                "updated_at": now,
            },
            increment=("version",),
        )
        # A re-grading keeps the level it replaces beside the new one (R2025-P-REGRADE).
        regraded = defaultdict(list)
        for pk in changed:
            if locked[pk]["reopened"]:
                regraded[locked[pk]["decided_level"]].append(pk)
        for old, pks in regraded.items():
            Assessment.objects.filter(pk__in=pks).update(regraded_from=old)
        # The trail, one entry a decision, written in one stream (no model instance each).
        insert_dicts(
            AuditEntry,
            [
                audit_fields(
                    AuditEntry.Action.DECIDE,
                    assessment_id=pk,
                    period=period,
                    actor=user,
                    from_state=locked[pk]["state"],
                    to_state=target,
                    reason=note,
                    data={
                        "level": level.value,
                        **(_regrading(locked[pk]) if locked[pk]["reopened"] else {}),
                        **({"mitigated": mitigated[pk], "rule": rulebook.mitigation_rule} if pk in mitigated else {}),
                    },
                )
                for pk, (level, note) in changed.items()
            ],
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
            if subject_kind == "organization":
                # The leaders who head these organisations are held to their level (L-UNIT, L-NOT-ABOVE).
                links.recheck_leaders(
                    period=period,
                    rulebook=rulebook,
                    params=params,
                    user=user,
                    organizations={subjects[pk].organization_id for pk in changed},
                )
    return len(changed), box


def check_exception(box: QuotaBox, quota: QuotaResult, raised: QuotaResult | None) -> None:
    """Refuse (DecisionError) a count over `quota` that no exception could cover: the regime or the
    period allows none (2018 by default), or it is over even the raised quota (2025: 25%)."""
    if quota.within:
        return
    if raised is None:
        raise DecisionError(
            _(
                "These decisions exceed the quota (%(rule)s): %(message)s The rules of this period allow no "
                "exception to it: lower some levels."
            )
            % {"rule": quota.rule_id, "message": quota.message(lang())},
            quota=quota,
        )
    if not raised.within:
        raise DecisionError(
            _(
                "These decisions exceed even what the competent level may decide as an exception (%(rule)s): "
                "%(message)s Lower some levels, whatever the decision."
            )
            % {"rule": box.exception_rule or raised.rule_id, "message": raised.message(lang())},
            quota=raised,
        )


def _regrading(before: dict) -> dict:
    """What the history keeps of a re-grading: the level replaced and the board's decision to re-grade."""
    data = {"regrading": True, "previous_level": before["decided_level"]}
    if before["regrading_reference"]:
        data["reference"] = before["regrading_reference"]
    return data


def _record_exception(
    period: Period,
    group: Organization,
    user: User,
    box: QuotaBox,
    quota: QuotaResult,
    subject_kind: str,
    decision: ExceptionDecision,
    *,
    checked: bool = True,
) -> AuditEntry:
    raised = (box.raised_projected if quota is box.projected else box.raised) if checked else None
    return log_action(
        AuditEntry.Action.QUOTA_EXCEPTION,
        period=period,
        actor=user,
        reason=decision.reason.strip(),
        data={
            "organization": group.code,
            "subjects": subject_kind,
            "count": quota.count,
            "cap": quota.cap_count,
            "raised_cap": raised.cap_count if raised is not None else None,
            "rule": box.exception_rule,
            **decision.data(),
        },
    )


def exception_record(
    *,
    period: Period,
    group: Organization,
    group_queryset: QuerySet[Assessment],
    user: User,
    subject_kind: str,
    decision: ExceptionDecision,
) -> AuditEntry:
    """Record the competent level's decision on an exception to the quota, ahead of the decision that
    makes the quota binding: as the decided levels stand, or as they would if the proposals were
    accepted. The exception covers the larger of the two counts, within what the regime allows (2025:
    25% of the HTTNV count; 2018: nothing unless the period allows it); a higher count needs a new
    decision. Everything is checked before anything is written, who decides for `group` first: its
    grassroots organisation for members and leaders, whoever ranks below it for organisations. A `user`
    who stands aside from a subject decided or proposed at HTXSNV may not record it (another member of
    the committee does)."""
    check_group_decider(user, group, subject_kind)
    if period.is_locked:
        raise WorkflowError(_("This review period is finalised: nothing can be changed."))
    problems = exception_problems(decision, period.year)
    if problems:
        raise WorkflowError(" ".join(problems.values()), errors=list(problems.values()))
    with transaction.atomic():
        lock_group(group)
        box = quota_box(period, group, total_of(group_queryset, subject_kind), subject_kind)
        if not box.exception_allowed:
            raise WorkflowError(
                _("The rules of this period allow no exception to the quota (%(rule)s).") % {"rule": box.quota.rule_id}
            )
        if box.quota.within and not box.projected_over:
            raise WorkflowError(_("The levels are within the quota, even with the proposals: no exception is needed."))
        if refusal := Conflicts(user, subject_kind).exception_refusal(group_queryset, subject_kind, projected=True):
            raise WorkflowError(refusal)
        if box.projected_over and box.projected.count >= box.quota.count:
            widest, raised, whole = box.projected, box.raised_projected, box.projection_complete
        else:
            widest, raised, whole = box.quota, box.raised, box.binding
        # The raised quota is known once the count covers the whole group; until then it is checked
        # when the quota binds (an exception covers only what is within it then: QuotaBox.covered).
        if whole:
            check_exception(box, widest, raised)
        return _record_exception(period, group, user, box, widest, subject_kind, decision, checked=whole)
