"""manage.py seed_demo on a small city (400 members): the tree, the people, their records, one account per
role, and running the command again. The shape of the full city is tested on its plan (test_plan.py)."""

import re
from collections import Counter
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountState
from demo.accounts import DEMO_PASSWORD, DEMO_USERNAMES
from demo.catalogue import CITY_CODE, REAL_NAMES
from demo.plan import add_years
from members.models import (
    CivilServiceRating,
    DegradationConclusion,
    DisciplineDecision,
    LeavePeriod,
    Member,
    Transfer,
)
from organizations.models import Cluster, Organization, RoleAssignment
from organizations.roles import BOARD_PERMISSIONS
from organizations.vietnamese import fold, name_sort_key, title_sort_key

from .conftest import SMALL, seed

Kind = Organization.Kind
Role = RoleAssignment.Role
Status = Member.Status


def snapshot():
    """Row counts of everything the command writes."""
    models = (Organization, Cluster, Member, Transfer, DisciplineDecision, LeavePeriod, CivilServiceRating)
    counts = {model.__name__: model.objects.count() for model in models}
    counts["DegradationConclusion"] = DegradationConclusion.objects.count()
    counts["RoleAssignment"] = RoleAssignment.objects.count()
    counts["User"] = get_user_model().objects.count()
    return counts


def today():
    return timezone.localdate()


# --- The loaded city --------------------------------------------------------------------------------


def test_loads_the_tree_and_exactly_the_members_asked_for(seeded):
    kinds = Counter(Organization.objects.values_list("kind", flat=True))
    assert kinds[Kind.CITY_COMMITTEE] == 1
    assert kinds[Kind.GRASSROOTS_COMMITTEE] == 3
    assert kinds[Kind.GRASSROOTS_CELL] == 2
    assert kinds[Kind.SECTION_COMMITTEE] == 1
    assert kinds[Kind.SUBORDINATE_CELL] >= 9
    assert Member.objects.count() == SMALL
    city = Organization.objects.get(code=CITY_CODE)
    assert city.name == "Đảng bộ thành phố Vĩnh Yên" and city.is_root()
    grassroots = Organization.objects.filter(kind__in=Organization.GRASSROOTS_KINDS)
    assert not grassroots.filter(cluster=None).exists()
    assert Cluster.objects.exists()
    assert "Loaded" in seeded and f"{SMALL} members" in seeded


def test_tree_is_consistent_and_ready_for_treebeard(seeded):
    assert Organization.objects.find_problems() == ([], [], [], [], [])
    # Siblings are numbered in the Vietnamese order of their names, as treebeard's sorted insertion expects.
    for parent in Organization.objects.filter(numchild__gt=0):
        children = list(Organization.objects.get_children(parent))
        assert len(children) == parent.numchild
        assert [c.name for c in children] == sorted((c.name for c in children), key=title_sort_key)
    # The computed search key matches what save() would store.
    assert all(org.search_name == fold(org.name) for org in Organization.objects.all())
    # And treebeard keeps working on the bulk-created tree.
    committee = Organization.objects.get(code="tich-son")
    Organization.objects.add_child(
        committee, instance=Organization(code="new-cell", name="Chi bộ Khu đô thị mới", kind=Kind.SUBORDINATE_CELL)
    )
    assert Organization.objects.find_problems() == ([], [], [], [], [])
    names = list(Organization.objects.get_children(committee).values_list("name", flat=True))
    assert "Chi bộ Khu đô thị mới" in names[1:-1]  # sorted in among the others, not appended
    assert names == sorted(names, key=title_sort_key)


def test_every_cell_has_5_to_60_members_one_secretary_and_one_deputy(seeded):
    cells = Organization.objects.filter(kind__in=Organization.CELL_KINDS).annotate(
        size=Count("members"),
        secretaries=Count("members", filter=Q(members__party_post=Member.PartyPost.SECRETARY)),
        deputies=Count("members", filter=Q(members__party_post=Member.PartyPost.DEPUTY_SECRETARY)),
    )
    assert cells.exists()
    for cell in cells:
        assert 5 <= cell.size <= 60, cell.name
        assert (cell.secretaries, cell.deputies) == (1, 1), cell.name
    holders = Member.objects.exclude(party_post="")
    assert not holders.exclude(status=Status.ACTIVE).exists()
    assert not holders.filter(official_date=None).exists()
    assert Member.objects.filter(party_post=Member.PartyPost.COMMITTEE_MEMBER).exists()
    assert Member.objects.filter(is_leader=True).exists()
    assert Member.objects.exclude(government_post="").exists()


