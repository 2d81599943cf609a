"""Regime 2018 (QĐ 132 + HD 16, refined by HD 21): every rule fires and stays quiet, plus the derivation."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from assessments.rulebooks import (
    Answers,
    AnswersError,
    CollectiveFacts,
    Discipline,
    FormPurpose,
    LeaderFacts,
    MemberStatus,
    OrganizationFacts,
    Presence,
    Rating,
    Schedule,
    Severity,
    SubjectKind,
    TaskStats,
    TransferFact,
    get_rulebook,
    validate_answers,
)
from vocabulary import Level

from .cases import REFERENCE, answers_2018, check_case, fires, member, quiet

RB = get_rulebook("2018")
X, T, TB, K = Rating.XUAT_SAC, Rating.TOT, Rating.TRUNG_BINH, Rating.KEM


def hd16(params):
    return replace(params, guidance="HD16")


def evaluate_member(facts, answers=None):
    return lambda p: RB.evaluate_member(facts, answers or answers_2018(), p)


def evaluate_leader(facts, answers=None):
    return lambda p: RB.evaluate_leader(facts, answers or answers_2018("leader"), p)


def leader(**overrides):
    values = {"admission_date": date(2000, 1, 1), "official_date": date(2001, 1, 1), "unit_level": Level.HTXSNV}
    return LeaderFacts(**{**values, **overrides})


def civil_servant(level):
    return member(occupation="civil_servant", civil_service_level=level)


def reprimand(key=None, day=date(2018, 5, 1), form="reprimand"):
    return Discipline(day, form, violation_key=key)


def organization(answers=None, **overrides):
    values = {"kind": "cell", "member_levels": {Level.HTXSNV: 1, Level.HTTNV: 4}, "peer_levels": (Level.HTXSNV,)}
    facts = OrganizationFacts(**{**values, **overrides})
    return lambda p: RB.evaluate_organization(facts, answers or answers_2018("organization"), p)


def collective(**overrides):
    facts = CollectiveFacts(**{"organization_level": Level.HTXSNV, **overrides})
    return lambda p: RB.evaluate_collective(facts, answers_2018("collective"), p)


def member_self_review(checklist, params):
    template = RB.form_template(SubjectKind.MEMBER, FormPurpose.SELF_REVIEW, params=hd16(params))
    return validate_answers(template, {"manifestations_checklist": checklist}, submit=True)


ALL_ABSENT = {f"{group}{number}": Presence.ABSENT for group in "ABC" for number in range(1, 10)}
ONE_UNMARKED = {key: value for key, value in ALL_ABSENT.items() if key != "C9"}

CASES = [
    # Levels and scale
    fires(
        "R2018-ALL-LEVEL",
        "a criterion rated outside the four steps is rejected",
        lambda p: validate_answers(RB.form_template("member", "analysis"), {"duty_results": "rat_tot"}),
    ),
    quiet(
        "R2018-ALL-LEVEL",
        "a criterion rated Tốt is accepted",
        lambda p: validate_answers(RB.form_template("member", "analysis"), {"duty_results": "tot"}),
    ),
    # Who is classified
    fires(
        "R2018-M-EXEMPT-MIEN",
        "an excused member is not classified",
        lambda p: RB.exclusion(member(status="excused"), REFERENCE, p),
    ),
    quiet("R2018-M-EXEMPT-MIEN", "an active member is classified", lambda p: RB.exclusion(member(), REFERENCE, p)),
    fires(
        "R2018-M-EXEMPT-SUSP",
        "a suspended member is not classified under HD 21",
        lambda p: RB.exclusion(member(status="suspended"), REFERENCE, p),
    ),
    quiet(
        "R2018-M-EXEMPT-SUSP",
        "a suspended member is still classified under HD 16",
        lambda p: RB.exclusion(member(status="suspended"), REFERENCE, hd16(p)),
    ),
    fires(
        "R2018-M-CU-SUSP",
        "a member suspended from committee work only is classified, with a note",
        lambda p: RB.evaluate_member(
            member(status="suspended", suspended_from_committee_only=True), answers_2018(), p, reference_date=REFERENCE
        ),
        severity=Severity.INFO,
    ),
    quiet("R2018-M-CU-SUSP", "an ordinary member gets no committee-suspension note", evaluate_member(member())),
    fires(
        "R2018-M-NEW",
        "a member admitted 5 months 29 days before the reference date is not classified",
        lambda p: RB.exclusion(member(admission_date=date(2018, 6, 2), official_date=None), REFERENCE, p),
    ),
    quiet(
        "R2018-M-NEW",
        "a member admitted exactly 6 months before the reference date is classified",
        lambda p: RB.exclusion(member(admission_date=date(2018, 6, 1), official_date=None), REFERENCE, p),
    ),
    fires(
        "R2018-M-PROBATION",
        "a probationary member of 6 months is classified like a full member, with a note",
        lambda p: RB.evaluate_member(
            member(admission_date=date(2018, 6, 1), official_date=None), answers_2018(), p, reference_date=REFERENCE
        ),
        severity=Severity.INFO,
    ),
    quiet("R2018-M-PROBATION", "a full member gets no probation note", evaluate_member(member())),
    fires(
        "R2018-O-NEW",
        "an organisation founded 5 months before the reference date is not classified",
        lambda p: RB.exclusion(OrganizationFacts(founded_on=date(2018, 7, 1)), REFERENCE, p),
    ),
    fires(
        "R2018-O-NEW",
        "a leadership collective founded 2 months before is not classified",
        lambda p: RB.exclusion(CollectiveFacts(founded_on=date(2018, 10, 1)), REFERENCE, p),
    ),
    quiet(
        "R2018-O-NEW",
        "an organisation founded 6 months before the reference date is classified",
        lambda p: RB.exclusion(OrganizationFacts(founded_on=date(2018, 6, 1)), REFERENCE, p),
    ),
    # Leave and transfers
    fires(
        "R2018-M-SICK",
        "3 calendar months of sick leave cap the member at HTNV",
        evaluate_member(member(sick_leave_days=90, sick_leave_months=3)),
        cap=Level.HTNV,
        severity=Severity.BLOCK,
    ),
    quiet(
        "R2018-M-SICK",
        "2.9 months of sick leave leave the member uncapped",
        evaluate_member(member(sick_leave_days=89, sick_leave_months="2.9")),
    ),
    fires(
        "R2018-M-MATERNITY",
        "maternity leave adds a note and no cap",
        evaluate_member(member(maternity_leave=True)),
        severity=Severity.INFO,
    ),
    quiet("R2018-M-MATERNITY", "no maternity leave, no note", evaluate_member(member())),
    fires(
        "R2018-M-TRANSFER",
        "a transfer after 6 months in the former cell without its comment blocks the decision",
        evaluate_member(member(transfers=(TransferFact(date(2018, 7, 1), 6, False),))),
        severity=Severity.BLOCK,
    ),
    quiet(
        "R2018-M-TRANSFER",
        "a transfer after 5 months in the former cell needs no comment",
        evaluate_member(member(transfers=(TransferFact(date(2018, 6, 1), 5, False),))),
    ),
    quiet(
        "R2018-M-TRANSFER",
        "a transfer after 6 months with the former cell's comment received is fine",
        evaluate_member(member(transfers=(TransferFact(date(2018, 7, 1), 6, True),))),
    ),
    fires(
        "R2018-M-TEMP",
        "a temporarily attached member without the temporary cell's comment is blocked",
        evaluate_member(member(temporary_attachment=True)),
        severity=Severity.BLOCK,
    ),
    quiet(
        "R2018-M-TEMP",
        "a temporarily attached member with the comment received is fine",
        evaluate_member(member(temporary_attachment=True, temporary_cell_comment_received=True)),
    ),
    # Member level conditions
    fires(
        "R2018-M-DISCIPLINE",
        "a member reprimanded in the year is KHTNV",
        evaluate_member(member(disciplines=(reprimand(),))),
        cap=Level.KHTNV,
        severity=Severity.BLOCK,
    ),
    quiet(
        "R2018-M-DISCIPLINE",
        "a violation already counted in an earlier year does not count again",
        evaluate_member(member(disciplines=(reprimand("v1"),), counted_violation_keys={"v1"})),
    ),
    fires(
        "R2018-M-DEGRADATION",
        "a conclusion of degradation makes the member KHTNV",
        evaluate_member(member(degradation_concluded=True)),
        cap=Level.KHTNV,
    ),
    quiet("R2018-M-DEGRADATION", "no conclusion, no finding", evaluate_member(member())),
    fires(
        "R2018-M-TASKS50",
        "49% of the year's tasks completed makes the member KHTNV",
        evaluate_member(member(), answers_2018(tasks=TaskStats(Decimal("0.49")))),
        cap=Level.KHTNV,
    ),
    quiet(
        "R2018-M-TASKS50",
        "50% of the tasks completed is not under 50%",
        evaluate_member(member(), answers_2018(tasks=TaskStats(Decimal("0.50")))),
    ),
    fires(
        "R2018-M-CBCCVC-KHTNV",
        "a civil servant rated KHTNV is KHTNV as a member",
        evaluate_member(civil_servant(Level.KHTNV)),
        cap=Level.KHTNV,
    ),
    quiet(
        "R2018-M-CBCCVC-KHTNV",
        "a civil servant rated HTNV is not caught by the KHTNV rule",
        evaluate_member(civil_servant(Level.HTNV)),
    ),
    fires(
        "R2018-M-CBCCVC-XS",
        "a civil servant rated HTTNV is at most HTTNV",
        evaluate_member(civil_servant(Level.HTTNV)),
        cap=Level.HTTNV,
        severity=Severity.BLOCK,
    ),
    quiet(
        "R2018-M-CBCCVC-XS", "a civil servant rated HTXSNV may be HTXSNV", evaluate_member(civil_servant(Level.HTXSNV))
    ),
    quiet(
        "R2018-M-CBCCVC-XS",
        "a non-civil servant with a stray civil-service level is not capped",
        evaluate_member(member(civil_service_level=Level.HTNV)),
    ),
    fires(
        "R2018-M-CBCCVC-CAP",
        "a civil servant rated HTNV is warned above HTNV",
        evaluate_member(civil_servant(Level.HTNV)),
        cap=Level.HTNV,
        severity=Severity.WARN,
    ),
    quiet(
        "R2018-M-CBCCVC-CAP",
        "a civil servant rated HTXSNV gets no warning",
        evaluate_member(civil_servant(Level.HTXSNV)),
    ),
    fires(
        "R2018-M-XS-CRITERIA",
        "results rated Tốt cap the member at HTTNV",
        evaluate_member(member(), answers_2018(duty_results=T)),
        cap=Level.HTTNV,
        severity=Severity.BLOCK,
    ),
    fires(
        "R2018-M-XS-CRITERIA",
        "another criterion at Trung bình also rules out HTXSNV",
        evaluate_member(member(), answers_2018(working_style=TB)),
        cap=Level.HTTNV,
    ),
    fires(
        "R2018-M-XS-CRITERIA",
        "criteria left unrated on a rated form do not show HTXSNV",
        evaluate_member(member(), Answers(ratings={"duty_results": X})),
        cap=Level.HTTNV,
    ),
    fires(
        "R2018-M-XS-CRITERIA",
        "with nothing rated yet the conditions are reported unchecked, without a cap",
        evaluate_member(member(), Answers()),
        cap=None,
        severity=Severity.WARN,
    ),
    quiet(
        "R2018-M-XS-CRITERIA",
        "results Xuất sắc and the others Tốt allow HTXSNV",
        evaluate_member(member(), answers_2018(rating=T, duty_results=X)),
    ),
    fires(
        "R2018-M-CRITERIA",
        "a criterion at Trung bình warns above HTNV",
        evaluate_member(member(), answers_2018(ethics_lifestyle=TB)),
        cap=Level.HTNV,
        severity=Severity.WARN,
    ),
    fires(
        "R2018-M-CRITERIA",
        "a criterion at Kém warns above KHTNV",
        evaluate_member(member(), answers_2018(ethics_lifestyle=K)),
        cap=Level.KHTNV,
    ),
    quiet(
        "R2018-M-CRITERIA", "all criteria at Tốt raise no warning", evaluate_member(member(), answers_2018(rating=T))
    ),
    fires(
        "R2018-M-CHECKLIST",
        "an HD 16 self-review with one manifestation unmarked cannot be submitted",
        lambda p: member_self_review(ONE_UNMARKED, p),
    ),
    quiet(
        "R2018-M-CHECKLIST",
        "an HD 16 self-review with every manifestation marked can be submitted",
        lambda p: member_self_review(ALL_ABSENT, p),
    ),
    # Quotas
    fires(
        "R2018-Q-MEMBER",
        "1 HTXSNV with 4 HTTNV exceeds 20%",
        lambda p: RB.quota({Level.HTTNV: 4, Level.HTXSNV: 1}, p),
        severity=Severity.BLOCK,
    ),
    quiet(
        "R2018-Q-MEMBER",
        "1 HTXSNV with 5 HTTNV is within 20%",
        lambda p: RB.quota({Level.HTTNV: 5, Level.HTXSNV: 1}, p),
    ),
    fires(
        "R2018-Q-COLLECTIVE",
        "2 collectives at HTXSNV with 5 at HTTNV exceed 20%",
        lambda p: RB.quota({"HTTNV": 5, "HTXSNV": 2}, p, subject_kind=SubjectKind.COLLECTIVE),
        severity=Severity.BLOCK,
    ),
    quiet(
        "R2018-Q-COLLECTIVE",
        "2 collectives at HTXSNV with 10 at HTTNV are within 20%",
        lambda p: RB.quota({"HTTNV": 10, "HTXSNV": 2}, p, subject_kind=SubjectKind.COLLECTIVE),
    ),
    fires(
        "R2018-Q-ORG",
        "organisations over 20% are only warned",
        lambda p: RB.quota({"HTTNV": 4, "HTXSNV": 1}, p, subject_kind=SubjectKind.ORGANIZATION),
        severity=Severity.WARN,
    ),
    quiet(
        "R2018-Q-ORG",
        "organisations within 20%",
        lambda p: RB.quota({"HTTNV": 5, "HTXSNV": 1}, p, subject_kind="organization"),
    ),
    fires(
        "R2018-Q-LEADER",
        "leaders over 20% are only warned",
        lambda p: RB.quota({"HTTNV": 9, "HTXSNV": 2}, p, subject_kind=SubjectKind.LEADER),
        severity=Severity.WARN,
    ),
    quiet(
        "R2018-Q-LEADER", "leaders within 20%", lambda p: RB.quota({"HTTNV": 10, "HTXSNV": 2}, p, subject_kind="leader")
    ),
    # Party organisations
    fires(
        "R2018-O-XS-CRITERIA",
        "an organisation with 'programmes into action' at Trung bình is at most HTTNV",
        organization(answers_2018("organization", programmes_into_action=TB)),
        cap=Level.HTTNV,
    ),
    fires(
        "R2018-O-XS-CRITERIA",
        "an organisation with its socio-economic results at Tốt is at most HTTNV",
        organization(answers_2018("organization", socio_economic_defence=T)),
        cap=Level.HTTNV,
    ),
    fires(
        "R2018-O-XS-CRITERIA",
        "an organisation with nothing rated yet is reported unchecked",
        organization(Answers()),
        severity=Severity.WARN,
    ),
    quiet(
        "R2018-O-XS-CRITERIA",
        "results Xuất sắc and the other criteria Tốt allow HTXSNV",
        organization(answers_2018("organization", programmes_into_action=T, remedy_results=T)),
    ),
    fires(
        "R2018-O-XS-SUB",
        "a cell with 75% of members at HTTNV or better is at most HTTNV",
        organization(member_levels={Level.HTTNV: 3, Level.HTNV: 1}),
        cap=Level.HTTNV,
        severity=Severity.BLOCK,
    ),
    fires(
        "R2018-O-XS-SUB",
        "a committee whose subordinate levels are unknown is warned at HTTNV",
        organization(kind="committee"),
        cap=Level.HTTNV,
        severity=Severity.WARN,
    ),
    quiet(
        "R2018-O-XS-SUB",
        "a cell with exactly 80% at HTTNV or better meets HTXSNV",
        organization(member_levels={Level.HTTNV: 4, Level.HTNV: 1}),
    ),
    fires(
        "R2018-O-XS-PEER",
        "a same-level body at HTNV caps the organisation at HTTNV",
        organization(peer_levels=(Level.HTXSNV, Level.HTNV)),
        cap=Level.HTTNV,
    ),
    fires(
        "R2018-O-XS-PEER",
        "unknown same-level bodies are warned",
        organization(peer_levels=None),
        cap=Level.HTTNV,
        severity=Severity.WARN,
    ),
    quiet("R2018-O-XS-PEER", "same-level bodies at HTTNV allow HTXSNV", organization(peer_levels=(Level.HTTNV,))),
    quiet("R2018-O-XS-PEER", "an organisation without same-level bodies is not checked", organization(peer_levels=())),
    fires(
        "R2018-O-TT-CRITERIA",
        "a party-building criterion at Trung bình caps the organisation at HTNV",
        organization(answers_2018("organization", inspection_discipline=TB)),
        cap=Level.HTNV,
    ),
    quiet(
        "R2018-O-TT-CRITERIA",
        "results at Tốt and the others at Trung bình allow HTTNV",
        organization(answers_2018("organization", rating=T, programmes_into_action=TB, remedy_results=TB)),
    ),
    fires(
        "R2018-O-TT-SUB",
        "a cell with one member at KHTNV is not 100% at HTNV or better",
        organization(member_levels={Level.HTTNV: 9, Level.KHTNV: 1}),
        cap=Level.HTNV,
    ),
    fires(
        "R2018-O-TT-SUB",
        "a cell with 40% at HTTNV or better is at most HTNV",
        organization(member_levels={Level.HTTNV: 2, Level.HTNV: 3}),
        cap=Level.HTNV,
    ),
    quiet(
        "R2018-O-TT-SUB",
        "a cell with exactly 50% at HTTNV or better meets HTTNV",
        organization(member_levels={Level.HTTNV: 2, Level.HTNV: 2}),
    ),
    fires(
        "R2018-O-TT-PEER",
        "a same-level body at KHTNV caps the organisation at HTNV",
        organization(peer_levels=(Level.KHTNV,)),
        cap=Level.HTNV,
    ),
    quiet("R2018-O-TT-PEER", "same-level bodies at HTNV allow HTTNV", organization(peer_levels=(Level.HTNV,))),
    fires(
        "R2018-O-HTNV",
        "a criterion at Kém makes the organisation KHTNV",
        organization(answers_2018("organization", remedy_results=K)),
        cap=Level.KHTNV,
    ),
    quiet(
        "R2018-O-HTNV",
        "all criteria at Trung bình keep HTNV open",
        organization(answers_2018("organization", rating=TB)),
    ),
    fires(
        "R2018-O-DISCIPLINED",
        "a disciplined organisation is KHTNV, mitigable",
        organization(disciplined=True),
        cap=Level.KHTNV,
        mitigable=True,
    ),
    quiet("R2018-O-DISCIPLINED", "an organisation not disciplined", organization()),
    fires(
        "R2018-O-TASKS50",
        "49% of the socio-economic targets makes the organisation KHTNV",
        organization(answers=Answers(ratings=answers_2018("organization").ratings, tasks=TaskStats("0.49"))),
        cap=Level.KHTNV,
    ),
    fires(
        "R2018-O-TASKS50",
        "party building rated Kém makes the organisation KHTNV",
        organization(answers_2018("organization", organization_personnel=K)),
        cap=Level.KHTNV,
    ),
    quiet(
        "R2018-O-TASKS50",
        "49% of the targets under force majeure does not count",
        organization(
            answers=Answers(ratings=answers_2018("organization").ratings, tasks=TaskStats("0.49")), force_majeure=True
        ),
    ),
    fires(
        "R2018-O-KHTNV20-CB",
        "a cell with 2 of 9 members at KHTNV (22%) is KHTNV",
        organization(member_levels={Level.HTTNV: 7, Level.KHTNV: 2}),
        cap=Level.KHTNV,
    ),
    quiet(
        "R2018-O-KHTNV20-CB",
        "a cell with 1 of 5 members at KHTNV (20%) is not caught",
        organization(member_levels={Level.HTTNV: 4, Level.KHTNV: 1}),
    ),
    fires(
        "R2018-O-KHTNV20-DB",
        "a committee with 2 of 9 subordinate organisations at KHTNV is warned at KHTNV",
        organization(kind="committee", subordinate_levels={Level.HTTNV: 7, Level.KHTNV: 2}),
        cap=Level.KHTNV,
        severity=Severity.WARN,
    ),
    quiet(
        "R2018-O-KHTNV20-DB",
        "a committee with 1 of 5 at KHTNV",
        organization(kind="committee", subordinate_levels={Level.HTTNV: 4, Level.KHTNV: 1}),
    ),
    fires(
        "R2018-O-OTHER",
        "disunity or disciplined corruption warns at KHTNV",
        organization(disunity_or_corruption=True),
        cap=Level.KHTNV,
        severity=Severity.WARN,
    ),
    quiet("R2018-O-OTHER", "no disunity, no corruption", organization()),
    # Leadership collectives
    fires(
        "R2018-C-CAP-ORG",
        "a collective whose organisation is HTTNV is at most HTTNV",
        collective(organization_level=Level.HTTNV),
        cap=Level.HTTNV,
        severity=Severity.BLOCK,
    ),
    fires(
        "R2018-C-CAP-ORG",
        "a collective whose organisation's level is unknown is warned",
        collective(organization_level=None),
        severity=Severity.WARN,
    ),
    quiet("R2018-C-CAP-ORG", "a collective whose organisation is HTXSNV", collective()),
    fires(
        "R2018-C-DISCIPLINE",
        "a member of the collective warned (cảnh cáo) makes it KHTNV",
        collective(member_disciplines=(reprimand(form="warning"),)),
        cap=Level.KHTNV,
    ),
    quiet(
        "R2018-C-DISCIPLINE",
        "a member only reprimanded (khiển trách) does not",
        collective(member_disciplines=(reprimand(),)),
    ),
    # Leaders
    fires(
        "R2018-L-UNIT",
        "a leader whose unit is HTNV is warned above HTTNV",
        evaluate_leader(leader(unit_level=Level.HTNV)),
        cap=Level.HTTNV,
        severity=Severity.WARN,
    ),
    fires(
        "R2018-L-UNIT",
        "a leader whose unit is KHTNV is warned above KHTNV",
        evaluate_leader(leader(unit_level=Level.KHTNV)),
        cap=Level.KHTNV,
    ),
    fires(
        "R2018-L-UNIT",
        "corruption in the unit warns at KHTNV",
        evaluate_leader(leader(remit_corruption_disciplined=True)),
        cap=Level.KHTNV,
    ),
    quiet("R2018-L-UNIT", "a leader whose unit is HTTNV", evaluate_leader(leader(unit_level=Level.HTTNV))),
    fires(
        "R2018-L-NOT-ABOVE",
        "a leader above the HTTNV unit they head is warned",
        evaluate_leader(leader(unit_level=Level.HTTNV)),
        cap=Level.HTTNV,
        severity=Severity.WARN,
    ),
    quiet("R2018-L-NOT-ABOVE", "a leader of an HTXSNV unit", evaluate_leader(leader())),
    # Procedure and follow-up
    fires(
        "R2018-P-CBCCVC-FIRST",
        "a civil servant without the year's civil-service rating blocks the decision",
        evaluate_member(civil_servant(None)),
        severity=Severity.BLOCK,
    ),
    quiet("R2018-P-CBCCVC-FIRST", "a civil servant with a rating", evaluate_member(civil_servant(Level.HTXSNV))),
    quiet("R2018-P-CBCCVC-FIRST", "a member who is not a civil servant needs none", evaluate_member(member())),
    fires(
        "R2018-M-TWO-YEARS",
        "KHTNV two years running is flagged",
        lambda p: RB.two_years_khtnv(Level.KHTNV, Level.KHTNV, p),
        severity=Severity.WARN,
    ),
    quiet(
        "R2018-M-TWO-YEARS", "KHTNV after HTNV is not flagged", lambda p: RB.two_years_khtnv(Level.HTNV, Level.KHTNV, p)
    ),
    fires(
        "R2018-P-TIMING",
        "cell meetings due after the end of the year are warned",
        lambda p: RB.schedule_findings(Schedule(2018, cell_meeting_due=date(2019, 1, 10)), p),
        severity=Severity.WARN,
    ),
    quiet(
        "R2018-P-TIMING",
        "self-reviews and cell meetings due in December",
        lambda p: RB.schedule_findings(
            Schedule(2018, self_review_due=date(2018, 12, 10), cell_meeting_due=date(2018, 12, 31)), p
        ),
    ),
]


@pytest.mark.parametrize("case", [case for case in CASES if case.fires], ids=str)
def test_rule_fires_when_its_condition_holds(case):
    check_case(case)


@pytest.mark.parametrize("case", [case for case in CASES if not case.fires], ids=str)
def test_rule_stays_quiet_when_its_condition_does_not_hold(case):
    check_case(case)


# --- The level derivation ------------------------------------------------------------------------------


def test_a_member_meeting_every_condition_has_no_findings_and_may_be_htxsnv():
    evaluation = RB.evaluate_member(member(), answers_2018(tasks=TaskStats(1)))
    assert evaluation.findings == ()
    assert evaluation.level == Level.HTXSNV
    assert evaluation.allowed_levels() == Level.best_first()


def test_the_suggested_level_is_the_highest_whose_conditions_hold():
    assert RB.evaluate_member(member(), answers_2018(rating=T)).level == Level.HTTNV
    assert RB.evaluate_member(member(), answers_2018(rating=TB)).level == Level.HTNV
    assert RB.evaluate_member(member(), answers_2018(rating=K)).level == Level.KHTNV


def test_explain_names_the_rule_and_cites_the_document():
    evaluation = RB.evaluate_member(member(disciplines=(reprimand(),)), answers_2018())
    assert not evaluation.allowed(Level.HTNV)
    (finding,) = evaluation.explain(Level.HTNV)
    assert finding.rule_id == "R2018-M-DISCIPLINE"
    assert finding.message_vi.startswith("Bị kỷ luật trong năm")
    assert "Không hoàn thành nhiệm vụ" in finding.message_vi and "HD 21-HD/BTCTW" in finding.message_vi
    assert "classified Did not complete duties" in finding.message_en
    assert evaluation.allowed(Level.KHTNV)


def test_one_violation_counts_once_however_many_decisions():
    same = member(disciplines=(reprimand("v1"), reprimand("v1", date(2018, 9, 1), "warning")))
    two = member(disciplines=(reprimand("v1"), reprimand("v2")))
    assert "(1 vi phạm" in RB.evaluate_member(same, answers_2018()).by_rule("R2018-M-DISCIPLINE")[0].message_vi
    assert "(2 vi phạm" in RB.evaluate_member(two, answers_2018()).by_rule("R2018-M-DISCIPLINE")[0].message_vi


def test_warnings_allow_the_level_but_are_reported_for_it():
    evaluation = RB.evaluate_member(member(), answers_2018(rating=T, duty_results=X, ethics_lifestyle=TB))
    assert evaluation.allowed(Level.HTTNV)  # R2018-M-CRITERIA is [R]: a warning by default
    assert [f.rule_id for f in evaluation.warnings(Level.HTTNV)] == ["R2018-M-CRITERIA"]
    assert evaluation.warnings(Level.HTNV) == ()
    assert evaluation.level == Level.HTNV


def test_a_board_may_make_an_r_rule_block():
    params = RB.parameters({"switches": {"R2018-M-CRITERIA": {"enabled": True, "severity": "block"}}})
    evaluation = RB.evaluate_member(member(), answers_2018(ethics_lifestyle=TB), params)
    assert not evaluation.allowed(Level.HTTNV)
    assert evaluation.cap == Level.HTNV


def test_a_blocking_finding_without_cap_forbids_every_level_until_fixed():
    evaluation = RB.evaluate_member(member(temporary_attachment=True), answers_2018())
    assert evaluation.allowed_levels() == ()
    assert evaluation.level == Level.HTXSNV


def test_the_transfer_comment_can_be_a_warning_only():
    params = RB.parameters({"transfer_comment_severity": "warn"})
    facts = member(transfers=(TransferFact(date(2018, 7, 1), 8),))
    assert RB.evaluate_member(facts, answers_2018(), params).allowed(Level.HTXSNV)
    assert not RB.evaluate_member(facts, answers_2018()).allowed(Level.HTXSNV)


def test_sick_leave_threshold_follows_the_parameter():
    params = RB.parameters({"sick_leave_months": 2})
    assert RB.evaluate_member(member(sick_leave_days=59, sick_leave_months=2), answers_2018(), params).cap == Level.HTNV
    assert RB.evaluate_member(member(sick_leave_days=59, sick_leave_months="1.95"), answers_2018(), params).cap is None


def test_a_leader_is_rated_on_the_results_of_the_unit_led_as_well():
    template = RB.form_template("leader", "analysis")
    assert {item.id for item in template.rating_items("results")} == {"duty_results", "unit_results"}
    evaluation = RB.evaluate_leader(leader(), answers_2018("leader", unit_results=T))
    assert evaluation.cap == Level.HTTNV
    assert "R2018-M-XS-CRITERIA" in evaluation.rule_ids


def test_nothing_rated_yet_caps_nothing_so_a_member_may_propose_any_level():
    evaluation = RB.evaluate_member(member(), None)
    (finding,) = evaluation.findings
    assert (finding.rule_id, finding.severity, finding.cap) == ("R2018-M-XS-CRITERIA", Severity.WARN, None)
    assert evaluation.allowed(Level.HTXSNV)
    assert evaluation.warnings(Level.HTXSNV) == (finding,)


def test_unknown_inputs_warn_without_lowering_the_suggestion():
    facts = OrganizationFacts(member_levels={Level.HTTNV: 4, Level.HTXSNV: 1})  # same-level bodies not known
    evaluation = RB.evaluate_organization(facts, answers_2018("organization"))
    assert {f.rule_id for f in evaluation.unchecked} == {"R2018-O-XS-PEER", "R2018-O-TT-PEER"}
    assert evaluation.level == Level.HTXSNV
    assert evaluation.allowed(Level.HTXSNV)
    assert {f.rule_id for f in evaluation.warnings(Level.HTXSNV)} == {"R2018-O-XS-PEER", "R2018-O-TT-PEER"}
    assert [f.rule_id for f in evaluation.warnings(Level.HTTNV)] == ["R2018-O-TT-PEER"]
    assert evaluation.warnings(Level.HTNV) == ()


def test_a_rating_of_an_unknown_criterion_is_the_callers_error():
    with pytest.raises(AnswersError, match="no_such"):
        RB.evaluate_member(member(), Answers(ratings={"no_such": Rating.TOT}))


def test_a_disciplined_organisation_may_be_graded_higher_with_a_reason():
    evaluation = RB.evaluate_organization(
        OrganizationFacts(disciplined=True, member_levels={Level.HTTNV: 5}, peer_levels=()),
        answers_2018("organization"),
    )
    assert not evaluation.allowed(Level.HTTNV)
    assert evaluation.allowed(Level.HTTNV, mitigated={"R2018-O-DISCIPLINED"})
    mitigated = RB.mitigate(evaluation, {"R2018-O-DISCIPLINED"})
    assert mitigated.allowed(Level.HTTNV)
    assert mitigated.by_rule("R2018-O-DISCIPLINED")[0].severity == Severity.INFO


def test_a_collective_is_capped_by_its_organisation():
    evaluation = RB.evaluate_collective(CollectiveFacts(organization_level=Level.HTNV), answers_2018("collective"))
    assert evaluation.allowed(Level.HTNV)
    assert not evaluation.allowed(Level.HTTNV)


# --- Exclusions -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "reason", "reviewed"),
    [
        (member(status=MemberStatus.EXCUSED), "excused", False),
        (member(status=MemberStatus.SUSPENDED), "suspended", False),
        (member(admission_date=date(2018, 6, 2)), "new_member", True),
    ],
    ids=["excused", "suspended", "admitted 5 months 29 days ago"],
)
def test_members_not_classified_say_why_and_whether_they_still_write_a_review(facts, reason, reviewed):
    exclusion = RB.exclusion(facts, REFERENCE)
    assert (exclusion.reason, exclusion.reviewed) == (reason, reviewed)
    assert exclusion.message_vi and exclusion.message_en


def test_a_member_admitted_on_31_august_reaches_6_months_at_the_end_of_february():
    facts = member(admission_date=date(2018, 8, 31), official_date=None)
    assert RB.exclusion(facts, date(2019, 2, 27)) is not None
    assert RB.exclusion(facts, date(2019, 2, 28)) is None


def test_a_status_that_began_after_the_reference_date_does_not_exclude():
    facts = member(status=MemberStatus.EXCUSED, status_since=date(2018, 12, 15))
    assert RB.exclusion(facts, REFERENCE) is None
    assert RB.exclusion(facts, date(2018, 12, 20)).reason == "excused"


def test_committee_only_suspension_and_probation_of_six_months_are_classified():
    assert RB.exclusion(member(status="suspended", suspended_from_committee_only=True), REFERENCE) is None
    assert RB.exclusion(member(admission_date=date(2018, 5, 1), official_date=None), REFERENCE) is None


def test_an_excluded_member_evaluates_to_not_classified_with_no_level_allowed():
    evaluation = RB.evaluate_member(member(status="excused"), answers_2018(), reference_date=REFERENCE)
    assert evaluation.not_classified.rule_id == "R2018-M-EXEMPT-MIEN"
    assert evaluation.allowed_levels() == ()
    assert evaluation.level is None


def test_the_new_member_period_is_a_parameter():
    facts = member(admission_date=date(2018, 9, 1))
    assert RB.exclusion(facts, REFERENCE) is not None
    assert RB.exclusion(facts, REFERENCE, RB.parameters({"new_member_months": 3})) is None


def test_the_2018_review_follows_hd_16_and_later_years_hd_21():
    assert RB.default_parameters(2018).guidance == "HD16"
    assert RB.default_parameters(2019).guidance == "HD21"
    assert RB.exclusion(member(status="suspended"), REFERENCE, RB.default_parameters(2018)) is None


# --- Quota -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "denominator", "cap_count", "allowed"),
    [
        ({Level.HTTNV: 5, Level.HTXSNV: 1}, "HTTNV", 1, True),
        ({Level.HTTNV: 4, Level.HTXSNV: 1}, "HTTNV", 0, False),
        ({Level.HTTNV: 4, Level.HTXSNV: 0}, "HTTNV", 0, True),
        ({Level.HTTNV: 9, Level.HTXSNV: 2}, "HTTNV", 1, False),
        ({Level.HTTNV: 4, Level.HTXSNV: 1}, "HTTNV_OR_BETTER", 1, True),
        ({Level.HTTNV: 3, Level.HTXSNV: 1}, "HTTNV_OR_BETTER", 0, False),
    ],
    ids=[
        "5 HTTNV allow 1 HTXSNV",
        "4 HTTNV allow none",
        "4 HTTNV and no HTXSNV",
        "9 HTTNV round down to 1",
        "HTTNV or better: 4 + 1 allow the 1",
        "HTTNV or better: 3 + 1 allow none",
    ],
)
def test_the_member_quota_rounds_down(counts, denominator, cap_count, allowed):
    params = RB.parameters({"quota_denominator": denominator})
    result = RB.quota(counts, params)
    assert (result.cap_count, result.allowed, result.within) == (cap_count, allowed, allowed)


def test_the_quota_rounding_and_severity_are_parameters():
    counts = {"HTTNV": 8, "HTXSNV": 2}  # 20% of 8 = 1.6
    assert RB.quota(counts).cap_count == 1
    assert RB.quota(counts, RB.parameters({"quota_rounding": "half_up"})).cap_count == 2
    assert RB.quota(counts, RB.parameters({"quota_rounding": "up"})).cap_count == 2
    warn = RB.quota(counts, RB.parameters({"quota_severity": "warn"}))
    assert (warn.within, warn.allowed, warn.excess) == (False, True, 1)
    assert warn.as_finding().severity == Severity.WARN


def test_the_quota_message_states_the_numbers():
    result = RB.quota({"HTTNV": 5, "HTXSNV": 2})
    assert result.message_vi.startswith("2 đảng viên HTXSNV; tối đa 1 (20% của số HTTNV = 5): vượt 1")
    assert "2 members at HTXSNV; at most 1 (20% of the HTTNV count = 5): 1 over the quota" in result.message_en


def test_there_is_no_raised_quota_in_2018():
    with pytest.raises(ValueError, match="no raised quota"):
        RB.quota({"HTTNV": 5}, raised=True)


def test_an_r_quota_switched_off_never_blocks():
    params = RB.default_parameters().with_switch("R2018-Q-ORG", enabled=False)
    result = RB.quota({"HTTNV": 1, "HTXSNV": 3}, params, subject_kind="organization")
    assert (result.within, result.allowed, result.severity) == (False, True, Severity.INFO)


def test_counts_must_be_whole_numbers():
    with pytest.raises(ValueError):
        RB.quota({"HTTNV": -1})
    with pytest.raises(ValueError):
        RB.quota({"GOOD": 1})


def test_the_committee_suspension_note_names_its_date_when_known():
    facts = member(suspended_from_committee_only=True, committee_suspended_on=date(2018, 6, 1))
    [finding] = evaluate_member(facts)(RB.default_parameters()).by_rule("R2018-M-CU-SUSP")
    assert "(từ ngày 01/06/2018): vẫn kiểm điểm và xếp loại" in finding.message_vi
    assert finding.severity == Severity.INFO and finding.cap is None
