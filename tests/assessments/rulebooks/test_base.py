"""The rulebooks' own vocabulary: ratings, facts, findings and evaluations (the levels: tests/test_vocabulary.py)."""

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from assessments.rulebooks import (
    Answers,
    Evaluation,
    Finding,
    LeaderFacts,
    MemberFacts,
    MemberStatus,
    Rating,
    Severity,
    SubjectKind,
    TaskStats,
    at_most,
    khtnv_two_years_running,
    leader_facts,
    lowest,
    member_facts,
)
from assessments.rulebooks.arithmetic import add_months, counts_of, to_decimal
from vocabulary import Level

from .cases import member


def test_at_most_is_the_lower_of_two_and_none_means_no_limit():
    assert at_most(Level.HTXSNV, Level.HTNV) == Level.HTNV
    assert at_most("KHTNV", Level.HTTNV) == Level.KHTNV
    assert at_most(Level.HTTNV, None) == Level.HTTNV
    assert lowest() is None


def test_an_unknown_rating_is_refused():
    with pytest.raises(ValueError, match="unknown rating"):
        Rating.coerce("good")


def test_ratings_are_ordered_and_labelled():
    assert Rating.XUAT_SAC > Rating.TOT > Rating.TRUNG_BINH > Rating.KEM
    assert Rating.TRUNG_BINH.label_vi == "Trung bình"
    assert Rating.KEM.label_en == "Poor"


def test_add_months_clamps_to_the_end_of_a_short_month():
    assert add_months(date(2018, 8, 31), 6) == date(2019, 2, 28)
    assert add_months(date(2019, 8, 31), 6) == date(2020, 2, 29)
    assert add_months(date(2018, 6, 1), 6) == date(2018, 12, 1)
    assert add_months(date(2018, 11, 15), 2) == date(2019, 1, 15)


def test_task_shares_are_fractions_and_consistent():
    stats = TaskStats(completed="0.9", on_time="0.75", exceeding=0.3)
    assert (stats.late, stats.not_completed, stats.exceeding) == (Decimal("0.15"), Decimal("0.1"), Decimal("0.3"))
    with pytest.raises(ValueError, match="share from 0 to 1"):
        TaskStats(completed=90)
    with pytest.raises(ValueError, match="cannot exceed"):
        TaskStats(completed="0.5", on_time="0.6")


def test_facts_accept_code_strings_and_coerce_them():
    facts = member(status="excused", occupation="civil_servant", civil_service_level="HTNV", previous_level="KHTNV")
    assert facts.civil_service_level is Level.HTNV and facts.previous_level is Level.KHTNV
    assert facts.is_civil_servant
    with pytest.raises(ValueError):
        member(status="on_holiday")


def test_member_facts_made_fast_are_the_same_as_made_by_the_constructor():
    values = dict(status="excused", occupation="civil_servant", civil_service_level="HTNV", previous_level="KHTNV")
    made = member_facts(date(2010, 5, 1), **values)
    assert made == MemberFacts(admission_date=date(2010, 5, 1), **values)
    assert made.status is MemberStatus.EXCUSED and made.previous_level is Level.KHTNV and made.disciplines == ()
    assert member_facts(date(2010, 5, 1)) == MemberFacts(admission_date=date(2010, 5, 1))
    with pytest.raises(TypeError, match="no field 'colour'"):
        member_facts(date(2010, 5, 1), colour="red")
    with pytest.raises(ValueError):
        member_facts(date(2010, 5, 1), status="on_holiday")
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.status = MemberStatus.ACTIVE


def test_a_leader_made_from_a_member_keeps_every_member_fact():
    member_made = member_facts(date(2010, 5, 1), sick_leave_days=12, is_leader=False, party_post="secretary")
    leader = leader_facts(member_made, unit_level="HTNV")
    assert isinstance(leader, LeaderFacts) and leader.unit_level is Level.HTNV
    assert (leader.sick_leave_days, leader.is_leader, leader.party_post) == (12, False, "secretary")


def test_answers_read_already_are_the_answers_as_given():
    tasks = TaskStats(completed=1)
    read = Answers.read({"a": Rating.TOT}, {"b": Decimal("7.5")}, tasks, Decimal("0.5"), None)
    assert read == Answers(ratings={"a": "tot"}, points={"b": "7.5"}, tasks=tasks, shortcomings_fixed="0.5")


def test_answers_coerce_ratings_and_points():
    answers = Answers(ratings={"a": "tot"}, points={"b": "7.5", "c": 3})
    assert answers.ratings == {"a": Rating.TOT}
    assert answers.points == {"b": Decimal("7.5"), "c": Decimal(3)}
    with pytest.raises(ValueError):
        Answers(points={"b": "seven"})
    with pytest.raises(ValueError):
        Answers(shortcomings_fixed="1.2")


def test_numbers_must_be_finite():
    assert to_decimal(0.1) == Decimal("0.1")
    for bad in ("nan", "inf", True, None):
        with pytest.raises(ValueError):
            to_decimal(bad)