def test_statuses_are_mostly_active_with_excused_and_suspended_members(seeded):
    statuses = Counter(Member.objects.values_list("status", flat=True))
    assert statuses[Status.ACTIVE] > 0.9 * SMALL
    assert statuses[Status.EXCUSED] >= 1
    assert statuses[Status.SUSPENDED] >= 1
    for member in Member.objects.filter(status=Status.EXCUSED):
        assert member.occupation == Member.Occupation.RETIRED
        assert member.date_of_birth <= today() - timedelta(days=65 * 365)
        assert member.status_since is not None


def test_probationary_members_were_admitted_within_the_year(seeded):
    probationary = Member.objects.filter(official_date=None)
    assert probationary.exists()
    year_ago = today() - timedelta(days=365)
    assert not probationary.filter(admission_date__lte=year_ago).exists()
    six_months_ago = today() - timedelta(days=182)
    assert probationary.filter(admission_date__gt=six_months_ago).exists()  # recently admitted
    assert probationary.filter(admission_date__lte=six_months_ago).exists()
    assert not Member.objects.exclude(official_date=None).filter(admission_date__gt=year_ago).exists()


def test_member_dates_and_keys_are_consistent(seeded):
    for member in Member.objects.all():
        assert member.admission_date >= add_years(member.date_of_birth, 18)
        assert member.admission_date <= today()
        if member.official_date is not None:
            assert member.official_date == add_years(member.admission_date, 1)
        assert member.search_name == fold(member.full_name)
        assert member.sort_key == name_sort_key(member.full_name)
        assert member.full_name not in REAL_NAMES


def test_card_numbers_are_unique_8_digit_strings(seeded):
    numbers = list(Member.objects.values_list("card_number", flat=True))
    assert len(numbers) == len(set(numbers)) == SMALL
    assert all(re.fullmatch(r"[1-9]\d{7}", number) for number in numbers)


def test_transfers_lead_into_the_member_s_current_cell(seeded):
    transfers = Transfer.objects.select_related("member", "from_cell", "to_cell")
    assert transfers.exists()
    for transfer in transfers:
        assert transfer.to_cell_id == transfer.member.cell_id
        assert transfer.from_cell_id != transfer.to_cell_id
        assert transfer.from_cell.is_cell and transfer.to_cell.is_cell
        assert transfer.member.admission_date < transfer.transferred_on <= today()


def test_discipline_leave_ratings_and_conclusions_are_present(seeded):
    decisions = DisciplineDecision.objects.select_related("member")
    assert decisions.count() >= 2
    for decision in decisions:
        assert decision.form in DisciplineDecision.Form.values and decision.reason
        assert decision.member.admission_date <= decision.decided_on <= today()
    assert decisions.filter(in_official_duties=True).exists() or decisions.filter(in_official_duties=False).exists()

    leave = Counter(LeavePeriod.objects.values_list("kind", flat=True))
    assert leave[LeavePeriod.Kind.SICK] >= 1 and leave[LeavePeriod.Kind.MATERNITY] >= 1
    assert not LeavePeriod.objects.filter(kind=LeavePeriod.Kind.MATERNITY, member__gender=Member.Gender.MALE).exists()

    year = today().year
    ratings = CivilServiceRating.objects.all()
    assert set(ratings.values_list("year", flat=True)) == {year - 1, year}
    assert not ratings.exclude(member__occupation=Member.Occupation.CIVIL_SERVANT).exists()
    civil_servants = Member.objects.filter(occupation=Member.Occupation.CIVIL_SERVANT).count()
    rated = ratings.filter(year=year).count()
    assert 0.75 * civil_servants <= rated <= civil_servants

    assert DegradationConclusion.objects.filter(body__contains="Vĩnh Yên").exists()


def test_secretary_cells_show_the_special_cases(seeded):
    """The first secretary's cell holds someone on probation and someone on leave, to demo the rules."""
    cell = get_user_model().objects.get(username="bithu").role_assignments.get().organization
    in_cell = Member.objects.filter(cell=cell)
    assert in_cell.filter(official_date=None).exists()
    assert LeavePeriod.objects.filter(member__cell=cell).exists()
    assert Transfer.objects.filter(to_cell=cell).exists()


# --- Accounts ----------------------------------------------------------------------------------------


def role_of(username):
    return RoleAssignment.objects.select_related("organization").get(user__username=username)


def test_every_role_has_an_account_that_can_sign_in(seeded):
    for username in DEMO_USERNAMES:
        assert Client().login(request=HttpRequest(), username=username, password=DEMO_PASSWORD), username
        assert not Client().login(request=HttpRequest(), username=username, password="wrong password")
        line = next(line for line in seeded.splitlines() if line.startswith(f"{username} "))
        assert DEMO_PASSWORD in line


