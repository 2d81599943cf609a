"""Regime 2025 (QĐ 366 + HD 43): every rule fires and stays quiet, the bands, the combination, mitigation."""

from datetime import date
from decimal import Decimal

import pytest

from assessments.rulebooks import (
    Answers,
    AnswersError,
    CollectiveFacts,
    Discipline,
    LeaderFacts,
    MemberStatus,
    OrganizationFacts,
    Schedule,
    Severity,
    SubjectKind,
    TaskStats,
    TransferFact,
    get_rulebook,
)
from vocabulary import Level

from .cases import REFERENCE_2025, check_case, fires, full_points, member, quiet

RB = get_rulebook("2025")
PERFECT = TaskStats(completed=1, on_time=1, exceeding="0.4")


def tasks(completed="1", on_time="1", exceeding="0.4"):
    return TaskStats(completed=Decimal(completed), on_time=Decimal(on_time), exceeding=Decimal(exceeding))


def staff(**overrides):
    """A member working in the political system: form 2B."""
    return member(occupation="civil_servant", **overrides)


def answers(kind="member", variant="2B", total=None, task_stats=PERFECT, fixed=None, points=None):
    return Answers(
        points=points if points is not None else full_points(kind, variant, total),
        tasks=task_stats,
        shortcomings_fixed=fixed,
    )


def evaluate_member(facts=None, **answer_args):
    return lambda p: RB.evaluate_member(facts or staff(), answers(**answer_args), p)


def leader(**overrides):
    values = {"admission_date": date(2000, 1, 1), "official_date": date(2001, 1, 1), "unit_level": Level.HTXSNV}
    return LeaderFacts(**{**values, **overrides})


def evaluate_leader(facts=None, **answer_args):
    return lambda p: RB.evaluate_leader(facts or leader(), answers("leader", "2A", **answer_args), p)


def evaluate_collective(facts=None, **answer_args):
    facts = facts or CollectiveFacts(organization_level=Level.HTXSNV)
    return lambda p: RB.evaluate_collective(facts, answers("collective", "01", **answer_args), p)


def evaluate_organization(facts=None, **answer_args):
    return lambda p: RB.evaluate_organization(
        facts or OrganizationFacts(), answers("organization", "01", **answer_args), p
    )


def collective(**overrides):
    return CollectiveFacts(**{"organization_level": Level.HTXSNV, **overrides})


def duty_discipline(**overrides):
    return Discipline(**{"decided_on": date(2025, 5, 1), "form": "reprimand", "in_official_duties": True, **overrides})


