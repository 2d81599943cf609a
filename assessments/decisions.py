"""The grassroots decision: every member of a grassroots organisation with what the rules say of them,
and the service that records a set of levels under the quota.

A set of decisions is all or nothing: a level that a blocking rule forbids is refused; a level that a
warning concerns needs a reason; a set that breaks the quota needs a recorded exception.
"""

import dataclasses
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from organizations.access import scope_for
from organizations.models import Organization

from .facts import member_facts_for
from .formview import lang
from .models import Assessment, AuditEntry
from .rulebooks import LeaderFacts, Level, MemberFacts, get_rulebook, lowest
from .services import WorkflowError
from .workflow import Actor, transition_allowed


class DecisionError(WorkflowError):
    """Some decisions of the set were refused; `row_errors` maps assessment pk to messages."""

    def __init__(self, message, *, row_errors=None, quota=None):
        super().__init__(message)
        self.row_errors = row_errors or {}
        self.quota = quota


@dataclass
class Row:
    assessment: Assessment
    cap: Level | None
    blocking: list = field(default_factory=list)  # messages of the findings that forbid levels
    warnings: list = field(default_factory=list)
    suggested: Level | None = None
    allowed: tuple = ()
    previous_level: str = ""
    evaluation: object = None
    unchecked: bool = False  # some conditions could not be checked: no ratings or points entered

    @property
    def two_years(self):
        """KHTNV last year and, as it stands, this year too: to be flagged for education and removal."""
        current = self.assessment.decided_level or (self.suggested.value if self.suggested else "")
        if not current and self.cap == Level.KHTNV:
            current = Level.KHTNV  # the rules leave no other level
        return self.previous_level == Level.KHTNV and current == Level.KHTNV


def check_decider(user, organization):
    """The grassroots organisation if `user` may decide its members' levels; WorkflowError otherwise."""
    if organization.kind not in Organization.GRASSROOTS_KINDS:
        raise WorkflowError(_("Levels are decided by grassroots organisations."))
    if not scope_for(user).manages_organization(organization):
        raise WorkflowError(_("Only the grassroots committee or the board may decide these levels."))


def _facts(assessment, facts):
    if assessment.subject_kind == Assessment.SubjectKind.LEADER:
        return LeaderFacts(**{f.name: getattr(facts, f.name) for f in dataclasses.fields(MemberFacts)})
    return facts


def decision_rows(period, organization):
    """Every member's assessment under the grassroots organisation, with the rulebook's reading.

    A fixed number of queries: the assessments, the five kinds of record, last year's levels."""
    rulebook = get_rulebook(period.regime)
    params = rulebook.parameters(period.parameters, year=period.year)
    assessments = list(
        Assessment.objects.filter(period=period, member__isnull=False, organization__path__startswith=organization.path)
        .select_related("member", "organization")
        .order_by("organization__path", "member__sort_key", "pk")
    )
    members = [a.member for a in assessments]
    facts = member_facts_for(members, period.year)
    previous = dict(
        Assessment.objects.filter(
            period__organization_id=period.organization_id,
            period__year=period.year - 1,
            period__quarter__isnull=True,
            member__in=[m.pk for m in members],
        )
        .exclude(decided_level="")
        .values_list("member_id", "decided_level")
    )
    language = lang()
    rows = []
    for assessment in assessments:
        row = Row(assessment=assessment, cap=None, previous_level=previous.get(assessment.member_id, ""))
        if assessment.classified:
            evaluation = rulebook.evaluate(assessment.subject_kind, _facts(assessment, facts[assessment.member_id]))
            row.evaluation = evaluation
            row.cap = evaluation.cap
            row.blocking = [f.message(language) for f in evaluation.findings if f.severity == "block"]
            row.warnings = [
                f.message(language) for f in evaluation.findings if f.severity == "warn" and not f.unchecked
            ]
            row.unchecked = bool(evaluation.unchecked)
            row.allowed = evaluation.allowed_levels()
            base = assessment.cell_proposed_level or assessment.self_level
            # Suggest only from what someone proposed; with nothing proposed there is nothing to suggest.
            row.suggested = lowest(base, evaluation.cap) if base else None
            if row.suggested is not None and not evaluation.allowed(row.suggested):
                row.suggested = row.allowed[0] if row.allowed else None
        rows.append(row)
    return rows, rulebook, params


def quota_for(rulebook, params, levels, subject_kind="member"):
    counts = {}
    for level in levels:
        if level:
            counts[level] = counts.get(level, 0) + 1
    return rulebook.quota(counts, params, subject_kind=subject_kind)


