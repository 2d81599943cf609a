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
from assessments.outputs.sheets import YearEndExport
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
    with django_assert_num_queries(4):  # each list's count and page
        lists = statistics.award_pages(decided, city.city)
    assert {a.member for a in lists.this_year} == {five, four}
    assert [a.member for a in lists.years_running] == [five]
    assert (lists.first_year, lists.year) == (2022, 2026)
    # The export decides the same members from the same subquery.
    assert YearEndExport(decided, city.city).award_years() == {five.pk}
    # A year not finalised does not count; nor does another committee's period.
    Period.objects.filter(organization=city.city, year=2024).update(state=Period.State.OPEN)
    assert list(statistics.award_pages(decided, city.city).years_running) == []


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


# --- After finalising: confirming again, or lowering, what a re-grading below put back to confirm ---------


def regrade_member(period, personas, city, member, level, reference="QĐ số 12-QĐ/TU ngày 05/02/2027"):
    """The board reopens `member`'s decision and committee A decides it again at `level`."""
    from assessments.decisions import decisions_record

    form = Assessment.objects.get(period=period, member=member)
    closing.assessment_reopen(assessment=form, user=personas.board, reason="Phát hiện sai sót", reference=reference)
    decisions_record(
        period=period, organization=city.committee_a, user=personas.officer_a, choices={form.pk: (level, "Sai sót")}
    )


@pytest.fixture
def put_back(city, personas):
    """A finalised 2018 round in which a member of cell A1 was re-graded KHTNV: the cell, decided HTNV, has
    one member in three KHTNV (R2018-O-KHTNV20-CB) and is back to confirm."""
    period = opened(city, personas, regime="2018")
    decide_everything(period, personas.board)
    closing.period_finalise(period=period, user=personas.board)
    regrade_member(period, personas, city, personas.member_record, "KHTNV")
    return Period.objects.get(pk=period.pk)


def organization_review(period, organization, kind=K.ORGANIZATION):
    return Assessment.objects.get(period=period, organization=organization, subject_kind=kind)


def confirm_url(period, assessment):
    return reverse("assessments:confirm_again", args=[period.public_id, assessment.public_id])


def closing_page(client, period):
    page = client.get(reverse("assessments:rechecks", args=[period.public_id]))
    assert page.status_code == 200
    return page


def messages_of(response):
    return " ".join(str(message) for message in response.context["messages"])


def test_the_board_lowers_to_what_the_rules_allow_each_decision_put_back_after_finalising(
    put_back, personas, city, client_for
):
    board = client_for(personas.board)
    cell = organization_review(put_back, city.cell_a1)
    assert cell.to_confirm and cell.decided_level == "HTNV"
    assert any("must be confirmed again" in line for line in blockers_in_english(put_back))
    page = closing_page(board, put_back)
    [item] = page.context["to_confirm"]
    assert item.assessment == cell and not item.confirmable and item.lower_to == "KHTNV"
    html = page.content.decode()
    assert f'data-to-confirm="{cell.pk}"' in html and "33,3% đảng viên của chi bộ xếp loại KHTNV" in html
    assert 'value="lower"' in html and 'value="confirm"' not in html

    # Confirming the level the rules forbid is refused, and so is lowering without the board's decision.
    response = board.post(confirm_url(put_back, cell), {"action": "confirm", "reason": "Giữ nguyên"}, follow=True)
    assert "R2018-O-KHTNV20-CB" in messages_of(response)
    response = board.post(confirm_url(put_back, cell), {"action": "lower", "reference": " "}, follow=True)
    assert "số và ngày" in messages_of(response) or "number and date" in messages_of(response)
    assert organization_review(put_back, city.cell_a1).to_confirm
    assert not AuditEntry.objects.filter(action__in=["confirm_again", "lower_to_cap"]).exists()

    # Lowered to KHTNV: both levels and the board's decision are kept, with the finding, in the history.
    reference = "QĐ số 15-QĐ/TU ngày 10/02/2027"
    response = board.post(confirm_url(put_back, cell), {"action": "lower", "reference": reference}, follow=True)
    assert response.status_code == 200
    cell.refresh_from_db()
    assert (cell.decided_level, cell.regraded_from, cell.regrading_reference) == ("KHTNV", "HTNV", reference)
    assert (cell.to_confirm, cell.to_confirm_reason, cell.decided_by) == (False, "", personas.board)
    assert cell.regrading_text == f"HTNV → KHTNV ({reference})"
    entry = AuditEntry.objects.get(assessment=cell, action="lower_to_cap")
    assert entry.actor == personas.board and entry.data["previous_level"] == "HTNV" and entry.data["level"] == "KHTNV"
    assert entry.data["reference"] == reference and "33,3%" in entry.data["finding"]

    # Committee A (its cells KHTNV and HTNV) may still be HTNV: nothing else comes back.
    assert not Assessment.objects.filter(period=put_back, to_confirm=True).exists()
    assert closing_page(board, put_back).context["to_confirm"] == []
    assert blockers_in_english(put_back) == []
    closing.period_finalise(period=put_back, user=personas.board)
    assert AuditEntry.objects.filter(action="finalise", data__again=True).exists()


