"""Every fact reaches the rulebook where levels are decided: scores, paper totals, leave in calendar
months under the period's parameters, discipline counted once, conclusions on conduct, last year's
level, and the level of the unit a leader heads. Through the decision screen, as the officer who
decides; the rule fires there, and stays quiet when its condition does not hold."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from assessments.core import services
from assessments.core.facts import calendar_months, period_parameters
from assessments.evaluations import PAPER_TOTAL, evaluate_assessments, facts_for
from assessments.models import Assessment, AuditEntry, Period
from assessments.reviews.formview import template_for
from members.models import DegradationConclusion, DisciplineDecision, LeavePeriod, Member
from vocabulary import Level

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def retired(personas):
    """Retired members: no civil-service rating is needed before deciding them."""
    Member.objects.update(occupation=Member.Occupation.RETIRED)


def open_period(city, personas, regime, **parameters):
    period = Period.objects.create(organization=city.city, year=2026, regime=regime, parameters=parameters)
    services.period_open(period=period, user=personas.board)
    return period


def form_of(period, member):
    return Assessment.objects.select_related("member", "period").get(period=period, member=member)


def with_score(assessment, total):
    """The self-review's part B filled to `total` points out of 100, spread over the items."""
    template = template_for(assessment)
    items = template.points_items()
    answers = dict(assessment.answers)
    left = Decimal(str(total))
    for item in items[:-1]:
        share = (item.max_points * Decimal(str(total)) / 100).quantize(Decimal("0.01"))
        answers[item.id] = str(share)
        left -= share
    answers[items[-1].id] = str(left)
    Assessment.objects.filter(pk=assessment.pk).update(answers=answers)


def decide(client, period, organization, assessment, level, note=""):
    address = reverse("assessments:decide", args=[period.public_id, organization.code])
    data = {f"level-{assessment.pk}": level}
    if note:
        data[f"note-{assessment.pk}"] = note
    return client.post(address, data, HTTP_HX_REQUEST="true")


def refused(response, *words):
    text = response.content.decode()
    return response.status_code == 422 and all(word in text for word in words)


# --- 2025: the score ------------------------------------------------------------------------------------------


def test_a_score_of_69_5_is_not_decided_httnv(city, personas, client_for):
    period = open_period(city, personas, "2025")
    form = form_of(period, personas.member_record)
    with_score(form, "69.5")
    client = client_for(personas.officer_a)
    response = decide(client, period, city.committee_a, form, "HTTNV", note="Đạt kết quả tốt")
    assert refused(response, "R2025-S-BANDS") or refused(response, "69,5")
    assert Assessment.objects.get(pk=form.pk).decided_level == ""
    assert decide(client, period, city.committee_a, form, "HTNV").status_code == 200
    assert Assessment.objects.get(pk=form.pk).decided_level == "HTNV"


def test_without_a_score_no_level_is_decided_and_the_row_says_what_is_missing(city, personas, client_for):
    period = open_period(city, personas, "2025")
    form = form_of(period, personas.member_record)
    response = decide(client_for(personas.officer_a), period, city.committee_a, form, "HTNV")
    assert refused(response, "phần B")
    assert Assessment.objects.get(pk=form.pk).decided_level == ""


def test_92_points_and_no_task_shares_are_not_htxsnv_at_the_decision(city, personas, client_for):
    period = open_period(city, personas, "2025")
    form = form_of(period, personas.member_record)
    with_score(form, 92)
    evaluation = evaluate_assessments(period, [form_of(period, personas.member_record)])[form.pk]
    assert evaluation.band == Level.HTXSNV
    response = decide(client_for(personas.officer_a), period, city.committee_a, form, "HTXSNV")
    assert refused(response, "R2025-M-XS") or refused(response, "vượt mức")
    assert Assessment.objects.get(pk=form.pk).decided_level == ""


# --- 2025: the total of a paper form ------------------------------------------------------------------------------


def paper_url(period, cell):
    return reverse("assessments:paper", args=[period.public_id, cell.code])


