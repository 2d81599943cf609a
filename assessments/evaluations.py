"""The one place that asks the rulebook about a subject: every fact it needs, from what is stored.

Every screen, check and service that proposes, suggests, checks or decides a level calls
`evaluate_assessments` (a list of subjects, in bulk: a fixed number of queries whatever its length)
or `evaluate_form` (one subject, with the answers of the form being filled). The facts are:

- the records of the year (`core.facts`): status, discipline (one violation counted once, violations
  counted in an earlier year left out), conclusions on conduct, civil-service rating, leave in
  calendar months, transfers, last year's level; for a leader, the level of the organisations they head
  (a cell's secretary the cell, a committee's secretary the committee: `core.facts.headed_units`);
- for an organisation or a leadership collective (`core.organization_facts`): the levels decided
  below it (members, subordinate organisations, its collective or its organisation) and what is still
  undecided there, its post holders' discipline and conclusions;
- what the forms say: the self-review's scores or ratings and task shares, the total written on a
  paper form, the evaluators' analysis forms once handed in (they take the place of the subject's own
  scores and ratings: the appraisal is what the decision rests on), the task shares the cell recorded
  at its meeting;
- the period's one resolved parameter set (`core.facts.period_parameters`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.db.models import Q

from bulk import frozen_gc

from .core.facts import Scope, headed_units, member_facts_for, period_parameters
from .core.models import Assessment
from .core.organization_facts import LevelsBelow, collective_facts_for, common_path, organization_facts_for
from .core.selectors import previous_levels
from .rulebooks import Answers, Evaluation, Rating, TaskStats, get_rulebook, task_shares

if TYPE_CHECKING:
    from .core.models import Period
    from .rulebooks import FormTemplate, Parameters, Rulebook

# Where the paper list keeps the total a 2025 paper form gives (its points are not typed in).
PAPER_TOTAL = "paper_total"
MEMBER_KINDS = (Assessment.SubjectKind.MEMBER, Assessment.SubjectKind.LEADER)


def variant_of(rulebook: Rulebook, assessment: Assessment, purpose: str) -> str | None:
    """The subject's form variant, if the form of `purpose` has it (None: the regime chooses)."""
    variant = assessment.form_variant or None
    return variant if variant in rulebook.form_variants(assessment.subject_kind, purpose) else None


def evaluation_template(rulebook: Rulebook, assessment: Assessment, params: Parameters) -> FormTemplate:
    """The template whose items the rulebook reads for the subject (2018: the analysis form's ratings;
    2025: the points of part B), in the subject's form variant."""
    variant = variant_of(rulebook, assessment, rulebook.evaluation_purpose)
    return rulebook.form_template(assessment.subject_kind, rulebook.evaluation_purpose, variant, params)


def self_review_template(rulebook: Rulebook, assessment: Assessment) -> FormTemplate:
    """The self-review template of the subject, in its form variant (the regime's defaults)."""
    return rulebook.form_template(
        assessment.subject_kind, "self_review", variant_of(rulebook, assessment, "self_review")
    )


class _Templates:
    """The templates a list's subjects are read by, made once for each kind of subject and form
    variant (and their item ids once for each template), not once for each subject: on a province's
    list the templates' making was a third of the time."""

    def __init__(self, rulebook: Rulebook, params: Parameters) -> None:
        self.rulebook, self.params = rulebook, params
        self.made: dict[tuple, FormTemplate] = {}
        self.ids: dict[int, tuple[set[str], set[str]]] = {}

    def evaluation(self, assessment: Assessment) -> FormTemplate:
        key = ("evaluation", assessment.subject_kind, assessment.form_variant)
        if key not in self.made:
            self.made[key] = evaluation_template(self.rulebook, assessment, self.params)
        return self.made[key]

    def self_review(self, assessment: Assessment) -> FormTemplate:
        key = ("self_review", assessment.subject_kind, assessment.form_variant)
        if key not in self.made:
            self.made[key] = self_review_template(self.rulebook, assessment)
        return self.made[key]

    def item_ids(self, template: FormTemplate) -> tuple[set[str], set[str]]:
        if id(template) not in self.ids:
            self.ids[id(template)] = _item_ids(template)
        return self.ids[id(template)]


