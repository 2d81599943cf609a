"""After publication every role sees the outcome: the secretary each member's level and the cell's own,
the committee each cell's level and its members' levels, the member their own level and their cell's.
Before publication the managers see the decisions marked as not yet published, the members nothing."""

import re

import pytest
from django.urls import reverse

from assessments.core import services
from assessments.models import Assessment, Period
from members.models import Member
from tests.factories import MemberFactory, OrganizationFactory

pytestmark = pytest.mark.django_db
S = Assessment.State
ORGANIZATION = Assessment.SubjectKind.ORGANIZATION
COLLECTIVE = Assessment.SubjectKind.COLLECTIVE


def open_period(city, personas, year=2026):
    Member.objects.update(occupation=Member.Occupation.RETIRED)
    period = Period.objects.create(organization=city.city, year=year, regime="2018")
    services.period_open(period=period, user=personas.board)
    period.refresh_from_db()
    return period


def decide(period, member_levels, organization_levels=()):
    """Record levels as the decision screens leave them (the level and the state on the assessment)."""
    for member, level in member_levels.items():
        Assessment.objects.filter(period=period, member=member).update(decided_level=level, state=S.DECIDED)
    for organization, kind, level in organization_levels:
        Assessment.objects.filter(period=period, organization=organization, subject_kind=kind).update(
            decided_level=level, state=S.DECIDED
        )


def publish(period):
    """What publishing leaves behind (the board's service is tested in test_finalise.py)."""
    Period.objects.filter(pk=period.pk).update(state=Period.State.PUBLISHED)
    Assessment.objects.filter(period=period, state=S.DECIDED).update(state=S.PUBLISHED)
    period.refresh_from_db()


@pytest.fixture
def decided(city, personas):
    """2026, open, with committee A's members and cells decided, and the grassroots cell C's levels."""
    period = open_period(city, personas)
    decide(
        period,
        {
            personas.secretary_a1_record: "HTXSNV",
            personas.member_record: "HTTNV",
            personas.member_a1_other: "HTNV",
            personas.member_a2: "HTTNV",
        },
        [
            (city.cell_a1, ORGANIZATION, "HTTNV"),
            (city.cell_a2, ORGANIZATION, "HTNV"),
            (city.cell_c, ORGANIZATION, "HTXSNV"),
            (city.cell_c, COLLECTIVE, "HTTNV"),
        ],
    )
    return period


def dashboard(period, organization):
    return reverse("assessments:dashboard", args=[period.public_id, organization.code])


def text(response):
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def decided_column(response):
    """{full name: the text of the decided-level column} of a cell's dashboard."""
    html = response.content.decode()
    table = html[html.index('class="table table-hover align-middle dashboard-forms"') :]
    table = table[table.index("<tbody>") : table.index("</table>")]
    columns = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        name = re.search(r'<a href="[^"]+">([^<]+)</a>', row)[1]
        level = re.search(r'<td class="decided-level">(.*?)</td>', row, re.S)[1]
        columns[name] = re.sub(r"<[^>]+>", "", level).strip()
    return columns


# --- The cell secretary ------------------------------------------------------------------------------------


def test_after_publication_the_secretary_sees_each_members_level_and_the_cells_own(decided, city, personas, client_for):
    publish(decided)
    response = client_for(personas.secretary_a1).get(dashboard(decided, city.cell_a1))
    assert decided_column(response) == {"Phạm Đức Anh": "HTNV", "Trần Văn Bình": "HTXSNV", "Lê Thị Hoa": "HTTNV"}
    page = text(response)
    assert "Kết quả đợt kiểm điểm này đã được công bố" in page
    assert "Tổ chức đảng Mức xếp loại: Hoàn thành tốt nhiệm vụ (HTTNV)" in page
    assert "chưa công bố" not in page
    # The members' levels, counted: one each of HTXSNV, HTTNV, HTNV out of three.
    assert "Hoàn thành xuất sắc nhiệm vụ (HTXSNV) 1 33%" in page
    assert "Hoàn thành nhiệm vụ (HTNV) 1 33%" in page
    # Nothing left to remind anyone of.
    assert "Gửi email nhắc nộp" not in page


