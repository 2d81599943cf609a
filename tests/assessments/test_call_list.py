"""Reminders reach those without e-mail: a printable call list of who has not submitted, with their
phone numbers and the state of their form, and the reminder's message pointing to it."""

import re

import pytest
from django.urls import reverse

from assessments.core import services
from assessments.models import Assessment, AuditEntry, Period
from members.models import Member
from tests.factories import MemberFactory, OrganizationFactory

pytestmark = pytest.mark.django_db
S = Assessment.State


@pytest.fixture
def period(city, personas):
    """2026, open. Cell A1: the secretary submitted; Lê Thị Hoa returned with a reason; Phạm Đức Anh
    has not started. Cell A2: Nguyễn Văn Dũng drafting, Vũ Thị Ánh not to be classified."""
    Member.objects.filter(pk=personas.member_record.pk).update(phone="0912 345 678", email="hoa@example.org")
    Member.objects.filter(pk=personas.member_a1_other.pk).update(phone="0987654321")
    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=period, user=personas.board)
    forms = Assessment.objects.filter(period=period)
    forms.filter(member=personas.secretary_a1_record).update(state=S.SUBMITTED)
    forms.filter(member=personas.member_record).update(state=S.RETURNED, return_reason="Bổ sung phần khắc phục")
    forms.filter(member=personas.member_a2).update(state=S.DRAFT)
    forms.filter(member__full_name="Vũ Thị Ánh").update(classified=False, exclusion_note="Ốm dài ngày")
    period.refresh_from_db()
    return period


def calls(period, organization, **params):
    address = reverse("assessments:call_list", args=[period.public_id, organization.code])
    return address + ("?without_email=1" if params.get("without_email") else "")


def rows(response):
    """[(heading of the cell or None, [row text, ...])] of the call list."""
    html = response.content.decode()
    groups = []
    for part in re.split(r'(?=<h2 class="cell-heading|<table class="grid calls">)', html)[1:]:
        heading = re.match(r'<h2 class="cell-heading[^"]*">([^<]+)</h2>', part)
        if heading:
            groups.append((heading[1], []))
            continue
        if not groups or groups[-1][1]:
            groups.append((None, []))
        body = part[part.index("<tbody>") : part.index("</tbody>")]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
            groups[-1][1].append(" ".join(re.sub(r"<[^>]+>", " ", row).split()))
    return groups


def test_the_cell_list_has_who_has_not_submitted_with_phone_and_state(period, city, personas, client_for):
    response = client_for(personas.secretary_a1).get(calls(period, city.cell_a1))
    assert response.status_code == 200
    assert rows(response) == [
        (
            None,
            [
                "1 Phạm Đức Anh 0987654321 Chưa bắt đầu",
                "2 Lê Thị Hoa 0912 345 678 có email Đã trả lại để sửa: Bổ sung phần khắc phục",
            ],
        )
    ]
    html = response.content.decode()
    assert 'href="/static/css/print.css"' in html
    assert "DANH SÁCH ĐẢNG VIÊN CHƯA NỘP BẢN KIỂM ĐIỂM" in html and "Đã gọi" in html
    assert html.count('class="tick-box"') == 2


def test_the_committee_list_goes_cell_by_cell_and_leaves_out_those_not_classified(period, city, personas, client_for):
    response = client_for(personas.officer_a).get(calls(period, city.committee_a))
    assert rows(response) == [
        (
            "Chi bộ A1 (2)",
            [
                "1 Phạm Đức Anh 0987654321 Chưa bắt đầu",
                "2 Lê Thị Hoa 0912 345 678 có email Đã trả lại để sửa: Bổ sung phần khắc phục",
            ],
        ),
        ("Chi bộ A2 (1)", ["1 Nguyễn Văn Dũng chưa có số Đang soạn thảo"]),
    ]
    assert "Vũ Thị Ánh" not in response.content.decode()


def test_the_list_can_keep_to_those_without_e_mail(period, city, personas, client_for):
    response = client_for(personas.secretary_a1).get(calls(period, city.cell_a1, without_email=True))
    assert rows(response) == [(None, ["1 Phạm Đức Anh 0987654321 Chưa bắt đầu"])]
    assert "1 đảng viên không có email" in response.content.decode()


