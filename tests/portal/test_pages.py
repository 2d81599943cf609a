"""The organisation pages and the member page, by role: what each persona opens, and what it sees there.

The home page of each role: test_home.py. Every URL against every persona: tests/test_url_matrix.py."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_secretary_cannot_see_other_cell(personas, client_for, city):
    client = client_for(personas.secretary_a1)
    assert client.get(reverse("organizations:detail", args=[city.cell_b1.code])).status_code == 404
    assert client.get(reverse("members:detail", args=[personas.member_b1.public_id])).status_code == 404
    assert client.get(reverse("organizations:detail", args=[city.cell_a1.code])).status_code == 200


def test_secretary_sees_the_cell_members_on_the_cell_page(personas, client_for, city):
    response = client_for(personas.secretary_a1).get(reverse("organizations:detail", args=[city.cell_a1.code]))
    assert response.context["manages"] is True
    # Given names Anh, Bình, Hoa: the Vietnamese order.
    assert [m.full_name for m in response.context["members"]] == ["Phạm Đức Anh", "Trần Văn Bình", "Lê Thị Hoa"]
    assert response.context["member_count"] == 3


def test_officer_sees_the_committee_cells_with_member_counts(personas, client_for, city):
    response = client_for(personas.officer_a).get(reverse("organizations:detail", args=[city.committee_a.code]))
    assert [(org.code, n) for org, n in response.context["children"]] == [("chi-bo-a1", 3), ("chi-bo-a2", 2)]
    assert response.context["member_count"] == 5
    # The breadcrumb holds only what the officer may see: not the city above the committee.
    assert response.context["ancestors"] == []


def test_organisation_list_counts_members_only_where_the_user_manages(personas, client_for, city):
    rows = client_for(personas.board).get(reverse("organizations:list")).context["rows"]
    counts = {org.code: count for org, _, count in rows}
    assert counts["city"] == 8 and counts["dang-bo-b"] == 2
    rows = client_for(personas.evaluator).get(reverse("organizations:list")).context["rows"]
    # The evaluator sees the organisation assigned, but no count of its people.
    assert [(org.code, count) for org, _, count in rows] == [("dang-bo-b", None)]


def test_evaluator_sees_the_assigned_organisation_page_without_its_cells(personas, client_for, city):
    response = client_for(personas.evaluator).get(reverse("organizations:detail", args=[city.committee_b.code]))
    assert response.status_code == 200
    assert response.context["manages"] is False and response.context["children"] == []
    assert "Chi bộ B1" not in response.content.decode()


def test_member_opens_their_own_page_only(personas, client_for):
    client = client_for(personas.member)
    response = client.get(reverse("members:detail", args=[personas.member_record.public_id]))
    assert response.status_code == 200
    assert response.context["is_self"] is True
    assert client.get(reverse("members:detail", args=[personas.member_a1_other.public_id])).status_code == 404


def test_secretary_opens_a_cell_member_page(personas, client_for):
    response = client_for(personas.secretary_a1).get(reverse("members:detail", args=[personas.member_record.public_id]))
    assert response.status_code == 200
    assert response.context["member"] == personas.member_record and response.context["is_self"] is False


def test_the_member_pages_keep_their_addresses(personas):
    # The portal serves the member page among the members app's pages, under the one name.
    assert reverse("members:list") == "/members/"
    assert reverse("members:me") == "/members/me/"
    assert reverse("members:detail", args=[personas.member_record.public_id]) == (
        f"/members/{personas.member_record.public_id}/"
    )
    assert reverse("organizations:list") == "/organizations/"
    assert reverse("organizations:detail", args=["chi-bo-a1"]) == "/organizations/chi-bo-a1/"
    assert reverse("home") == "/"
