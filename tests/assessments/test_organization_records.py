"""The year's records on an organisation itself (OrganizationRecord), entered by the board in the admin,
and the rules that read them on the ranking screen: the organisation disciplined (R2018-O-DISCIPLINED),
internal disunity or corruption (R2018-O-OTHER), a competent body's conclusion on the personnel work or
the unity of its leadership collective (R2025-C-K-PERSONNEL), a subordinate organisation disciplined
(R2025-C-XS). Through the screens, as the board."""

import datetime

import pytest
from django.urls import reverse

from organizations.models import OrganizationRecord
from tests.assessments.test_organization_links import (
    collectives_url,
    decide_url,
    members_of,
    open_period,
    post_levels,
    rank_url,
    review,
    row_of,
)

pytestmark = pytest.mark.django_db

Kind = OrganizationRecord.Kind


def record(organization, kind, decided_on=datetime.date(2026, 3, 1)):
    return OrganizationRecord.objects.create(
        organization=organization, kind=kind, decided_on=decided_on, body="Ủy ban Kiểm tra Thành ủy", summary="x"
    )


def findings(row, rule_id):
    return row.evaluation.by_rule(rule_id)


# --- 2018: the organisation's own rules ------------------------------------------------------------------------


@pytest.fixture
def period_2018(city, personas, client_for):
    period = open_period(city, personas, "2018")
    board = client_for(personas.board)
    post_levels(board, decide_url(period, city.cell_c), {m: "HTTNV" for m in members_of(period, city.cell_c)})
    return period


def test_a_disciplined_organisation_is_at_most_khtnv_in_2018(period_2018, city, personas, client_for):
    board = client_for(personas.board)
    cell_c = review(period_2018, city.cell_c)
    row = row_of(board.get(rank_url(period_2018, city.city)), cell_c)
    assert not findings(row, "R2018-O-DISCIPLINED") and not findings(row, "R2018-O-OTHER")
    assert "HTTNV" in row.allowed

    # A record of an earlier year does not count in this one.
    record(city.cell_c, Kind.DISCIPLINED, datetime.date(2025, 12, 31))
    row = row_of(board.get(rank_url(period_2018, city.city)), cell_c)
    assert not findings(row, "R2018-O-DISCIPLINED")

    record(city.cell_c, Kind.DISCIPLINED)
    page = board.get(rank_url(period_2018, city.city))
    row = row_of(page, cell_c)
    [finding] = findings(row, "R2018-O-DISCIPLINED")
    assert finding.cap == "KHTNV" and row.cap == "KHTNV"
    assert "Tổ chức đảng bị kỷ luật trong năm" in page.content.decode()
    # Another organisation is not touched by it.
    assert not findings(row_of(page, review(period_2018, city.committee_a)), "R2018-O-DISCIPLINED")
    # HTTNV is refused without a reason; the organisation stays undecided.
    response = post_levels(board, rank_url(period_2018, city.city), {cell_c: "HTTNV"})
    assert response.status_code == 400 and review(period_2018, city.cell_c).decided_level == ""
    assert post_levels(board, rank_url(period_2018, city.city), {cell_c: "KHTNV"}).status_code == 302


@pytest.mark.parametrize("kind", [Kind.CORRUPTION, Kind.PERSONNEL_OR_DISUNITY])
def test_disunity_or_corruption_makes_the_organisation_khtnv_in_2018(period_2018, city, personas, client_for, kind):
    board = client_for(personas.board)
    cell_c = review(period_2018, city.cell_c)
    record(city.cell_c, kind)
    row = row_of(board.get(rank_url(period_2018, city.city)), cell_c)
    # A switchable rule ([R]): a warning above KHTNV, which the deciding level answers with its reason.
    [finding] = findings(row, "R2018-O-OTHER")
    assert finding.cap == "KHTNV" and finding.flags("HTNV") and not finding.flags("KHTNV")
    assert any("Nội bộ mất đoàn kết hoặc để xảy ra tham nhũng" in warning for warning in row.warnings)
    assert not findings(row, "R2018-O-DISCIPLINED")
    response = post_levels(board, rank_url(period_2018, city.city), {cell_c: "HTNV"})
    assert response.status_code == 400 and review(period_2018, city.cell_c).decided_level == ""
    response = post_levels(board, rank_url(period_2018, city.city), {cell_c: "HTNV"}, note="Đã khắc phục")
    assert response.status_code == 302 and review(period_2018, city.cell_c).decided_level == "HTNV"


# --- 2025: the leadership collectives ---------------------------------------------------------------------------


@pytest.fixture
def period_2025(city, personas):
    return open_period(city, personas, "2025")


