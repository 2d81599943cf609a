"""The self-review path in a real browser: the member writes (autosave), submits; the secretary sees
it submitted and returns it with a reason; the member sees the reason and can write again."""

import re

import pytest
from playwright.sync_api import expect

from assessments.core import services
from assessments.models import Assessment, Period
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page, url, username):
    page.goto(url + "/accounts/login/")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()


def sign_out(page):
    page.get_by_role("button", name="Đăng xuất").click()


@pytest.fixture
def open_period(city, personas):
    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=period, user=personas.board)
    return period


def test_member_submits_secretary_returns_member_sees_the_reason(live_server, page, personas, open_period):
    page.on("dialog", lambda dialog: dialog.accept())  # the "submit?" confirmation
    sign_in(page, live_server.url, "member")
    page.get_by_role("link", name="Mở bản kiểm điểm của tôi").click()
    expect(page.get_by_role("heading", name=re.compile("Bản kiểm điểm"))).to_be_visible()

    # Autosave: typing is enough, the page says when it has saved.
    expect(page.locator("#assessment-form[data-autosave-ready=yes]")).to_have_count(1)
    page.locator("#item-strengths_conduct").fill("Luôn giữ vững lập trường tư tưởng chính trị.")
    expect(page.locator("#save-status")).to_contain_text(re.compile(r"\d\d:\d\d"), timeout=10000)
    form = Assessment.objects.get(member=personas.member_record)
    assert form.answers["strengths_conduct"] == "Luôn giữ vững lập trường tư tưởng chính trị."

    for field in ["strengths_duties", "strengths_pledge", "shortcomings", "remedies_done", "plan"]:
        page.locator(f"#item-{field}").fill(f"Nội dung mục {field}.")
    page.locator("#item-proposed_level_member-HTTNV").check()
    checklist = page.locator("table.checklist input[value=absent]")
    for index in range(checklist.count()):
        checklist.nth(index).check()
    page.get_by_role("button", name="Nộp", exact=True).click()
    expect(page.locator(".badge.state-submitted").first).to_be_visible()
    expect(page.locator("#item-shortcomings")).not_to_have_attribute("name", "item-shortcomings")
    sign_out(page)

    # The secretary sees it submitted and returns it with a reason.
    sign_in(page, live_server.url, "secretary_a1")
    page.get_by_role("link", name="Tiến độ", exact=True).first.click()
    row = page.locator("table.dashboard-forms tr").filter(has_text="Lê Thị Hoa")
    expect(row.locator(".badge")).to_have_text("Đã nộp")
    row.get_by_role("link", name="Lê Thị Hoa").click()
    page.locator("#id_reason").fill("Đề nghị bổ sung kết quả khắc phục cụ thể.")
    page.get_by_role("button", name="Trả lại bản kiểm điểm").click()
    expect(page.locator("table.dashboard-forms tr").filter(has_text="Lê Thị Hoa").locator(".badge")).to_have_text(
        "Đã trả lại để sửa"
    )
    sign_out(page)

    # The member sees the reason and can write again.
    sign_in(page, live_server.url, "member")
    expect(page.get_by_text("Đề nghị bổ sung kết quả khắc phục cụ thể.")).to_be_visible()
    page.get_by_role("link", name="Mở bản kiểm điểm của tôi").click()
    expect(page.get_by_role("alert").filter(has_text="Đề nghị bổ sung")).to_be_visible()
    expect(page.locator("#item-remedies_done")).to_be_editable()
