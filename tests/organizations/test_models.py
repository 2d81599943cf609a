import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from organizations.models import Organization, RoleAssignment
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_dissolution_before_founding_is_refused_by_the_database(city):
    city.cell_a1.founded_on = datetime.date(2010, 1, 1)
    city.cell_a1.dissolved_on = datetime.date(2009, 12, 31)
    with pytest.raises(IntegrityError), transaction.atomic():
        city.cell_a1.save()


def test_dissolution_before_founding_is_refused_by_clean_with_a_message(city):
    city.cell_a1.founded_on = datetime.date(2010, 1, 1)
    city.cell_a1.dissolved_on = datetime.date(2009, 12, 31)
    with pytest.raises(ValidationError) as excinfo:
        city.cell_a1.full_clean()
    assert "dissolved_on" in excinfo.value.message_dict


def test_dissolution_on_or_after_founding_is_accepted(city):
    city.cell_a1.founded_on = datetime.date(2010, 1, 1)
    city.cell_a1.dissolved_on = datetime.date(2010, 1, 1)
    city.cell_a1.full_clean()
    city.cell_a1.save()


def test_organization_cannot_be_moved_under_its_own_descendant(city):
    with pytest.raises(ValidationError):
        city.committee_a.move_under(city.cell_a1)
    city.committee_a.refresh_from_db()
    assert Organization.objects.get_parent(city.committee_a) == city.city


def test_organization_cannot_be_moved_under_itself(city):
    with pytest.raises(ValidationError):
        city.committee_a.move_under(city.committee_a)


def test_organization_can_move_to_another_branch_with_its_subtree(city):
    city.committee_a.move_under(city.committee_b)
    cell = Organization.objects.get(pk=city.cell_a1.pk)
    assert cell.path.startswith(city.committee_b.path)
    assert cell.depth == 4
    assert Organization.objects.find_problems() == ([], [], [], [], [])


def test_subtree_is_one_query_at_any_depth(city, django_assert_num_queries):
    section = OrganizationFactory(kind=Organization.Kind.SECTION_COMMITTEE, parent=city.committee_a)
    deep = OrganizationFactory(parent=section)
    city.city.refresh_from_db()
    with django_assert_num_queries(1):
        codes = set(city.city.subtree().values_list("code", flat=True))
    assert deep.code in codes and city.cell_c.code in codes and len(codes) == 9


def test_several_roots_are_allowed(city):
    other = OrganizationFactory(code="province-2", kind=Organization.Kind.CITY_COMMITTEE)
    assert set(Organization.objects.get_root_nodes()) == {city.city, other}


def test_search_name_is_folded_on_save(city):
    city.committee_a.name = "Đảng bộ phường Đống Đa"
    city.committee_a.save(update_fields=["name"])
    city.committee_a.refresh_from_db()
    assert city.committee_a.search_name == "dang bo phuong dong da"


def test_secretary_role_must_be_on_a_cell(city):
    role = RoleAssignment(user=UserFactory(), organization=city.committee_a, role=RoleAssignment.Role.CELL_SECRETARY)
    with pytest.raises(ValidationError):
        role.full_clean()


def test_officer_role_cannot_be_on_a_subordinate_cell(city):
    role = RoleAssignment(user=UserFactory(), organization=city.cell_a1, role=RoleAssignment.Role.COMMITTEE_OFFICER)
    with pytest.raises(ValidationError):
        role.full_clean()


def test_the_same_role_twice_is_refused(city):
    user = UserFactory()
    RoleAssignment.objects.create(user=user, organization=city.cell_a1, role=RoleAssignment.Role.CELL_SECRETARY)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(user=user, organization=city.cell_a1, role=RoleAssignment.Role.CELL_SECRETARY)


def test_siblings_sort_in_vietnamese_order_with_numbers_in_numeric_order(city):
    for name in ["Chi bộ Tổ dân phố số 10", "Chi bộ Tổ dân phố số 2", "Chi bộ Đồng Tâm", "Chi bộ Dân cư"]:
        OrganizationFactory(name=name, parent=city.committee_b)
    committee = Organization.objects.get(pk=city.committee_b.pk)
    names = [o.name for o in Organization.objects.get_children(committee)]
    assert names == [
        "Chi bộ B1",
        "Chi bộ Dân cư",
        "Chi bộ Đồng Tâm",
        "Chi bộ Tổ dân phố số 2",
        "Chi bộ Tổ dân phố số 10",
    ]


def test_the_tree_written_in_bulk_is_the_tree_add_child_builds(city):
    """The city fixture is written in one query (tests/factories.tree_in_bulk): its paths, depths and
    child counts are those treebeard gives when the same tree is built node by node."""
    from tests.factories import OrganizationFactory

    Kind = Organization.Kind
    root = OrganizationFactory(code="x-city", name="Đảng bộ thành phố", kind=Kind.CITY_COMMITTEE)
    a = OrganizationFactory(code="x-a", name="Đảng bộ A", kind=Kind.GRASSROOTS_COMMITTEE, parent=root)
    OrganizationFactory(code="x-a1", name="Chi bộ A1", parent=a)
    OrganizationFactory(code="x-a2", name="Chi bộ A2", parent=a)
    b = OrganizationFactory(code="x-b", name="Đảng bộ B", kind=Kind.GRASSROOTS_COMMITTEE, parent=root)
    OrganizationFactory(code="x-b1", name="Chi bộ B1", parent=b)
    OrganizationFactory(code="x-c", name="Chi bộ C", kind=Kind.GRASSROOTS_CELL, parent=root)

    def shape(root_code):
        top = Organization.objects.get(code=root_code)
        return [(n.name, n.path[len(top.path) :], n.depth, n.numchild) for n in Organization.objects.get_tree(top)]

    assert shape("city") == shape("x-city")
    assert Organization.objects.find_problems() == ([], [], [], [], [])


# --- The organisation's year (OrganizationYear) ------------------------------------------------------------------


def test_the_same_level_bodies_are_not_known_until_all_three_are_entered(city):
    from organizations.models import OrganizationYear

    year = OrganizationYear(organization=city.cell_c, year=2026)
    assert year.peer_levels() is None
    year.government_level, year.front_level, year.mass_organizations_level = "HTXSNV", "none", "HTNV"
    assert year.peer_levels() == ("HTXSNV", "HTNV")
    year.government_level = year.mass_organizations_level = "none"
    assert year.peer_levels() == ()


@pytest.mark.parametrize(
    "values",
    [
        {"government_level": "BEST", "front_level": "HTTNV", "mass_organizations_level": "HTTNV"},
        {"government_level": "HTTNV"},  # one body entered, the two others not
        {"unit_plan_share": 100.5},
        {"unit_plan_share": -1},
    ],
)
def test_the_database_refuses_an_organisations_year_out_of_bounds(city, values):
    from organizations.models import OrganizationYear

    with pytest.raises(IntegrityError), transaction.atomic():
        OrganizationYear.objects.create(organization=city.cell_c, year=2026, **values)
    with pytest.raises(ValidationError):
        OrganizationYear(organization=city.cell_c, year=2026, **values).full_clean()


def test_one_organisations_year_per_year(city):
    from organizations.models import OrganizationYear

    OrganizationYear.objects.create(organization=city.cell_c, year=2026)
    with pytest.raises(ValidationError) as excinfo:
        OrganizationYear(organization=city.cell_c, year=2026).full_clean()
    assert "year" in excinfo.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        OrganizationYear.objects.create(organization=city.cell_c, year=2026)
    OrganizationYear(organization=city.cell_c, year=2027).full_clean()