def test_counts_of_fills_every_level():
    assert counts_of({"HTTNV": 2}) == {Level.HTXSNV: 0, Level.HTTNV: 2, Level.HTNV: 0, Level.KHTNV: 0}


def _finding(rule_id, severity, cap, mitigable=False):
    return Finding(rule_id, severity, "vi", "en", cap=cap, mitigable=mitigable)


def test_an_evaluation_allows_levels_up_to_the_lowest_blocking_cap():
    evaluation = Evaluation(
        "test",
        SubjectKind.MEMBER,
        (
            _finding("A", Severity.BLOCK, Level.HTTNV),
            _finding("B", Severity.WARN, Level.HTNV),
            _finding("C", Severity.INFO, None),
        ),
    )
    assert evaluation.cap == Level.HTTNV
    assert evaluation.advisory_cap == Level.HTNV
    assert evaluation.allowed_levels() == (Level.HTTNV, Level.HTNV, Level.KHTNV)
    assert [f.rule_id for f in evaluation.explain(Level.HTXSNV)] == ["A"]
    assert [f.rule_id for f in evaluation.warnings(Level.HTTNV)] == ["B"]
    assert evaluation.level == Level.HTNV


def test_mitigation_sets_aside_only_mitigable_findings():
    evaluation = Evaluation(
        "test",
        SubjectKind.MEMBER,
        (_finding("T", Severity.BLOCK, Level.KHTNV, mitigable=True), _finding("B", Severity.BLOCK, Level.HTNV)),
    )
    assert evaluation.allowed_levels(mitigated={"T"}) == (Level.HTNV, Level.KHTNV)
    assert evaluation.allowed_levels(mitigated={"B"}) == (Level.KHTNV,)
    assert evaluation.suggested_level(mitigated={"T"}) == Level.HTNV


def test_the_allowed_levels_are_those_each_allowed_whatever_the_findings():
    """`allowed_levels` reads the findings once: the same levels, in the same order, as asking
    `allowed` of each level, for every mix of severities, caps (a code string among them) and
    mitigations."""
    import itertools

    kinds = [
        ("B1", Severity.BLOCK, Level.HTTNV, False),
        ("B2", Severity.BLOCK, "HTNV", True),
        ("B3", Severity.BLOCK, None, True),
        ("W", Severity.WARN, Level.KHTNV, False),
        ("I", Severity.INFO, None, False),
    ]
    checked = 0
    for count in range(len(kinds) + 1):
        for chosen in itertools.combinations(kinds, count):
            findings = tuple(
                Finding(rule_id, severity, "vi", "en", cap=cap, mitigable=mitigable)
                for rule_id, severity, cap, mitigable in chosen
            )
            evaluation = Evaluation("test", SubjectKind.MEMBER, findings)
            for mitigated in ((), ("B2",), ("B3",), ("B2", "B3"), ("B1",)):
                expected = tuple(level for level in Level.best_first() if evaluation.allowed(level, mitigated))
                assert evaluation.allowed_levels(mitigated) == expected, (chosen, mitigated)
                checked += 1
    assert checked == 32 * 5
    blocked = (Finding("B3", Severity.BLOCK, "vi", "en", mitigable=True),)
    assert Evaluation("test", SubjectKind.MEMBER, blocked).allowed_levels() == ()
    assert Evaluation("test", SubjectKind.MEMBER, blocked).allowed_levels({"B3"}) == Level.best_first()


def test_an_unchecked_warning_flags_levels_above_its_cap_but_does_not_lower_the_suggestion():
    unchecked = Finding("U", Severity.WARN, "vi", "en", cap=Level.HTNV, unchecked=True)
    evaluation = Evaluation("test", SubjectKind.MEMBER, (unchecked,))
    assert evaluation.level == Level.HTXSNV
    assert evaluation.warnings(Level.HTTNV) == (unchecked,) and evaluation.warnings(Level.HTNV) == ()
    assert evaluation.unchecked == (unchecked,)


def test_an_evaluation_without_findings_allows_everything():
    evaluation = Evaluation("test", SubjectKind.ORGANIZATION)
    assert evaluation.cap is None
    assert evaluation.allowed_levels() == Level.best_first()
    assert evaluation.level == Level.HTXSNV


@pytest.mark.parametrize(
    ("previous", "level", "running"),
    [
        (Level.KHTNV, Level.KHTNV, True),
        ("KHTNV", "KHTNV", True),
        (Level.HTNV, Level.KHTNV, False),
        (Level.KHTNV, Level.HTNV, False),
        (None, Level.KHTNV, False),
        ("", Level.KHTNV, False),
        (Level.KHTNV, "", False),
    ],
)
def test_khtnv_two_years_running_needs_both_years_known_and_khtnv(previous, level, running):
    assert khtnv_two_years_running(previous, level) is running