def test_accounts_hold_their_roles(seeded):
    User = get_user_model()
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff

    board = role_of("bantochuc")
    assert (board.role, board.organization.code) == (Role.BOARD, CITY_CODE)
    assert board.user.is_staff and not board.user.is_superuser
    # The board's group is the product's, not the demo's (organizations.roles): the demo only grants the role.
    group = board.user.groups.get(name="Ban Tổ chức")
    assert {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()} == set(BOARD_PERMISSIONS)
    assert board.user.has_perm("members.change_member") and board.user.has_perm("organizations.add_organization")
    assert board.user.has_perm("assessments.change_period") and not board.user.has_perm("auth.change_user")

    officer = role_of("canbo")
    assert officer.role == Role.COMMITTEE_OFFICER and officer.organization.kind == Kind.GRASSROOTS_COMMITTEE

    secretary = role_of("bithu")
    assert secretary.role == Role.CELL_SECRETARY and secretary.organization.is_cell
    assert secretary.organization.path.startswith(officer.organization.path)
    assert secretary.user.member.cell == secretary.organization
    assert secretary.user.member.party_post == Member.PartyPost.SECRETARY

    second = role_of("bithu2")
    assert second.role == Role.CELL_SECRETARY and second.organization.is_cell
    assert not second.organization.path.startswith(officer.organization.path)
    assert second.user.member.cell == second.organization
    assert second.user.member.party_post == Member.PartyPost.SECRETARY

    member = User.objects.get(username="dangvien")
    assert not member.role_assignments.exists()
    assert member.member.cell == secretary.organization
    assert member.member.party_post == "" and member.member.status == Status.ACTIVE

    evaluator = role_of("danhgia")
    assert evaluator.role == Role.EVALUATOR and evaluator.organization.is_grassroots
    assert not evaluator.user.is_staff


def test_accounts_are_made_like_any_other_and_open_the_site_at_once(seeded, client):
    """Through accounts.services: named after their member (family and middle names, then the given
    name), and no one-time code to replace, so the first page is the home page, not a password change."""
    bithu = get_user_model().objects.select_related("member").get(username="bithu")
    assert f"{bithu.last_name} {bithu.first_name}" == bithu.member.full_name
    assert bithu.first_name == bithu.member.full_name.split()[-1]
    board = get_user_model().objects.get(username="bantochuc")
    assert board.first_name and board.last_name and not hasattr(board, "member")
    response = client.post(reverse("accounts:login"), {"username": "bithu", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert client.get(response.url).status_code == 200
    assert not AccountState.objects.filter(user__username__in=DEMO_USERNAMES, must_change_password=True).exists()


def test_prints_the_accounts_table_and_the_elapsed_time(seeded):
    assert "Username" in seeded and "Organisation" in seeded
    assert re.search(r"bithu +demo12345 +Cell secretary +Chi bộ .+ \(Đảng bộ phường Tích Sơn\)", seeded)
    assert re.search(r"Done in \d+\.\d s", seeded)


# --- Running again ----------------------------------------------------------------------------------


def test_second_run_changes_nothing_and_says_so(seeded):
    before = snapshot()
    output = seed("--members", str(SMALL))
    assert snapshot() == before
    assert "already loaded" in output
    assert all(re.search(rf"^{name} +demo12345", output, re.MULTILINE) for name in DEMO_USERNAMES)


def test_reset_deletes_and_reloads_the_same_data(seeded):
    before = snapshot()
    people = sorted(Member.objects.values_list("card_number", "full_name", "date_of_birth"))
    old_city = Organization.objects.get(code=CITY_CODE).pk
    output = seed("--members", str(SMALL), "--reset")
    assert "Deleted" in output and "Loaded" in output
    assert snapshot() == before
    assert sorted(Member.objects.values_list("card_number", "full_name", "date_of_birth")) == people
    assert Organization.objects.get(code=CITY_CODE).pk != old_city
    assert Client().login(request=HttpRequest(), username="bithu", password=DEMO_PASSWORD)


def test_reset_can_change_the_size_and_the_seed(seeded):
    people = set(Member.objects.values_list("full_name", flat=True))
    seed("--members", "200", "--reset", "--seed", "99")
    assert Member.objects.count() == 200
    assert Organization.objects.filter(code=CITY_CODE).count() == 1
    assert set(Member.objects.values_list("full_name", flat=True)) != people
    assert Organization.objects.find_problems() == ([], [], [], [], [])
