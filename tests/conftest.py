"""Shared fixtures: a small city and the personas that use it.

The city:                           Personas:
  Thành phố (city)                    board        - board role on the city
    Đảng bộ A (committee)             officer_a    - officer of committee A
      Chi bộ A1 (cell): 3 members     secretary_a1 - secretary of cell A1 (and a member of it)
      Chi bộ A2 (cell): 2 members     secretary_b1 - secretary of cell B1
    Đảng bộ B (committee)             member       - a plain member of cell A1
      Chi bộ B1 (cell): 2 members     evaluator    - evaluator of committee B
    Chi bộ C (grassroots cell): 1     outsider     - an account with no role and no member record
"""

import os
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import translation

from members.models import Member
from organizations.models import Organization, RoleAssignment

from .db_roles import as_app_role, as_app_role_when_configured  # noqa: F401 - fixtures
from .factories import MemberFactory, UserFactory, grant, organization, tree_in_bulk

# Playwright's sync API runs an event loop in the test thread; the ORM calls of the fixtures are safe there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    """pytest-django's test databases, with every connection of the process closed before they are
    dropped, as PostgreSQL refuses to drop a database that a session still uses ("database is being
    accessed by other users"). Every alias's (the replica's mirror is a connection of its own,
    tests/test_scale_out.py), and every context's: Playwright's synchronous API runs its event loop in
    the test thread, through greenlets, and Django's connections are looked up by context, so the
    browser tests leave connections that the end of the run's context does not see (found in a full run
    by listing the open wrappers there: one of `default`, not the current one, idle since a test after
    the browser tests began)."""
    import gc

    from django.db import connections
    from django.db.backends.base.base import BaseDatabaseWrapper

    yield django_db_setup
    connections.close_all()
    for wrapper in gc.get_objects():
        # By the type's own classes: a lazy object (a request's CSP nonce) must not be asked its class.
        if BaseDatabaseWrapper in type(wrapper).__mro__ and wrapper.__dict__.get("connection") is not None:
            wrapper.close()


PASSWORD = "correct horse 42"
Kind = Organization.Kind
Role = RoleAssignment.Role


def pytest_collection_modifyitems(config, items):
    """The acceptance test (the whole year on the demo city, minutes long) runs only when asked for with
    `-m acceptance` (`make acceptance`, CI)."""
    if "acceptance" in (config.option.markexpr or ""):
        return
    kept = [item for item in items if item.get_closest_marker("acceptance") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Real hashing is slow by design; the tests need only that a password works or does not."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def job_files(settings, tmp_path):
    """The background jobs' files (the export's workbook) in the test's own folder; their progress written
    at every report (tests/jobs/helpers.py runs the queued jobs)."""
    settings.JOBS_RESULTS_DIR = tmp_path / "job-files"
    settings.JOBS_PROGRESS_SECONDS = 0
    settings.JOBS_DB_RETRY_DELAY = 0


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    from jobs import registry

    item.job_kinds = dict(registry.KINDS)
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """The job kinds are registered once, when the apps are ready: a test that registered one again with
    something of its own would leave it to every test after it in the same process (a reminders test did:
    the mailings of the tests after it were cancelled after their first chunk, when they ran after it).
    Checked once every fixture of the test is torn down (monkeypatch's too); a test that needs another
    kind of job replaces it with monkeypatch.setitem(registry.KINDS, ...)."""
    from jobs import registry

    result = yield
    registered = getattr(item, "job_kinds", None)
    if registered is not None and registry.KINDS != registered:
        changed = sorted(
            str(kind)
            for kind in registered.keys() | registry.KINDS.keys()
            if registry.KINDS.get(kind) != registered.get(kind)
        )
        registry.KINDS.clear()
        registry.KINDS.update(registered)
        raise AssertionError(f"the test left the job kinds {changed} registered otherwise")
    return result


@dataclass
class City:
    city: Organization
    committee_a: Organization
    cell_a1: Organization
    cell_a2: Organization
    committee_b: Organization
    cell_b1: Organization
    cell_c: Organization


@pytest.fixture
def vietnamese():
    """The interface language for code run outside a request (a form checked on its own)."""
    with translation.override("vi"):
        yield


@pytest.fixture
def city(db):
    """The city of every test: a root, two grassroots committees of one and two cells, and a grassroots
    cell. Written in one query (tree_in_bulk), with the paths add_child would give."""
    Kind = Organization.Kind
    nodes = tree_in_bulk(
        organization("city", "Đảng bộ thành phố", Kind.CITY_COMMITTEE),
        [
            (
                organization("dang-bo-a", "Đảng bộ A", Kind.GRASSROOTS_COMMITTEE),
                [(organization("chi-bo-a1", "Chi bộ A1"), []), (organization("chi-bo-a2", "Chi bộ A2"), [])],
            ),
            (
                organization("dang-bo-b", "Đảng bộ B", Kind.GRASSROOTS_COMMITTEE),
                [(organization("chi-bo-b1", "Chi bộ B1"), [])],
            ),
            (organization("chi-bo-c", "Chi bộ C", Kind.GRASSROOTS_CELL), []),
        ],
    )
    codes = ("city", "dang-bo-a", "chi-bo-a1", "chi-bo-a2", "dang-bo-b", "chi-bo-b1", "chi-bo-c")
    return City(*(nodes[code] for code in codes))


@dataclass
class Personas:
    board: object
    officer_a: object
    secretary_a1: object
    secretary_b1: object
    member: object
    evaluator: object
    outsider: object
    anonymous: object
    # Member records
    secretary_a1_record: Member
    member_record: Member
    member_a1_other: Member
    member_a2: Member
    member_b1: Member

    def all(self):
        return {
            "anonymous": self.anonymous,
            "outsider": self.outsider,
            "member": self.member,
            "secretary_a1": self.secretary_a1,
            "secretary_b1": self.secretary_b1,
            "officer_a": self.officer_a,
            "evaluator": self.evaluator,
            "board": self.board,
        }


@pytest.fixture
def personas(city):
    board = UserFactory(username="board", first_name="Ban Tổ chức")  # staff through its role, below
    officer_a = UserFactory(username="officer_a")
    secretary_a1 = UserFactory(username="secretary_a1")
    secretary_b1 = UserFactory(username="secretary_b1")
    member = UserFactory(username="member")
    evaluator = UserFactory(username="evaluator")
    outsider = UserFactory(username="outsider")
    grant(board, Role.BOARD, city.city)
    grant(officer_a, Role.COMMITTEE_OFFICER, city.committee_a)
    grant(secretary_a1, Role.CELL_SECRETARY, city.cell_a1)
    grant(secretary_b1, Role.CELL_SECRETARY, city.cell_b1)
    grant(evaluator, Role.EVALUATOR, city.committee_b)

    secretary_a1_record = MemberFactory(
        full_name="Trần Văn Bình", cell=city.cell_a1, user=secretary_a1, party_post=Member.PartyPost.SECRETARY
    )
    member_record = MemberFactory(full_name="Lê Thị Hoa", gender=Member.Gender.FEMALE, cell=city.cell_a1, user=member)
    member_a1_other = MemberFactory(full_name="Phạm Đức Anh", cell=city.cell_a1)
    member_a2 = MemberFactory(full_name="Nguyễn Văn Dũng", cell=city.cell_a2)
    MemberFactory(full_name="Vũ Thị Ánh", cell=city.cell_a2, gender=Member.Gender.FEMALE)
    member_b1 = MemberFactory(full_name="Hoàng Văn Em", cell=city.cell_b1, user=secretary_b1)
    MemberFactory(full_name="Đỗ Văn Giang", cell=city.cell_b1)
    MemberFactory(full_name="Bùi Thị Hạnh", cell=city.cell_c, gender=Member.Gender.FEMALE)
    return Personas(
        board=board,
        officer_a=officer_a,
        secretary_a1=secretary_a1,
        secretary_b1=secretary_b1,
        member=member,
        evaluator=evaluator,
        outsider=outsider,
        anonymous=AnonymousUser(),
        secretary_a1_record=secretary_a1_record,
        member_record=member_record,
        member_a1_other=member_a1_other,
        member_a2=member_a2,
        member_b1=member_b1,
    )


@pytest.fixture
def client_for(client):
    """client_for(user) -> the test client signed in as that user (anonymous stays signed out)."""

    def sign_in(user):
        client.logout()
        if user is not None and user.is_authenticated:
            client.force_login(user)
        return client

    return sign_in
