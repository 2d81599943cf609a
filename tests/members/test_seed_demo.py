"""manage.py seed_demo: the shape of the demo city, its people, records and accounts.

The shape of the default run (7,300 members) is tested on the plan, without a database; the
database tests load a small city of 400 members, which still holds every kind of record.
"""

import random
import re
import unicodedata
from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count, Q
from django.test import Client
from django.utils import timezone, translation

from members import demo
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

Kind = Organization.Kind
Role = RoleAssignment.Role
Status = Member.Status
SMALL = 400
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def seed(*args):
    """Run the command in English (the output is translated) and return what it printed."""
    out = StringIO()
    with translation.override("en"):
        call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def snapshot():
    """Row counts of everything the command writes."""
    models = (Organization, Cluster, Member, Transfer, DisciplineDecision, LeavePeriod, CivilServiceRating)
    counts = {model.__name__: model.objects.count() for model in models}
    counts["DegradationConclusion"] = DegradationConclusion.objects.count()
    counts["RoleAssignment"] = RoleAssignment.objects.count()
    counts["User"] = get_user_model().objects.count()
    return counts


@pytest.fixture
def seeded(db):
    return seed("--members", str(SMALL))


def today():
    return timezone.localdate()


# --- The plan, without a database -----------------------------------------------------------------


def plan(total=demo.DEFAULT_MEMBERS, seed=demo.DEFAULT_SEED):
    return demo.plan_city(total, random.Random(seed), today())


def committee_cells(committee):
    return [org for org in committee.walk() if org.kind == Kind.SUBORDINATE_CELL]


@pytest.mark.parametrize("seed", [demo.DEFAULT_SEED, 1, 7])
def test_default_plan_has_the_shape_of_the_article(seed):
    city = plan(seed=seed).root
    kinds = Counter(org.kind for org in city.walk())
    assert (city.code, city.kind) == ("vinh-yen", Kind.CITY_COMMITTEE)
    assert kinds[Kind.CITY_COMMITTEE] == 1
    assert kinds[Kind.GRASSROOTS_COMMITTEE] == 20
    assert kinds[Kind.GRASSROOTS_CELL] == 19
    assert all(org.kind in Organization.GRASSROOTS_KINDS for org in city.children)
    for committee in (org for org in city.children if org.kind == Kind.GRASSROOTS_COMMITTEE):
        assert 3 <= len(committee_cells(committee)) <= 15, committee.name
    with_sections = [org for org in city.children if any(c.kind == Kind.SECTION_COMMITTEE for c in org.children)]
    assert 1 <= len(with_sections) <= 2
    for section in (org for org in city.walk() if org.kind == Kind.SECTION_COMMITTEE):
        assert len(section.children) >= 2 and all(c.kind == Kind.SUBORDINATE_CELL for c in section.children)


@pytest.mark.parametrize("seed", [demo.DEFAULT_SEED, 1, 7])
def test_default_plan_holds_exactly_the_members_in_cells_of_5_to_60(seed):
    cells = plan(seed=seed).root.cells()
    assert sum(cell.size for cell in cells) == 7300
    assert all(5 <= cell.size <= 60 for cell in cells)
    assert all(cell.profile in demo.PROFILES and cell.unit for cell in cells)
    assert 180 <= len(cells) <= 260


def test_retired_members_cells_in_wards_are_the_largest():
    cells = plan().root.cells()
    wards = [cell for cell in cells if cell.profile == "residential_ward"]
    assert max(cell.size for cell in wards) == max(cell.size for cell in cells)

    def mean(group):
        return sum(cell.size for cell in group) / len(group)

    others = [cell for cell in cells if cell.profile not in demo.RESIDENTIAL_PROFILES]
    assert mean(wards) > 1.5 * mean(others)


def test_every_committee_of_the_catalogue_has_cells_for_its_whole_range():
    for spec in demo.COMMITTEES:
        low, high = spec.cell_range
        assert 3 <= low <= high <= 15 and len(spec.cells) >= high, spec.name
        assert all(cell.profile in demo.PROFILES for cell in spec.cells)
    assert all(spec.profile in demo.PROFILES for spec in demo.GRASSROOTS_CELLS)
    assert len(demo.COMMITTEES) == 20 and len(demo.GRASSROOTS_CELLS) == 19