CASES = [
    # Scoring
    fires(
        "R2025-S-SCORE",
        "a form with unscored criteria is warned as incomplete",
        evaluate_member(points={"g1_politics_ethics": 20}),
        severity=Severity.WARN,
    ),
    fires(
        "R2025-S-SCORE",
        "a form not scored at all has no band: no level can be decided",
        evaluate_member(points={}),
        cap=None,
        severity=Severity.BLOCK,
    ),
    quiet("R2025-S-SCORE", "a fully scored form is complete", evaluate_member()),
    fires(
        "R2025-S-BANDS",
        "89.99 points fall in the HTTNV band",
        evaluate_member(total="89.99"),
        cap=Level.HTTNV,
        severity=Severity.BLOCK,
    ),
    quiet("R2025-S-BANDS", "90 points reach the HTXSNV band", evaluate_member(total="90")),
    fires(
        "R2025-S-COMBINE",
        "tasks 90% done with no trigger and 75 points leave the decision to the competent level",
        evaluate_member(total="75", task_stats=tasks("0.9", "0.9", "0")),
        severity=Severity.WARN,
    ),
    fires(
        "R2025-S-COMBINE",
        "missing task statistics are reported, the conditions unchecked",
        evaluate_member(task_stats=None),
        severity=Severity.WARN,
    ),
    quiet(
        "R2025-S-COMBINE",
        "complete task statistics meeting HTNV need no manual decision",
        evaluate_member(task_stats=tasks("1", "0.8", "0")),
    ),
    quiet(
        "R2025-S-COMBINE",
        "with more than half the tasks undone the trigger decides, not the competent level",
        evaluate_member(total="75", task_stats=tasks("0.4", "0.4", "0")),
    ),
    # Extra conditions
    fires(
        "R2025-C-XS",
        "a collective with 29% of tasks beyond requirements is at most HTTNV",
        evaluate_collective(task_stats=tasks(exceeding="0.29")),
        cap=Level.HTTNV,
    ),
    fires(
        "R2025-C-XS",
        "a collective with a disciplined member is at most HTTNV",
        evaluate_collective(collective(member_disciplines=(duty_discipline(in_official_duties=False),))),
        cap=Level.HTTNV,
    ),
    fires(
        "R2025-C-XS",
        "a collective with a disciplined subordinate unit is at most HTTNV",
        evaluate_collective(collective(subordinate_disciplined=True)),
        cap=Level.HTTNV,
    ),
    quiet(
        "R2025-C-XS",
        "a collective with 30% beyond requirements and no discipline",
        evaluate_collective(task_stats=tasks(exceeding="0.30")),
    ),
    fires(
        "R2025-L-XS",
        "a leader whose units are 95% on time is at most HTTNV",
        evaluate_leader(task_stats=tasks(on_time="0.95")),
        cap=Level.HTTNV,
    ),
    quiet("R2025-L-XS", "a leader whose units meet 100% on time and 40% beyond", evaluate_leader()),
    fires(
        "R2025-M-XS",
        "a member with 29% beyond requirements is at most HTTNV",
        evaluate_member(task_stats=tasks(exceeding="0.29")),
        cap=Level.HTTNV,
        severity=Severity.BLOCK,
    ),
    quiet("R2025-M-XS", "a member with 30% beyond requirements", evaluate_member(task_stats=tasks(exceeding="0.3"))),
    fires(
        "R2025-ALL-XS-FIX",
        "90% of earlier shortcomings fixed rules out HTXSNV",
        evaluate_member(fixed="0.9"),
        cap=Level.HTTNV,
    ),
    fires(
        "R2025-ALL-XS-FIX",
        "an organisation with shortcomings unfixed is at most HTTNV",
        evaluate_organization(fixed="0.5"),
        cap=Level.HTTNV,
    ),
    quiet("R2025-ALL-XS-FIX", "all earlier shortcomings fixed", evaluate_member(fixed="1")),
    quiet("R2025-ALL-XS-FIX", "no earlier shortcomings at all", evaluate_member(fixed=None)),
    fires(
        "R2025-ALL-TT",
        "95% of tasks on time caps at HTNV",
        evaluate_member(task_stats=tasks(on_time="0.95")),
        cap=Level.HTNV,
    ),
    fires(
        "R2025-ALL-TT",
        "a collective with late tasks is at most HTNV",
        evaluate_collective(task_stats=tasks(on_time="0.9")),
        cap=Level.HTNV,
    ),
    quiet("R2025-ALL-TT", "every task on time", evaluate_member()),
    fires(
        "R2025-ALL-HTNV",
        "21% of tasks late fails the HTNV condition, mitigable by the deciding level",
        evaluate_member(task_stats=tasks(on_time="0.79")),
        cap=Level.KHTNV,
        mitigable=True,
    ),
    fires(
        "R2025-ALL-HTNV",
        "a task not completed fails the HTNV condition",
        evaluate_leader(task_stats=tasks("0.95", "0.95", "0")),
        cap=Level.KHTNV,
    ),
    quiet(
        "R2025-ALL-HTNV",
        "all tasks done and exactly 20% late meets HTNV",
        evaluate_member(task_stats=tasks(on_time="0.8")),
    ),
    # Quota
    fires(
        "R2025-Q-QUOTA",
        "1 HTXSNV with 4 HTTNV exceeds 20%",
        lambda p: RB.quota({"HTTNV": 4, "HTXSNV": 1}, p),
        severity=Severity.BLOCK,
    ),
    quiet("R2025-Q-QUOTA", "1 HTXSNV with 5 HTTNV is within 20%", lambda p: RB.quota({"HTTNV": 5, "HTXSNV": 1}, p)),
    fires(
        "R2025-Q-EXCEPTION",
        "2 HTXSNV with 5 HTTNV exceed even the raised 25%",
        lambda p: RB.quota({"HTTNV": 5, "HTXSNV": 2}, p, raised=True),
    ),
    quiet(
        "R2025-Q-EXCEPTION",
        "1 HTXSNV with 4 HTTNV fits the raised 25%",
        lambda p: RB.quota({"HTTNV": 4, "HTXSNV": 1}, p, raised=True),
    ),
    # KHTNV triggers: collectives
    fires(
        "R2025-C-K-PERSONNEL",
        "a concluded wrongdoing in personnel work makes the collective KHTNV, mitigable",
        evaluate_collective(collective(personnel_or_unity_concluded=True)),
        cap=Level.KHTNV,
        mitigable=True,
    ),
    quiet("R2025-C-K-PERSONNEL", "no such conclusion", evaluate_collective()),
    fires(
        "R2025-C-K-DISC",
        "a member reprimanded for their official duties makes the collective KHTNV",
        evaluate_collective(collective(member_disciplines=(duty_discipline(),))),
        cap=Level.KHTNV,
        mitigable=True,
    ),
    quiet(
        "R2025-C-K-DISC",
        "a violation from the member's previous unit does not count",
        evaluate_collective(collective(member_disciplines=(duty_discipline(from_previous_unit=True),))),
    ),
    quiet(
        "R2025-C-K-DISC",
        "a violation unrelated to the collective's remit does not count",
        evaluate_collective(collective(member_disciplines=(duty_discipline(related_to_remit=False),))),
    ),
    quiet(
        "R2025-C-K-DISC",
        "a discipline outside official duties does not count",
        evaluate_collective(collective(member_disciplines=(duty_discipline(in_official_duties=False),))),
    ),
    fires(
        "R2025-C-K-DEGR",
        "a member concluded degraded makes the collective KHTNV",
        evaluate_collective(collective(member_degradation_concluded=True)),
        cap=Level.KHTNV,
    ),
    quiet("R2025-C-K-DEGR", "no member concluded degraded", evaluate_collective()),
    fires(
        "R2025-C-K-TASKS",
        "the unit at 69% of its plan makes the collective KHTNV",
        evaluate_collective(collective(unit_plan_share="0.69")),
        cap=Level.KHTNV,
    ),
    fires(
        "R2025-C-K-TASKS",
        "the 5 basic targets missed make the collective KHTNV",
        evaluate_collective(collective(basic_targets_missed=True)),
        cap=Level.KHTNV,
    ),
    quiet("R2025-C-K-TASKS", "the unit at 70% of its plan", evaluate_collective(collective(unit_plan_share="0.70"))),
    # KHTNV triggers: leaders
    fires(
        "R2025-L-K-TASKS",
        "the leader's unit at 69% of plan",
        evaluate_leader(leader(unit_plan_share="0.69")),
        cap=Level.KHTNV,
        mitigable=True,
    ),
    fires(
        "R2025-L-K-TASKS",
        "the 5 basic targets missed",
        evaluate_leader(leader(basic_targets_missed=True)),
        cap=Level.KHTNV,
    ),
    fires(
        "R2025-L-K-TASKS",
        "2 of 3 units led at KHTNV (over 50%)",
        evaluate_leader(leader(units_led_levels={Level.KHTNV: 2, Level.HTNV: 1})),
        cap=Level.KHTNV,
    ),
    quiet(
        "R2025-L-K-TASKS",
        "1 of 2 units at KHTNV (50%) and the plan at 70%",
        evaluate_leader(leader(units_led_levels={Level.KHTNV: 1, Level.HTNV: 1}, unit_plan_share="0.7")),
    ),
    fires(
        "R2025-L-K-VOTE",
        "51% low-confidence votes make the leader KHTNV",
        evaluate_leader(leader(low_confidence_share="0.51")),
        cap=Level.KHTNV,
        mitigable=True,
    ),
    quiet("R2025-L-K-VOTE", "50% low-confidence votes", evaluate_leader(leader(low_confidence_share="0.5"))),
    fires(
        "R2025-L-K-DISC",
        "a leader reprimanded for official duties is KHTNV",
        evaluate_leader(leader(disciplines=(duty_discipline(),))),
        cap=Level.KHTNV,
    ),
    quiet(
        "R2025-L-K-DISC",
        "a leader disciplined outside official duties",
        evaluate_leader(leader(disciplines=(duty_discipline(in_official_duties=False),))),
    ),
    fires(
        "R2025-L-K-DEGR",
        "a leader concluded degraded is KHTNV",
        evaluate_leader(leader(degradation_concluded=True)),
        cap=Level.KHTNV,
    ),
    quiet("R2025-L-K-DEGR", "a leader not concluded degraded", evaluate_leader()),
    fires(
        "R2025-L-K-CORRUPT",
        "corruption disciplined in the direct remit makes the leader KHTNV",
        evaluate_leader(leader(remit_corruption_disciplined=True)),
        cap=Level.KHTNV,
    ),
    quiet("R2025-L-K-CORRUPT", "no corruption in the remit", evaluate_leader()),
    # KHTNV triggers: individuals without a post
    fires(
        "R2025-M-K-CONDUCT",
        "a conclusion of degradation",
        evaluate_member(staff(degradation_concluded=True)),
        cap=Level.KHTNV,
        mitigable=True,
    ),
    fires(
        "R2025-M-K-CONDUCT",
        "a reprimand for official duties",
        evaluate_member(staff(disciplines=(duty_discipline(),))),
        cap=Level.KHTNV,
    ),
    fires(
        "R2025-M-K-CONDUCT",
        "breaking the things members must not do",
        evaluate_member(staff(violated_prohibitions=True)),
        cap=Level.KHTNV,
    ),
    fires(
        "R2025-M-K-CONDUCT",
        "breaching the duty to set an example",
        evaluate_member(staff(breached_exemplary_duty=True)),
        cap=Level.KHTNV,
    ),
    quiet(
        "R2025-M-K-CONDUCT",
        "a discipline outside official duties",
        evaluate_member(staff(disciplines=(duty_discipline(in_official_duties=False),))),
    ),
    fires(
        "R2025-M-K-TASKS",
        "51% of the year's tasks not completed",
        evaluate_member(task_stats=tasks("0.49", "0.49", "0")),
        cap=Level.KHTNV,
        mitigable=True,
    ),
    quiet("R2025-M-K-TASKS", "exactly 50% not completed", evaluate_member(task_stats=tasks("0.5", "0.5", "0"))),
    fires(
        "R2025-ALL-MITIGATE",
        "the deciding level sets a trigger aside and the note records it",
        lambda p: RB.mitigate(
            RB.evaluate_member(staff(violated_prohibitions=True), answers(), p), {"R2025-M-K-CONDUCT"}, p
        ),
        severity=Severity.INFO,
    ),
    quiet("R2025-ALL-MITIGATE", "no mitigation, no note", evaluate_member(staff(violated_prohibitions=True))),
    fires(
        "R2025-ALL-DISC-TIME",
        "a violation counted last year and disciplined this year counts now",
        evaluate_member(staff(disciplines=(duty_discipline(violation_key="v1"),), counted_violation_keys={"v1"})),
        severity=Severity.INFO,
    ),
    fires(
        "R2025-ALL-DISC-TIME",
        "a violation at a member's previous unit counts for that unit",
        evaluate_collective(collective(member_disciplines=(duty_discipline(from_previous_unit=True),))),
        severity=Severity.INFO,
    ),
    quiet(
        "R2025-ALL-DISC-TIME",
        "a discipline of a new violation",
        evaluate_member(staff(disciplines=(duty_discipline(),))),
    ),
    # Who is classified; special cases
    fires(
        "R2025-M-EXEMPT",
        "an excused member is neither reviewed nor classified",
        lambda p: RB.exclusion(staff(status="excused"), REFERENCE_2025, p),
    ),
    fires(
        "R2025-M-EXEMPT",
        "a suspended member is neither reviewed nor classified",
        lambda p: RB.exclusion(staff(status="suspended"), REFERENCE_2025, p),
    ),
    fires(
        "R2025-M-EXEMPT",
        "a member admitted 5 months 29 days ago is neither reviewed nor classified",
        lambda p: RB.exclusion(staff(admission_date=date(2025, 6, 2)), REFERENCE_2025, p),
    ),
    quiet(
        "R2025-M-EXEMPT",
        "a member admitted 6 months ago is classified",
        lambda p: RB.exclusion(staff(admission_date=date(2025, 6, 1), official_date=None), REFERENCE_2025, p),
    ),
    quiet(
        "R2025-M-EXEMPT",
        "a member suspended from committee work only is classified",
        lambda p: RB.exclusion(staff(status="suspended", suspended_from_committee_only=True), REFERENCE_2025, p),
    ),
    fires(
        "R2025-M-SICK",
        "90 days of sick leave: judged on the actual work, no cap",
        evaluate_member(staff(sick_leave_days=90, sick_leave_months=3)),
        severity=Severity.INFO,
    ),
    fires(
        "R2025-M-SICK",
        "maternity leave: judged on the actual work",
        evaluate_member(staff(maternity_leave=True)),
        severity=Severity.INFO,
    ),
    quiet(
        "R2025-M-SICK",
        "2.9 months of sick leave",
        evaluate_member(staff(sick_leave_days=89, sick_leave_months="2.9")),
    ),
    fires(
        "R2025-M-TEMP",
        "a temporary attachment without the comment is warned",
        evaluate_member(staff(temporary_attachment=True)),
        severity=Severity.WARN,
    ),
    quiet(
        "R2025-M-TEMP",
        "the temporary cell's comment received",
        evaluate_member(staff(temporary_attachment=True, temporary_cell_comment_received=True)),
    ),
    fires(
        "R2025-M-CU-SUSP",
        "a committee-only suspension is noted",
        evaluate_member(staff(status="suspended", suspended_from_committee_only=True)),
        severity=Severity.INFO,
    ),
    quiet("R2025-M-CU-SUSP", "no suspension, no note", evaluate_member()),
    fires(
        "R2025-C-SMALL",
        "a collective of 2 members is reviewed at the agency's committee",
        evaluate_collective(collective(member_count=2)),
        severity=Severity.INFO,
    ),
    quiet("R2025-C-SMALL", "a collective of 3 members", evaluate_collective(collective(member_count=3))),
    fires(
        "R2025-O-BASIS",
        "an organisation's grade shows its members' and collective's levels",
        evaluate_organization(OrganizationFacts(member_levels={Level.HTTNV: 3}, collective_level=Level.HTTNV)),
        severity=Severity.INFO,
    ),
    quiet("R2025-O-BASIS", "an organisation with no input known yet", evaluate_organization()),
    fires(
        "R2025-C-CAP-ORG",
        "a collective above its HTTNV organisation is warned",
        evaluate_collective(collective(organization_level=Level.HTTNV)),
        cap=Level.HTTNV,
        severity=Severity.WARN,
    ),
    quiet("R2025-C-CAP-ORG", "a collective of an HTXSNV organisation", evaluate_collective()),
    fires(
        "R2025-L-NOT-ABOVE",
        "a leader above the HTNV unit they head is warned",
        evaluate_leader(leader(unit_level=Level.HTNV)),
        cap=Level.HTNV,
        severity=Severity.WARN,
    ),
    quiet("R2025-L-NOT-ABOVE", "a leader of an HTXSNV unit", evaluate_leader()),
    fires(
        "R2025-M-TWO-YEARS",
        "KHTNV two years running is flagged",
        lambda p: RB.two_years_khtnv("KHTNV", "KHTNV", p),
        severity=Severity.WARN,
    ),
    quiet("R2025-M-TWO-YEARS", "KHTNV once", lambda p: RB.two_years_khtnv(None, "KHTNV", p)),
    fires(
        "R2025-M-TRANSFER",
        "a transfer after 6 months without the former cell's comment is warned",
        evaluate_member(staff(transfers=(TransferFact(date(2025, 7, 1), 6),))),
        severity=Severity.WARN,
    ),
    quiet(
        "R2025-M-TRANSFER",
        "a transfer after 5 months",
        evaluate_member(staff(transfers=(TransferFact(date(2025, 6, 1), 5),))),
    ),
    fires(
        "R2025-O-NEW",
        "an organisation founded 5 months ago is not classified",
        lambda p: RB.exclusion(OrganizationFacts(founded_on=date(2025, 7, 1)), REFERENCE_2025, p),
    ),
    quiet(
        "R2025-O-NEW",
        "an organisation founded 6 months ago is classified",
        lambda p: RB.exclusion(OrganizationFacts(founded_on=date(2025, 6, 1)), REFERENCE_2025, p),
    ),
    fires(
        "R2025-O-CONDITIONS",
        "an organisation with 90% of tasks on time is warned at HTNV",
        evaluate_organization(task_stats=tasks(on_time="0.9")),
        cap=Level.HTNV,
        severity=Severity.WARN,
    ),
    quiet("R2025-O-CONDITIONS", "an organisation meeting every task condition", evaluate_organization()),
    fires(
        "R2025-P-DEADLINES",
        "grassroots decisions due after 31/12 are warned",
        lambda p: RB.schedule_findings(Schedule(2025, grassroots_decision_due=date(2026, 1, 5)), p),
        severity=Severity.WARN,
    ),
    quiet(
        "R2025-P-DEADLINES",
        "grassroots decisions due on 31/12 and the city's in January",
        lambda p: RB.schedule_findings(
            Schedule(2025, grassroots_decision_due=date(2025, 12, 31), city_decision_due=date(2026, 1, 20)), p
        ),
    ),
    fires(
        "R2025-P-MEETING",
        "a cell meeting held after the period's due date is warned",
        lambda p: RB.meeting_findings(date(2025, 12, 22), Schedule(2025, cell_meeting_due=date(2025, 12, 20)), p),
        severity=Severity.WARN,
    ),
    quiet(
        "R2025-P-MEETING",
        "a cell meeting held on its due date",
        lambda p: RB.meeting_findings(date(2025, 12, 20), Schedule(2025, cell_meeting_due=date(2025, 12, 20)), p),
    ),
]


