"""What each persona may see, read through the one scope helper and through the pages."""

import pytest
from django.urls import reverse

from members.models import Member
from members.selectors import members_visible_to
from organizations.access import scope_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def visible_codes(user):
    return set(scope_for(user).organizations().values_list("code", flat=True))


def visible_member_names(user):
    return set(members_visible_to(user).values_list("full_name", flat=True))


def test_board_sees_every_organisation_and_member(personas):
    assert len(visible_codes(personas.board)) == 7
    assert len(visible_member_names(personas.board)) == Member.objects.count()


def test_officer_sees_the_committee_subtree_only(personas):
    assert visible_codes(personas.officer_a) == {"dang-bo-a", "chi-bo-a1", "chi-bo-a2"}
    assert visible_member_names(personas.officer_a) == {
        "Trần Văn Bình",
        "Lê Thị Hoa",
        "Phạm Đức Anh",
        "Nguyễn Văn Dũng",
        "Vũ Thị Ánh",
    }


def test_secretary_sees_the_cell_only(personas):
    assert visible_codes(personas.secretary_a1) == {"chi-bo-a1"}
    assert visible_member_names(personas.secretary_a1) == {"Trần Văn Bình", "Lê Thị Hoa", "Phạm Đức Anh"}


# The organisation and member pages that these scopes open or close: tests/portal/test_pages.py.


def test_evaluator_sees_the_assigned_organisation_but_no_people(personas):
    assert visible_codes(personas.evaluator) == {"dang-bo-b"}
    assert visible_member_names(personas.evaluator) == set()


def test_member_sees_only_their_own_record(personas):
    assert visible_codes(personas.member) == set()
    assert visible_member_names(personas.member) == {"Lê Thị Hoa"}


def test_user_with_no_role_sees_only_their_profile_page(personas, client_for):
    assert visible_codes(personas.outsider) == set()
    assert visible_member_names(personas.outsider) == set()
    response = client_for(personas.outsider).get(reverse("members:me"))
    assert response.status_code == 200
    assert "Lê Thị Hoa" not in response.content.decode()


def test_superuser_sees_everything(personas):
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    assert len(visible_codes(admin)) == 7
    assert len(visible_member_names(admin)) == Member.objects.count()


def test_inactive_user_loses_their_roles(personas):
    personas.officer_a.is_active = False
    personas.officer_a.save()
    personas.officer_a._review_scope = None
    assert visible_codes(personas.officer_a) == set()


def test_nested_roles_are_not_counted_twice(personas, city):
    from tests.factories import grant

    grant(personas.officer_a, "cell_secretary", city.cell_a1)
    scope = scope_for(personas.officer_a)
    assert scope.managed_paths == (city.committee_a.path,)


def test_member_list_shows_only_members_in_scope(personas, client_for):
    content = client_for(personas.secretary_b1).get(reverse("members:list")).content.decode()
    assert "Hoàng Văn Em" in content and "Đỗ Văn Giang" in content
    assert "Lê Thị Hoa" not in content and "Bùi Thị Hạnh" not in content


def test_member_list_of_another_subtree_is_404(personas, client_for, city):
    response = client_for(personas.secretary_a1).get(reverse("members:list"), {"org": city.committee_b.code})
    assert response.status_code == 404


def test_member_list_search_without_diacritics(personas, client_for):
    response = client_for(personas.board).get(reverse("members:list"), {"q": "nguyen van"})
    content = response.content.decode()
    assert "Nguyễn Văn Dũng" in content
    assert "Lê Thị Hoa" not in content


def test_member_list_status_filter(personas, client_for):
    Member.objects.filter(pk=personas.member_b1.pk).update(status=Member.Status.SUSPENDED)
    response = client_for(personas.board).get(reverse("members:list"), {"status": "suspended"})
    assert list(response.context["page"].object_list) == [personas.member_b1]


def test_member_list_ignores_an_unknown_status(personas, client_for):
    response = client_for(personas.board).get(reverse("members:list"), {"status": "<script>"})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == Member.objects.count()
