"""The cell meeting in a real browser: the secretary opens the minutes from the cell's page, types the
attendance and the ballot count of each member (the page checks the sums as they are typed), saves,
and sees the cell's proposal for each member."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from assessments.core import services
from assessments.models import Assessment, Meeting, Period
from members.models import Member
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page, url, username):
    page.goto(url + "/accounts/login/")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()


@pytest.fixture
def submitted_forms(city, personas):
    Member.objects.update(occupation=Member.Occupation.RETIRED)
    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=period, user=personas.board)
    Assessment.objects.filter(period=period, member__isnull=False).update(state=Assessment.State.SUBMITTED)
    return period


def test_secretary_records_the_meeting_and_sees_the_proposals(live_server, page, personas, submitted_forms):
    sign_in(page, live_server.url, "secretary_a1")
    page.get_by_role("link", name="Tiến độ", exact=True).first.click()
    page.get_by_role("link", name="Hội nghị chi bộ và kiểm phiếu").click()
    expect(page.get_by_role("heading", name=re.compile("Hội nghị chi bộ và kiểm phiếu"))).to_be_visible()

    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    page.get_by_label("Ngày họp", exact=True).fill(yesterday.isoformat())
    expect(page.get_by_label("Tổng số đảng viên của chi bộ")).to_have_value("3")
    page.get_by_label("Số đảng viên có mặt").fill("3")
    page.get_by_label("Số đảng viên vắng mặt").fill("0")

    # The same number of ballots for everyone, in one go.
    page.get_by_label("Số phiếu phát ra (như nhau cho mọi đảng viên)").fill("3")
    page.get_by_label("Số phiếu thu về (như nhau cho mọi đảng viên)").fill("3")
    page.get_by_role("button", name="Điền cho tất cả đảng viên").click()

    counts = {
        "Lê Thị Hoa": {"Số phiếu hợp lệ": "3", "HTXSNV": "2", "HTTNV": "1", "HTNV": "0", "KHTNV": "0"},
        "Phạm Đức Anh": {"Số phiếu hợp lệ": "3", "HTXSNV": "0", "HTTNV": "2", "HTNV": "1", "KHTNV": "0"},
        "Trần Văn Bình": {"Số phiếu hợp lệ": "3", "HTXSNV": "1", "HTTNV": "0", "HTNV": "2", "KHTNV": "0"},
    }
    for name, fields in counts.items():
        for label, value in fields.items():
            page.get_by_label(f"{label} – {name}", exact=True).fill(value)

    # A slip is caught as it is typed: the levels no longer add up to the valid ballots.
    hoa = page.locator("tbody.member-line").filter(has_text="Lê Thị Hoa")
    page.get_by_label("HTTNV – Lê Thị Hoa", exact=True).fill("2")
    expect(hoa.locator(".row-check")).to_contain_text("phải bằng số phiếu hợp lệ")
    page.get_by_label("HTTNV – Lê Thị Hoa", exact=True).fill("1")
    expect(hoa.locator(".row-check")).to_have_text("Các số đã khớp.")
    expect(hoa.locator(".live-proposal")).to_have_text("Hoàn thành xuất sắc nhiệm vụ (HTXSNV)")

    page.get_by_role("button", name="Lưu biên bản").click()
    expect(page.get_by_role("alert").filter(has_text="Đã lưu biên bản")).to_be_visible()
    expected = {
        "Lê Thị Hoa": "Hoàn thành xuất sắc nhiệm vụ (HTXSNV)",
        "Phạm Đức Anh": "Hoàn thành tốt nhiệm vụ (HTTNV)",
        "Trần Văn Bình": "Hoàn thành nhiệm vụ (HTNV)",
    }
    for name, proposal in expected.items():
        line = page.locator("tbody.member-line").filter(has_text=name)
        expect(line.locator(".live-proposal")).to_have_text(proposal)
        expect(line).to_contain_text("Đã ghi vào bản kiểm điểm")

    meeting = Meeting.objects.get(period=submitted_forms)
    assert (meeting.members_total, meeting.present, meeting.absent) == (3, 3, 0)
    levels = dict(
        Assessment.objects.filter(
            period=submitted_forms, organization__code="chi-bo-a1", member__isnull=False
        ).values_list("member__full_name", "cell_proposed_level")
    )
    assert levels == {"Lê Thị Hoa": "HTXSNV", "Phạm Đức Anh": "HTTNV", "Trần Văn Bình": "HTNV"}


def test_fill_in_for_every_member_then_save_and_a_future_date_is_named_on_its_own(
    live_server, page, personas, submitted_forms
):
    sign_in(page, live_server.url, "secretary_a1")
    page.goto(f"{live_server.url}/reviews/period/{submitted_forms.public_id}/org/chi-bo-a1/meeting/")
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    page.get_by_label("Ngày họp", exact=True).fill(f"{yesterday.day}/{yesterday.month}/{yesterday.year}")
    expect(page.locator("#held_on_echo")).to_have_text(
        f"Ngày {yesterday.day:02d} tháng {yesterday.month:02d} năm {yesterday.year}"
    )
    page.get_by_label("Số đảng viên có mặt").fill("3")
    page.get_by_label("Số đảng viên vắng mặt").fill("0")
    page.get_by_label("Số phiếu phát ra (như nhau cho mọi đảng viên)").fill("3")
    page.get_by_label("Số phiếu thu về (như nhau cho mọi đảng viên)").fill("3")
    page.get_by_role("button", name="Điền cho tất cả đảng viên").click()
    expect(page.locator("#fill-all-status")).to_contain_text("Đã điền cho 3 đảng viên")
    # Every line says what it still needs: the four level counts, adding up to the valid ballots.
    for line in page.locator("tbody.member-line").all():
        expect(line.get_by_label(re.compile("^Số phiếu hợp lệ"))).to_have_value("3")
        expect(line.locator(".row-check")).to_contain_text("xin nhập số phiếu của từng mức")
        expect(line.locator(".row-check")).to_contain_text("phải bằng số phiếu hợp lệ (3)")
    hoa = page.locator("tbody.member-line").filter(has_text="Lê Thị Hoa")
    page.get_by_label("HTXSNV – Lê Thị Hoa", exact=True).fill("2")
    page.get_by_label("HTTNV – Lê Thị Hoa", exact=True).fill("1")
    expect(hoa.locator(".row-check")).to_have_text("Dòng này còn thiếu: HTNV, KHTNV.")
    page.get_by_label("HTNV – Lê Thị Hoa", exact=True).fill("0")
    page.get_by_label("KHTNV – Lê Thị Hoa", exact=True).fill("0")
    expect(hoa.locator(".row-check")).to_have_text("Các số đã khớp.")

    page.get_by_role("button", name="Lưu biên bản").click()
    expect(page.get_by_role("alert").filter(has_text="Đã lưu biên bản")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="2 đảng viên chưa được kiểm phiếu")).to_contain_text(
        "Phạm Đức Anh, Trần Văn Bình"
    )
    expect(hoa.locator(".live-proposal")).to_have_text("Hoàn thành xuất sắc nhiệm vụ (HTXSNV)")

    # A date after today: its own message at the top and at the field; what was typed stays.
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    page.get_by_label("Ngày họp", exact=True).fill(tomorrow.strftime("%d/%m/%Y"))
    expect(page.locator("#held_on_echo")).to_have_text("Ngày này sau ngày hôm nay: xin nhập đúng ngày chi bộ đã họp.")
    page.get_by_label("Ý kiến góp ý đối với đồng chí Trần Văn Bình").fill("Cần gương mẫu hơn.")
    page.get_by_role("button", name="Lưu biên bản").click()
    refusal = page.locator("#refusal")
    expect(refusal).to_contain_text("Biên bản chưa lưu được. Xin sửa: ngày họp.")
    expect(refusal).to_contain_text("sau ngày hôm nay")
    expect(page.get_by_label("Ngày họp", exact=True)).to_have_value(tomorrow.strftime("%d/%m/%Y"))
    expect(page.get_by_label("Ý kiến góp ý đối với đồng chí Trần Văn Bình")).to_have_value("Cần gương mẫu hơn.")
    assert Meeting.objects.get(period=submitted_forms).held_on == yesterday
