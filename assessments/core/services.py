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
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from bulk import analyze, frozen_gc, insert_rows
from members.selectors import current_members
from organizations import policy
from organizations.models import Organization

from ..rulebooks import ParameterError, get_rulebook
from .errors import WorkflowError
from .facts import Scope, member_facts_for, member_rows, period_parameters, tree_facts
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


# Members read and checked at a time when a period opens: the memory of an opening stays that of this many
# members, whatever the size of the subtree (a country's opening is several hundred parts).
OPENING_PART = 20_000


class OpeningRows:
    """The rows of OPENING_COLUMNS opening `period` writes: one for every current member under its
    organisation (as a leader or a member) and one or two for every organisation under it that is not
    dissolved before the year (its own review, and its leadership collective's unless it is a
    subordinate cell).

    Made by parts (`parts()`), each a run of cells in the tree's order with at most OPENING_PART members
    (more only when one cell has more): a part reads its members as plain values and their facts by a
    join on its run of cells (a fixed number of queries), then its rows are made, deciding each subject's
    exclusion, with no query, so the database may take them meanwhile (`insert_rows(pipelined=True)`);
    the organisations come last, read in chunks. Memory stays that of one part. `total` (the number of
    rows) is known on creation; `counts` ({subject kind: count}) and `excluded` ([(subject name,
    Exclusion)]) are complete once every part is made."""

    def __init__(self, period: Period, rulebook: Rulebook, params: Parameters, reference_date: datetime.date) -> None:
        self.period, self.rulebook, self.params, self.reference_date = period, rulebook, params, reference_date
        root = self.root = period.organization
        self.year_start = datetime.date(period.year, 1, 1)
        by_cell = (
            current_members().under(root).values_list("cell__path").annotate(members=Count("pk")).order_by("cell__path")
        )
        self.runs: list[tuple[str, str]] = []
        members, first, last, size = 0, None, None, 0
        for path, count in by_cell:
            if first is not None and size + count > OPENING_PART:
                self.runs.append((first, last))
                first, size = None, 0
            first = path if first is None else first
            last, size, members = path, size + count, members + count
        if first is not None:
            self.runs.append((first, last))
        organizations = self._organizations().aggregate(
            every=Count("pk"), subordinate=Count("pk", filter=Q(kind=Organization.Kind.SUBORDINATE_CELL))
        )
        # Two rows for every organisation (its own, its collective's) but one for a subordinate cell.
        self.total = members + 2 * organizations["every"] - organizations["subordinate"]
        self.counts = dict.fromkeys(Assessment.SubjectKind.values, 0)
        self.excluded: list[tuple[str, Exclusion]] = []

    def _organizations(self) -> QuerySet[Organization]:
        # The organisations under the root (the root itself is reviewed by the level above), not those
        # dissolved before the year.
        return self.root.subtree().exclude(pk=self.root.pk).exclude(dissolved_on__lt=self.year_start).order_by("path")

    def parts(self) -> Iterator[Iterator[tuple]]:
        """The rows part by part: each part's queries are run when the part is reached, before its rows
        are made (so a part's rows may be written while they are made; the next part's queries wait
        until they are)."""
        for lowest, highest in self.runs:
            yield self._member_rows(lowest, highest)
        # The organisations by pages in the tree's order, each page read before its rows are made.
        after = ""
        while True:
            page = list(
                self._organizations()
                .filter(path__gt=after)
                .values_list("pk", "name", "kind", "founded_on", "path")[:OPENING_PART]
            )
            if not page:
                return
            yield self._organization_rows(page)
            after = page[-1][-1]

    def __iter__(self) -> Iterator[tuple]:
        for part in self.parts():
            yield from part

    def _member_rows(self, lowest: str, highest: str) -> Iterator[tuple]:
        run = Scope(lowest, upto=highest)
        members = member_rows(current_members().filter(cell__path__gte=lowest, cell__path__lte=highest).order_by("pk"))
        facts = member_facts_for(members, self.period.year, scope=run)
        return self._member_stream(members, facts)

    def _member_stream(self, members: list, facts: dict) -> Iterator[tuple]:
        period_pk, rulebook, params, reference_date = self.period.pk, self.rulebook, self.params, self.reference_date
        counts, excluded = self.counts, self.excluded
        LEADER, MEMBER = Assessment.SubjectKind.LEADER, Assessment.SubjectKind.MEMBER
        included = _exclusion_values(None)
        for member in members:
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

    def _organization_rows(self, page: list[tuple]) -> Iterator[tuple]:
        period_pk, rulebook, params, reference_date = self.period.pk, self.rulebook, self.params, self.reference_date
        counts, excluded = self.counts, self.excluded
        ORGANIZATION, COLLECTIVE = Assessment.SubjectKind.ORGANIZATION, Assessment.SubjectKind.COLLECTIVE
        for pk, name, kind, founded_on, _path in page:
            exclusion = rulebook.exclusion(tree_facts(kind, founded_on), reference_date, params)
            if exclusion is not None:
                excluded.append((name, exclusion))
            kinds = [ORGANIZATION]
            if kind != Organization.Kind.SUBORDINATE_CELL:
                # Committees and grassroots cells also review their leadership collective.
                kinds.append(COLLECTIVE)
            for subject_kind in kinds:
                yield (
                    period_pk,
                    subject_kind.value,
                    None,
                    pk,
                    rulebook.choose_variant(subject_kind) or "",
                    *_exclusion_values(exclusion),
                )
                counts[subject_kind] += 1


def _exclusion_values(exclusion: Exclusion | None) -> tuple:
    fields = Assessment.exclusion_fields(exclusion)
    return (fields["classified"], fields["exclusion_reason"], fields["exclusion_rule"], fields["exclusion_values"])


# From this many forms written, an opening has the database analyse the forms' table before it ends.
ANALYZE_AFTER = 100_000


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
        total, written = rows.total, 0
        if progress:
            progress(0, total)
        for part in rows.parts():
            written += insert_rows(
                Assessment,
                OPENING_COLUMNS,
                part,
                progress=(lambda done, before=written: progress(before + done, total)) if progress else None,
                pipelined=True,
            )
        if written >= ANALYZE_AFTER:
            # The database's statistics of the forms catch up with them now, not when its own analysis gets
            # to it (a minute or more on PostgreSQL): until then the new period's screens are planned
            # blind (a province's statistics of a national period took 7 s, then 0.1 s).
            analyze(Assessment)
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