def _item_ids(template: FormTemplate) -> tuple[set[str], set[str]]:
    """(the rating items' ids, the points items' ids) of `template`."""
    return {item.id for item in template.rating_items()}, {item.id for item in template.points_items()}


def _read_by(answers: Answers, template: FormTemplate, ids: tuple[set[str], set[str]] | None = None) -> Answers:
    """`answers` keeping only the ratings and points that `template` (the one the rulebook reads) has."""
    rating_ids, points_ids = ids or _item_ids(template)
    return replace(
        answers,
        ratings={k: v for k, v in answers.ratings.items() if k in rating_ids},
        points={k: v for k, v in answers.points.items() if k in points_ids},
    )


def _appraisal(forms: Sequence[Mapping], template: FormTemplate) -> tuple[dict, dict]:
    """(ratings, points) the handed-in analysis forms agree on: per criterion the rating most of them
    gave (a tie goes to the lower rating, the cautious reading), and the mean of the points."""
    rating_ids = {item.id for item in template.rating_items()}
    points_ids = {item.id: item.max_points for item in template.points_items()}
    given, scored = defaultdict(Counter), defaultdict(list)
    for answers in forms:
        for key, value in answers.items():
            if key in rating_ids:
                try:
                    given[key][Rating.coerce(value)] += 1
                except ValueError:
                    continue
            elif key in points_ids and value not in (None, ""):
                try:
                    number = Decimal(str(value))
                except InvalidOperation:
                    continue
                if 0 <= number <= points_ids[key]:
                    scored[key].append(number)
    ratings = {
        key: max(counter.items(), key=lambda pair: (pair[1], -list(Rating).index(pair[0])))[0]
        for key, counter in given.items()
    }
    points = {key: sum(values) / len(values) for key, values in scored.items() if values}
    return ratings, points


def answers_for(
    period: Period,
    assessments: Sequence[Assessment],
    rulebook: Rulebook,
    params: Parameters,
    *,
    scope: Scope | None | bool = False,
) -> dict[int, Answers]:
    """{assessment pk: Answers} from the self-reviews, the paper totals, the handed-in analysis forms
    (their scores, ratings and task shares) and the task shares of the cell's meeting: two queries for
    the list."""
    from .meetings.sheet import meeting_task_shares
    from .reviews.formview import answer_parts
    from .reviews.models import Analysis

    analyses = defaultdict(list)
    if scope is False:
        scope = member_scope(assessments)
    if scope is None:
        chosen = Q(assessment__in=[a.pk for a in assessments])
    else:
        # A long list: the forms of the period under its subtree (every form of the list is assessed
        # in an organisation there), those of the list kept.
        chosen = Q(assessment__period=period, assessment__organization__path__startswith=scope.path)
    wanted = {a.id for a in assessments}
    for assessment_id, answers in Analysis.objects.filter(chosen, submitted_at__isnull=False).values_list(
        "assessment_id", "answers"
    ):
        if assessment_id in wanted:
            analyses[assessment_id].append(answers or {})
    shares = meeting_task_shares(assessments, period=period if scope is not None else None, scope=scope)
    result = {}
    templates = _Templates(rulebook, params)
    for assessment in assessments:
        pk = assessment.id
        template = templates.evaluation(assessment)
        # The parts of the subject's own form, then the appraisal's and the meeting's in their place; one
        # Answers made at the end (a province's list makes 100,000 of them).
        own = answer_parts(templates.self_review(assessment), assessment.answers or {})
        own_ratings, own_points, tasks, fixed = own
        total = _paper_total(assessment)
        forms = analyses.get(pk, ())
        ratings, points = _appraisal(forms, template) if forms else ({}, {})
        rating_ids, points_ids = templates.item_ids(template)
        if not ratings:
            ratings = {k: v for k, v in own_ratings.items() if k in rating_ids}
        if not points:
            points = {k: v for k, v in own_points.items() if k in points_ids}
        if pk in shares:
            # The cell's view of the year's tasks, recorded at its meeting, before anyone else's.
            tasks = shares[pk]
        elif forms:
            # The evaluators' view (the appraisal), before the subject's own.
            appraised = _appraised_tasks(rulebook, assessment, forms)
            if appraised is not None:
                tasks = appraised
        result[pk] = Answers.read(ratings, points, tasks, fixed, total)
    return result


