"""The admin within the organisation scope (organizations/admin_scope.py).

Personas of the admin: the city's board (a board role on the root: the whole tree), the board of
committee A only (`board_a`: a board role below the root, staff like every board), and an account
made staff by hand with the board's group but no board role (`staff_by_hand`). The superuser sees
everything (tests/test_admin.py).
"""

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import FailedSignIn
from assessments.models import Assessment, AuditEntry, OrganizationReview, Period, Recheck
from members.models import Member
from organizations.admin_scope import ScopedAdminMixin
from organizations.models import Cluster, Organization, RoleAssignment
from organizations.roles import ROLE_GROUPS
from tests.factories import ClusterFactory, UserFactory, grant
from tests.test_admin import changelist, grow, member_form_data, org_form_data

pytestmark = pytest.mark.django_db

Role = RoleAssignment.Role


def url(obj, view):
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_{view}", args=[obj.pk])


@pytest.fixture
def board_a(personas, city):
    user = UserFactory(username="board_a")
    grant(user, Role.BOARD, city.committee_a)
    user.refresh_from_db()
    assert user.is_staff and not user.is_superuser
    return user


@pytest.fixture
def year(personas, city):
    """The city's period, opened, with a matter to re-check on a member of B1; committee A's own period;
    the sign-in failures of the morning and an account of no one."""
    from accounts import services as accounts
    from assessments.core import services
    from assessments.decisions import rechecks

    city.period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=city.period, user=personas.board)
    city.period_a = Period.objects.create(organization=city.committee_a, year=2026, regime="2018")
    city.b1_form = Assessment.objects.get(period=city.period, member=personas.member_b1)
    city.a1_form = Assessment.objects.get(period=city.period, member=personas.member_record)
    rechecks.recheck_open(
        period=city.period, assessment=city.b1_form, kind="complaint", summary="Đơn thư", user=personas.board
    )
    services.assessment_classification_override(
        assessment=city.a1_form, user=personas.board, classified=True, reason="Vẫn xếp loại"
    )
    accounts.member_accounts_create(organization=city.cell_a2, actor=personas.board)
    FailedSignIn.objects.create(
        username="31012345",
        ip_address="203.0.113.9",
        user_agent="",
        http_accept="",
        path_info="/accounts/login/",
        failures_since_start=1,
    )
    city.nobody = UserFactory(username="chua-co-vai-tro")
    city.cluster = ClusterFactory()
    return city


def shown(client, model, **params):
    response = client.get(changelist(model), params)
    assert response.status_code == 200, model
    return set(response.context["cl"].result_list)


def test_every_registered_model_admin_is_scoped():
    """A model admin added later is scoped too, or says here why it need not be."""
    from django.contrib.auth.models import Group

    unscoped = {Group: "no role's group holds its permissions: the superuser's only"}
    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, ScopedAdminMixin) or model in unscoped, model


def test_a_board_below_the_root_lists_only_its_subtree(client, personas, city, year, board_a):
    client.force_login(board_a)
    a_members = set(Member.objects.filter(cell__path__startswith=city.committee_a.path))
    assert shown(client, Member) == a_members
    assert personas.member_b1 not in shown(client, Member, q=personas.member_b1.card_number)
    assert shown(client, RoleAssignment) == set(
        RoleAssignment.objects.filter(organization__path__startswith=city.committee_a.path)
    )
    assert shown(client, Period) == {city.period_a}
    assessments = shown(client, Assessment)
    assert city.a1_form in assessments and city.b1_form not in assessments
    assert all(a.organization.path.startswith(city.committee_a.path) for a in assessments)
    assert {o.organization for o in shown(client, OrganizationReview)} <= {city.committee_a, city.cell_a1, city.cell_a2}
    assert shown(client, Recheck) == set()  # the city's period: the city board's business
    entries = shown(client, AuditEntry)
    assert entries and all(
        e.assessment and e.assessment.organization.path.startswith(city.committee_a.path) for e in entries
    )
    users = shown(client, __import__("django.contrib.auth", fromlist=["_"]).get_user_model())
    assert personas.secretary_a1 in users and personas.officer_a in users
    assert not {personas.secretary_b1, personas.evaluator, personas.board, city.nobody} & users
    assert shown(client, FailedSignIn) == set() and shown(client, Cluster) == set()


