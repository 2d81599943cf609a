"""Closing the round: every reviewed subject decided (R2025-ALL-REVIEW-CLASS / R2018-ALL-LEVEL), the matters
to re-check resolved (R2025-P-RECHECK), re-grading keeping both levels (R2025-P-REGRADE), and the members
eligible for an award (R2018-AWARD)."""

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from assessments.core import services
from assessments.decisions import closing, rechecks
from assessments.models import Assessment, AuditEntry, Period, Recheck
from assessments.outputs import statistics
from assessments.outputs.workbook import write_workbook
from members.models import Member
from tests.helpers import decide_collectives, decide_everything, decide_members, rank_organizations

pytestmark = pytest.mark.django_db
K = Assessment.SubjectKind


def opened(city, personas, regime="2025", year=2026):
    Member.objects.update(occupation=Member.Occupation.RETIRED)
    period = Period.objects.create(organization=city.city, year=year, regime=regime)
    services.period_open(period=period, user=personas.board)
    period.refresh_from_db()
    return period


def blockers_in_english(period):
    with translation.override("en"):
        return closing.finalise_blockers(period)


def one(blockers, words):
    found = [message for message in blockers if words in message]
    assert len(found) == 1, blockers
    return found[0]


@pytest.fixture
def decided(city, personas):
    period = opened(city, personas)
    decide_everything(period, personas.board)
    return period


# --- Every reviewed subject decided ---------------------------------------------------------------------------


@pytest.mark.parametrize("regime, rule_id", [("2025", "R2025-ALL-REVIEW-CLASS"), ("2018", "R2018-ALL-LEVEL")])
def test_each_kind_left_undecided_is_named_with_its_count_its_first_names_and_the_rule(city, personas, regime, rule_id):
    period = opened(city, personas, regime)
    # One member is a leader this year.
    leader = Assessment.objects.get(period=period, member=personas.member_a2)
    Assessment.objects.filter(pk=leader.pk).update(subject_kind=K.LEADER)
    blockers = blockers_in_english(period)
    members = Assessment.objects.filter(period=period, subject_kind=K.MEMBER, classified=True).count()
    member_line = one(blockers, "members to be classified have no decided level yet")
    assert member_line.startswith(f"{rule_id}: {members} members")
    assert f"and {members - closing.NAMED_IN_BLOCKER} more" in member_line
    leader_line = one(blockers, "leader to be classified has no decided level yet")
    assert leader_line.startswith(f"{rule_id}: 1 leader") and personas.member_a2.full_name in leader_line
    collectives = Assessment.objects.filter(period=period, subject_kind=K.COLLECTIVE, classified=True).count()
    collective_line = one(blockers, "leadership collectives have no decided level yet")
    assert collective_line.startswith(f"{rule_id}: {collectives} leadership collectives")
    assert city.committee_a.name in collective_line
    organizations = one(blockers, "party organisations have no decided level yet")
    assert city.cell_a1.name in organizations

    # Deciding each kind takes its line away; a collective left undecided holds the period alone.
    decide_members(period, personas.board)
    Assessment.objects.filter(pk=leader.pk).update(decided_level="HTNV")
    rank_organizations(period, personas.board)
    assert blockers_in_english(period) == []
    Assessment.objects.filter(period=period, subject_kind=K.COLLECTIVE).update(decided_level="")
    blockers = blockers_in_english(period)
    assert len(blockers) == 1 and "leadership collectives" in blockers[0]
    with pytest.raises(services.WorkflowError) as refused, translation.override("en"):
        closing.period_finalise(period=period, user=personas.board)
    assert refused.value.errors == blockers
    decide_collectives(period)
    assert blockers_in_english(period) == []
    closing.period_finalise(period=period, user=personas.board)
    assert Period.objects.get(pk=period.pk).state == Period.State.FINALISED


def test_the_blocker_speaks_the_users_language(city, personas):
    period = opened(city, personas)
    with translation.override("vi"):
        blockers = closing.finalise_blockers(period)
    assert any("tập thể lãnh đạo" in message and "R2025-ALL-REVIEW-CLASS" in message for message in blockers)


def test_a_decision_to_confirm_again_holds_the_period(city, personas):
    period = opened(city, personas)
    decide_everything(period, personas.board)
    assert blockers_in_english(period) == []
    Assessment.objects.filter(period=period, organization=city.cell_a1, subject_kind=K.ORGANIZATION).update(
        to_confirm=True
    )
    line = one(blockers_in_english(period), "must be confirmed again")
    assert line.startswith("1 decision") and city.cell_a1.name in line