@pytest.mark.parametrize("case", [case for case in CASES if case.fires], ids=str)
def test_rule_fires_when_its_condition_holds(case):
    check_case(case)


@pytest.mark.parametrize("case", [case for case in CASES if not case.fires], ids=str)
def test_rule_stays_quiet_when_its_condition_does_not_hold(case):
    check_case(case)


# --- Bands and the combination -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "band"),
    [
        ("100", Level.HTXSNV),
        ("90", Level.HTXSNV),
        ("89.99", Level.HTTNV),
        ("70", Level.HTTNV),
        ("69.99", Level.HTNV),
        ("50", Level.HTNV),
        ("49.99", Level.KHTNV),
        ("0", Level.KHTNV),
    ],
)
def test_the_score_band_of(total, band):
    evaluation = RB.evaluate_member(staff(), answers(total=total))
    assert evaluation.score.total == Decimal(total)
    assert evaluation.band == band
    assert evaluation.level == band


def test_the_bands_are_parameters():
    params = RB.parameters({"band_htxsnv": "95", "band_httnv": "80", "band_htnv": "60"})
    assert RB.evaluate_member(staff(), answers(total="94"), params).band == Level.HTTNV
    assert RB.evaluate_member(staff(), answers(total="59"), params).band == Level.KHTNV


