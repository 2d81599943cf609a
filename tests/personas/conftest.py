"""A small town for the persona tests, built on the freshly migrated test database (no demo data).

The tree:                                   People (accounts; their roles are given by each test):
  Thị xã (city committee)                     ban_to_chuc - the organisation board's clerk (no member record)
    Đảng bộ phường Tích Sơn (committee A)      can_bo_a    - officer of committee A
      Chi bộ khu phố 1 (cell A1): 6 members    can_bo_b    - officer of committee B
      Chi bộ khu phố 2 (cell A2): 2 members    can_bo_c    - officer of the grassroots cell C
    Đảng bộ xã Định Trung (committee B)        bi_thu_a1   - secretary of cell A1, a member of it
      Chi bộ thôn Đông (cell B1): 2 members    dang_vien   - a plain member of cell A1
    Chi bộ Trường Cao đẳng (grassroots cell C)  pham_duc_anh - another member of A1 with an account
                                                mat_tran    - evaluator of committee B (Mặt trận Tổ quốc)
Cell A1 also holds two members without an account (one writes on paper, one is helped by the
secretary) and one member excused from party activities, who is not classified.

Every member is retired: the rulebooks then ask for no civil-service rating, and a level is free
within the quota. The roles are given only with `organizations.roles.grant_role` (or, by the board,
through the admin), never by writing rows or permissions by hand.
"""

import datetime
from dataclasses import dataclass, field

import pytest
from django.contrib.auth.models import Group

from assessments.models import Period
from members.models import Member
from organizations.models import Organization
from organizations.policy import SYSTEM
from organizations.roles import ROLE_GROUPS, grant_role
from tests.factories import MemberFactory, OrganizationFactory, UserFactory

from .steps import ROLES

Kind = Organization.Kind


@dataclass
class Town:
    city: Organization
    committee_a: Organization
    cell_a1: Organization
    cell_a2: Organization
    committee_b: Organization
    cell_b1: Organization
    cell_c: Organization
    users: dict = field(default_factory=dict)  # username -> User
    members: dict = field(default_factory=dict)  # short name -> Member

    def user(self, username):
        return self.users[username]

    def member(self, key):
        return self.members[key]

    def reload(self):
        for name in ("city", "committee_a", "cell_a1", "cell_a2", "committee_b", "cell_b1", "cell_c"):
            getattr(self, name).refresh_from_db()


def _member(name, cell, key, town, **extra):
    fields = {"occupation": Member.Occupation.RETIRED, "gender": Member.Gender.MALE, **extra}
    town.members[key] = MemberFactory(full_name=name, cell=cell, **fields)
    return town.members[key]


@pytest.fixture
def fresh_database(db):
    """The test database as `migrate` leaves it: no organisation, member or period, and one group per
    role holding exactly the role's permissions (made by the post_migrate handler, not by a test)."""
    assert not Organization.objects.exists()
    assert not Member.objects.exists()
    assert not Period.objects.exists()
    for _role, (name, permissions, _staff) in ROLE_GROUPS.items():
        group = Group.objects.get(name=name)
        held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert held == set(permissions), name


@pytest.fixture
def town(fresh_database):
    city = OrganizationFactory(code="thi-xa", name="Đảng bộ thị xã", kind=Kind.CITY_COMMITTEE)
    committee_a = OrganizationFactory(
        code="tich-son", name="Đảng bộ phường Tích Sơn", kind=Kind.GRASSROOTS_COMMITTEE, parent=city
    )
    cell_a1 = OrganizationFactory(code="khu-pho-1", name="Chi bộ khu phố 1", parent=committee_a)
    cell_a2 = OrganizationFactory(code="khu-pho-2", name="Chi bộ khu phố 2", parent=committee_a)
    committee_b = OrganizationFactory(
        code="dinh-trung", name="Đảng bộ xã Định Trung", kind=Kind.GRASSROOTS_COMMITTEE, parent=city
    )
    cell_b1 = OrganizationFactory(code="thon-dong", name="Chi bộ thôn Đông", parent=committee_b)
    cell_c = OrganizationFactory(
        code="cao-dang", name="Chi bộ Trường Cao đẳng", kind=Kind.GRASSROOTS_CELL, sector="school", parent=city
    )
    town = Town(city, committee_a, cell_a1, cell_a2, committee_b, cell_b1, cell_c)
    town.reload()  # later siblings shift the paths of earlier ones

    # Plain accounts: not staff, not superuser, no permission of their own.
    for username, first, last in [
        ("ban_to_chuc", "Thu", "Nguyễn Thị"),
        ("can_bo_a", "Hùng", "Đặng Văn"),
        ("can_bo_b", "Lan", "Vũ Thị"),
        ("can_bo_c", "Tuấn", "Lê Anh"),
        ("bi_thu_a1", "Bình", "Trần Văn"),
        ("dang_vien", "Hoa", "Lê Thị"),
        ("pham_duc_anh", "Anh", "Phạm Đức"),
        ("mat_tran", "Mặt trận Tổ quốc", ""),
    ]:
        town.users[username] = UserFactory(username=username, first_name=first, last_name=last)

    users = town.users
    _member(
        "Trần Văn Bình",
        cell_a1,
        "secretary",
        town,
        user=users["bi_thu_a1"],
        party_post=Member.PartyPost.SECRETARY,
        email="binh@example.vn",
    )
    _member(
        "Lê Thị Hoa",
        cell_a1,
        "member",
        town,
        user=users["dang_vien"],
        gender=Member.Gender.FEMALE,
        email="hoa@example.vn",
    )
    _member("Phạm Đức Anh", cell_a1, "third", town, user=users["pham_duc_anh"])
    # No account and no e-mail: the secretary writes her self-review with her.
    _member("Nguyễn Thị Mai", cell_a1, "helped", town, gender=Member.Gender.FEMALE)
    # No account: hands in his self-review on paper.
    _member("Đỗ Văn Cường", cell_a1, "paper", town, phone="0912345678")
    _member(
        "Hoàng Văn Kiên",
        cell_a1,
        "excused",
        town,
        status=Member.Status.EXCUSED,
        status_since=datetime.date(2020, 1, 1),
    )
    _member("Nguyễn Văn Dũng", cell_a2, "a2_first", town)
    _member("Vũ Thị Ánh", cell_a2, "a2_second", town, gender=Member.Gender.FEMALE)
    _member("Hoàng Văn Em", cell_b1, "b1_first", town)
    _member("Đỗ Văn Giang", cell_b1, "b1_second", town)
    _member("Bùi Thị Hạnh", cell_c, "c_first", town, gender=Member.Gender.FEMALE)
    _member("Lý Văn Khoa", cell_c, "c_second", town)
    return town


@pytest.fixture
def roles(town):
    """Every role of the town, given the way the application gives it."""
    for username, role, organization in ROLES:
        grant_role(user=town.user(username), organization=getattr(town, organization), role=role, actor=SYSTEM)
    return town