def test_a_grassroots_cell_shows_its_organisation_and_its_collective(decided, city, personas, client_for):
    publish(decided)
    page = text(client_for(personas.board).get(dashboard(decided, city.cell_c)))
    assert "Tập thể lãnh đạo, quản lý Mức xếp loại: Hoàn thành tốt nhiệm vụ (HTTNV)" in page
    assert "Tổ chức đảng Mức xếp loại: Hoàn thành xuất sắc nhiệm vụ (HTXSNV)" in page


def test_before_publication_the_secretary_sees_the_decisions_marked_not_yet_published(
    decided, city, personas, client_for
):
    response = client_for(personas.secretary_a1).get(dashboard(decided, city.cell_a1))
    assert decided_column(response)["Lê Thị Hoa"] == "HTTNV"
    page = text(response)
    assert "Chưa công bố. Các mức xếp loại trên trang này là những quyết định" in page
    assert "Mức xếp loại đã quyết định (chưa công bố)" in page
    assert "Hoàn thành tốt nhiệm vụ (HTTNV) (chưa công bố)" in page


def test_before_any_decision_the_open_dashboard_shows_no_levels(city, personas, client_for):
    period = open_period(city, personas)
    response = client_for(personas.secretary_a1).get(dashboard(period, city.cell_a1))
    assert response.context["show_levels"] is False
    assert "decided-level" not in response.content.decode()


# --- The committee -----------------------------------------------------------------------------------------


def child_rows(response):
    return {child.code: (totals, levels, review) for child, totals, levels, review in response.context["children"]}


def test_after_publication_the_committee_sees_each_cells_level_and_its_members_levels(
    decided, city, personas, client_for
):
    publish(decided)
    response = client_for(personas.officer_a).get(dashboard(decided, city.committee_a))
    rows = child_rows(response)
    _totals, a1_levels, a1_review = rows["chi-bo-a1"]
    assert a1_review.decided_level == "HTTNV"
    assert [count for count, _percent in a1_levels.cells] == [1, 1, 1, 0, 0]
    _totals, a2_levels, a2_review = rows["chi-bo-a2"]
    assert a2_review.decided_level == "HTNV"
    assert [count for count, _percent in a2_levels.cells] == [0, 1, 0, 0, 1]
    html = response.content.decode()
    a1 = " ".join(re.sub(r"<[^>]+>", " ", re.search(r'<tr data-code="chi-bo-a1">(.*?)</tr>', html, re.S)[1]).split())
    assert a1 == "Chi bộ A1 3 HTTNV 1 1 1 0 0"
    page = text(response)
    assert "Hoàn thành tốt nhiệm vụ (HTTNV) 2 40%" in page  # 2 of the committee's 5 members
    assert "Tiến độ" not in page  # the submissions are behind us


def test_while_open_the_committee_sees_progress_and_how_many_are_decided(decided, city, personas, client_for):
    response = client_for(personas.officer_a).get(dashboard(decided, city.committee_a))
    html = response.content.decode()
    a2 = " ".join(re.sub(r"<[^>]+>", " ", re.search(r'<tr data-code="chi-bo-a2">(.*?)</tr>', html, re.S)[1]).split())
    assert a2 == "Chi bộ A2 2 1 0 HTNV 1 / 2"  # the decided one counts as handed in
    assert "Xếp loại của tổ chức (chưa công bố)" in text(response)


def test_the_board_sees_the_grassroots_organisations_levels(decided, city, personas, client_for):
    publish(decided)
    rows = child_rows(client_for(personas.board).get(dashboard(decided, city.city)))
    assert rows["chi-bo-c"][2].decided_level == "HTXSNV"
    assert rows["dang-bo-a"][2].decided_level == ""  # not ranked yet
    assert [count for count, _percent in rows["dang-bo-a"][1].cells] == [1, 2, 1, 0, 1]


# --- The member --------------------------------------------------------------------------------------------


