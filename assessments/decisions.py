"""Deciding levels: a grassroots organisation decides its members' levels (and a grassroots committee its
cells'; the board the grassroots organisations', in `ranking`). What the screens read and the one
service that records a set of levels.

A set of decisions is all or nothing: a level that a blocking rule forbids is refused; a level that a
warning concerns needs a reason. The quota is a property of the group's *whole* set of levels: while
some subjects of the group are still undecided, a save is not refused for the quota (the box on the
screen shows where the count stands); the save that leaves every subject decided, and every save after
it, must be within the quota or covered by a recorded exception (a reason, with the number of HTXSNV it
covers). Finalising the period checks every group again. The check runs inside the transaction, after
locking the group's organisation row, so two officers saving two cells at once cannot both slip in.

Only the rows being shown or saved are read through the rulebook: a committee of 3,000 members costs
what its one cell costs, plus one aggregate query for the counts of the whole group.
"""

import dataclasses
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext as _

from organizations.access import scope_for
from organizations.models import Organization

from .facts import member_facts_for
from .formview import lang
from .models import Assessment, AuditEntry, Period
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

    @property
    def needs_attention(self):
        return bool(self.blocking or self.warnings or self.two_years)

    @property
    def undecided(self):
        return self.assessment.classified and not self.assessment.decided_level


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


def suggestion(proposal, evaluation):
    """The level to suggest: the proposal, capped by the rules, moved down to a level they allow.

    Suggestions come only from a proposal (the cell's, for a member): with none there is nothing to
    suggest, and "accept the suggestions" leaves the subject undecided."""
    if not proposal:
        return None
    suggested = lowest(proposal, evaluation.cap)
    if suggested is not None and not evaluation.allowed(suggested):
        allowed = evaluation.allowed_levels()
        suggested = next((level for level in allowed if level <= suggested), None)
    return suggested


def member_assessments(period, organization):
    """Every member's assessment in the period under `organization` (the unit of the decision)."""
    return Assessment.objects.filter(
        period=period, member__isnull=False, organization__path__startswith=organization.path
    )


def build_rows(period, assessments, rulebook=None, params=None):
    """A Row for each member's assessment (member and organisation loaded), with the rulebook's reading.

    Three queries for the whole list (the five kinds of record are one each, last year's levels one),
    whatever its length; the cost in Python grows with the list, so callers pass only what they show."""
    rulebook = rulebook or get_rulebook(period.regime)
    params = params or rulebook.parameters(period.parameters, year=period.year)
    members = [a.member for a in assessments]
    facts = member_facts_for(members, period.year) if members else {}
    previous = {}
    if members:
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
            evaluation = rulebook.evaluate(
                assessment.subject_kind, _facts(assessment, facts[assessment.member_id]), None, params
            )
            row.evaluation = evaluation
            row.cap = evaluation.cap
            row.blocking = [f.message(language) for f in evaluation.findings if f.severity == "block"]
            row.warnings = [
                f.message(language) for f in evaluation.findings if f.severity == "warn" and not f.unchecked
            ]
            row.unchecked = bool(evaluation.unchecked)
            row.allowed = evaluation.allowed_levels()
            row.suggested = suggestion(assessment.cell_proposed_level, evaluation)
        rows.append(row)
    return rows


def decision_rows(period, organization, queryset=None):
    """(rows, rulebook, params) for the members under the grassroots organisation (or `queryset`, a
    narrower selection of them), in the order of the tree: cell by cell, Vietnamese order inside."""
    rulebook = get_rulebook(period.regime)
    params = rulebook.parameters(period.parameters, year=period.year)
    queryset = member_assessments(period, organization) if queryset is None else queryset
    assessments = list(
        queryset.select_related("member", "organization").order_by("organization__path", "member__sort_key", "pk")
    )
    return build_rows(period, assessments, rulebook, params), rulebook, params


# --- The counts of a whole group: one aggregate query -------------------------------------------------------


@dataclass
class Tally:
    """Where the levels of a set of subjects stand: decided per level, undecided, proposals waiting."""

    classified: int = 0
    decided: Counter = field(default_factory=Counter)  # Level value -> count
    proposed: Counter = field(default_factory=Counter)  # the cell's proposal of those not decided yet
    reopened: int = 0

    @property
    def decided_total(self):
        return sum(self.decided.values())

    @property
    def undecided(self):
        return self.classified - self.decided_total

    @property
    def proposed_total(self):
        return sum(self.proposed.values())

    @property
    def complete(self):
        return self.classified > 0 and self.undecided == 0

    def levels(self):
        """(level code, count) for the four levels, best first."""
        return [(level.value, self.decided.get(level.value, 0)) for level in Level.best_first()]

    def add(self, other):
        self.classified += other.classified
        self.decided.update(other.decided)
        self.proposed.update(other.proposed)
        self.reopened += other.reopened


