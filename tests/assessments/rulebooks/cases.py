"""Fire/quiet cases shared by the rule tests, and builders of plain facts.

A Case names a rule, says in a sentence what happens, and runs the rulebook with given parameters.
`hits(result, rule_id)` finds what the rule produced in whatever the rulebook returned: findings of an
Evaluation, an Exclusion, an exceeded QuotaResult, AnswerErrors of a form, or a single Finding.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from assessments.rulebooks import (
    AnswerError,
    Answers,
    Evaluation,
    Exclusion,
    Finding,
    FormPurpose,
    MemberFacts,
    Parameters,
    QuotaResult,
    Rating,
    Severity,
    get_rulebook,
)
from vocabulary import Level

REFERENCE = date(2018, 12, 1)
REFERENCE_2025 = date(2025, 12, 1)


@dataclass(frozen=True)
class Case:
    rule_id: str
    scenario: str
    run: Callable[[Parameters], object]
    fires: bool
    cap: Level | None = None
    severity: Severity | None = None
    mitigable: bool | None = None

    @property
    def regime(self) -> str:
        return self.rule_id[1:5]

    def __str__(self):
        return f"{self.rule_id}: {self.scenario}"

    def result(self, params: Parameters | None = None):
        rulebook = get_rulebook(self.regime)
        return self.run(params or rulebook.default_parameters())


def fires(rule_id, scenario, run, **expected) -> Case:
    return Case(rule_id, scenario, run, True, **expected)


def quiet(rule_id, scenario, run) -> Case:
    return Case(rule_id, scenario, run, False)


def hits(result, rule_id: str) -> list:
    if result is None:
        return []
    if isinstance(result, Evaluation):
        found = list(result.by_rule(rule_id))
        if result.not_classified is not None and result.not_classified.rule_id == rule_id:
            found.append(result.not_classified)
        return found
    if isinstance(result, Exclusion | Finding):
        return [result] if result.rule_id == rule_id else []
    if isinstance(result, QuotaResult):
        return [result] if result.rule_id == rule_id and not result.within else []
    if isinstance(result, tuple) and all(isinstance(item, Finding) for item in result):  # schedule findings
        return [finding for finding in result if finding.rule_id == rule_id]
    if isinstance(result, list) and all(isinstance(item, AnswerError) for item in result):
        return [error for error in result if error.rule_id == rule_id]
    raise TypeError(f"cannot read {type(result).__name__}")


def check_case(case: Case, params: Parameters | None = None) -> None:
    found = hits(case.result(params), case.rule_id)
    if not case.fires:
        assert not found, f"{case} expected quiet, got {found}"
        return
    assert found, f"{case} expected to fire"
    if case.cap is not None:
        assert any(getattr(item, "cap", None) == case.cap for item in found), (case, found)
    if case.severity is not None:
        assert any(getattr(item, "severity", None) == case.severity for item in found), (case, found)
    if case.mitigable is not None:
        assert any(getattr(item, "mitigable", None) == case.mitigable for item in found), (case, found)


# --- Builders -------------------------------------------------------------------------------------


def member(**overrides) -> MemberFacts:
    """A full member with nothing on record, admitted long ago, not a civil servant."""
    values = {"admission_date": date(2000, 1, 1), "official_date": date(2001, 1, 1), "occupation": "worker"}
    return MemberFacts(**{**values, **overrides})


def ratings(rulebook_code: str, kind: str, rating=Rating.XUAT_SAC, **overrides) -> dict:
    """Every rating criterion of the kind's analysis form at `rating`, some overridden."""
    template = get_rulebook(rulebook_code).form_template(kind, FormPurpose.ANALYSIS)
    values = {item.id: rating for item in template.rating_items()}
    unknown = set(overrides) - set(values)
    assert not unknown, f"no such criteria: {unknown}"
    return {**values, **overrides}


def full_points(kind: str, variant: str | None = None, total: Decimal | str | None = None) -> dict:
    """Every points item of the 2025 form at its maximum; with `total`, points taken off the last items."""
    rulebook = get_rulebook("2025")
    template = rulebook.form_template(kind, FormPurpose.SELF_REVIEW, variant)
    points = {item.id: item.max_points for item in template.points_items()}
    if total is not None:
        missing = Decimal(100) - Decimal(total)
        for item in reversed(template.points_items()):
            taken = min(missing, points[item.id])
            points[item.id] -= taken
            missing -= taken
        assert missing == 0
    return points


def answers_2018(kind="member", tasks=None, **overrides) -> Answers:
    return Answers(ratings=ratings("2018", kind, **overrides), tasks=tasks)