def decisions_record(*, period, organization, user, choices, exception_reason=""):
    """Record the levels of `choices` ({assessment pk: (level, note)}) for members of `organization`.

    Everything is checked before anything is written: the period, the decider, every level against
    the rules, and the quota of the whole organisation as it would stand."""
    check_decider(user, organization)
    rows, rulebook, params = decision_rows(period, organization)
    return record_levels(
        period=period,
        group=organization,
        rows=rows,
        rulebook=rulebook,
        params=params,
        user=user,
        choices=choices,
        exception_reason=exception_reason,
        subject_kind="member",
    )


def record_levels(*, period, group, rows, rulebook, params, user, choices, exception_reason, subject_kind):
    """Check and record a set of levels for the subjects of `rows`, under the quota of `group`.

    Shared by the grassroots decision on members and the decisions on organisations."""
    if period.is_locked:
        # A finalised period changes only for the subjects the board reopened, with a reason.
        reopened = {row.assessment.pk for row in rows if row.assessment.reopened}
        if not choices or not set(choices) <= reopened:
            raise WorkflowError(_("This review period is finalised: nothing can be changed."))
    by_pk = {row.assessment.pk: row for row in rows}
    row_errors = {}
    chosen = {}
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
        state = Assessment.State.DECIDED if row.assessment.reopened else row.assessment.state
        if not transition_allowed("decide", state, {Actor.DECIDER}):
            row_errors[pk] = [_("This form can no longer be decided.")]
            continue
        forbidden = row.evaluation.explain(level)
        if forbidden:
            row_errors[pk] = [
                _("The rules do not allow %(level)s:") % {"level": level.value},
                *(f.message(lang()) for f in forbidden),
            ]
            continue
        # "Nothing could be checked yet" (no ratings entered) is shown, but asks for no reason.
        concerns = [f for f in row.evaluation.warnings(level) if not f.unchecked]
        if concerns and not (note or "").strip():
            row_errors[pk] = [_("A warning of the rules concerns this level: please write the reason.")]
            continue
        chosen[pk] = (level, (note or "").strip())
    final_levels = [
        (chosen[row.assessment.pk][0] if row.assessment.pk in chosen else row.assessment.decided_level)
        for row in rows
        if row.assessment.classified
    ]
    quota = quota_for(rulebook, params, final_levels, subject_kind)
    exception_reason = (exception_reason or "").strip()
    if row_errors:
        raise DecisionError(_("Some levels were refused; nothing was saved."), row_errors=row_errors, quota=quota)
    if not quota.within and not exception_reason:
        raise DecisionError(
            _("These decisions exceed the quota: %(message)s Write the reason for an exception, or lower some levels.")
            % {"message": quota.message(lang())},
            quota=quota,
        )
    now = timezone.now()
    with transaction.atomic():
        locked = {
            a.pk: a
            for a in Assessment.objects.select_for_update(of=("self",))
            .filter(pk__in=list(chosen))
            .select_related("period")
        }
        updated, entries = [], []
        for pk, (level, note) in chosen.items():
            assessment = locked[pk]
            unchanged = assessment.state == Assessment.State.DECIDED and assessment.decided_level == level
            if unchanged and not assessment.reopened:
                continue
            from_state = assessment.state
            assessment.decided_level = level
            assessment.decided_by = user
            assessment.decided_at = now
            assessment.decision_note = note
            assessment.reopened = False
            # A re-grading after publication is published at once, like the first decision was.
            published = period.state == period.State.PUBLISHED
            assessment.state = Assessment.State.PUBLISHED if published else Assessment.State.DECIDED
            assessment.version += 1
            assessment.updated_at = now
            updated.append(assessment)
            entries.append(
                AuditEntry(
                    period=period,
                    assessment=assessment,
                    actor=user,
                    action="decide",
                    from_state=from_state,
                    to_state=assessment.state,
                    reason=note,
                    data={"level": level.value},
                )
            )
        Assessment.objects.bulk_update(
            updated,
            [
                "decided_level",
                "decided_by",
                "decided_at",
                "decision_note",
                "reopened",
                "state",
                "version",
                "updated_at",
            ],
        )
        AuditEntry.objects.bulk_create(entries)
        if not quota.within:
            AuditEntry.objects.create(
                period=period,
                actor=user,
                action="quota_exception",
                reason=exception_reason,
                data={
                    "organization": group.code,
                    "subjects": subject_kind,
                    "count": quota.count,
                    "cap": quota.cap_count,
                },
            )
    return len(updated), quota
