import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_cell_secretary_signs_in_and_sees_the_cell_members_in_vietnamese(live_server, page, personas):
    page.goto(live_server.url + "/")
    # Not signed in: the sign-in page, in Vietnamese.
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()

    page.get_by_label("Tên đăng nhập").fill("secretary_a1")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()

    expect(page.get_by_role("heading", name="Chi bộ A1")).to_be_visible()
    rows = page.locator("table.member-table tbody tr")
    expect(rows).to_have_count(3)
    # The Vietnamese order: by given name (Anh, Bình, Hoa).
    expect(rows.nth(0)).to_contain_text("Phạm Đức Anh")
    expect(rows.nth(1)).to_contain_text("Trần Văn Bình")
    expect(rows.nth(2)).to_contain_text("Lê Thị Hoa")
    expect(page.get_by_role("columnheader", name="Họ và tên")).to_be_visible()
    # Nobody from another cell.
    expect(page.get_by_text("Hoàng Văn Em")).to_have_count(0)

    # The member's record opens from the list.
    page.get_by_role("link", name="Lê Thị Hoa").click()
    expect(page.get_by_role("heading", name="Lê Thị Hoa")).to_be_visible()
    expect(page.get_by_text("Số thẻ đảng viên")).to_be_visible()


def test_wrong_password_is_told_in_vietnamese(live_server, page, personas):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Tên đăng nhập").fill("secretary_a1")
    page.get_by_label("Mật khẩu").fill("sai mật khẩu")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("alert")).to_contain_text("không đúng")