def test_the_board_confirms_again_a_level_the_rules_allow_once_more(put_back, personas, city, client_for):
    # The re-grading itself is corrected: the member is HTNV again, and the cell's HTNV holds once more.
    regrade_member(put_back, personas, city, personas.member_record, "HTNV", reference="QĐ số 13-QĐ/TU")
    cell = organization_review(put_back, city.cell_a1)
    assert cell.to_confirm
    board = client_for(personas.board)
    [item] = closing_page(board, put_back).context["to_confirm"]
    assert item.confirmable and 'value="confirm"' in closing_page(board, put_back).content.decode()
    response = board.post(confirm_url(put_back, cell), {"action": "confirm", "reason": "Đảng viên đã được xếp lại"})
    assert response.status_code == 302
    cell.refresh_from_db()
    assert (cell.decided_level, cell.to_confirm, cell.regraded_from) == ("HTNV", False, "")
    entry = AuditEntry.objects.get(assessment=cell, action="confirm_again")
    assert entry.actor == personas.board and entry.reason == "Đảng viên đã được xếp lại"
    assert entry.data["level"] == "HTNV" and "33,3%" in entry.data["finding"]
    # Confirmed once: a second post finds nothing to confirm and changes nothing.
    board.post(confirm_url(put_back, cell), {"action": "confirm"})
    assert AuditEntry.objects.filter(assessment=cell, action="confirm_again").count() == 1


def test_only_the_board_confirms_again_and_only_after_finalising(put_back, personas, city, client_for):
    cell = organization_review(put_back, city.cell_a1)
    data = {"action": "lower", "reference": "QĐ số 15-QĐ/TU"}
    for user in (personas.officer_a, personas.secretary_a1, personas.member, personas.evaluator, personas.outsider):
        assert client_for(user).post(confirm_url(put_back, cell), data).status_code == 404
    assert client_for(personas.board).get(confirm_url(put_back, cell)).status_code == 405
    cell.refresh_from_db()
    assert cell.to_confirm and cell.decided_level == "HTNV"
    assert not AuditEntry.objects.filter(action="lower_to_cap").exists()
    # An unknown button is refused with a message.
    response = client_for(personas.board).post(confirm_url(put_back, cell), {"action": "x"}, follow=True)
    assert organization_review(put_back, city.cell_a1).to_confirm and messages_of(response)

    # Before finalising, the deciding level decides it again on its screen: not here.
    Period.objects.filter(pk=put_back.pk).update(state=Period.State.CLOSED)
    response = client_for(personas.board).post(confirm_url(put_back, cell), data, follow=True)
    assert "decision screen" in messages_of(response) or "màn hình quyết định" in messages_of(response)
    assert organization_review(put_back, city.cell_a1).decided_level == "HTNV"


def test_after_finalising_a_committee_lowered_puts_its_secretary_on_the_list(city, personas, client_for):
    """The secretary of committee A (a leader no higher than it: R2018-L-NOT-ABOVE made law) comes back
    to confirm when the board lowers the committee after finalising, and is lowered in turn."""
    Member.objects.filter(pk=personas.member_a2.pk).update(is_leader=True, headed_committee=city.committee_a)
    Member.objects.update(occupation=Member.Occupation.RETIRED)
    period = Period.objects.create(
        organization=city.city,
        year=2026,
        regime="2018",
        parameters={"switches": {"R2018-L-NOT-ABOVE": {"enabled": True, "severity": "block"}}},
    )
    services.period_open(period=period, user=personas.board)
    decide_everything(period, personas.board, level="HTTNV")
    closing.period_finalise(period=period, user=personas.board)
    regrade_member(period, personas, city, personas.member_record, "KHTNV")
    board = client_for(personas.board)
    reference = "QĐ số 15-QĐ/TU"
    cell = organization_review(period, city.cell_a1)
    board.post(confirm_url(period, cell), {"action": "lower", "reference": reference})
    committee = organization_review(period, city.committee_a)
    assert committee.to_confirm
    leader = Assessment.objects.get(period=period, member=personas.member_a2)
    assert leader.subject_kind == K.LEADER and not leader.to_confirm

    # Lowered to HTNV (a cell of two KHTNV: R2018-O-TT-SUB), which a warning concerns: the reason first.
    [item] = closing_page(board, period).context["to_confirm"]
    assert item.lower_to == "HTNV" and any("R2018-O-KHTNV20-DB" in m for m in item.lower_concerns)
    response = board.post(confirm_url(period, committee), {"action": "lower", "reference": reference}, follow=True)
    assert "R2018-O-KHTNV20-DB" in messages_of(response)
    assert organization_review(period, city.committee_a).decided_level == "HTTNV"
    data = {"action": "lower", "reference": reference, "reason": "Chi bộ A1 khắc phục trong năm"}
    board.post(confirm_url(period, committee), data)
    assert organization_review(period, city.committee_a).decided_level == "HTNV"

    # Its secretary's HTTNV is above the committee's HTNV (R2018-L-NOT-ABOVE, law in this period).
    leader.refresh_from_db()
    recheck = AuditEntry.objects.get(assessment=leader, action="recheck")
    assert leader.to_confirm and recheck.data["rules"] == ["R2018-L-NOT-ABOVE"] and recheck.actor == personas.board
    items = {item.assessment.pk: item for item in closing_page(board, period).context["to_confirm"]}
    assert items[leader.pk].lower_to == "HTNV" and not items[leader.pk].confirmable
    board.post(confirm_url(period, leader), {"action": "lower", "reference": reference})
    leader.refresh_from_db()
    assert (leader.decided_level, leader.regraded_from, leader.to_confirm) == ("HTNV", "HTTNV", False)