# --- Matters to re-check ----------------------------------------------------------------------------------------


def test_an_open_recheck_holds_the_period_until_its_outcome_is_recorded(decided, personas, city):
    assert blockers_in_english(decided) == []
    subject = Assessment.objects.get(period=decided, member=personas.member_record)
    recheck = rechecks.recheck_open(
        period=decided, assessment=subject, kind=Recheck.Kind.COMPLAINT, summary="Đơn khiếu nại", user=personas.board
    )
    line = one(blockers_in_english(decided), "matter to re-check is still open")
    assert line.startswith("R2025-P-RECHECK: 1 matter")
    assert f"Complaint about {personas.member_record.full_name}" in line
    with pytest.raises(services.WorkflowError):
        closing.period_finalise(period=decided, user=personas.board)
    # Only the board records or resolves one.
    with pytest.raises(services.WorkflowError):
        rechecks.recheck_resolve(recheck=recheck, resolution="Không có cơ sở", user=personas.officer_a)
    with pytest.raises(services.WorkflowError):
        rechecks.recheck_resolve(recheck=recheck, resolution=" ", user=personas.board)
    rechecks.recheck_resolve(recheck=recheck, resolution="Không có cơ sở", user=personas.board)
    assert blockers_in_english(decided) == []
    closing.period_finalise(period=decided, user=personas.board)
    actions = list(AuditEntry.objects.filter(assessment=subject).values_list("action", flat=True))
    assert "recheck_open" in actions and "recheck_resolve" in actions


def test_the_board_records_resolves_and_finalises_through_its_screens(decided, personas, city, client_for):
    assert not personas.board.is_superuser
    client = client_for(personas.board)
    home = client.get(reverse("home")).content.decode()
    address = reverse("assessments:rechecks", args=[decided.public_id])
    assert address in home
    assert client.get(address).status_code == 200
    response = client.post(
        address,
        {"subject": city.cell_a2.code, "kind": "disunity", "summary": "Dấu hiệu mất đoàn kết", "opened_on": ""},
    )
    assert response.status_code == 302
    recheck = Recheck.objects.get(period=decided)
    assert (recheck.assessment.organization, recheck.assessment.subject_kind) == (city.cell_a2, K.ORGANIZATION)
    assert recheck.opened_by == personas.board and recheck.is_open
    # An unknown subject is refused, with the reason on the page.
    refused = client.post(address, {"subject": "khong-co", "kind": "complaint", "summary": "x"})
    assert refused.status_code == 400 and Recheck.objects.count() == 1

    finalise = {"action": "finalise_periods", "_selected_action": [decided.pk]}
    page = client.post(reverse("admin:assessments_period_changelist"), finalise, follow=True)
    assert not Period.objects.get(pk=decided.pk).is_locked
    assert any("R2025-P-RECHECK" in str(message) for message in page.context["messages"])
    assert "R2025-P-RECHECK" in client.get(address).content.decode()

    resolve = reverse("assessments:recheck_resolve", args=[decided.public_id, recheck.pk])
    client.post(resolve, {"resolution": "Đã kiểm tra, không có cơ sở", "resolved_on": "2026-12-20"})
    recheck.refresh_from_db()
    assert (recheck.resolved_on, recheck.resolved_by) == (datetime.date(2026, 12, 20), personas.board)
    client.post(reverse("admin:assessments_period_changelist"), finalise)
    assert Period.objects.get(pk=decided.pk).state == Period.State.FINALISED


def test_others_do_not_reach_the_rechecks(decided, personas, client_for):
    address = reverse("assessments:rechecks", args=[decided.public_id])
    for user in (personas.officer_a, personas.secretary_a1, personas.member):
        assert client_for(user).get(address).status_code == 404
        assert client_for(user).post(address, {"subject": "x", "kind": "complaint", "summary": "x"}).status_code == 404