def test_the_level_is_the_lower_of_band_and_conditions():
    high_score_late = RB.evaluate_member(staff(), answers(total="95", task_stats=tasks(on_time="0.9")))
    assert high_score_late.level == Level.HTNV
    low_score_perfect = RB.evaluate_member(staff(), answers(total="75"))
    assert low_score_perfect.level == Level.HTTNV


def test_a_trigger_overrides_the_score_unless_mitigated():
    evaluation = RB.evaluate_member(staff(degradation_concluded=True), answers())
    assert evaluation.score.total == 100
    assert evaluation.level == Level.KHTNV
    assert not evaluation.allowed(Level.HTXSNV)
    assert evaluation.allowed(Level.HTXSNV, mitigated={"R2025-M-K-CONDUCT"})
    assert evaluation.suggested_level(mitigated={"R2025-M-K-CONDUCT"}) == Level.HTXSNV


def test_only_mitigable_findings_can_be_set_aside():
    evaluation = RB.evaluate_member(staff(degradation_concluded=True), answers(total="40"))
    assert not evaluation.allowed(Level.HTNV, mitigated={"R2025-S-BANDS", "R2025-M-K-CONDUCT"})
    with pytest.raises(ValueError, match="R2025-S-BANDS"):
        RB.mitigate(evaluation, {"R2025-S-BANDS"})
    with pytest.raises(ValueError):
        RB.mitigate(evaluation, set())