def test_plan_uses_the_city_s_real_place_names():
    names = {org.name for org in plan().root.walk()}
    for place in ("Tích Sơn", "Liên Bảo", "Hội Hợp", "Đống Đa", "Ngô Quyền", "Đồng Tâm", "Khai Quang"):
        assert f"Đảng bộ phường {place}" in names
    assert {"Đảng bộ xã Định Trung", "Đảng bộ xã Thanh Trù"} <= names
    assert {"Đảng bộ Trường Cao đẳng Kinh tế - Kỹ thuật Vĩnh Phúc", "Chi bộ 3 phòng chức năng"} <= names


@pytest.mark.parametrize("total", [demo.MIN_MEMBERS, SMALL, demo.DEFAULT_MEMBERS, 100_000])
def test_codes_are_unique_ascii_slugs_and_names_are_clean(total):
    orgs = list(plan(total).root.walk())
    codes = [org.code for org in orgs]
    assert len(codes) == len(set(codes))
    assert all(SLUG.match(code) and len(code) <= 40 for code in codes), [c for c in codes if not SLUG.match(c)]
    assert all(unicodedata.is_normalized("NFC", org.name) for org in orgs)
    for org in orgs:
        sibling_names = [child.name for child in org.children]
        assert len(sibling_names) == len(set(sibling_names)), org.name


def test_plan_scales_with_the_number_of_members():
    province = plan(100_000)
    kinds = Counter(org.kind for org in province.root.walk())
    assert kinds[Kind.GRASSROOTS_COMMITTEE] == round(20 * 100_000 / 7300)
    assert kinds[Kind.GRASSROOTS_CELL] == round(19 * 100_000 / 7300)
    cells = province.root.cells()
    assert sum(cell.size for cell in cells) == 100_000
    assert all(5 <= cell.size <= 60 for cell in cells)
    # Clusters are split so that none grows beyond a dozen organisations.
    per_cluster = Counter(org.cluster for org in province.root.children)
    assert max(per_cluster.values()) <= demo.MAX_CLUSTER_SIZE
    assert set(per_cluster) == set(province.clusters)


def test_small_plan_keeps_realistic_cells():
    small = plan(SMALL)
    kinds = Counter(org.kind for org in small.root.walk())
    assert kinds[Kind.GRASSROOTS_COMMITTEE] >= 3 and kinds[Kind.GRASSROOTS_CELL] >= 2
    assert kinds[Kind.SECTION_COMMITTEE] >= 1
    cells = small.root.cells()
    assert sum(cell.size for cell in cells) == SMALL
    assert 20 <= SMALL / len(cells) <= 50  # about the default's mean, not 400 members in 200 cells


def test_plan_is_reproducible_from_its_seed():
    def shape(p):
        return [(org.code, org.name, org.size, org.founded_on) for org in p.root.walk()]

    assert shape(plan(seed=3)) == shape(plan(seed=3))
    assert shape(plan(seed=3)) != shape(plan(seed=4))


def test_plan_refuses_too_few_members():
    with pytest.raises(ValueError):
        plan(demo.MIN_MEMBERS - 1)


def test_fit_sizes_hits_the_total_within_bounds_and_keeps_the_order():
    wanted = [58, 55, 40, 30, 20, 12, 8, 6]
    for total in (40, 100, 229, 300, 480):
        sizes = demo.fit_sizes(wanted, total)
        assert sum(sizes) == total
        assert all(5 <= size <= 60 for size in sizes)
        assert sizes == sorted(sizes, reverse=True)
    with pytest.raises(ValueError):
        demo.fit_sizes(wanted, 481)
    with pytest.raises(ValueError):
        demo.fit_sizes(wanted, 39)


