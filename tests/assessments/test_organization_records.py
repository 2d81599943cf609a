"""The year's records on an organisation itself (OrganizationRecord) and the board's record of its year
(OrganizationYear), entered by the board in the admin, and the rules that read them on the ranking screen:
the organisation disciplined (R2018-O-DISCIPLINED), internal disunity or corruption (R2018-O-OTHER), a
competent body's conclusion on the personnel work or the unity of its leadership collective
(R2025-C-K-PERSONNEL), a subordinate organisation disciplined (R2025-C-XS); the same-level government,
Front and mass organisations (R2018-O-XS-PEER, R2018-O-TT-PEER), the unit the collective leads under 70%
of its plan or short of the five basic targets (R2025-C-K-TASKS). Through the screens, as the board."""

import datetime

import pytest
from django.urls import reverse

from organizations.models import Organization, OrganizationRecord, OrganizationYear
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
        "treebeard_ref_node": Organization.objects.get_parent(organization).pk,
        "records-TOTAL_FORMS": "1" if records else "0",
        "records-INITIAL_FORMS": "0",
        "years-TOTAL_FORMS": "0",
        "years-INITIAL_FORMS": "0",
    }
    data.update({f"records-0-{name}": value for name, value in records.items()})
    return data


def year_form(organization, **year):
    """The organisation's page with one year of the OrganizationYear inline filled in."""
    data = organization_form(organization)
    data.update({"years-TOTAL_FORMS": "1"})
    data.update({f"years-0-{name}": value for name, value in year.items()})
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


def test_the_board_group_may_view_add_and_change_the_years(personas):
    for action in ("view", "add", "change", "delete"):
        assert personas.board.has_perm(f"organizations.{action}_organizationyear")
    assert not personas.officer_a.has_perm("organizations.view_organizationyear")


# --- The organisation's year: the same-level bodies (2018), the unit's plan (2025) ---------------------------------


def organization_year(organization, **values):
    return OrganizationYear.objects.create(organization=organization, year=2026, **values)


def test_the_same_level_bodies_levels_reach_the_ranking_in_2018(period_2018, city, personas, client_for):
    board = client_for(personas.board)
    cell_c = review(period_2018, city.cell_c)

    def peer_rules():
        row = row_of(board.get(rank_url(period_2018, city.city)), cell_c)
        return row, {f.rule_id: f for f in findings(row, "R2018-O-XS-PEER") + findings(row, "R2018-O-TT-PEER")}

    # Not entered: both conditions could not be checked (a warning, never a refusal).
    row, found = peer_rules()
    assert set(found) == {"R2018-O-XS-PEER", "R2018-O-TT-PEER"} and all(f.unchecked for f in found.values())
    assert "HTXSNV" in row.allowed
    # A year's record without the levels (the 2025 plan share only) leaves them unknown.
    record = organization_year(city.cell_c, unit_plan_share=90)
    assert all(f.unchecked for f in peer_rules()[1].values())

    # The Front at HTNV: HTTNV at most; the HTTNV condition (HTNV or better) holds.
    OrganizationYear.objects.filter(pk=record.pk).update(
        government_level="HTXSNV", front_level="HTNV", mass_organizations_level="HTTNV"
    )
    row, found = peer_rules()
    assert set(found) == {"R2018-O-XS-PEER"} and not found["R2018-O-XS-PEER"].unchecked
    assert row.cap == "HTTNV" and "HTXSNV" not in row.allowed
    assert "mức thấp nhất là Hoàn thành nhiệm vụ" in found["R2018-O-XS-PEER"].message_vi
    response = post_levels(board, rank_url(period_2018, city.city), {cell_c: "HTXSNV"})
    assert response.status_code == 400 and review(period_2018, city.cell_c).decided_level == ""

    # A mass organisation at KHTNV: HTNV at most.
    OrganizationYear.objects.filter(pk=record.pk).update(mass_organizations_level="KHTNV")
    row, found = peer_rules()
    assert set(found) == {"R2018-O-XS-PEER", "R2018-O-TT-PEER"} and row.cap == "HTNV"

    # No such bodies beside the organisation: nothing to check, nothing capped.
    OrganizationYear.objects.filter(pk=record.pk).update(
        government_level="none", front_level="none", mass_organizations_level="none"
    )
    row, found = peer_rules()
    assert not found and "HTXSNV" in row.allowed
    # Another year's record is not read.
    OrganizationYear.objects.filter(pk=record.pk).update(year=2025)
    OrganizationYear.objects.create(
        organization=city.cell_c, year=2027, government_level="KHTNV", front_level="KHTNV",
        mass_organizations_level="KHTNV",
    )  # fmt: skip
    assert all(f.unchecked for f in peer_rules()[1].values())