def test_the_city_board_lists_the_whole_tree_and_what_belongs_to_no_organisation(client, personas, city, year):
    client.force_login(personas.board)
    assert shown(client, Member) == set(Member.objects.all())
    assert shown(client, Period) == {city.period, city.period_a}
    assert shown(client, Recheck) == set(Recheck.objects.all())
    assert AuditEntry.objects.get(action="accounts_create") in shown(client, AuditEntry)
    users = shown(client, __import__("django.contrib.auth", fromlist=["_"]).get_user_model())
    assert {personas.secretary_b1, city.nobody, personas.board} <= users
    assert shown(client, FailedSignIn) and shown(client, Cluster) == {city.cluster}


def outside_a(personas, city):
    """Objects outside committee A, one of each model the board works on."""
    return [
        personas.member_b1,
        city.committee_b,
        city.cell_c,
        city.city,
        RoleAssignment.objects.get(user=personas.secretary_b1),
        city.period,
        city.b1_form,
        OrganizationReview.objects.get(period=city.period, organization=city.cell_b1, subject_kind="organization"),
        Recheck.objects.get(),
        AuditEntry.objects.filter(assessment=city.b1_form).first() or AuditEntry.objects.get(action="open"),
        personas.secretary_b1,
        FailedSignIn.objects.get(),
        city.cluster,
    ]


@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_an_object_outside_the_subtree_is_not_there(client, personas, city, year, board_a, view):
    """404, as on the screens: not 403, not a redirect to the index that says it may have been deleted."""
    client.force_login(board_a)
    for obj in outside_a(personas, city):
        response = client.get(url(obj, view))
        assert response.status_code == 404, (view, obj)


def test_an_object_inside_the_subtree_opens(client, personas, city, year, board_a):
    client.force_login(board_a)
    for obj in [personas.member_a2, city.cell_a1, city.committee_a, city.a1_form, personas.secretary_a1, city.period_a]:
        assert client.get(url(obj, "change")).status_code == 200, obj


def test_posting_to_an_object_outside_the_subtree_changes_nothing(client, personas, city, year, board_a):
    client.force_login(board_a)
    member = personas.member_b1
    response = client.post(url(member, "change"), member_form_data(member, full_name="Đổi Tên"))
    assert response.status_code == 404
    member.refresh_from_db()
    assert member.full_name == "Hoàng Văn Em"
    role = RoleAssignment.objects.get(user=personas.secretary_b1)
    assert client.post(url(role, "delete"), {"post": "yes"}).status_code == 404
    assert RoleAssignment.objects.filter(pk=role.pk).exists()
    org = city.committee_b
    assert client.post(url(org, "change"), org_form_data(org, name="Đổi tên")).status_code == 404
    assert Organization.objects.get(pk=org.pk).name == "Đảng bộ B"


def test_an_action_on_objects_outside_the_subtree_touches_none_of_them(client, personas, city, year, board_a):
    client.force_login(board_a)
    roles = RoleAssignment.objects.filter(user__in=[personas.secretary_b1, personas.evaluator])
    response = client.post(
        changelist(RoleAssignment),
        {"action": "delete_selected", "post": "yes", "_selected_action": [r.pk for r in roles]},
    )
    assert response.status_code in (200, 302)
    assert roles.count() == 2
    client.post(
        changelist(Period),
        {"action": "close_periods", "_selected_action": [city.period.pk]},
    )
    assert Period.objects.get(pk=city.period.pk).state == Period.State.OPEN


def test_a_foreign_key_offers_only_what_is_in_scope(client, personas, city, year, board_a):
    client.force_login(board_a)
    member = personas.member_a2
    response = client.post(url(member, "change"), member_form_data(member, cell=city.cell_b1.pk))
    assert response.status_code == 200
    assert "cell" in response.context["adminform"].form.errors
    assert Member.objects.get(pk=member.pk).cell == city.cell_a2
    form = client.get(reverse("admin:members_member_add")).context["adminform"].form
    in_a = Organization.objects.filter(path__startswith=city.committee_a.path, kind__in=Organization.CELL_KINDS)
    assert set(form.fields["cell"].queryset) == set(in_a)
    role_form = client.get(reverse("admin:organizations_roleassignment_add")).context["adminform"].form
    assert city.committee_b not in set(role_form.fields["organization"].queryset)


def test_the_autocomplete_lists_only_what_is_in_scope(client, personas, city, year, board_a):
    client.force_login(board_a)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "members", "model_name": "member", "field_name": "cell", "term": "Chi"},
    )
    codes = {row["text"] for row in response.json()["results"]}
    assert codes == {"Chi bộ A1", "Chi bộ A2"}