# Where a subject's proposal is: the cell's for a member; the organisation's own review for an organisation.
PROPOSAL_FIELDS = {"member": "cell_proposed_level", "organization": "self_level"}


def tallies_by_organization(queryset, subject_kind="member"):
    """{organisation id: Tally} over the classified assessments of `queryset`: one query."""
    proposal = PROPOSAL_FIELDS[subject_kind]
    tallies = defaultdict(Tally)
    grouped = (
        queryset.filter(classified=True)
        .values("organization_id", "decided_level", proposal, "reopened")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in grouped:
        tally = tallies[row["organization_id"]]
        tally.classified += row["n"]
        if row["decided_level"]:
            tally.decided[row["decided_level"]] += row["n"]
        elif row[proposal]:
            tally.proposed[row[proposal]] += row["n"]
        if row["reopened"]:
            tally.reopened += row["n"]
    return tallies


def total_tally(tallies):
    total = Tally()
    for tally in tallies.values():
        total.add(tally)
    return total


@dataclass
class QuotaBox:
    """What the quota box of a decision screen says: the quota as the decided levels stand, whether it
    is binding yet (every subject decided), the quota if the proposals still undecided were accepted
    as they are (an upper bound: the rules may lower some), and the exception on record, if any."""

    quota: object
    tally: Tally
    exception: AuditEntry | None
    projected: object = None

    @property
    def projected_over(self):
        return self.projected is not None and not self.projected.within and self.tally.proposed_total > 0

    def projected_message(self):
        return self.projected.message(lang()) if self.projected is not None else ""

    @property
    def projection_covered(self):
        return self.exception is not None and self.exception.data.get("count", 0) >= self.projected.count

    # The figures of the quota itself, for callers that read the box as the quota.
    within = property(lambda self: self.quota.within)
    cap_count = property(lambda self: self.quota.cap_count)
    count = property(lambda self: self.quota.count)
    denominator = property(lambda self: self.quota.denominator)

    @property
    def covered(self):
        return self.exception is not None and self.exception.data.get("count", 0) >= self.quota.count

    @property
    def binding(self):
        return self.tally.complete

    @property
    def verdict(self):
        """ok | over_pending (over, not binding yet) | over_covered | over (refused until mended)."""
        if self.quota.within:
            return "ok"
        if self.covered:
            return "over_covered"
        return "over" if self.binding else "over_pending"

    def message(self):
        return self.quota.message(lang())


def latest_exception(period, group, subject_kind):
    """The latest quota exception recorded for the group in the period, or None: one query."""
    return (
        AuditEntry.objects.filter(
            period=period, action="quota_exception", data__organization=group.code, data__subjects=subject_kind
        )
        .select_related("actor")
        .order_by("-at", "-pk")
        .first()
    )


def quota_box(period, group, tally, subject_kind, rulebook=None, params=None):
    rulebook = rulebook or get_rulebook(period.regime)
    params = params or rulebook.parameters(period.parameters, year=period.year)
    quota = rulebook.quota(dict(tally.decided), params, subject_kind=subject_kind)
    projected = rulebook.quota(dict(tally.decided + tally.proposed), params, subject_kind=subject_kind)
    return QuotaBox(
        quota=quota, tally=tally, exception=latest_exception(period, group, subject_kind), projected=projected
    )


def quota_for(rulebook, params, levels, subject_kind="member"):
    counts = Counter(level for level in levels if level)
    return rulebook.quota(counts, params, subject_kind=subject_kind)


# --- Recording ---------------------------------------------------------------------------------------------


def decisions_record(*, period, organization, user, choices, exception_reason="", rows=None):
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


def _check_choices(rows, choices, period):
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
        if not transition_allowed("decide", state, {Actor.DECIDER}):
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
    *, period, group, group_queryset, rows, rulebook, params, user, choices, exception_reason, subject_kind
):
    """Check and record a set of levels for the subjects of `rows`, under the quota of `group`, whose
    subjects are `group_queryset`. Shared by the grassroots decision on members and the decisions on
    organisations. Returns (number of levels written, the QuotaBox as it stands after the save)."""
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
            .values("pk", "state", "decided_level", "decision_note", "reopened")
        }
        if period.is_locked and any(not locked[pk]["reopened"] for pk in chosen):
            raise WorkflowError(_("This review period is finalised: nothing can be changed."))
        changed = {
            pk: (level, note)
            for pk, (level, note) in chosen.items()
            if locked[pk]["reopened"]
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
                state=target,
                version=F("version") + 1,
                updated_at=now,
            )
        AuditEntry.objects.bulk_create(
            [
                AuditEntry(
                    period=period,
                    assessment_id=pk,
                    actor=user,
                    action="decide",
                    from_state=locked[pk]["state"],
                    to_state=target,
                    reason=note,
                    data={"level": level.value, **({"regrading": True} if locked[pk]["reopened"] else {})},
                )
                for pk, (level, note) in changed.items()
            ],
            batch_size=1000,
        )
    return len(changed), box