def test_the_secretary_records_the_papers_total_and_the_decision_reads_it(city, personas, client_for):
    period = open_period(city, personas, "2025")
    form = form_of(period, personas.member_record)
    client = client_for(personas.secretary_a1)
    page = client.get(paper_url(period, city.cell_a1))
    assert f'name="score-{form.pk}"' in page.content.decode()
    response = client.post(paper_url(period, city.cell_a1), {f"received-{form.pk}": "1", f"score-{form.pk}": "69,5"})
    assert response.status_code == 302
    form.refresh_from_db()
    assert form.answers[PAPER_TOTAL] == "69.5" and form.on_paper
    evaluation = evaluate_assessments(period, [form_of(period, personas.member_record)])[form.pk]
    assert evaluation.score.total == Decimal("69.5") and evaluation.cap == Level.HTNV


@pytest.mark.parametrize(
    ("score", "message"),
    [("", "tổng điểm"), ("abc", "từ 0 đến 100"), ("100,5", "từ 0 đến 100"), ("-1", "từ 0 đến 100")],
)
def test_a_missing_or_wrong_paper_total_is_refused_and_nothing_is_saved(city, personas, client_for, score, message):
    period = open_period(city, personas, "2025")
    form = form_of(period, personas.member_record)
    client = client_for(personas.secretary_a1)
    response = client.post(paper_url(period, city.cell_a1), {f"received-{form.pk}": "1", f"score-{form.pk}": score})
    assert response.status_code == 400 and message in response.content.decode().lower()
    form.refresh_from_db()
    assert form.state == Assessment.State.NOT_STARTED and PAPER_TOTAL not in form.answers


def test_a_2018_paper_list_asks_for_no_score(city, personas, client_for):
    period = open_period(city, personas, "2018")
    page = client_for(personas.secretary_a1).get(paper_url(period, city.cell_a1))
    assert page.status_code == 200 and 'name="score-' not in page.content.decode()


# --- Leave in calendar months, under the period's parameters ------------------------------------------------


def test_calendar_months_count_the_calendar_not_days():
    assert calendar_months(datetime.date(2026, 3, 1), datetime.date(2026, 5, 31)) == 3
    assert calendar_months(datetime.date(2026, 2, 10), datetime.date(2026, 5, 9)) == 3  # 89 days
    assert calendar_months(datetime.date(2026, 1, 1), datetime.date(2026, 3, 30)) < 3  # 89 days, short of 3
    assert calendar_months(datetime.date(2026, 5, 1), datetime.date(2026, 4, 1)) == 0


def sick(member, start, end):
    LeavePeriod.objects.create(member=member, kind=LeavePeriod.Kind.SICK, starts_on=start, ends_on=end)


def test_three_calendar_months_of_sick_leave_cap_the_decision_at_htnv(city, personas, client_for):
    sick(personas.member_record, datetime.date(2026, 2, 10), datetime.date(2026, 5, 9))  # 89 days, 3 months
    period = open_period(city, personas, "2018")
    form = form_of(period, personas.member_record)
    response = decide(client_for(personas.officer_a), period, city.committee_a, form, "HTTNV")
    assert refused(response, "R2018-M-SICK") or refused(response, "Nghỉ ốm")


def test_the_periods_sick_leave_months_apply_at_the_decision(city, personas, client_for):
    sick(personas.member_record, datetime.date(2026, 3, 1), datetime.date(2026, 6, 8))  # 100 days
    period = open_period(city, personas, "2018", sick_leave_months=4)
    assert period_parameters(period).sick_leave_months == 4
    form = form_of(period, personas.member_record)
    assert decide(client_for(personas.officer_a), period, city.committee_a, form, "HTTNV").status_code == 200
    period.parameters = {"sick_leave_months": 3}
    period.save(update_fields=["parameters"])
    assert period_parameters(period).sick_leave_months == 3
    evaluation = evaluate_assessments(period, [form_of(period, personas.member_record)])[form.pk]
    assert evaluation.cap == Level.HTNV


# --- Discipline: one violation once, an earlier year's not again --------------------------------------------------


def discipline(member, **fields):
    values = {"decided_on": datetime.date(2026, 4, 1), "form": "reprimand", "reason": "Vi phạm quy chế"} | fields
    return DisciplineDecision.objects.create(member=member, **values)


