"""What the decision screens read: each subject's row with the rulebook's reading and the suggestion,
the counts of a whole group in one query, and the quota box."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal

from django.db.models import Count, QuerySet

from organizations.models import Organization
from vocabulary import Level

from ..core.facts import period_parameters
from ..core.models import Assessment, AuditEntry, Period
from ..core.selectors import previous_levels
from ..core.text import lang
from ..evaluations import evaluate_assessments
from ..rulebooks import (
    Evaluation,
    Parameters,
    QuotaResult,
    Rulebook,
    get_rulebook,
    khtnv_two_years_running,
    lowest,
)
from . import links

# The levels a decision screen posts: {assessment pk: (level code, "" for none; the note)}.
Choices = Mapping[int, tuple[str, str]]


@dataclass
class Row:
    assessment: Assessment
    cap: Level | None
    blocking: list[str] = field(default_factory=list)  # messages of the findings that forbid levels
    warnings: list[str] = field(default_factory=list)
    # The rules' notes on a member (INFO: how the member is reviewed, e.g. suspended from committee work
    # only, probationary) and the order's (a unit this leader heads undecided); an organisation's row
    # shows its basis in a column of its own instead.
    notes: list[str] = field(default_factory=list)
    suggested: Level | None = None
    allowed: tuple[Level, ...] = ()
    previous_level: str = ""
    evaluation: Evaluation | None = None
    unchecked: bool = False  # some conditions could not be checked: no ratings or points entered

    @property
    def two_years(self) -> bool:
        """KHTNV last year and, as it stands, this year too: to be flagged for education and removal."""
        current = self.assessment.decided_level or (self.suggested.value if self.suggested else "")
        if not current and self.cap == Level.KHTNV:
            current = Level.KHTNV  # the rules leave no other level
        return khtnv_two_years_running(self.previous_level, current)

    @property
    def needs_attention(self) -> bool:
        return bool(self.blocking or self.warnings or self.two_years)

    @property
    def undecided(self) -> bool:
        return self.assessment.classified and not self.assessment.decided_level


def suggestion(proposal: Level | str | None, evaluation: Evaluation) -> Level | None:
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


def member_assessments(period: Period, organization: Organization) -> QuerySet[Assessment]:
    """Every member's assessment in the period under `organization` (the unit of the decision)."""
    return Assessment.objects.filter(
        period=period, member__isnull=False, organization__path__startswith=organization.path
    )


def build_rows(
    period: Period,
    assessments: Sequence[Assessment],
    rulebook: Rulebook | None = None,
    params: Parameters | None = None,
    *,
    shown: bool = True,
) -> list[Row]:
    """A Row for each member's assessment (member and organisation loaded), with the rulebook's reading
    of every fact it needs (`evaluations.evaluate_assessments`).

    A fixed number of queries for the whole list, whatever its length; the cost in Python grows with
    the list, so callers pass only what they show. Rows not `shown` (a whole committee's proposals
    accepted at once) carry the reading, the levels allowed and the suggestion, without the texts of
    the findings nor the level of the year before: one query and a fifth of the rows' own time fewer."""
    rulebook = rulebook or get_rulebook(period.regime)
    params = params or period_parameters(period)
    members = [a.member for a in assessments]
    previous = previous_levels(period, [m.pk for m in members]) if members and shown else {}
    evaluations = evaluate_assessments(period, assessments, rulebook, params)
    # A leader after the organisations they head (P-ORDER): a note while one of them is undecided.
    order = links.leader_order_findings(period, assessments)
    language = lang()
    rows = []
    for assessment in assessments:
        row = Row(assessment=assessment, cap=None, previous_level=previous.get(assessment.member_id, ""))
        if assessment.classified:
            evaluation = evaluations[assessment.pk]
            if assessment.pk in order:
                evaluation = replace(evaluation, findings=(*evaluation.findings, *order[assessment.pk]))
            row.evaluation = evaluation
            row.cap = evaluation.cap
            row.allowed = evaluation.allowed_levels()
            row.suggested = suggestion(assessment.cell_proposed_level, evaluation)
            if not shown:
                rows.append(row)
                continue
            row.blocking = [f.message(language) for f in evaluation.findings if f.severity == "block"]
            row.warnings = [
                f.message(language) for f in evaluation.findings if f.severity == "warn" and not f.unchecked
            ]
            row.notes = [f.message(language) for f in order.get(assessment.pk, ())]
            row.notes += [f.message(language) for f in evaluation.findings if f.severity == "info"]
            row.unchecked = bool(evaluation.unchecked)
        rows.append(row)
    return rows


def decision_rows(
    period: Period, organization: Organization, queryset: QuerySet[Assessment] | None = None, *, shown: bool = True
) -> tuple[list[Row], Rulebook, Parameters]:
    """(rows, rulebook, params) for the members under the grassroots organisation (or `queryset`, a
    narrower selection of them), in the order of the tree: cell by cell, Vietnamese order inside."""
    rulebook = get_rulebook(period.regime)
    params = period_parameters(period)
    queryset = member_assessments(period, organization) if queryset is None else queryset
    assessments = list(
        queryset.select_related("member", "organization").order_by("organization__path", "member__sort_key", "pk")
    )
    return build_rows(period, assessments, rulebook, params, shown=shown), rulebook, params