def test_when_everyone_has_submitted_the_list_says_so(period, city, personas, client_for):
    Assessment.objects.filter(period=period, organization=city.cell_a1).update(state=S.SUBMITTED)
    response = client_for(personas.secretary_a1).get(calls(period, city.cell_a1))
    assert rows(response) == []
    assert "không có ai cần gọi điện" in response.content.decode()


@pytest.mark.parametrize("persona", ["secretary_b1", "member", "evaluator", "outsider"])
def test_the_list_is_out_of_sight_outside_ones_scope(period, city, personas, client_for, persona):
    assert client_for(getattr(personas, persona)).get(calls(period, city.cell_a1)).status_code == 404


def test_the_secretary_cannot_see_the_committees_list(period, city, personas, client_for):
    assert client_for(personas.secretary_a1).get(calls(period, city.committee_a)).status_code == 404


def test_the_list_refuses_a_post(period, city, personas, client_for):
    assert client_for(personas.secretary_a1).post(calls(period, city.cell_a1)).status_code == 405


def test_the_dashboards_lead_to_the_list(period, city, personas, client_for):
    cell = client_for(personas.secretary_a1).get(reverse("assessments:dashboard", args=[period.public_id, "chi-bo-a1"]))
    assert f'href="{calls(period, city.cell_a1)}"' in cell.content.decode()
    committee = client_for(personas.officer_a).get(
        reverse("assessments:dashboard", args=[period.public_id, "dang-bo-a"])
    )
    html = committee.content.decode()
    assert f'href="{calls(period, city.committee_a)}"' in html
    assert "3 đảng viên chưa nộp bản kiểm điểm" in html


def test_the_reminder_e_mails_who_it_can_and_points_to_the_list_for_the_rest(
    period, city, personas, client_for, mailoutbox, django_capture_on_commit_callbacks
):
    client = client_for(personas.secretary_a1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("assessments:remind", args=[period.public_id, "chi-bo-a1"]), follow=True)
    assert [m.to for m in mailoutbox] == [["hoa@example.org"]]
    html = response.content.decode()
    assert "Đã gửi email nhắc nộp cho 1 đảng viên." in html
    assert "1 đảng viên không có địa chỉ email: đề nghị đồng chí gọi điện hoặc đến nhắc trực tiếp." in html
    assert f'href="{calls(period, city.cell_a1, without_email=True)}"' in html
    entry = AuditEntry.objects.get(period=period, action="remind")
    assert entry.data == {"organization": "chi-bo-a1", "emailed": 1, "in_person": 1}


def test_a_reminder_that_reaches_everyone_by_e_mail_has_no_link(
    period, city, personas, client_for, django_capture_on_commit_callbacks
):
    Member.objects.filter(pk=personas.member_a1_other.pk).update(email="anh@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(personas.secretary_a1).post(
            reverse("assessments:remind", args=[period.public_id, "chi-bo-a1"]), follow=True
        )
    html = response.content.decode()
    assert "Đã gửi email nhắc nộp cho 2 đảng viên." in html
    assert "without_email" not in html


def test_the_list_costs_the_same_queries_for_a_committee_ten_times_larger(
    period, city, personas, client_for, django_assert_num_queries
):
    client = client_for(personas.officer_a)
    # session, user, role assignments, the organisation, the period, the forms with members and cells.
    with django_assert_num_queries(6):
        assert client.get(calls(period, city.committee_a)).status_code == 200
    for number in range(3):
        city.committee_a.refresh_from_db()
        cell = OrganizationFactory(code=f"chi-bo-a8{number}", name=f"Chi bộ A8{number}", parent=city.committee_a)
        for _ in range(10):
            MemberFactory(cell=cell, phone="0900000000")
    larger = Period.objects.create(organization=city.city, year=2027, regime="2018")
    services.period_open(period=larger, user=personas.board)
    with django_assert_num_queries(6):
        response = client.get(calls(larger, city.committee_a))
    assert sum(len(group) for _heading, group in rows(response)) == 35