def test_two_decisions_on_one_violation_count_once(city, personas):
    member = personas.member_record
    discipline(member, violation_reference="KL-01")
    discipline(member, decided_on=datetime.date(2026, 6, 1), form="warning", violation_reference="KL-01")
    period = open_period(city, personas, "2018")
    (finding,) = evaluate_assessments(period, [form_of(period, member)])[form_of(period, member).pk].by_rule(
        "R2018-M-DISCIPLINE"
    )
    assert "1" in finding.message_vi


def test_a_violation_counted_in_an_earlier_year_does_not_lower_the_level_again(city, personas, client_for):
    member = personas.member_record
    discipline(member, violation_year=2025, counted_in_earlier_year=True)
    period = open_period(city, personas, "2018")
    form = form_of(period, member)
    assert not evaluate_assessments(period, [form])[form.pk].by_rule("R2018-M-DISCIPLINE")
    assert decide(client_for(personas.officer_a), period, city.committee_a, form, "HTNV").status_code == 200


def test_a_violation_counted_this_year_lowers_the_level_at_the_decision(city, personas, client_for):
    discipline(personas.member_record)
    period = open_period(city, personas, "2018")
    form = form_of(period, personas.member_record)
    response = decide(client_for(personas.officer_a), period, city.committee_a, form, "HTNV")
    assert refused(response, "R2018-M-DISCIPLINE") or refused(response, "kỷ luật")


def test_a_violation_after_its_decision_is_refused_with_a_message():
    record = DisciplineDecision(decided_on=datetime.date(2026, 4, 1), form="reprimand", reason="x", violation_year=2027)
    with pytest.raises(ValidationError) as error:
        record.clean()
    assert "violation_year" in error.value.message_dict


def test_a_decision_date_in_the_future_is_refused():
    record = DisciplineDecision(
        decided_on=datetime.date.today() + datetime.timedelta(days=3), form="reprimand", reason="x"
    )
    with pytest.raises(ValidationError) as error:
        record.clean()
    assert "decided_on" in error.value.message_dict


# --- 2025: the conduct of Điều 11 khoản 4 (M1) --------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["prohibitions", "exemplary_duty", "degradation"])
def test_a_conclusion_on_conduct_makes_a_2025_member_khtnv(city, personas, kind):
    member = personas.member_record
    DegradationConclusion.objects.create(
        member=member, kind=kind, concluded_on=datetime.date(2026, 5, 1), body="UBKT Thành ủy", summary="Kết luận"
    )
    period = open_period(city, personas, "2025")
    form = form_of(period, member)
    with_score(form, 85)
    evaluation = evaluate_assessments(period, [form_of(period, member)])[form.pk]
    assert evaluation.by_rule("R2025-M-K-CONDUCT") and evaluation.cap == Level.KHTNV


def test_without_a_conclusion_the_conduct_trigger_is_quiet(city, personas):
    period = open_period(city, personas, "2025")
    form = form_of(period, personas.member_record)
    with_score(form, 85)
    assert not evaluate_assessments(period, [form_of(period, personas.member_record)])[form.pk].by_rule(
        "R2025-M-K-CONDUCT"
    )


# --- Last year's level; the unit a leader heads ------------------------------------------------------------------


def test_last_years_level_reaches_the_facts(city, personas):
    before = open_period(city, personas, "2018")
    Assessment.objects.filter(period=before, member=personas.member_record).update(decided_level="KHTNV")
    period = Period.objects.create(organization=city.city, year=2027, regime="2018")
    services.period_open(period=period, user=personas.board)
    form = form_of(period, personas.member_record)
    assert facts_for(period, [form])[form.pk].previous_level == Level.KHTNV