def test_the_tree_starts_at_the_top_of_the_subtree(client, personas, city, year, board_a):
    client.force_login(board_a)
    assert shown(client, Organization) == {city.committee_a}
    children = client.get(reverse("admin:organizations_organization_changelist") + f"children/{city.committee_a.pk}/")
    assert children.status_code == 200
    outside = client.get(reverse("admin:organizations_organization_changelist") + f"children/{city.city.pk}/")
    assert outside.status_code == 404


def test_an_organisation_is_not_moved_or_added_outside_the_subtree(client, personas, city, year, board_a):
    client.force_login(board_a)
    move = reverse("admin:organizations_organization_changelist") + "move/"
    response = client.post(move, {"node": city.cell_a2.pk, "target": city.committee_b.pk, "relation": "child"})
    assert response.status_code == 404
    response = client.post(move, {"node": city.cell_a2.pk, "target": city.committee_a.pk, "relation": "sibling"})
    assert response.status_code == 404  # beside committee A is under the city
    org = city.cell_a2
    response = client.post(url(org, "change"), org_form_data(org, treebeard_ref_node=city.committee_b.pk))
    assert response.status_code == 200 and "treebeard_ref_node" in response.context["adminform"].form.errors
    assert Organization.objects.get_parent(Organization.objects.get(pk=org.pk)) == city.committee_a
    add = reverse("admin:organizations_organization_add")
    new = {**org_form_data(org, code="chi-bo-moi", name="Chi bộ mới"), "treebeard_ref_node": ""}
    response = client.post(add, new)
    assert response.status_code == 200 and "treebeard_ref_node" in response.context["adminform"].form.errors
    assert not Organization.objects.filter(code="chi-bo-moi").exists()
    assert Organization.objects.find_problems() == ([], [], [], [], [])


def test_inside_the_subtree_the_board_below_the_root_does_its_work(client, personas, city, year, board_a):
    client.force_login(board_a)
    org = city.committee_a  # the top of its subtree: renamed where it is, under the city it does not manage
    response = client.post(url(org, "change"), org_form_data(org, name="Đảng bộ A mới"))
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    assert Organization.objects.get(pk=org.pk).name == "Đảng bộ A mới"
    add = reverse("admin:organizations_organization_add")
    new = {**org_form_data(city.cell_a2, code="chi-bo-a3", name="Chi bộ A3"), "treebeard_ref_node": city.committee_a.pk}
    assert client.post(add, new).status_code == 302
    assert Organization.objects.get_parent(Organization.objects.get(code="chi-bo-a3")).code == "dang-bo-a"
    member = personas.member_a2
    response = client.post(url(member, "change"), member_form_data(member, full_name="Nguyễn Văn Dũng Mới"))
    assert response.status_code == 302
    assert Organization.objects.find_problems() == ([], [], [], [], [])


def test_a_role_is_given_only_where_the_user_is_board(client, personas, city, year, board_a):
    """Board of A and secretary of B1: B1 is in its scope, but roles there are the city board's."""
    grant(board_a, Role.CELL_SECRETARY, city.cell_b1)
    client.force_login(board_a)
    add = reverse("admin:organizations_roleassignment_add")
    data = {"user": personas.member.pk, "role": Role.CELL_SECRETARY, "organization": city.cell_b1.pk}
    response = client.post(add, data)
    assert response.status_code == 200 and "organization" in response.context["adminform"].form.errors
    assert not RoleAssignment.objects.filter(user=personas.member).exists()
    response = client.post(add, {**data, "organization": city.cell_a2.pk})
    assert response.status_code == 302
    assert RoleAssignment.objects.filter(user=personas.member, organization=city.cell_a2).exists()
    role = RoleAssignment.objects.get(user=personas.secretary_b1)
    assert client.post(url(role, "delete"), {"post": "yes"}).status_code == 403  # seen, not the board's there
    assert RoleAssignment.objects.filter(pk=role.pk).exists()