@dataclass
class Tally:
    """Where the levels of a set of subjects stand: decided per level, undecided, proposals waiting."""

    classified: int = 0
    decided: Counter[str] = field(default_factory=Counter)  # Level value -> count
    proposed: Counter[str] = field(default_factory=Counter)  # the cell's proposal of those not decided yet
    reopened: int = 0

    @property
    def decided_total(self) -> int:
        return sum(self.decided.values())

    @property
    def undecided(self) -> int:
        return self.classified - self.decided_total

    @property
    def proposed_total(self) -> int:
        return sum(self.proposed.values())

    @property
    def complete(self) -> bool:
        return self.classified > 0 and self.undecided == 0

    def levels(self) -> list[tuple[str, int]]:
        """(level code, count) for the four levels, best first."""
        return [(level.value, self.decided.get(level.value, 0)) for level in Level.best_first()]

    def add(self, other: Tally) -> None:
        self.classified += other.classified
        self.decided.update(other.decided)
        self.proposed.update(other.proposed)
        self.reopened += other.reopened


# Where a subject's proposal is: the cell's for a member; its own review for an organisation or a collective.
PROPOSAL_FIELDS = {"member": "cell_proposed_level", "organization": "self_level", "collective": "self_level"}


def tallies_by_organization(queryset: QuerySet[Assessment], subject_kind: str = "member") -> defaultdict[int, Tally]:
    """{organisation id: Tally} over the classified assessments of `queryset`: one query."""
    proposal = PROPOSAL_FIELDS[subject_kind]
    tallies = defaultdict(Tally)
    grouped = (
        queryset.filter(classified=True)
        .values("organization_id", "decided_level", proposal, "reopened")
        .annotate(n=Count("*"))
        .order_by()
    )
    for row in grouped:
        tally_row(tallies[row["organization_id"]], row, proposal)
    return tallies


def tally_row(tally: Tally, row: dict, proposal: str) -> None:
    """A grouped row of classified subjects (`n` of them) counted in `tally`."""
    tally.classified += row["n"]
    if row["decided_level"]:
        tally.decided[row["decided_level"]] += row["n"]
    elif row[proposal]:
        tally.proposed[row[proposal]] += row["n"]
    if row["reopened"]:
        tally.reopened += row["n"]


def total_tally(tallies: Mapping[int, Tally]) -> Tally:
    total = Tally()
    for tally in tallies.values():
        total.add(tally)
    return total


def total_of(queryset: QuerySet[Assessment], subject_kind: str = "member") -> Tally:
    """The Tally of the classified assessments of `queryset` as a whole: one query grouped by level
    alone, the same as the sum of `tallies_by_organization`, without a row per organisation (a
    country's ranking counts the reviews of 52,000 organisations)."""
    proposal = PROPOSAL_FIELDS[subject_kind]
    total = Tally()
    grouped = (
        queryset.filter(classified=True).values("decided_level", proposal, "reopened").annotate(n=Count("*")).order_by()
    )
    for row in grouped:
        tally_row(total, row, proposal)
    return total