def test_the_htnv_gap_becomes_a_hard_khtnv_when_the_board_says_so():
    facts, late = staff(), answers(total="75", task_stats=tasks("0.9", "0.9", "0"))
    assert RB.evaluate_member(facts, late).by_rule("R2025-ALL-HTNV")[0].mitigable
    params = RB.parameters({"gap_manual_decision": False})
    assert not RB.evaluate_member(facts, late, params).by_rule("R2025-ALL-HTNV")[0].mitigable


def test_missing_task_statistics_do_not_cap_the_score():
    evaluation = RB.evaluate_member(staff(), answers(total="80", task_stats=None))
    assert evaluation.level == Level.HTTNV
    assert evaluation.allowed(Level.HTTNV)


def test_without_a_score_no_level_is_allowed_and_the_finding_says_what_is_missing():
    evaluation = RB.evaluate_member(staff(), None)
    assert (evaluation.score, evaluation.band) == (None, None)
    assert evaluation.allowed_levels() == ()
    (missing,) = evaluation.explain(Level.HTNV)
    assert missing.rule_id == "R2025-S-SCORE" and "phần B" in missing.message_vi and "part B" in missing.message_en
    triggered = RB.evaluate_member(staff(degradation_concluded=True), None)
    assert triggered.level == Level.KHTNV