def test_the_secretary_of_a_khtnv_cell_is_held_to_the_cells_level(city, personas, client_for):
    Member.objects.filter(pk=personas.secretary_a1_record.pk).update(is_leader=True)
    period = open_period(
        city,
        personas,
        "2018",
        switches={"R2018-L-UNIT": {"enabled": True, "severity": "block"}},
    )
    form = form_of(period, personas.secretary_a1_record)
    assert form.subject_kind == Assessment.SubjectKind.LEADER
    client = client_for(personas.officer_a)
    # The cell not decided yet: nothing to hold the secretary to.
    assert not evaluate_assessments(period, [form])[form.pk].by_rule("R2018-L-UNIT")
    Assessment.objects.filter(period=period, organization=city.cell_a1, subject_kind="organization").update(
        decided_level="KHTNV"
    )
    response = decide(client, period, city.committee_a, form_of(period, personas.secretary_a1_record), "HTXSNV")
    assert refused(response, "R2018-L-UNIT") or refused(response, "Đơn vị do cán bộ")
    assert Assessment.objects.get(pk=form.pk).decided_level == ""


def test_a_leader_decided_before_the_cell_is_put_back_to_confirm_when_the_cell_is_lower(city, personas, client_for):
    Member.objects.filter(pk=personas.secretary_a1_record.pk).update(is_leader=True)
    period = open_period(city, personas, "2018", switches={"R2018-L-UNIT": {"enabled": True, "severity": "block"}})
    officer = client_for(personas.officer_a)
    address = reverse("assessments:decide", args=[period.public_id, city.committee_a.code])
    forms = Assessment.objects.filter(period=period, organization__path__startswith=city.committee_a.path).exclude(
        member=None
    )
    assert officer.post(address, {f"level-{f.pk}": "HTTNV" for f in forms}).status_code == 302
    leader = form_of(period, personas.secretary_a1_record)
    assert leader.decided_level == "HTTNV" and not leader.to_confirm
    # The committee decides cell A1 KHTNV: its secretary's HTTNV no longer holds (R2018-L-UNIT).
    cell = Assessment.objects.get(period=period, organization=city.cell_a1, subject_kind="organization")
    rank = reverse("assessments:rank", args=[period.public_id, city.committee_a.code])
    assert officer.post(rank, {f"level-{cell.pk}": "KHTNV"}).status_code == 302
    leader.refresh_from_db()
    assert leader.to_confirm and leader.decided_level == "HTTNV"
    assert "Không hoàn thành nhiệm vụ" in leader.to_confirm_reason
    page = officer.get(address, {"show": "undecided"})
    assert leader.pk in [row.assessment.pk for row in page.context["rows"]]
    assert "To confirm" in page.content.decode() or "xác nhận lại" in page.content.decode()
    # Deciding it again above the cell's level is refused; at the level the rules allow, it is confirmed.
    assert refused(decide(officer, period, city.committee_a, leader, "HTTNV"), "R2018-L-UNIT") or refused(
        decide(officer, period, city.committee_a, leader, "HTTNV"), "Đơn vị do cán bộ"
    )
    assert decide(officer, period, city.committee_a, leader, "KHTNV").status_code == 200
    leader.refresh_from_db()
    assert leader.decided_level == "KHTNV" and not leader.to_confirm


def test_a_member_who_heads_no_unit_is_not_put_back(city, personas, client_for):
    period = open_period(city, personas, "2018", switches={"R2018-L-UNIT": {"enabled": True, "severity": "block"}})
    officer = client_for(personas.officer_a)
    address = reverse("assessments:decide", args=[period.public_id, city.committee_a.code])
    forms = Assessment.objects.filter(period=period, organization__path__startswith=city.committee_a.path).exclude(
        member=None
    )
    assert officer.post(address, {f"level-{f.pk}": "HTTNV" for f in forms}).status_code == 302
    cell = Assessment.objects.get(period=period, organization=city.cell_a1, subject_kind="organization")
    rank = reverse("assessments:rank", args=[period.public_id, city.committee_a.code])
    assert officer.post(rank, {f"level-{cell.pk}": "KHTNV"}).status_code == 302
    assert not Assessment.objects.filter(period=period, to_confirm=True, member__isnull=False).exists()