def test_generated_names_look_vietnamese_and_are_never_the_article_s_people():
    generator = demo.NameGenerator(random.Random(5))
    names = [
        generator.full_name(gender, year)
        for gender in (Member.Gender.MALE, Member.Gender.FEMALE)
        for year in (1950, 1995)
        for _ in range(5000)
    ]
    assert not set(names) & demo.REAL_NAMES
    assert all(len(name.split()) == 3 and unicodedata.is_normalized("NFC", name) for name in names)
    families = Counter(name.split()[0] for name in names)
    assert families.most_common(1)[0][0] == "Nguyễn"
    assert 0.25 < families["Nguyễn"] / len(names) < 0.4
    assert {"Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đỗ", "Bùi", "Đặng", "Ngô", "Dương"} <= set(families)
    older_women = names[10000:15000]
    assert sum(name.split()[1] == "Thị" for name in older_women) > len(older_women) / 2


# --- The loaded city --------------------------------------------------------------------------------


def test_loads_the_tree_and_exactly_the_members_asked_for(seeded):
    kinds = Counter(Organization.objects.values_list("kind", flat=True))
    assert kinds[Kind.CITY_COMMITTEE] == 1
    assert kinds[Kind.GRASSROOTS_COMMITTEE] == 3
    assert kinds[Kind.GRASSROOTS_CELL] == 2
    assert kinds[Kind.SECTION_COMMITTEE] == 1
    assert kinds[Kind.SUBORDINATE_CELL] >= 9
    assert Member.objects.count() == SMALL
    city = Organization.objects.get(code=demo.CITY_CODE)
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
        assert member.admission_date >= demo.add_years(member.date_of_birth, 18)
        assert member.admission_date <= today()
        if member.official_date is not None:
            assert member.official_date == demo.add_years(member.admission_date, 1)
        assert member.search_name == fold(member.full_name)
        assert member.sort_key == name_sort_key(member.full_name)
        assert member.full_name not in demo.REAL_NAMES


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
    for username in demo.DEMO_USERNAMES:
        assert Client().login(username=username, password=demo.DEMO_PASSWORD), username
        assert not Client().login(username=username, password="wrong password")
        line = next(line for line in seeded.splitlines() if line.startswith(f"{username} "))
        assert demo.DEMO_PASSWORD in line


def test_accounts_hold_their_roles(seeded):
    User = get_user_model()
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff

    board = role_of("bantochuc")
    assert (board.role, board.organization.code) == (Role.BOARD, demo.CITY_CODE)
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
    assert all(re.search(rf"^{name} +demo12345", output, re.MULTILINE) for name in demo.DEMO_USERNAMES)


def test_reset_deletes_and_reloads_the_same_data(seeded):
    before = snapshot()
    people = sorted(Member.objects.values_list("card_number", "full_name", "date_of_birth"))
    old_city = Organization.objects.get(code=demo.CITY_CODE).pk
    output = seed("--members", str(SMALL), "--reset")
    assert "Deleted" in output and "Loaded" in output
    assert snapshot() == before
    assert sorted(Member.objects.values_list("card_number", "full_name", "date_of_birth")) == people
    assert Organization.objects.get(code=demo.CITY_CODE).pk != old_city
    assert Client().login(username="bithu", password=demo.DEMO_PASSWORD)


def test_reset_can_change_the_size_and_the_seed(seeded):
    people = set(Member.objects.values_list("full_name", flat=True))
    seed("--members", "200", "--reset", "--seed", "99")
    assert Member.objects.count() == 200
    assert Organization.objects.filter(code=demo.CITY_CODE).count() == 1
    assert set(Member.objects.values_list("full_name", flat=True)) != people
    assert Organization.objects.find_problems() == ([], [], [], [], [])


@pytest.mark.django_db
def test_refuses_when_demo_accounts_exist_and_writes_nothing():
    get_user_model().objects.create_user("bithu", password="x")
    with pytest.raises(CommandError, match="bithu"):
        seed("--members", str(SMALL))
    assert not Organization.objects.exists() and not Member.objects.exists()


@pytest.mark.django_db
def test_refuses_too_few_members():
    with pytest.raises(CommandError):
        seed("--members", "10")
    assert not Organization.objects.exists()