def test_staff_made_by_hand_without_a_board_role_is_let_into_nothing(client, personas, city, year):
    """The board's group and the staff flag, given by hand to a secretary: the admin still shows nothing."""
    from django.contrib.auth.models import Group

    user = personas.secretary_a1
    user.is_staff = True
    user.save()
    user.groups.add(Group.objects.get(name=ROLE_GROUPS[Role.BOARD][0]))
    client.force_login(user)
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200 and index.context["app_list"] == []
    assert client.get(changelist(Member)).status_code == 403
    assert client.get(url(personas.member_a1_other, "change")).status_code == 403  # in scope: no permission
    assert client.get(url(personas.member_b1, "change")).status_code == 404  # outside: not there


def test_sync_keeps_staff_to_the_board_and_the_superuser(personas, city):
    from organizations.roles import sync_user_groups

    user = personas.officer_a
    user.is_staff = True
    user.save()
    sync_user_groups(user)
    user.refresh_from_db()
    assert not user.is_staff
    assert personas.board.is_staff


def count(client, url_):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url_)
    assert response.status_code == 200
    return len(ctx.captured_queries)


# Queries of each changelist for a board (not a superuser), the same at any size: those of the
# superuser (tests/test_admin.py CHANGELIST_QUERIES) and three more: the role assignments (the scope),
# the user's own permissions and those of its groups (Django's has_perm, once per request). The scope
# is a condition of the list queries (for the accounts, subqueries in them). For the board of committee
# A, what belongs to no organisation (failed sign-ins, clusters) is nothing: no count, no page query.
#              (city board, board of committee A)
BOARD_QUERIES = {
    "accounts.FailedSignIn": (8, 5),
    "assessments.Assessment": (9, 9),
    "assessments.AuditEntry": (10, 10),
    "assessments.OrganizationReview": (9, 9),
    "assessments.Period": (10, 10),
    "assessments.Recheck": (9, 9),
    "auth.User": (9, 9),
    "members.Member": (8, 8),
    "organizations.Cluster": (8, 5),
    "organizations.Organization": (9, 9),
    "organizations.RoleAssignment": (8, 8),
}


@pytest.mark.parametrize("label", sorted(BOARD_QUERIES))
@pytest.mark.parametrize("who", ["board", "board_a"])
def test_a_board_s_changelist_costs_the_same_at_any_size(label, who, client, personas, city, board_a):
    from django.apps import apps

    model = apps.get_model(label)
    client.force_login(board_a if who == "board_a" else personas.board)
    grow(city, 2)
    small = count(client, changelist(model))
    grow(city, 30)
    large = count(client, changelist(model))
    assert small == large == BOARD_QUERIES[label][who == "board_a"]


def test_one_level_of_the_tree_costs_the_same_at_any_size(client, personas, city, board_a):
    """The children of committee A, for its board: each row's scope is read from the row (no query)."""
    client.force_login(board_a)
    children = reverse("admin:organizations_organization_changelist") + f"children/{city.committee_a.pk}/"
    grow(city, 2)
    small = count(client, children)
    grow(city, 30)
    assert count(client, children) == small


def test_an_account_s_roles_outside_the_subtree_are_not_shown_on_its_page(client, personas, city, year, board_a):
    """The secretary of A1 also evaluates committee B: committee A's board sees the role in A1 only."""
    grant(personas.secretary_a1, Role.EVALUATOR, city.committee_b)
    client.force_login(board_a)
    page = client.get(url(personas.secretary_a1, "change"))
    assert page.status_code == 200
    (roles,) = [formset for formset in page.context["inline_admin_formsets"] if formset.formset.model is RoleAssignment]
    assert [form.instance.organization for form in roles.formset.forms] == [city.cell_a1]
    client.force_login(personas.board)
    page = client.get(url(personas.secretary_a1, "change"))
    (roles,) = [formset for formset in page.context["inline_admin_formsets"] if formset.formset.model is RoleAssignment]
    assert {form.instance.organization for form in roles.formset.forms} == {city.cell_a1, city.committee_b}


def test_a_board_below_the_root_lists_only_the_conflicts_of_interest_on_its_subtree(client, personas, city, board_a):
    from assessments.models import DecisionConflict

    on_a = DecisionConflict.objects.create(user=personas.officer_a, member=personas.member_a2, reason="Anh em ruột")
    on_b = DecisionConflict.objects.create(user=personas.board, organization=city.cell_b1, reason="Vợ là bí thư")
    client.force_login(board_a)
    assert shown(client, DecisionConflict) == {on_a}
    assert client.get(reverse("admin:assessments_decisionconflict_change", args=[on_b.pk])).status_code == 404
    client.force_login(personas.board)
    assert shown(client, DecisionConflict) == {on_a, on_b}