def test_a_total_from_a_paper_form_gives_the_band():
    evaluation = RB.evaluate_member(staff(), Answers(total="69.5"))
    assert evaluation.band == Level.HTNV and evaluation.score.total == Decimal("69.5")
    assert evaluation.cap == Level.HTNV
    assert not evaluation.allowed(Level.HTTNV) and evaluation.allowed(Level.HTNV)
    assert RB.evaluate_member(staff(), Answers(total=92)).band == Level.HTXSNV


@pytest.mark.parametrize("total", ["-1", "100.5"])
def test_a_paper_total_out_of_range_is_refused(total):
    with pytest.raises(ValueError, match="0 to 100"):
        Answers(total=total)


def test_points_above_a_maximum_are_the_callers_error():
    points = full_points("member", "2B")
    points["g3_self_criticism"] = Decimal("2.5")
    with pytest.raises(AnswersError, match="g3_self_criticism"):
        RB.evaluate_member(staff(), Answers(points=points, tasks=PERFECT))


def test_sick_leave_does_not_cap_in_2025_as_it_did_in_2018():
    evaluation = RB.evaluate_member(staff(sick_leave_days=120, sick_leave_months=4), answers())
    assert evaluation.level == Level.HTXSNV
    assert get_rulebook("2018").evaluate_member(member(sick_leave_days=120, sick_leave_months=4)).cap == Level.HTNV