def _paper_total(assessment: Assessment) -> Decimal | None:
    """The total a paper form gives (`PAPER_TOTAL`), if it is a number from 0 to 100."""
    total = (assessment.answers or {}).get(PAPER_TOTAL)
    if total in (None, ""):
        return None
    try:
        total = Decimal(str(total))
    except InvalidOperation:
        return None
    return total if total.is_finite() and Decimal(0) <= total <= Decimal(100) else None


def _appraised_tasks(rulebook: Rulebook, assessment: Assessment, forms: Sequence[Mapping]) -> TaskStats | None:
    """The task shares of the handed-in analysis forms, each share the mean of those who gave it."""
    if not forms:
        return None
    try:
        template = rulebook.form_template(
            assessment.subject_kind, "analysis", variant_of(rulebook, assessment, "analysis")
        )
    except ValueError:
        return None
    given = [tasks for tasks, _fixed in (task_shares(template, answers) for answers in forms) if tasks is not None]
    if not given:
        return None

    def mean(values: Iterable[Decimal | None]) -> Decimal | None:
        values = [v for v in values if v is not None]
        return sum(values) / len(values) if values else None

    try:
        return TaskStats(
            completed=mean(t.completed for t in given),
            on_time=mean(t.on_time for t in given),
            exceeding=mean(t.exceeding for t in given),
        )
    except ValueError:
        return None


# From this many subjects on, their records are read by a join on the subtree they are in (`Scope`), not
# by an `IN` list of their ids: the same queries, whose cost stays with the subtree's rows.
LONG_LIST = 1000


def _organization_path(assessment: Assessment) -> str | None:
    """The path of the assessment's organisation if it is loaded already (no query), else None."""
    if not Assessment.organization.is_cached(assessment):
        return None
    return assessment.organization.path


def member_scope(assessments: Sequence[Assessment]) -> Scope | None:
    """Where the members of a long list of assessments are (None for a short list, read by ids): the
    subtree common to the organisations they are assessed in, and by pk the few whose cell is not one
    of those (a member transferred since)."""
    if len(assessments) < LONG_LIST:
        return None
    paths = {}
    for a in assessments:
        if a.organization_id not in paths:
            path = _organization_path(a)
            if path is None:
                return None
            paths[a.organization_id] = path
    prefix = common_path(paths.values())
    outside = tuple(sorted({a.member_id for a in assessments if a.member_id and a.member.cell_id not in paths}))
    return Scope(prefix, outside)


