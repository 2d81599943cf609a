"""The period's own steps and the helpers every stage's services share: who a user is to an
assessment, the check of the workflow table, the audit entry, opening and closing a period, and the
board's say on who is classified."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.selectors import current_members
from organizations import policy

from ..rulebooks import ParameterError, get_rulebook
from .bulk import frozen_gc, insert_rows
from .errors import WorkflowError
from .facts import Scope, member_facts_for, member_rows, organization_facts, period_parameters
from .models import Assessment, AuditEntry, Period
from .transitions import PERIOD, Change, log_action, transition
from .workflow import ASSESSMENT, Actor, actors_for, refusal

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from organizations.policy import SystemActor

    from ..rulebooks import Exclusion, Parameters, Rulebook


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


# The columns opening writes for each assessment (the others keep their defaults: not started, no answers).
OPENING_COLUMNS = (
    "period_id",
    "subject_kind",
    "member_id",
    "organization_id",
    "form_variant",
    "classified",
    "exclusion_reason",
    "exclusion_rule",
    "exclusion_values",
)


def opening_rows(
    period: Period, rulebook: Rulebook, params: Parameters, reference_date: datetime.date
) -> tuple[list[tuple], dict[str, int], list[tuple[str, Exclusion]]]:
    """(rows of OPENING_COLUMNS, {subject kind: count}, [(subject name, Exclusion)]) of the assessments
    opening `period` writes (`OpeningRows`, made into a list)."""
    stream = OpeningRows(period, rulebook, params, reference_date)
    rows = list(stream)
    return rows, stream.counts, stream.excluded


class OpeningRows:
    """The rows of OPENING_COLUMNS opening `period` writes: one for every current member under its
    organisation (as a leader or a member) and one or two for every organisation under it that is not
    dissolved before the year (its own review, and its leadership collective's unless it is a
    subordinate cell). Made on creation: the members as plain values and their facts by joins on the
    subtree (a fixed number of queries), and `total`, the number of rows. Iterating makes the rows,
    deciding each subject's exclusion, with no query: the database may be taking the rows meanwhile
    (`insert_rows(pipelined=True)`). `counts` ({subject kind: count}) and `excluded` ([(subject name,
    Exclusion)]) are complete once the rows are."""

    def __init__(self, period: Period, rulebook: Rulebook, params: Parameters, reference_date: datetime.date) -> None:
        self.period, self.rulebook, self.params, self.reference_date = period, rulebook, params, reference_date
        root = period.organization
        self.members = member_rows(current_members().under(root).order_by("pk"))
        self.facts = member_facts_for(self.members, period.year, scope=Scope(root.path))
        year_start = datetime.date(period.year, 1, 1)
        # The organisations under the root (the root itself is reviewed by the level above).
        self.organizations = [
            org
            for org in root.subtree().exclude(pk=root.pk).order_by("path")
            if not (org.dissolved_on and org.dissolved_on < year_start)
        ]
        self.total = len(self.members) + sum(
            1 if org.kind == org.Kind.SUBORDINATE_CELL else 2 for org in self.organizations
        )
        self.counts = dict.fromkeys(Assessment.SubjectKind.values, 0)
        self.excluded: list[tuple[str, Exclusion]] = []

    def __iter__(self) -> Iterator[tuple]:
        period_pk, rulebook, params, reference_date = self.period.pk, self.rulebook, self.params, self.reference_date
        counts, excluded, facts = self.counts, self.excluded, self.facts
        LEADER, MEMBER = Assessment.SubjectKind.LEADER, Assessment.SubjectKind.MEMBER
        included = _exclusion_values(None)
        for member in self.members:
            kind = LEADER if member.is_leader else MEMBER
            subject = facts[member.pk]
            exclusion = rulebook.exclusion(subject, reference_date, params)
            if exclusion is not None:
                excluded.append((member.full_name, exclusion))
            yield (
                period_pk,
                kind.value,
                member.pk,
                member.cell_id,
                rulebook.choose_variant(kind, subject) or "",
                *(included if exclusion is None else _exclusion_values(exclusion)),
            )
            counts[kind] += 1
        for org in self.organizations:
            exclusion = rulebook.exclusion(organization_facts(org), reference_date, params)
            if exclusion is not None:
                excluded.append((org.name, exclusion))
            kinds = [Assessment.SubjectKind.ORGANIZATION]
            if not org.kind == org.Kind.SUBORDINATE_CELL:
                # Committees and grassroots cells also review their leadership collective.
                kinds.append(Assessment.SubjectKind.COLLECTIVE)
            for kind in kinds:
                yield (
                    period_pk,
                    kind.value,
                    None,
                    org.pk,
                    rulebook.choose_variant(kind) or "",
                    *_exclusion_values(exclusion),
                )
                counts[kind] += 1


def _exclusion_values(exclusion: Exclusion | None) -> tuple:
    fields = Assessment.exclusion_fields(exclusion)
    return (fields["classified"], fields["exclusion_reason"], fields["exclusion_rule"], fields["exclusion_values"])


def period_open(
    *,
    period: Period,
    user: User | SystemActor,
    reference_date: datetime.date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> OpenedPeriod:
    """Open a prepared period: one assessment for every member and organisation under its
    organisation, each member checked against the rulebook's exclusions (not classified, with the
    reason). Set-based: the members and their facts are read as plain values by joins on the subtree,
    the rulebook decides in Python on those, and the rows are written in one stream (COPY on
    PostgreSQL, executemany on SQLite): a fixed number of queries, no model instance per row.

    `progress(done, total)`, if given, is told how many of the rows are written (a job's progress bar)."""
    policy.require(user, "period.manage", period.organization)
    rulebook = get_rulebook(period.regime)
    try:
        params = period_parameters(period)
    except ParameterError as error:
        raise WorkflowError(_("The parameters of this period are not valid."), errors=list(error.issues)) from error
    reference_date = reference_date or period.self_review_due or timezone.localdate()
    with period_step(period, "open", user) as change, frozen_gc():
        locked = change.obj
        rows = OpeningRows(locked, rulebook, params, reference_date)
        total = rows.total
        if progress:
            progress(0, total)
        insert_rows(
            Assessment,
            OPENING_COLUMNS,
            rows,
            progress=(lambda done: progress(done, total)) if progress else None,
            pipelined=True,
        )
        counts, excluded = rows.counts, rows.excluded
        locked.opened_at = timezone.now()
        locked.opened_by = policy.actor_user(user)
        change.update_fields += ["opened_at", "opened_by"]
        change.data = {"assessments": total, "not_classified": len(excluded), "reference_date": str(reference_date)}
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
