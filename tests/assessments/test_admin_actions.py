"""The board's admin actions call the same services as the screens, and report what they did."""

import datetime

import pytest
from django.urls import reverse

from assessments import decisions
from assessments.core import services
from assessments.decisions import closing
from assessments.models import Assessment, AuditEntry, Period
from assessments.reviews import services as review_services
from members.models import Member

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:assessments_assessment_changelist"


@pytest.fixture
def board_client(client, personas):
    # The board's role alone: its group's permissions, as every installation gives them.
    assert not personas.board.user_permissions.exists() and not personas.board.is_superuser
    client.force_login(personas.board)
    return client


@pytest.fixture
def period(city, personas):
    Member.objects.update(occupation=Member.Occupation.RETIRED)
    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=period, user=personas.board)
    return period


def test_return_asks_for_a_reason_then_returns_through_the_service(period, personas, board_client):
    form = Assessment.objects.get(period=period, member=personas.member_record)
    review_services.assessment_submit(assessment=form, user=personas.member, base_version=0)
    data = {"action": "return_forms", "_selected_action": [form.pk]}
    page = board_client.post(reverse(CHANGELIST), data)
    assert page.status_code == 200 and "id_reason" in page.content.decode()
    form.refresh_from_db()
    assert form.state == Assessment.State.SUBMITTED  # nothing yet
    board_client.post(reverse(CHANGELIST), {**data, "apply": "1", "reason": ""})
    form.refresh_from_db()
    assert form.state == Assessment.State.SUBMITTED  # no reason, no return
    response = board_client.post(reverse(CHANGELIST), {**data, "apply": "1", "reason": "Bổ sung mục III"})
    assert response.status_code == 302
    form.refresh_from_db()
    assert form.state == Assessment.State.RETURNED and form.return_reason == "Bổ sung mục III"
    assert AuditEntry.objects.filter(assessment=form, action="return", actor=personas.board).exists()


def test_the_reason_page_says_what_is_wrong_with_the_reason_and_changes_nothing(period, personas, board_client):
    form = Assessment.objects.get(period=period, member=personas.member_record)
    review_services.assessment_submit(assessment=form, user=personas.member, base_version=0)
    data = {"action": "return_forms", "_selected_action": [form.pk], "apply": "1"}
    blank = board_client.post(reverse(CHANGELIST), {**data, "reason": "   "}).content.decode()
    assert "Xin ghi rõ lý do trả lại các bản kiểm điểm." in blank
    long = board_client.post(reverse(CHANGELIST), {**data, "reason": "x" * 2001}).content.decode()
    assert "2000" in long and "x" * 2001 in long  # the message, and the text kept to be shortened
    form.refresh_from_db()
    assert form.state == Assessment.State.SUBMITTED
    assert not AuditEntry.objects.filter(assessment=form, action="return").exists()


def test_decide_as_proposed_goes_through_the_decision_service(period, personas, city, board_client):
    forms = list(
        Assessment.objects.filter(
            period=period, organization__path__startswith=city.committee_a.path, member__isnull=False
        )
    )
    Assessment.objects.filter(pk__in=[f.pk for f in forms]).update(cell_proposed_level="HTNV")
    data = {"action": "decide_as_proposed", "_selected_action": [f.pk for f in forms]}
    page = board_client.post(reverse(CHANGELIST), data)
    # First the page that shows each organisation's quota as it would stand; nothing decided yet.
    assert page.status_code == 200 and "Đảng bộ A" in page.content.decode()
    assert not Assessment.objects.exclude(decided_level="").exists()
    response = board_client.post(reverse(CHANGELIST), {**data, "apply": "1"})
    assert response.status_code == 302
    assert set(Assessment.objects.filter(pk__in=[f.pk for f in forms]).values_list("decided_level", flat=True)) == {
        "HTNV"
    }
    assert AuditEntry.objects.filter(action="decide").count() == 5