def facts_for(
    period: Period, assessments: Sequence[Assessment], *, scope: Scope | None | bool = False
) -> dict[int, object]:
    """{assessment pk: the rulebook's facts of the subject} for members, leaders, organisations and
    leadership collectives: a fixed number of queries for the list. `scope`: the list's `member_scope`
    when the caller has it already (False: work it out here)."""
    # One pass over the list (a province's holds 100,000): each subject's ids read once.
    of_members, members, by_assessment, others, leaders = [], [], [], [], set()
    leader = Assessment.SubjectKind.LEADER.value
    for a in assessments:
        member_id = a.member_id
        if member_id:
            of_members.append(a)
            members.append(a.member)
            by_assessment.append((a.id, member_id))
            if a.subject_kind == leader:
                leaders.add(member_id)
        else:
            others.append(a)
    facts = {}
    if of_members:
        if scope is False:
            scope = member_scope(of_members)
        units = Assessment.objects.filter(period=period, subject_kind=Assessment.SubjectKind.ORGANIZATION)
        if scope is None:
            # The leaders are held to the organisations they head: a cell, a committee (no query without
            # one). A long list reads every organisation's level of the period: far fewer than its members.
            heads = headed_units(m for m in members if m.id in leaders)
            units = units.filter(organization_id__in={unit for units in heads.values() for unit in units})
        unit_levels = (
            dict(units.exclude(decided_level="").values_list("organization_id", "decided_level")) if leaders else {}
        )
        by_member = member_facts_for(
            members,
            period.year,
            previous=previous_levels(period, [m.id for m in members] if scope is None else (), scope=scope),
            unit_levels=unit_levels,
            leaders=leaders,
            scope=scope,
        )
        facts.update({pk: by_member[member_id] for pk, member_id in by_assessment})
    if others:
        organizations = {a.organization_id: a.organization for a in others}.values()
        levels = LevelsBelow(period, organizations)
        kinds = {a.subject_kind for a in others}
        of_organizations = (
            organization_facts_for(period, organizations, levels)
            if Assessment.SubjectKind.ORGANIZATION in kinds
            else {}
        )
        of_collectives = (
            collective_facts_for(period, organizations, levels) if Assessment.SubjectKind.COLLECTIVE in kinds else {}
        )
        for assessment in others:
            if assessment.subject_kind == Assessment.SubjectKind.ORGANIZATION:
                facts[assessment.pk] = of_organizations[assessment.organization_id]
            else:
                facts[assessment.pk] = of_collectives[assessment.organization_id]
    return facts


def evaluate_assessments(
    period: Period,
    assessments: Iterable[Assessment],
    rulebook: Rulebook | None = None,
    params: Parameters | None = None,
) -> dict[int, Evaluation]:
    """{assessment pk: Evaluation} of the classified subjects, each with every fact the rulebook
    needs (the assessments come with member and organisation loaded)."""
    rulebook = rulebook or get_rulebook(period.regime)
    params = params or period_parameters(period)
    assessments = [a for a in assessments if a.classified]
    if not assessments:
        return {}
    # A long list makes many objects that live to the end: the collector is held still meanwhile.
    with frozen_gc() if len(assessments) >= LONG_LIST else nullcontext():
        # Where the members are, worked out once for both when the list is of members only (None: a
        # short list, read by ids; False: each works it out for its own part of a mixed list).
        scope = member_scope(assessments) if all(a.member_id for a in assessments) else False
        facts = facts_for(period, assessments, scope=scope)
        answers = answers_for(period, assessments, rulebook, params, scope=scope)
        variants = {}
        result = {}
        for a in assessments:
            pk, kind = a.id, a.subject_kind
            key = (kind, a.form_variant)
            if key not in variants:
                variants[key] = variant_of(rulebook, a, rulebook.evaluation_purpose)
            result[pk] = rulebook.evaluate(kind, facts[pk], answers[pk], params, variant=variants[key])
        return result


def evaluate_form(assessment: Assessment, answers: Mapping, template: FormTemplate) -> Evaluation:
    """The rulebook's reading of one subject with the answers of the form being filled (`template`):
    the records of the year as at decision time, the form's own scores, ratings and task shares."""
    from .reviews.formview import scored_answers

    period = assessment.period
    rulebook = get_rulebook(period.regime)
    params = period_parameters(period)
    facts = facts_for(period, [assessment])[assessment.pk]
    evaluation = evaluation_template(rulebook, assessment, params)
    given = scored_answers(template, answers) or Answers()
    given = _read_by(given, evaluation)
    variant = variant_of(rulebook, assessment, rulebook.evaluation_purpose)
    return rulebook.evaluate(assessment.subject_kind, facts, given, params, variant=variant)