def test_a_discipline_already_counted_counts_again_in_2025_but_not_in_2018():
    facts = staff(disciplines=(duty_discipline(violation_key="v1"),), counted_violation_keys={"v1"})
    assert "R2025-M-K-CONDUCT" in RB.evaluate_member(facts, answers()).rule_ids
    assert "R2018-M-DISCIPLINE" not in get_rulebook("2018").evaluate_member(facts).rule_ids


def test_a_new_member_writes_no_review_in_2025_but_did_in_2018():
    facts = staff(admission_date=date(2025, 9, 1))
    assert RB.exclusion(facts, REFERENCE_2025).reviewed is False
    assert get_rulebook("2018").exclusion(facts, REFERENCE_2025).reviewed is True


def test_the_new_organisation_rule_can_be_switched_off():
    params = RB.default_parameters().with_switch("R2025-O-NEW", enabled=False)
    assert RB.exclusion(OrganizationFacts(founded_on=date(2025, 11, 1)), REFERENCE_2025, params) is None


def test_the_task_conditions_found_once_are_read_with_their_own_parameters_only():
    # The same shares (none) under the board's switch and without it, one after the other: each period's
    # parameters keep their own findings (Rulebook.once), however often they were found before.
    off = RB.default_parameters().with_switch("R2025-S-COMBINE", enabled=False)
    on = RB.default_parameters()
    for params, expected in ((on, True), (off, False), (on, True), (off, False)):
        evaluation = RB.evaluate_member(staff(), answers(task_stats=None), params)
        assert ("R2025-S-COMBINE" in evaluation.rule_ids) is expected
        assert "R2025-M-XS" in evaluation.rule_ids
    a = RB.evaluate_member(staff(), answers(task_stats=tasks(exceeding="0.1")), on)
    b = RB.evaluate_member(member(occupation="civil_servant"), answers(task_stats=tasks(exceeding="0.1")), on)
    assert a.by_rule("R2025-M-XS") == b.by_rule("R2025-M-XS") and a.by_rule("R2025-M-XS")[0].cap == Level.HTTNV


