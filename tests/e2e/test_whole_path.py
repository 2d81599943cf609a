"""The whole path in a real browser: the member submits, the secretary records the meeting, the officer
decides, the board finalises and publishes in the admin, and the member sees the result."""

import datetime

import pytest
from playwright.sync_api import expect

from assessments import decisions
from assessments.core import services
from assessments.decisions import ranking
from assessments.models import Assessment, Period
from members.models import Member
from tests.conftest import PASSWORD
from tests.helpers import decide_collectives, rank_organizations

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page, url, username):
    page.goto(url + "/accounts/login/")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()


def sign_out(page):
    page.get_by_role("button", name="Đăng xuất").click()


@pytest.fixture
def period(city, personas):
    Member.objects.update(occupation=Member.Occupation.RETIRED)
    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=period, user=personas.board)
    # The other members of cell A1 have submitted; the rest of the city is decided already.
    Assessment.objects.filter(period=period, organization=city.cell_a1, member__isnull=False).exclude(
        member=personas.member_record
    ).update(state=Assessment.State.SUBMITTED)
    for organization in (city.committee_b, city.cell_c):
        forms = Assessment.objects.filter(
            period=period, member__isnull=False, organization__path__startswith=organization.path
        )
        decisions.decisions_record(
            period=period, organization=organization, user=personas.board, choices={f.pk: ("HTNV", "") for f in forms}
        )
    a2 = Assessment.objects.filter(period=period, member__isnull=False, organization=city.cell_a2)
    decisions.decisions_record(
        period=period, organization=city.committee_a, user=personas.board, choices={f.pk: ("HTNV", "") for f in a2}
    )
    # What can be ranked now is ranked (an organisation after its members: P-ORDER): committee B's cells,
    # then committee B and cell C with the collectives. Committee A's wait for cell A1's decisions. The
    # board's permissions in the admin come from its role alone.
    decide_below(period, city.committee_b, personas.board)
    decide_below(period, city.city, personas.board, only=[city.committee_b, city.cell_c])
    return period


def decide_below(period, parent, user, only=None):
    """`parent` decides the leadership collectives, then the organisations, below it at HTNV (`only`: those)."""
    for kind, forms in (
        ("collective", ranking.collective_assessments(period, parent)),
        ("organization", ranking.organization_assessments(period, parent)),
    ):
        forms = forms.filter(classified=True)
        if only is not None:
            forms = forms.filter(organization__in=only)
        ranking.ranking_record(
            period=period, parent=parent, user=user, choices={f.pk: ("HTNV", "") for f in forms}, subject_kind=kind
        )


def test_member_to_published_result(live_server, page, personas, period):
    page.on("dialog", lambda dialog: dialog.accept())

    # 1. The member writes and submits.
    sign_in(page, live_server.url, "member")
    page.get_by_role("link", name="Mở bản kiểm điểm của tôi").click()
    for field in ["strengths_conduct", "strengths_duties", "strengths_pledge", "shortcomings", "remedies_done", "plan"]:
        page.locator(f"#item-{field}").fill(f"Nội dung mục {field}.")
    page.locator("#item-proposed_level_member-HTTNV").check()
    checklist = page.locator("table.checklist input[value=absent]")
    for index in range(checklist.count()):
        checklist.nth(index).check()
    page.get_by_role("button", name="Nộp", exact=True).click()
    expect(page.locator(".badge.state-submitted").first).to_be_visible()
    sign_out(page)

    # 2. The secretary records the meeting: every member of the cell at HTTNV.
    sign_in(page, live_server.url, "secretary_a1")
    page.get_by_role("link", name="Tiến độ", exact=True).first.click()
    page.get_by_role("link", name="Hội nghị chi bộ và kiểm phiếu").click()
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    page.get_by_label("Ngày họp", exact=True).fill(yesterday.isoformat())
    page.get_by_label("Số đảng viên có mặt").fill("3")
    page.get_by_label("Số đảng viên vắng mặt").fill("0")
    page.get_by_label("Số phiếu phát ra (như nhau cho mọi đảng viên)").fill("3")
    page.get_by_label("Số phiếu thu về (như nhau cho mọi đảng viên)").fill("3")
    page.get_by_role("button", name="Điền cho tất cả đảng viên").click()
    for name in ["Lê Thị Hoa", "Phạm Đức Anh", "Trần Văn Bình"]:
        for label, value in {"Số phiếu hợp lệ": "3", "HTXSNV": "0", "HTTNV": "3", "HTNV": "0", "KHTNV": "0"}.items():
            page.get_by_label(f"{label} – {name}", exact=True).fill(value)
    page.get_by_role("button", name="Lưu biên bản").click()
    expect(page.get_by_role("alert").filter(has_text="Đã lưu biên bản")).to_be_visible()
    sign_out(page)

    # 3. The officer opens cell A1 on the decision screen, accepts one proposal on its row (saved at once,
    #    the quota box follows), then the rest for the whole organisation.
    sign_in(page, live_server.url, "officer_a")
    page.goto(live_server.url + f"/reviews/period/{period.public_id}/decide/dang-bo-a/")
    expect(page.locator("#quota-box")).to_contain_text("Đã quyết định: 2/5")
    page.get_by_role("row", name="Chi bộ A1").get_by_role("link", name="Mở").click()
    row = page.get_by_role("row", name="Lê Thị Hoa")
    row.get_by_role("button", name="Chấp nhận").click()
    expect(page.get_by_role("row", name="Lê Thị Hoa")).to_contain_text("Đã lưu")
    expect(page.locator("#quota-box")).to_contain_text("Đã quyết định: 3/5")
    assert Assessment.objects.get(period=period, member=personas.member_record).decided_level == "HTTNV"
    page.get_by_role("link", name="Tất cả chi bộ").click()
    page.get_by_role("button", name="Chấp nhận gợi ý cho toàn đảng bộ").click()
    expect(page.get_by_role("alert").filter(has_text="Đã ghi nhận 2 quyết định")).to_be_visible()
    expect(page.locator("#quota-box")).to_contain_text("Đã quyết định: 5/5")
    sign_out(page)
    # Its members decided, committee A's cells and committee A itself are ranked (through the services).
    rank_organizations(period, personas.board)
    decide_collectives(period)

    # 4. The board finalises and publishes in the admin.
    sign_in(page, live_server.url, "board")
    for action in ("finalise_periods", "publish_periods"):
        page.goto(live_server.url + "/admin/assessments/period/")
        page.locator("input.action-select").first.check()
        page.locator("select[name=action]").select_option(action)
        page.locator("button[name=index]").click()
        expect(page.locator(".messagelist .success")).to_be_visible()
    period.refresh_from_db()
    assert period.state == Period.State.PUBLISHED
    page.goto(live_server.url + "/")
    sign_out(page)

    # 5. The member sees the result.
    sign_in(page, live_server.url, "member")
    expect(page.get_by_text("Mức xếp loại của đồng chí: Hoàn thành tốt nhiệm vụ")).to_be_visible()
    # The cell was ranked too (at HTNV, in the fixture): its level is published beside the member's.
    expect(page.get_by_text("Mức xếp loại của Chi bộ A1")).to_be_visible()