def test_the_member_sees_their_level_and_their_cells_only_once_published(decided, city, personas, client_for):
    client = client_for(personas.member)
    pages = [
        reverse("home"),
        reverse("assessments:mine"),
        reverse("members:detail", args=[personas.member_record.public_id]),
    ]
    for address in pages:
        page = text(client.get(address))
        assert "Hoàn thành tốt nhiệm vụ" not in page and "HTTNV" not in page, address
    publish(decided)
    home = text(client.get(pages[0]))
    assert "Mức xếp loại của đồng chí: Hoàn thành tốt nhiệm vụ" in home
    assert "Mức xếp loại của Chi bộ A1: Hoàn thành tốt nhiệm vụ" in home
    assert "Xem bản kiểm điểm của tôi" in home
    mine = text(client.get(pages[1]))
    assert "Mức xếp loại của đồng chí: Hoàn thành tốt nhiệm vụ" in mine
    assert "Mức xếp loại của Chi bộ A1: Hoàn thành tốt nhiệm vụ" in mine
    record = client.get(pages[2])
    (row,) = record.context["history"]
    assert row.decided_level == "HTTNV" and row.cell_level.decided_level == "HTTNV"
    assert "Hoàn thành tốt nhiệm vụ (HTTNV) Chi bộ A1" in text(record)


def test_a_member_not_classified_is_told_so_after_publication(decided, personas, client_for):
    Assessment.objects.filter(period=decided, member=personas.member_record).update(
        classified=False, exclusion_note="Miễn sinh hoạt", decided_level=""
    )
    publish(decided)
    home = text(client_for(personas.member).get(reverse("home")))
    assert "Đồng chí thuộc diện không xếp loại trong đợt này: Miễn sinh hoạt" in home


def test_the_member_record_shows_the_cell_level_to_its_secretary_before_publication(decided, personas, client_for):
    record = client_for(personas.secretary_a1).get(reverse("members:detail", args=[personas.member_record.public_id]))
    (row,) = record.context["history"]
    assert row.cell_level.decided_level == "HTTNV"


# --- Queries -----------------------------------------------------------------------------------------------


def grow(city, personas, period):
    """More members in cell A1 and two new cells in committee A, all opened in a new period, decided."""
    for _ in range(12):
        MemberFactory(cell=city.cell_a1, occupation=Member.Occupation.RETIRED)
    for number in range(2):
        city.committee_a.refresh_from_db()
        cell = OrganizationFactory(code=f"chi-bo-a9{number}", name=f"Chi bộ A9{number}", parent=city.committee_a)
        for _ in range(6):
            MemberFactory(cell=cell, occupation=Member.Occupation.RETIRED)
    larger = open_period(city, personas, year=period.year + 1)
    Assessment.objects.filter(period=larger, member__isnull=False).update(decided_level="HTTNV", state=S.DECIDED)
    Assessment.objects.filter(period=larger, subject_kind=ORGANIZATION).update(decided_level="HTTNV", state=S.DECIDED)
    publish(larger)
    return larger


# session, user, role assignments, the organisation, the period, its own reviews, then for a cell the forms;
# for a committee its children, the members' counts and levels by cell, and the children's own levels.
DASHBOARD_QUERIES = {"cell": 7, "committee": 9}


def test_the_dashboards_cost_the_same_queries_for_a_larger_committee(
    decided, city, personas, client_for, django_assert_num_queries
):
    publish(decided)
    larger = grow(city, personas, decided)
    pages = [
        (personas.secretary_a1, city.cell_a1, DASHBOARD_QUERIES["cell"]),
        (personas.officer_a, city.committee_a, DASHBOARD_QUERIES["committee"]),
    ]
    for user, organization, queries in pages:
        client = client_for(user)
        for period in (decided, larger):
            with django_assert_num_queries(queries):
                assert client.get(dashboard(period, organization)).status_code == 200


def test_the_members_pages_cost_the_same_queries_for_more_years(
    decided, city, personas, client_for, django_assert_num_queries
):
    publish(decided)
    client = client_for(personas.member)
    # home: session, user, roles, member, open ballots, own reviews, the cells' levels (7);
    # my reviews: session, user, roles, the reviews, the cells' levels (5);
    # the record: as in tests/test_query_counts.py, with the cells' levels (11).
    expected = [(reverse("home"), 7), (reverse("assessments:mine"), 5)]
    expected.append((reverse("members:detail", args=[personas.member_record.public_id]), 11))
    for address, queries in expected:
        with django_assert_num_queries(queries):
            client.get(address)
    grow(city, personas, decided)
    for address, queries in expected:
        with django_assert_num_queries(queries):
            client.get(address)