def test_once_finds_once_for_each_key_and_parameters():
    calls = []

    def find(ctx, value):
        calls.append(value)
        yield ctx

    first, second = RB.default_parameters(), RB.default_parameters()
    assert RB.once(first, ("test-once", 1), find, "ctx") == ("ctx",)
    assert RB.once(first, ("test-once", 1), find, "other") == ("ctx",)
    assert RB.once(second, ("test-once", 1), find, "second") == ("second",)
    assert RB.once(first, ("test-once", 2), find, "ctx") == ("ctx",)
    assert calls == [1, 1, 2]


def test_an_excluded_member_evaluates_to_not_classified():
    evaluation = RB.evaluate_member(staff(status=MemberStatus.EXCUSED), answers(), reference_date=REFERENCE_2025)
    assert evaluation.not_classified.reason == "excused"
    assert evaluation.level is None


def test_the_proposed_level_is_checked_against_the_findings():
    evaluation = RB.evaluate_member(staff(), answers(total="80"), proposed_level="HTXSNV")
    assert [f.rule_id for f in evaluation.proposal_problems] == ["R2025-S-BANDS"]
    assert RB.evaluate_member(staff(), answers(total="80"), proposed_level="HTTNV").proposal_problems == ()


# --- Forms and variants ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (member(occupation="civil_servant"), (SubjectKind.MEMBER, "2B")),
        (member(occupation="armed_forces"), (SubjectKind.MEMBER, "2B")),
        (member(occupation="retired"), (SubjectKind.MEMBER, "2C")),
        (member(occupation="student"), (SubjectKind.MEMBER, "2C")),
        (member(occupation="private_sector"), (SubjectKind.MEMBER, "2C")),
        (member(occupation="retired", in_political_system=True), (SubjectKind.MEMBER, "2B")),
        (member(occupation="civil_servant", is_leader=True), (SubjectKind.LEADER, "2A")),
    ],
    ids=["civil servant", "armed forces", "retired", "student", "private sector", "override", "leader"],
)
def test_the_form_of_an_individual(facts, expected):
    assert RB.choose_form(facts) == expected


def test_a_retired_member_is_scored_on_annex_5():
    evaluation = RB.evaluate_member(member(occupation="retired"), answers(variant="2C"))
    assert evaluation.level == Level.HTXSNV
    with pytest.raises(AnswersError):
        RB.evaluate_member(member(occupation="retired"), answers(variant="2B"))


# --- Quota -------------------------------------------------------------------------------------------------


def test_the_raised_quota_allows_one_in_four():
    assert RB.quota({"HTTNV": 4, "HTXSNV": 1}).allowed is False
    raised = RB.quota({"HTTNV": 4, "HTXSNV": 1}, raised=True)
    assert (raised.rule_id, raised.cap_count, raised.allowed) == ("R2025-Q-EXCEPTION", 1, True)


def test_the_raised_rate_is_a_parameter():
    params = RB.parameters({"quota_raised_rate": "0.30"})
    assert RB.quota({"HTTNV": 10}, params, raised=True).cap_count == 3


def test_the_committee_suspension_note_names_the_date_the_review_stops_at():
    facts = staff(suspended_from_committee_only=True, committee_suspended_on=date(2025, 6, 1))
    [finding] = evaluate_member(facts)(RB.default_parameters()).by_rule("R2025-M-CU-SUSP")
    assert "từ ngày 01/06/2025: kiểm điểm tại chi bộ, về thời gian trước ngày đó" in finding.message_vi
    assert "on 01/06/2025: reviewed at the cell for the time before that date" in finding.message_en
    [undated] = evaluate_member(staff(suspended_from_committee_only=True))(RB.default_parameters()).by_rule(
        "R2025-M-CU-SUSP"
    )
    assert "trước khi bị đình chỉ" in undated.message_vi