def test_the_deciding_level_sets_a_trigger_aside_only_with_its_reason_on_record(city, personas, client_for):
    member = personas.member_record
    DegradationConclusion.objects.create(
        member=member, kind="prohibitions", concluded_on=datetime.date(2026, 5, 1), body="UBKT", summary="Kết luận"
    )
    period = open_period(city, personas, "2025")
    form = form_of(period, member)
    with_score(form, 85)
    client = client_for(personas.officer_a)
    response = decide(client, period, city.committee_a, form, "HTNV")
    assert refused(response, "R2025-M-K-CONDUCT")
    assert Assessment.objects.get(pk=form.pk).decided_level == ""
    reason = "Đã tự giác nhận lỗi, khắc phục xong hậu quả"
    assert decide(client, period, city.committee_a, form, "HTNV", note=reason).status_code == 200
    entry = AuditEntry.objects.get(assessment=form, action="decide")
    assert entry.data["mitigated"] == ["R2025-M-K-CONDUCT"] and entry.data["rule"] == "R2025-ALL-MITIGATE"
    assert entry.reason == reason
    # The band still holds: 85 points are not HTXSNV, whatever is written.
    assert refused(decide(client, period, city.committee_a, form, "HTXSNV", note=reason), "R2025-S-BANDS")


def test_the_evaluators_task_shares_reach_the_decision_when_the_cell_recorded_none(city, personas):
    from assessments.models import Analysis

    period = open_period(city, personas, "2025")
    form = form_of(period, personas.member_record)
    with_score(form, 95)
    shares = {"tasks_completed": "100", "tasks_on_time": "100", "tasks_exceeding": "40"}
    Analysis.objects.create(
        assessment=form, rater=personas.evaluator, answers=shares, submitted_at=datetime.datetime.now(datetime.UTC)
    )
    evaluation = evaluate_assessments(period, [form_of(period, personas.member_record)])[form.pk]
    assert not evaluation.by_rule("R2025-M-XS") and evaluation.allowed(Level.HTXSNV)
    Analysis.objects.filter(assessment=form).update(answers={**shares, "tasks_exceeding": "10"})
    evaluation = evaluate_assessments(period, [form_of(period, personas.member_record)])[form.pk]
    assert evaluation.by_rule("R2025-M-XS") and not evaluation.allowed(Level.HTXSNV)


# --- A leader's year (2025 Điều 11 khoản 4) and a temporary attachment (HD 43 §7.6) -----------------------------


def leader_period(city, personas, **year):
    from members.models import LeaderYear

    Member.objects.filter(pk=personas.secretary_a1_record.pk).update(is_leader=True)
    if year:
        LeaderYear.objects.create(member=personas.secretary_a1_record, year=2026, **year)
    period = open_period(city, personas, "2025")
    form = form_of(period, personas.secretary_a1_record)
    with_score(form, 80)
    return period, form_of(period, personas.secretary_a1_record)


@pytest.mark.parametrize(
    ("year", "rule"),
    [
        ({"unit_plan_share": Decimal("65")}, "R2025-L-K-TASKS"),
        ({"basic_targets_missed": True}, "R2025-L-K-TASKS"),
        ({"units_led": 4, "units_led_khtnv": 3}, "R2025-L-K-TASKS"),
        ({"low_confidence_share": Decimal("55")}, "R2025-L-K-VOTE"),
        ({"remit_corruption_disciplined": True}, "R2025-L-K-CORRUPT"),
    ],
)
def test_the_leaders_year_makes_a_trigger_fire_at_the_decision(city, personas, client_for, year, rule):
    period, form = leader_period(city, personas, **year)
    response = decide(client_for(personas.officer_a), period, city.committee_a, form, "HTNV")
    assert refused(response, rule)


def test_a_leaders_year_within_the_limits_is_quiet(city, personas, client_for):
    period, form = leader_period(
        city, personas, unit_plan_share=Decimal("95"), units_led=4, units_led_khtnv=1, low_confidence_share=10
    )
    evaluation = evaluate_assessments(period, [form])[form.pk]
    assert not {"R2025-L-K-TASKS", "R2025-L-K-VOTE", "R2025-L-K-CORRUPT"} & evaluation.rule_ids
    assert decide(client_for(personas.officer_a), period, city.committee_a, form, "HTNV").status_code == 200


