"""A secretary creates the cell's accounts (a background job, whose page opens the slips once) and prints
the slips; a member signs in with the code on a slip, is made to choose a password, and reaches the home
page."""

import re

import pytest
from playwright.sync_api import expect

from accounts.checks import INITIAL_HASHER
from tests.conftest import PASSWORD
from tests.jobs.helpers import run_jobs

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "Sen hồng 1975 Tây Hồ"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """As in tests/conftest.py, plus the real one-time-code hasher: the codes are hashed as in production."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", INITIAL_HASHER]


def sign_in(page, url, username, password):
    page.goto(url + "/accounts/login/")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()


def test_secretary_prints_slips_and_a_member_signs_in_with_the_code(live_server, page, personas):
    sign_in(page, live_server.url, "secretary_a1", PASSWORD)
    expect(page.get_by_role("heading", name="Chi bộ A1")).to_be_visible()

    # From the cell's panel to its accounts; Phạm Đức Anh is the one member without an account.
    page.locator("a[href='/accounts/org/chi-bo-a1/']").click()
    expect(page).to_have_url(re.compile(r"/accounts/org/chi-bo-a1/$"))
    page.locator("#create-accounts").click()
    # The confirmation step, then the background job's page, which shows the slips' button once it is done.
    page.locator("#confirm").click()
    expect(page).to_have_url(re.compile(r"/jobs/[0-9a-f-]+/$"))
    expect(page.locator("#open-slips")).to_have_count(0)
    run_jobs()  # the worker, here in the test's process
    # The page polls the job (htmx) and offers the slips, once.
    expect(page.locator("#slips-once")).to_be_visible()
    page.locator("#open-slips").click()
    slip = page.locator("article.slip").filter(has_text="Phạm Đức Anh")
    expect(slip).to_have_count(1)
    expect(page.locator("article.slip")).to_have_count(1)
    username = slip.locator("[data-username]").inner_text().strip()
    code = slip.locator("[data-code]").inner_text().strip()
    assert username == personas.member_a1_other.card_number
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{2}", code)
    expect(slip).to_contain_text(live_server.url + "/")
    expect(slip).to_contain_text("Chi bộ A1")
    expect(page.get_by_role("button", name="In phiếu")).to_be_visible()

    # Back on the job's page: the slips were opened, and are no longer offered.
    page.go_back()
    page.reload()
    expect(page.locator("#slips-opened")).to_be_visible()
    expect(page.locator("#open-slips")).to_have_count(0)

    page.get_by_role("button", name="Đăng xuất").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))

    # The member, with the slip in hand.
    sign_in(page, live_server.url, username, code)
    expect(page).to_have_url(re.compile(r"/accounts/password/$"))
    expect(page.get_by_role("alert")).to_be_visible()  # why, in plain words
    # Any other page leads back here until a password is chosen.
    page.goto(live_server.url + "/members/me/")
    expect(page).to_have_url(re.compile(r"/accounts/password/$"))

    page.locator("#id_new_password1").fill(NEW_PASSWORD)
    page.locator("#id_new_password2").fill(NEW_PASSWORD)
    page.locator("main form button[type=submit]").click()

    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_role("heading", name=re.compile("Anh"))).to_be_visible()
    expect(page.get_by_text(personas.member_a1_other.card_number)).to_be_visible()

    # From now on the new password opens the account, and the code does not.
    page.get_by_role("button", name="Đăng xuất").click()
    sign_in(page, live_server.url, username, code)
    expect(page.get_by_role("alert")).to_contain_text("không đúng")
    sign_in(page, live_server.url, username, NEW_PASSWORD)
    expect(page).to_have_url(live_server.url + "/")