def test_the_board_manages_rechecks_in_the_admin(decided, personas, city, client_for):
    client = client_for(personas.board)
    subject = Assessment.objects.get(period=decided, member=personas.member_record)
    response = client.post(
        reverse("admin:assessments_recheck_add"),
        {
            "period": decided.pk,
            "assessment": subject.pk,
            "kind": "denunciation",
            "summary": "Tố cáo",
            "opened_on": "2026-12-01",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    recheck = Recheck.objects.get()
    assert recheck.opened_by == personas.board
    assert AuditEntry.objects.filter(action="recheck_open", actor=personas.board).exists()


# --- Re-grading ---------------------------------------------------------------------------------------------------


def test_regrading_keeps_both_levels_and_the_reference(decided, personas, city, client_for):
    closing.period_finalise(period=decided, user=personas.board)
    form = Assessment.objects.get(period=decided, member=personas.member_record)
    board = client_for(personas.board)
    board.post(
        reverse("assessments:reopen", args=[form.public_id]),
        {"reason": "Phát hiện sai sót", "reference": "QĐ số 12-QĐ/TU ngày 05/02/2027"},
    )
    form.refresh_from_db()
    assert form.reopened and form.regrading_reference == "QĐ số 12-QĐ/TU ngày 05/02/2027"
    officer = client_for(personas.officer_a)
    address = reverse("assessments:decide", args=[decided.public_id, city.committee_a.code])
    assert officer.post(address, {f"level-{form.pk}": "HTTNV"}, HTTP_HX_REQUEST="true").status_code == 200
    form.refresh_from_db()
    assert (form.regraded_from, form.decided_level) == ("HTNV", "HTTNV")
    assert form.regrading_text == "HTNV → HTTNV (QĐ số 12-QĐ/TU ngày 05/02/2027)"
    entry = AuditEntry.objects.filter(assessment=form, action="decide").latest("pk")
    assert entry.data["previous_level"] == "HTNV" and entry.data["reference"].startswith("QĐ số 12")
    reopen = AuditEntry.objects.get(assessment=form, action="reopen")
    assert reopen.data == {"level": "HTNV", "reference": "QĐ số 12-QĐ/TU ngày 05/02/2027"}
    # The member's history and the list of members show both levels.
    history = board.get(reverse("members:detail", args=[personas.member_record.public_id])).content.decode()
    assert "HTNV → HTTNV (QĐ số 12-QĐ/TU ngày 05/02/2027)" in history
    buffer = io.BytesIO()
    with translation.override("en"):
        write_workbook(decided, city.city, buffer)
    buffer.seek(0)
    rows = list(load_workbook(buffer, read_only=True)["List of members"].iter_rows(values_only=True))
    column = rows[0].index("Re-graded")
    row = next(row for row in rows if row[2] == personas.member_record.card_number)
    assert row[column] == form.regrading_text


# --- Awards -------------------------------------------------------------------------------------------------------


def earlier_years(city, member, years, level="HTXSNV", state=Period.State.PUBLISHED):
    for year in years:
        period, _created = Period.objects.get_or_create(
            organization=city.city, year=year, quarter=None, defaults={"regime": "2018", "state": state}
        )
        Assessment.objects.create(
            period=period, subject_kind=K.MEMBER, member=member, organization=member.cell, decided_level=level
        )


def test_five_years_running_and_not_four(decided, personas, city, django_assert_num_queries):
    five, four = personas.member_record, personas.member_a2
    Assessment.objects.filter(period=decided, member__in=[five, four]).update(decided_level="HTXSNV")
    earlier_years(city, five, range(2022, 2026))
    earlier_years(city, four, range(2023, 2026))
    earlier_years(city, four, [2022], level="HTTNV")
    with django_assert_num_queries(2):
        lists = statistics.award_lists(decided, city.city)
    assert {a.member for a in lists.this_year} == {five, four}
    assert [a.member for a in lists.years_running] == [five]
    assert (lists.first_year, lists.year) == (2022, 2026)
    # A year not finalised does not count; nor does another committee's period.
    Period.objects.filter(organization=city.city, year=2024).update(state=Period.State.OPEN)
    assert statistics.award_lists(decided, city.city).years_running == []


def test_the_award_lists_on_the_statistics_page_and_in_the_workbook(decided, personas, city, client_for):
    member = personas.member_record
    Assessment.objects.filter(period=decided, member=member).update(decided_level="HTXSNV")
    earlier_years(city, member, range(2022, 2026))
    page = client_for(personas.board).get(reverse("assessments:stats", args=[decided.public_id, city.city.code]))
    assert [a.member for a in page.context["awards"].years_running] == [member]
    assert 'id="award-running-table"' in page.content.decode()
    buffer = io.BytesIO()
    with translation.override("en"):
        write_workbook(decided, city.city, buffer)
    buffer.seek(0)
    workbook = load_workbook(buffer, read_only=True)
    assert "Eligible for awards" in workbook.sheetnames
    rows = list(workbook["Eligible for awards"].iter_rows(values_only=True))
    assert rows[0][-1] == "HTXSNV five years running (2022–2026)"
    assert [(row[1], row[-2], row[-1]) for row in rows[1:]] == [(member.full_name, "HTXSNV", "yes")]