def test_a_temporary_attachment_needs_the_temporary_cells_comment(city, personas):
    from members.models import TemporaryAttachment

    attachment = TemporaryAttachment.objects.create(
        member=personas.member_record, temporary_cell=city.cell_b1, starts_on=datetime.date(2026, 3, 1)
    )
    period = open_period(city, personas, "2018")
    form = form_of(period, personas.member_record)
    assert evaluate_assessments(period, [form])[form.pk].by_rule("R2018-M-TEMP")
    attachment.comment = "Chấp hành tốt sinh hoạt tại chi bộ."
    attachment.save()
    assert not evaluate_assessments(period, [form_of(period, personas.member_record)])[form.pk].by_rule("R2018-M-TEMP")


# --- Suspended from committee work only (2018 HD 21; 2025 HD 43 §7.7) ------------------------------------------


def suspend_from_committee(member, year=2026):
    from members.models import CommitteeSuspension

    return CommitteeSuspension.objects.create(
        member=member, year=year, suspended_on=datetime.date(year, 6, 1), body="Ban Thường vụ Đảng ủy A"
    )


def cell_page(client, period, committee, cell):
    address = reverse("assessments:decide", args=[period.public_id, committee.code])
    return client.get(address, {"cell": cell.code})


@pytest.mark.parametrize(
    ("regime", "rule", "note"),
    [
        ("2018", "R2018-M-CU-SUSP", "chỉ bị đình chỉ sinh hoạt cấp ủy (từ ngày 01/06/2026): vẫn kiểm điểm và xếp loại"),
        ("2025", "R2025-M-CU-SUSP", "từ ngày 01/06/2026: kiểm điểm tại chi bộ, về thời gian trước ngày đó"),
    ],
)
def test_a_member_suspended_from_committee_work_only_is_classified_with_a_note_at_the_decision(
    city, personas, client_for, regime, rule, note
):
    suspend_from_committee(personas.secretary_a1_record)
    period = open_period(city, personas, regime)
    form = form_of(period, personas.secretary_a1_record)
    assert form.classified  # still reviewed and classified, unlike a suspension from party activities
    if regime == "2025":
        with_score(form, 80)
    officer = client_for(personas.officer_a)
    page = cell_page(officer, period, city.committee_a, city.cell_a1)
    [row] = [row for row in page.context["rows"] if row.assessment.pk == form.pk]
    [finding] = row.evaluation.by_rule(rule)
    assert finding.severity == "info" and not finding.cap
    assert any(note in text for text in row.notes) and note in page.content.decode()
    # The note is shown on this member's row only.
    other = next(row for row in page.context["rows"] if row.assessment.member_id == personas.member_record.pk)
    assert not other.evaluation.by_rule(rule) and not any("cấp ủy" in text for text in other.notes)
    # A note limits nothing: the member is decided like the others.
    assert decide(officer, period, city.committee_a, form, "HTNV").status_code == 200
    assert form_of(period, personas.secretary_a1_record).decided_level == "HTNV"


def test_a_suspension_from_committee_work_of_another_year_is_not_read(city, personas):
    suspend_from_committee(personas.member_record, 2025)
    period = open_period(city, personas, "2018")
    form = form_of(period, personas.member_record)
    facts = facts_for(period, [form])[form.pk]
    assert not facts.suspended_from_committee_only and facts.committee_suspended_on is None
    assert not evaluate_assessments(period, [form])[form.pk].by_rule("R2018-M-CU-SUSP")


def test_a_member_suspended_from_party_activities_is_not_classified_whatever_the_committee_suspension(city, personas):
    """The status says the member is suspended from party activities: not "from committee work only"."""
    suspend_from_committee(personas.member_record)
    Member.objects.filter(pk=personas.member_record.pk).update(
        status=Member.Status.SUSPENDED, status_since=datetime.date(2026, 1, 15)
    )
    period = open_period(city, personas, "2018")
    form = form_of(period, personas.member_record)
    assert not form.classified and form.exclusion_rule == "R2018-M-EXEMPT-SUSP"
    assert not facts_for(period, [form])[form.pk].suspended_from_committee_only