def test_decide_as_proposed_goes_through_the_quota_and_its_exception(period, personas, city, board_client):
    forms = list(
        Assessment.objects.filter(
            period=period, organization__path__startswith=city.committee_a.path, member__isnull=False
        ).order_by("pk")
    )
    Assessment.objects.filter(pk__in=[f.pk for f in forms]).update(cell_proposed_level="HTXSNV")
    data = {"action": "decide_as_proposed", "_selected_action": [f.pk for f in forms]}
    page = board_client.post(reverse(CHANGELIST), data)
    # No reason is asked for here: an exception needs the competent level's decision, on the decision screen.
    assert page.status_code == 200 and 'name="reason"' not in page.content.decode()
    assert page.context["groups"][0]["over"] is True  # everyone decided, all HTXSNV: over, shown in red
    refused = board_client.post(reverse(CHANGELIST), {**data, "apply": "1", "reason": "Đơn vị dẫn đầu cụm thi đua"})
    assert refused.status_code == 200 and "R2018-Q-MEMBER" in " ".join(refused.context["errors"])
    assert not Assessment.objects.exclude(decided_level="").exists()
    assert not AuditEntry.objects.filter(action="quota_exception").exists()
    # A period that allows an exception, one HTXSNV for four HTTNV (25%: 1) and the decision on record first.
    Period.objects.filter(pk=period.pk).update(parameters={"quota_exception_allowed": True})
    period.refresh_from_db()
    Assessment.objects.filter(pk__in=[f.pk for f in forms[1:]]).update(cell_proposed_level="HTTNV")
    decisions.exception_record(
        period=period,
        group=city.committee_a,
        group_queryset=decisions.member_assessments(period, city.committee_a),
        user=personas.board,
        subject_kind="member",
        decision=decisions.ExceptionDecision("9-QĐ/TU", datetime.date(2026, 2, 1), "Ban Thường vụ", "Dẫn đầu cụm"),
    )
    page = board_client.post(reverse(CHANGELIST), data)
    assert page.context["groups"][0]["over"] is False  # covered by the decision
    done = board_client.post(reverse(CHANGELIST), {**data, "apply": "1"})
    assert done.status_code == 302
    assert Assessment.objects.filter(decided_level="HTXSNV").count() == 1
    assert AuditEntry.objects.filter(action="quota_exception").count() == 1


def test_reopen_from_the_admin_asks_for_the_reason(period, personas, city, board_client):
    from tests.helpers import decide_everything

    decide_everything(period, personas.board)
    closing.period_finalise(period=period, user=personas.board)
    form = Assessment.objects.get(period=period, member=personas.member_record)
    data = {"action": "reopen_subjects", "_selected_action": [form.pk]}
    page = board_client.post(reverse(CHANGELIST), data)
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()
    board_client.post(reverse(CHANGELIST), {**data, "apply": "1", "reason": "  "})
    form.refresh_from_db()
    assert not form.reopened
    response = board_client.post(reverse(CHANGELIST), {**data, "apply": "1", "reason": "Sai sót khi tổng hợp"})
    assert response.status_code == 302
    form.refresh_from_db()
    assert form.reopened
    assert AuditEntry.objects.get(assessment=form, action="reopen").reason == "Sai sót khi tổng hợp"


def test_finalise_and_publish_from_the_admin(period, personas, city, board_client):

    from tests.helpers import decide_everything

    decide_everything(period, personas.board)
    changelist = reverse("admin:assessments_period_changelist")
    board_client.post(changelist, {"action": "finalise_periods", "_selected_action": [period.pk]})
    period.refresh_from_db()
    assert period.state == Period.State.FINALISED
    board_client.post(changelist, {"action": "publish_periods", "_selected_action": [period.pk]})
    period.refresh_from_db()
    assert period.state == Period.State.PUBLISHED


def test_the_ranking_in_the_admin_counts_members_levels_and_evaluators(period, personas, city, board_client):
    from assessments import decisions

    forms = Assessment.objects.filter(
        period=period, member__isnull=False, organization__path__startswith=city.committee_a.path
    )
    decisions.decisions_record(
        period=period, organization=city.committee_a, user=personas.board, choices={f.pk: ("HTNV", "") for f in forms}
    )
    response = board_client.get(reverse("admin:assessments_organizationreview_changelist"))
    assert response.status_code == 200
    rows = {r.organization.code: r for r in response.context["cl"].result_list}
    assert "chi-bo-a1" in rows and all(r.subject_kind == "organization" for r in rows.values())
    assert (rows["dang-bo-a"].count_htnv, rows["dang-bo-a"].count_httnv) == (5, 0)
    assert rows["chi-bo-a1"].count_htnv == 3 and rows["dang-bo-b"].count_htnv == 0
    assert rows["dang-bo-a"].evaluation_count == 0