def test_a_personnel_or_unity_conclusion_makes_the_collective_khtnv_in_2025(period_2025, city, personas, client_for):
    board = client_for(personas.board)
    collective = review(period_2025, city.cell_c, "collective")
    row = row_of(board.get(collectives_url(period_2025, city.city)), collective)
    assert not findings(row, "R2025-C-K-PERSONNEL") and "HTXSNV" in row.allowed

    # A disciplined record is not a conclusion on personnel work or unity.
    record(city.cell_c, Kind.DISCIPLINED)
    row = row_of(board.get(collectives_url(period_2025, city.city)), collective)
    assert not findings(row, "R2025-C-K-PERSONNEL")

    record(city.cell_c, Kind.PERSONNEL_OR_DISUNITY)
    page = board.get(collectives_url(period_2025, city.city))
    row = row_of(page, collective)
    [finding] = findings(row, "R2025-C-K-PERSONNEL")
    assert finding.cap == "KHTNV" and row.cap == "KHTNV"
    # The other collectives are not touched by it.
    assert not findings(row_of(page, review(period_2025, city.committee_a, "collective")), "R2025-C-K-PERSONNEL")
    response = post_levels(board, collectives_url(period_2025, city.city), {collective: "HTNV"})
    assert response.status_code == 400
    assert review(period_2025, city.cell_c, "collective").decided_level == ""


def test_a_disciplined_subordinate_keeps_the_collective_below_htxsnv_in_2025(period_2025, city, personas, client_for):
    board = client_for(personas.board)
    collective = review(period_2025, city.committee_a, "collective")

    def disciplined_findings():
        row = row_of(board.get(collectives_url(period_2025, city.city)), collective)
        return row, [f for f in findings(row, "R2025-C-XS") if "bị kỷ luật" in f.message_vi]

    row, found = disciplined_findings()
    assert not found and "HTXSNV" in row.allowed
    # A record on another committee's cell, or of another kind on its own cell: still quiet.
    record(city.cell_b1, Kind.DISCIPLINED)
    record(city.cell_a1, Kind.CORRUPTION)
    row, found = disciplined_findings()
    assert not found and "HTXSNV" in row.allowed

    record(city.cell_a1, Kind.DISCIPLINED)
    row, found = disciplined_findings()
    assert found and row.cap == "HTTNV" and "HTXSNV" not in row.allowed
    assert found[0].cap == "HTTNV" and "Có đơn vị trực thuộc" in found[0].message_vi
    # Committee B's collective is read with its own cell's record.
    page = board.get(collectives_url(period_2025, city.city))
    other = row_of(page, review(period_2025, city.committee_b, "collective"))
    assert [f for f in findings(other, "R2025-C-XS") if "bị kỷ luật" in f.message_vi]
    # Chi bộ C has no subordinate: untouched.
    cell_c = row_of(page, review(period_2025, city.cell_c, "collective"))
    assert not findings(cell_c, "R2025-C-XS")
    response = post_levels(board, collectives_url(period_2025, city.city), {collective: "HTXSNV"})
    assert response.status_code == 400
    assert review(period_2025, city.committee_a, "collective").decided_level == ""


# --- The admin, as the board -----------------------------------------------------------------------------------


def change_url(organization):
    return reverse("admin:organizations_organization_change", args=[organization.pk])


def organization_form(organization, **records):
    data = {
        "name": organization.name,
        "code": organization.code,
        "kind": organization.kind,
        "sector": organization.sector,
        "cluster": "",
        "founded_on": "",
        "dissolved_on": "",
        "treebeard_position": "sorted-child",
        "treebeard_ref_node": organization.get_parent().pk,
        "records-TOTAL_FORMS": "1",
        "records-INITIAL_FORMS": "0",
    }
    data.update({f"records-0-{name}": value for name, value in records.items()})
    return data


def test_the_board_enters_a_record_inline_on_the_organisation_page(city, personas, client_for):
    board = client_for(personas.board)
    assert not personas.board.is_superuser
    page = board.get(change_url(city.cell_c))
    assert page.status_code == 200
    assert "records-TOTAL_FORMS" in page.content.decode()
    response = board.post(
        change_url(city.cell_c),
        organization_form(
            city.cell_c,
            kind=Kind.PERSONNEL_OR_DISUNITY,
            decided_on="15/04/2026",
            body="Ủy ban Kiểm tra Thành ủy",
            summary="Kết luận mất đoàn kết nội bộ",
        ),
    )
    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
    [saved] = OrganizationRecord.objects.filter(organization=city.cell_c)
    assert (saved.kind, saved.decided_on) == (Kind.PERSONNEL_OR_DISUNITY, datetime.date(2026, 4, 15))


def test_a_record_dated_in_the_future_is_refused_with_a_message(city, personas, client_for):
    board = client_for(personas.board)
    tomorrow = datetime.date.today() + datetime.timedelta(days=2)
    response = board.post(
        change_url(city.cell_c),
        organization_form(
            city.cell_c, kind=Kind.DISCIPLINED, decided_on=tomorrow.strftime("%d/%m/%Y"), body="Thành ủy", summary="x"
        ),
    )
    assert response.status_code == 200
    assert "Ngày quyết định hoặc kết luận không thể ở tương lai." in response.content.decode()
    assert not OrganizationRecord.objects.exists()


def test_the_board_group_may_view_add_and_change_the_records(personas):
    for action in ("view", "add", "change"):
        assert personas.board.has_perm(f"organizations.{action}_organizationrecord")
    assert not personas.officer_a.has_perm("organizations.view_organizationrecord")