@dataclass
class QuotaBox:
    """What the quota box of a decision screen says: the quota as the decided levels stand, whether it
    is binding yet (every subject decided), the quota if the proposals still undecided were accepted
    as they are (an upper bound: the rules may lower some), and the exception on record, if any.

    `raised` and `raised_projected` are the highest quota an exception may reach (2025: 25% of the HTTNV
    count, R2025-Q-EXCEPTION), for the decided levels and for the projection; None when the regime or
    the period allows no exception (2018, unless its parameters do). An exception on record covers a
    count when it carries the competent level's decision, was recorded for at least that count, and the
    count is still within the raised quota as the levels stand now."""

    quota: QuotaResult
    tally: Tally
    exception: AuditEntry | None
    projected: QuotaResult | None = None
    raised: QuotaResult | None = None
    raised_projected: QuotaResult | None = None
    exception_rule: str = ""

    @property
    def projected_over(self) -> bool:
        return self.projected is not None and not self.projected.within and self.tally.proposed_total > 0

    def projected_message(self) -> str:
        return self.projected.message(lang()) if self.projected is not None else ""

    @property
    def projection_covered(self) -> bool:
        return self.projected is not None and self._covers(self.projected, self.raised_projected)

    @property
    def exception_allowed(self) -> bool:
        """Whether an exception to the quota can be recorded at all for this group (regime, parameters)."""
        return self.raised is not None

    @property
    def projection_complete(self) -> bool:
        """Every subject is decided or has a proposal: the projection counts the whole group."""
        return self.tally.classified > 0 and self.tally.undecided == self.tally.proposed_total

    @property
    def beyond_exception(self) -> bool:
        """Everyone decided, over the quota and over what an exception may allow: only lowering levels
        helps. (Before everyone is decided, the HTTNV count, and so the raised quota, is not known yet.)"""
        return self.binding and not self.quota.within and (self.raised is None or not self.raised.within)

    @property
    def projection_beyond_exception(self) -> bool:
        """The proposals, accepted, would put the whole group over what an exception may allow."""
        return (
            self.projected_over
            and self.projection_complete
            and (self.raised_projected is None or not self.raised_projected.within)
        )

    def raised_message(self) -> str:
        return self.raised.message(lang()) if self.raised is not None else ""

    @property
    def decision(self) -> dict[str, object]:
        """The competent level's decision of the exception on record: number, date, body ({} if none)."""
        return exception_decision(self.exception)

    def _covers(self, result: QuotaResult, raised: QuotaResult | None) -> bool:
        return (
            self.exception is not None
            and bool(self.decision)
            and self.exception.data.get("count", 0) >= result.count
            and raised is not None
            and raised.within
        )

    # The figures of the quota itself, for callers that read the box as the quota.
    @property
    def within(self) -> bool:
        return self.quota.within

    @property
    def cap_count(self) -> int:
        return self.quota.cap_count

    @property
    def count(self) -> int:
        return self.quota.count

    @property
    def denominator(self) -> int:
        return self.quota.denominator

    @property
    def covered(self) -> bool:
        return self._covers(self.quota, self.raised)

    @property
    def binding(self) -> bool:
        return self.tally.complete

    @property
    def verdict(self) -> Literal["ok", "over_pending", "over_covered", "over"]:
        """ok | over_pending (over, not binding yet) | over_covered | over (refused until mended)."""
        if self.quota.within:
            return "ok"
        if self.covered:
            return "over_covered"
        return "over" if self.binding else "over_pending"

    def message(self) -> str:
        return self.quota.message(lang())


# The competent level's decision, as the exception's audit entry keeps it in its data.
DECISION_KEYS = ("decision_number", "decision_date", "decision_body")


def exception_decision(entry: AuditEntry | None) -> dict[str, object]:
    """{number, date (a date), body} of the decision of a recorded exception, or {} when it has none (an
    exception recorded with a reason only, before the decision was asked for, covers nothing)."""
    if entry is None or not all(entry.data.get(key) for key in DECISION_KEYS):
        return {}
    try:
        decided_on = date.fromisoformat(entry.data["decision_date"])
    except (TypeError, ValueError):
        return {}
    return {"number": entry.data["decision_number"], "date": decided_on, "body": entry.data["decision_body"]}


def latest_exception(period: Period, group: Organization, subject_kind: str) -> AuditEntry | None:
    """The latest quota exception recorded for the group in the period, or None: one query."""
    return (
        AuditEntry.objects.filter(
            period=period, action="quota_exception", data__organization=group.code, data__subjects=subject_kind
        )
        .select_related("actor")
        .order_by("-at", "-pk")
        .first()
    )


def quota_box(
    period: Period,
    group: Organization,
    tally: Tally,
    subject_kind: str,
    rulebook: Rulebook | None = None,
    params: Parameters | None = None,
) -> QuotaBox:
    rulebook = rulebook or get_rulebook(period.regime)
    params = params or period_parameters(period)
    decided, projected = dict(tally.decided), dict(tally.decided + tally.proposed)
    return QuotaBox(
        quota=rulebook.quota(decided, params, subject_kind=subject_kind),
        tally=tally,
        exception=latest_exception(period, group, subject_kind),
        projected=rulebook.quota(projected, params, subject_kind=subject_kind),
        raised=rulebook.exception_quota(decided, params, subject_kind=subject_kind),
        raised_projected=rulebook.exception_quota(projected, params, subject_kind=subject_kind),
        exception_rule=rulebook.exception_rule(subject_kind),
    )


def quota_for(
    rulebook: Rulebook, params: Parameters, levels: Iterable[str], subject_kind: str = "member"
) -> QuotaResult:
    counts = Counter(level for level in levels if level)
    return rulebook.quota(counts, params, subject_kind=subject_kind)


def quota_preview(period: Period, group: Organization, choices: Choices, subject_kind: str = "member") -> QuotaBox:
    """The QuotaBox of `group` as it would stand if `choices` ({pk: (level, note)}) were recorded."""
    queryset = member_assessments(period, group)
    tally = total_of(queryset, subject_kind)
    old = dict(queryset.filter(pk__in=list(choices)).values_list("pk", "decided_level"))
    for pk, (level, _note) in choices.items():
        if pk not in old or not level:
            continue
        if old[pk]:
            tally.decided[old[pk]] -= 1
        tally.decided[level] += 1
    return quota_box(period, group, tally, subject_kind)


def grassroots_of(organization: Organization) -> Organization | None:
    """The grassroots organisation at or above `organization` (one query)."""
    steplen = organization.steplen
    paths = [organization.path[:n] for n in range(steplen, len(organization.path) + 1, steplen)]

    return (
        Organization.objects.filter(path__in=paths, kind__in=Organization.GRASSROOTS_KINDS).order_by("-depth").first()
    )
