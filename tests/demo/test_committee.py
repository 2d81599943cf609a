"""The committee built in bulk for the tests and the benchmark (demo.committee.bulk_committee)."""

import pytest
from django.db.models import Count

from demo.committee import bulk_committee
from members.models import Member
from organizations.models import Organization

pytestmark = pytest.mark.django_db
Kind = Organization.Kind


def test_a_committee_of_any_size_in_cells_of_the_size_asked(city):
    committee = bulk_committee(city.city, "khoi", members=120, cell_size=50)
    assert committee.kind == Kind.GRASSROOTS_COMMITTEE and Organization.objects.get_parent(committee) == city.city
    cells = Organization.objects.get_children(committee).annotate(size=Count("members")).order_by("path")
    assert [cell.size for cell in cells] == [50, 50, 20]
    assert all(cell.kind == Kind.SUBORDINATE_CELL for cell in cells)
    assert committee.numchild == 3
    assert Organization.objects.find_problems() == ([], [], [], [], [])


def test_its_members_are_current_searchable_and_never_hold_a_demo_card_number(city):
    bulk_committee(city.city, "khoi", members=30, cell_size=10, occupation=Member.Occupation.CIVIL_SERVANT)
    members = Member.objects.filter(cell__code__startswith="khoi-")
    assert members.count() == 30
    assert set(members.values_list("occupation", "status").distinct()) == {
        (Member.Occupation.CIVIL_SERVANT, Member.Status.ACTIVE)
    }
    assert all(len(card) == 9 and card.startswith("9") for card in members.values_list("card_number", flat=True))
    assert all(member.search_name and member.sort_key for member in members)
