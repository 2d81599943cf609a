import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import MemberFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

HOME = reverse("home")


def grow(city, cells=5, members_per_cell=12):
    """Add cells and members under both committees: the home pages must not cost more queries."""
    for committee in (city.committee_a, city.committee_b):
        for _ in range(cells):
            cell = OrganizationFactory(parent=committee)
            for _ in range(members_per_cell):
                MemberFactory(cell=cell)
    for _ in range(members_per_cell):
        MemberFactory(cell=city.cell_a1)


def count_queries(client):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(HOME)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(HOME)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_secretary_home_lists_the_cell_members_in_vietnamese_order(personas, client_for):
    response = client_for(personas.secretary_a1).get(HOME)
    panel = response.context["panels"][0]
    assert panel["organization"].code == "chi-bo-a1"
    # Given names Anh, Bình, Hoa: the Vietnamese order.
    assert [m.full_name for m in panel["members"]] == ["Phạm Đức Anh", "Trần Văn Bình", "Lê Thị Hoa"]
    assert "Chi bộ A2" not in response.content.decode()


def test_officer_home_lists_the_cells_with_member_counts(personas, client_for):
    response = client_for(personas.officer_a).get(HOME)
    panel = response.context["panels"][0]
    assert panel["organization"].code == "dang-bo-a"
    assert panel["member_count"] == 5
    assert [(org.code, n) for org, n in panel["children"]] == [("chi-bo-a1", 3), ("chi-bo-a2", 2)]


def test_board_home_lists_the_grassroots_organisations(personas, client_for):
    response = client_for(personas.board).get(HOME)
    panel = response.context["panels"][0]
    assert panel["member_count"] == 8
    assert {(org.code, n) for org, n in panel["children"]} == {("dang-bo-a", 5), ("dang-bo-b", 2), ("chi-bo-c", 1)}


def test_member_home_shows_their_own_record_and_no_panel(personas, client_for):
    response = client_for(personas.member).get(HOME)
    assert response.context["panels"] == []
    assert response.context["member"] == personas.member_record
    assert reverse("members:detail", args=[personas.member_record.public_id]) in response.content.decode()


def test_outsider_home_says_the_account_is_not_linked(personas, client_for):
    response = client_for(personas.outsider).get(HOME)
    assert response.context["panels"] == [] and response.context["member"] is None
    assert "not yet linked" in response.content.decode() or "chưa được gắn" in response.content.decode()


def test_evaluator_home_lists_the_assigned_organisation(personas, client_for):
    response = client_for(personas.evaluator).get(HOME)
    assert [org.code for org in response.context["evaluated"]] == ["dang-bo-b"]


# Queries of a signed-in home page: session, user, role assignments, own member record; a member's
# open reviews and open ballots (two more); per panel the cell's members (secretary) or the children and one grouped
# count (officer, board), and the open periods (one more for all panels); an evaluator's open
# reviews of the organisations assigned to them (one more).
@pytest.mark.parametrize(
    "persona, expected",
    [("secretary_a1", 8), ("officer_a", 7), ("board", 7), ("member", 6), ("outsider", 4), ("evaluator", 5)],
)
def test_home_query_count_does_not_grow_with_the_data(persona, expected, personas, city, client_for):
    client = client_for(getattr(personas, persona))
    small = count_queries(client)
    grow(city)
    large = count_queries(client)
    assert small == large == expected