def _record_exception(period, group, user, quota, subject_kind, reason):
    return AuditEntry.objects.create(
        period=period,
        actor=user,
        action="quota_exception",
        reason=reason,
        data={"organization": group.code, "subjects": subject_kind, "count": quota.count, "cap": quota.cap_count},
    )


def exception_record(*, period, group, group_queryset, user, subject_kind, reason):
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


# --- The whole period: what finalising checks -------------------------------------------------------------------


def quota_breaches(period):
    """[(group organisation, subject kind, QuotaResult)] of every group whose decided levels exceed the
    quota with no recorded exception covering them. Four queries for the whole period."""
    rulebook = get_rulebook(period.regime)
    params = rulebook.parameters(period.parameters, year=period.year)
    root = period.organization
    organizations = list(root.subtree().only("pk", "path", "depth", "kind", "code", "name"))
    grassroots = [org for org in organizations if org.kind in Organization.GRASSROOTS_KINDS]
    committees = [org for org in grassroots if org.kind == Organization.Kind.GRASSROOTS_COMMITTEE]

    def group_of(path, candidates):
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
    covered = {}
    for entry in AuditEntry.objects.filter(period=period, action="quota_exception").order_by("at", "pk"):
        covered[(entry.data.get("organization"), entry.data.get("subjects"))] = entry.data.get("count", 0)
    by_pk = {org.pk: org for org in organizations}
    breaches = []
    for (group_pk, subjects), levels in counts.items():
        quota = rulebook.quota(dict(levels), params, subject_kind=subjects)
        group = by_pk[group_pk]
        if not quota.within and covered.get((group.code, subjects), -1) < quota.count:
            breaches.append((group, subjects, quota))
    breaches.sort(key=lambda item: item[0].path)
    return breaches


def decision_url_for(assessment, actors):
    """The decision screen on which a reopened subject is decided again, for one who may decide it."""
    from django.urls import reverse

    if Actor.MANAGER not in actors:
        return ""
    organization = assessment.organization
    steplen = organization.steplen
    ancestors = [organization.path[:n] for n in range(steplen, len(organization.path) + 1, steplen)]
    if assessment.member_id is not None:
        group = (
            Organization.objects.filter(path__in=ancestors, kind__in=Organization.GRASSROOTS_KINDS)
            .order_by("-depth")
            .first()
        )
        name, params = "assessments:decide", f"?cell={organization.code}&show=reopened"
    else:
        parents = ancestors[:-1]
        group = Organization.objects.filter(path__in=parents).order_by("-depth").first()
        if group is not None and group.depth > 1 and group.kind != Organization.Kind.GRASSROOTS_COMMITTEE:
            group = (
                Organization.objects.filter(path__in=parents, kind=Organization.Kind.GRASSROOTS_COMMITTEE)
                .order_by("-depth")
                .first()
            )
        name, params = "assessments:rank", "?show=reopened"
    if group is None:
        return ""
    return reverse(name, args=[assessment.period.public_id, group.code]) + params


def quota_preview(period, group, choices, subject_kind="member"):
    """The QuotaBox of `group` as it would stand if `choices` ({pk: (level, note)}) were recorded."""
    queryset = member_assessments(period, group)
    tally = total_tally(tallies_by_organization(queryset, subject_kind))
    old = dict(queryset.filter(pk__in=list(choices)).values_list("pk", "decided_level"))
    for pk, (level, _note) in choices.items():
        if pk not in old or not level:
            continue
        if old[pk]:
            tally.decided[old[pk]] -= 1
        tally.decided[level] += 1
    return quota_box(period, group, tally, subject_kind)