@pytest.mark.parametrize(
    ("values", "variant"),
    [({"unit_plan_share": 65}, "65%"), ({"basic_targets_missed": True}, "5 chỉ tiêu kinh tế - xã hội cơ bản")],
)
def test_the_units_plan_or_basic_targets_make_the_collective_khtnv_in_2025(
    period_2025, city, personas, client_for, values, variant
):
    board = client_for(personas.board)
    collective = review(period_2025, city.cell_c, "collective")
    organization_year(city.cell_c, unit_plan_share=70)  # at the threshold: quiet
    row = row_of(board.get(collectives_url(period_2025, city.city)), collective)
    assert not findings(row, "R2025-C-K-TASKS") and "HTXSNV" in row.allowed

    OrganizationYear.objects.filter(organization=city.cell_c).update(**values)
    page = board.get(collectives_url(period_2025, city.city))
    row = row_of(page, collective)
    [finding] = findings(row, "R2025-C-K-TASKS")
    assert finding.cap == "KHTNV" and row.cap == "KHTNV" and variant in finding.message_vi
    # The other collectives are not touched by it.
    assert not findings(row_of(page, review(period_2025, city.committee_a, "collective")), "R2025-C-K-TASKS")
    response = post_levels(board, collectives_url(period_2025, city.city), {collective: "HTNV"})
    assert response.status_code == 400
    assert review(period_2025, city.cell_c, "collective").decided_level == ""


def test_the_board_enters_the_organisations_year_inline(city, personas, client_for):
    board = client_for(personas.board)
    page = board.get(change_url(city.cell_c))
    assert "years-TOTAL_FORMS" in page.content.decode()
    assert "Không có ở cấp này" in page.content.decode()  # the choice for a body that does not exist
    response = board.post(
        change_url(city.cell_c),
        year_form(
            city.cell_c,
            year="2026",
            government_level="HTXSNV",
            front_level="HTTNV",
            mass_organizations_level="none",
            unit_plan_share="82.5",
            basic_targets_missed="on",
        ),
    )
    assert response.status_code == 302, response.context["inline_admin_formsets"][1].formset.errors
    [saved] = OrganizationYear.objects.filter(organization=city.cell_c)
    assert saved.peer_levels() == ("HTXSNV", "HTTNV")
    assert (saved.year, str(saved.unit_plan_share), saved.basic_targets_missed) == (2026, "82.50", True)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"government_level": "XUATSAC", "front_level": "HTTNV", "mass_organizations_level": "HTTNV"},
            "Hãy chọn một lựa chọn hợp lệ",
        ),
        ({"unit_plan_share": "150"}, "Tỉ lệ là số phần trăm từ 0 đến 100."),
        ({"unit_plan_share": "-5"}, "Tỉ lệ là số phần trăm từ 0 đến 100."),
        (
            {"government_level": "HTXSNV"},
            "Nhập mức xếp loại của chính quyền, Mặt trận và các đoàn thể cùng lúc",
        ),
        ({"year": "1800"}, "Năm không hợp lệ."),
    ],
)
def test_a_bad_organisations_year_is_refused_with_a_message_and_nothing_is_saved(
    city, personas, client_for, values, message
):
    board = client_for(personas.board)
    response = board.post(change_url(city.cell_c), year_form(city.cell_c, **({"year": "2026"} | values)))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not OrganizationYear.objects.exists()


def test_a_second_record_of_the_same_year_is_refused(city, personas, client_for):
    organization_year(city.cell_c, unit_plan_share=80)
    board = client_for(personas.board)
    response = board.post(change_url(city.cell_c), year_form(city.cell_c, year="2026", unit_plan_share="60"))
    assert response.status_code == 200
    assert "Tổ chức này đã có bản ghi cho năm này." in response.content.decode()
    assert OrganizationYear.objects.get().unit_plan_share == 80
