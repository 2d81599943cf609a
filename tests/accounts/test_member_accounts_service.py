"""The services that create member accounts and hand out one-time codes."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.core import checks
from django.http import HttpRequest

from accounts import services, throttle
from accounts.checks import INITIAL_HASHER, check_initial_code_hasher
from accounts.hashers import CODE_ALPHABET
from accounts.models import AccountState
from members.models import Member
from organizations.models import RoleAssignment
from organizations.policy import Refused
from tests.factories import MemberFactory, UserFactory, grant

from .helpers import CODE_RE, fail, fresh

pytestmark = pytest.mark.django_db
User = get_user_model()

# Members of the city without an account (conftest): Phạm Đức Anh (A1), Nguyễn Văn Dũng and
# Vũ Thị Ánh (A2), Đỗ Văn Giang (B1), Bùi Thị Hạnh (C).
WITHOUT_ACCOUNT = {"Phạm Đức Anh", "Nguyễn Văn Dũng", "Vũ Thị Ánh", "Đỗ Văn Giang", "Bùi Thị Hạnh"}


def create_for_city(personas, city):
    return services.member_accounts_create(organization=city.city, actor=personas.board)


def test_every_current_member_without_an_account_gets_one_named_by_the_card_number(personas, city):
    batch = create_for_city(personas, city)
    assert {slip.member.full_name for slip in batch.slips} == WITHOUT_ACCOUNT
    assert batch.skipped == []
    for slip in batch.slips:
        member = Member.objects.select_related("user").get(pk=slip.member.pk)
        assert member.user.username == slip.username == member.card_number
    usernames = [slip.username for slip in batch.slips]
    assert len(set(usernames)) == len(usernames)


def test_the_account_takes_the_name_and_email_of_the_member(personas, city):
    personas.member_a2.email = "dung@example.vn"
    personas.member_a2.save()
    create_for_city(personas, city)
    user = Member.objects.get(pk=personas.member_a2.pk).user
    # Nguyễn Văn Dũng: the given name is the last word.
    assert (user.first_name, user.last_name, user.email) == ("Dũng", "Nguyễn Văn", "dung@example.vn")
    assert user.is_active and not user.is_staff and not user.is_superuser


def test_a_new_account_must_change_its_password_and_records_who_issued_the_code(personas, city):
    create_for_city(personas, city)
    state = AccountState.objects.get(user__member=personas.member_a2)
    assert state.must_change_password
    assert state.code_issued_by == personas.board and state.code_issued_at is not None
    assert state.codes_issued == 1


def test_former_members_get_no_account(personas, city):
    gone = MemberFactory(full_name="Lý Văn Cũ", cell=city.cell_a1, status=Member.Status.TRANSFERRED_OUT)
    dead = MemberFactory(full_name="Mai Văn Mất", cell=city.cell_a1, status=Member.Status.DECEASED)
    excused = MemberFactory(full_name="Tô Văn Miễn", cell=city.cell_a1, status=Member.Status.EXCUSED)
    batch = services.member_accounts_create(organization=fresh(city.cell_a1), actor=personas.secretary_a1)
    assert {s.member.pk for s in batch.slips} == {personas.member_a1_other.pk, excused.pk}
    assert not Member.objects.filter(pk__in=[gone.pk, dead.pk], user__isnull=False).exists()


def test_a_second_run_creates_nothing_new(personas, city):
    create_for_city(personas, city)
    users = User.objects.count()
    again = create_for_city(personas, city)
    assert again.slips == [] and again.skipped == []
    assert User.objects.count() == users


def test_a_member_whose_username_is_taken_is_skipped_and_listed_and_the_others_get_accounts(personas, city):
    UserFactory(username=personas.member_a2.card_number)
    batch = create_for_city(personas, city)
    assert [s.member.pk for s in batch.skipped] == [personas.member_a2.pk]
    assert personas.member_a2.card_number in batch.skipped[0].reason
    assert Member.objects.get(pk=personas.member_a2.pk).user is None
    assert {s.member.full_name for s in batch.slips} == WITHOUT_ACCOUNT - {"Nguyễn Văn Dũng"}


def test_spaces_in_the_card_number_are_left_out_of_the_username(personas, city):
    odd = MemberFactory(cell=city.cell_c, card_number="31 012 345")
    batch = create_for_city(personas, city)
    assert Member.objects.get(pk=odd.pk).user.username == "31012345"
    assert "31012345" in {s.username for s in batch.slips}


def test_two_card_numbers_giving_one_username_are_reported_not_merged(personas, city):
    MemberFactory(full_name="Hà Văn Một", cell=city.cell_c, card_number="77 88")
    second = MemberFactory(full_name="Hà Văn Hai", cell=city.cell_c, card_number="7788")
    batch = create_for_city(personas, city)
    skipped = {s.member.full_name for s in batch.skipped}
    assert len(skipped) == 1 and skipped <= {"Hà Văn Một", "Hà Văn Hai"}
    assert User.objects.filter(username="7788").count() == 1
    assert second.card_number == "7788"


@pytest.mark.parametrize("chunk", [1, 2, 2000])
def test_the_accounts_are_the_same_whatever_the_chunks(personas, city, monkeypatch, chunk):
    """A province's members are taken a chunk at a time (`CHUNK`) in one transaction: the slips, their
    order, their codes and the members skipped do not depend on the chunks, a username given in an
    earlier chunk included."""
    monkeypatch.setattr(services, "CHUNK", chunk)
    first = MemberFactory(full_name="Hà Văn Một", cell=city.cell_a1, card_number="77 88")
    second = MemberFactory(full_name="Hà Văn Hai", cell=city.cell_c, card_number="7788")
    candidates = Member.objects.filter(user__isnull=True).order_by("cell__path", "sort_key", "pk")
    order = list(candidates.values_list("pk", flat=True))
    earlier, later = sorted([first, second], key=lambda member: order.index(member.pk))
    batch = create_for_city(personas, city)
    assert [slip.member.pk for slip in batch.slips] == [pk for pk in order if pk != later.pk]
    assert batch.made == len(batch.slips) == len(order) - 1
    assert [skipped.member.pk for skipped in batch.skipped] == [later.pk] and "7788" in batch.skipped[0].reason
    assert Member.objects.get(pk=earlier.pk).user.username == "7788"
    for slip in batch.slips:
        assert check_password(slip.code, User.objects.get(username=slip.username).password)
    assert len({slip.code for slip in batch.slips}) == len(batch.slips)


@pytest.mark.parametrize("chunk", [1, 2000])
def test_new_codes_are_the_same_whatever_the_chunks(personas, city, monkeypatch, chunk):
    batch = create_for_city(personas, city)
    monkeypatch.setattr(services, "CHUNK", chunk)
    again = services.member_codes_reissue(organization=city.city, actor=personas.board)
    assert [slip.member.pk for slip in again.slips] == [slip.member.pk for slip in batch.slips]
    assert again.made == len(again.slips) and again.skipped == []
    old = {slip.username: slip.code for slip in batch.slips}
    for slip in again.slips:
        user = User.objects.get(username=slip.username)
        assert user.check_password(slip.code) and not user.check_password(old[slip.username])
        assert user.account_state.codes_issued == 2


def test_codes_are_unambiguous_grouped_and_never_stored_in_plain_text(personas, city):
    batch = create_for_city(personas, city)
    for slip in batch.slips:
        assert CODE_RE.fullmatch(slip.code), slip.code
        assert not set(slip.code.replace("-", "")) - set(CODE_ALPHABET)
        user = User.objects.get(username=slip.username)
        assert user.password.startswith("initial_pbkdf2$1000$")
        assert slip.code not in user.password and slip.code.replace("-", "") not in user.password
        assert check_password(slip.code, user.password)
    assert not set(CODE_ALPHABET) & set("0O1IL")


def test_only_those_who_manage_the_organisation_may_create_accounts(personas, city):
    for actor in (personas.secretary_a1, personas.member, personas.outsider, personas.evaluator):
        with pytest.raises(Refused):
            services.member_accounts_create(organization=fresh(city.cell_b1), actor=actor)
    assert not Member.objects.filter(cell=city.cell_b1, user__isnull=False).exclude(pk=personas.member_b1.pk).exists()


def test_a_clash_with_a_concurrent_creation_changes_nothing(personas, city, monkeypatch):
    """Someone takes one of the usernames between the check and the insert: all or nothing."""
    original = services._lock_members_without_account

    def racing(pks):
        UserFactory(username=personas.member_a2.card_number)  # another account, made meanwhile
        return original(pks)

    monkeypatch.setattr(services, "_lock_members_without_account", racing)
    users = set(User.objects.values_list("username", flat=True))
    with pytest.raises(services.AccountError):
        create_for_city(personas, city)
    # None of the run's (the other one, made inside its transaction as a test makes it, went with it).
    assert set(User.objects.values_list("username", flat=True)) == users
    assert not AccountState.objects.exists()
    assert set(Member.objects.filter(user__isnull=True).values_list("full_name", flat=True)) == WITHOUT_ACCOUNT


def test_a_member_given_an_account_meanwhile_is_left_out(personas, city, monkeypatch):
    """Two people create accounts for overlapping subtrees at once: nobody gets two accounts."""
    original = services._hash_codes
    other = UserFactory(username="made-meanwhile")

    def racing(codes, progress=None):
        hashes = original(codes, progress)
        Member.objects.filter(pk=personas.member_a2.pk).update(user=other)
        return hashes

    monkeypatch.setattr(services, "_hash_codes", racing)
    batch = create_for_city(personas, city)
    assert {s.member.full_name for s in batch.slips} == WITHOUT_ACCOUNT - {"Nguyễn Văn Dũng"}
    assert Member.objects.get(pk=personas.member_a2.pk).user == other
    assert not User.objects.filter(username=personas.member_a2.card_number).exists()


def test_new_codes_leave_out_an_account_used_meanwhile(personas, city, monkeypatch):
    batch = create_for_city(personas, city)
    original = services._hash_codes

    def racing(codes, progress=None):
        hashes = original(codes, progress)
        User.objects.filter(member=personas.member_a2).update(last_login="2025-01-01T00:00Z")
        return hashes

    monkeypatch.setattr(services, "_hash_codes", racing)
    again = services.member_codes_reissue(organization=city.city, actor=personas.board)
    assert {s.member.full_name for s in again.slips} == WITHOUT_ACCOUNT - {"Nguyễn Văn Dũng"}
    old = next(s.code for s in batch.slips if s.member.pk == personas.member_a2.pk)
    assert User.objects.get(member=personas.member_a2).check_password(old)


def test_the_vietnamese_name_splits_on_the_given_name():
    assert services.split_vietnamese_name("Nguyễn Thị Minh Khai") == ("Khai", "Nguyễn Thị Minh")
    assert services.split_vietnamese_name("Lan") == ("Lan", "")
    assert services.split_vietnamese_name("") == ("", "")


# --- Resets ---------------------------------------------------------------------------------------


def test_a_reset_gives_a_new_code_and_the_old_one_stops_working(personas, city):
    first = services.member_accounts_create(organization=fresh(city.cell_a1), actor=personas.secretary_a1).slips[0]
    slip = services.member_password_reset(member=first.member, actor=personas.secretary_a1)
    user = User.objects.get(username=first.username)
    assert slip.code != first.code
    assert user.check_password(slip.code) and not user.check_password(first.code)
    state = user.account_state
    assert state.must_change_password and state.codes_issued == 2


def test_a_reset_replaces_a_forgotten_password_and_asks_for_a_new_one(personas):
    slip = services.member_password_reset(member=personas.member_record, actor=personas.secretary_a1)
    personas.member.refresh_from_db()
    assert not personas.member.check_password("correct horse 42")
    assert personas.member.check_password(slip.code)
    assert slip.username == "member"
    assert personas.member.account_state.must_change_password


def test_a_reset_lifts_a_pause(personas):
    fail("member", "10.0.0.1", 5)
    fail("member", "10.0.0.2", 20)
    fail("someone-else", "10.0.0.1", 5)
    assert set(throttle.pauses_of(["member", "someone-else"])) == {"member", "someone-else"}
    services.member_password_reset(member=personas.member_record, actor=personas.secretary_a1)
    assert set(throttle.pauses_of(["member", "someone-else"])) == {"someone-else"}
    assert not AccessAttempt.objects.filter(username="member").exists()


def test_two_resets_from_the_same_page_give_one_code(personas):
    first = services.member_password_reset(member=personas.member_record, actor=personas.secretary_a1)
    seen = 1
    with pytest.raises(services.AccountError):
        services.member_password_reset(member=personas.member_record, actor=personas.officer_a, expected_codes_issued=0)
    personas.member.refresh_from_db()
    assert personas.member.check_password(first.code)
    assert personas.member.account_state.codes_issued == seen


def test_a_reset_of_a_member_without_an_account_is_explained(personas):
    with pytest.raises(services.AccountError, match="Phạm Đức Anh"):
        services.member_password_reset(member=personas.member_a1_other, actor=personas.secretary_a1)


def test_a_reset_cannot_open_a_role_beyond_the_actors_own(personas, city):
    # The plain member of A1 also evaluates committee B: a code for them would open B to the secretary.
    grant(personas.member, RoleAssignment.Role.EVALUATOR, city.committee_b)
    with pytest.raises(services.AccountError, match="Đảng bộ B"):
        services.member_password_reset(member=personas.member_record, actor=personas.secretary_a1)
    assert personas.member.check_password("correct horse 42")
    # The board manages committee B: it may.
    services.member_password_reset(member=personas.member_record, actor=personas.board)


def test_only_an_administrator_resets_a_staff_account(personas):
    personas.member.is_staff = True
    personas.member.save()
    with pytest.raises(services.AccountError):
        services.member_password_reset(member=personas.member_record, actor=personas.board)
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    services.member_password_reset(member=personas.member_record, actor=root)


def test_nobody_resets_their_own_account_here(personas):
    with pytest.raises(services.AccountError):
        services.member_password_reset(member=personas.secretary_a1_record, actor=personas.secretary_a1)


def test_a_reset_outside_the_actors_scope_is_refused(personas):
    with pytest.raises(Refused):
        services.member_password_reset(member=personas.member_b1, actor=personas.secretary_a1)


# --- New codes for lost slips -------------------------------------------------------------------


def test_new_codes_go_only_to_accounts_whose_code_was_never_used(personas, city, client):
    batch = create_for_city(personas, city)
    used = next(s for s in batch.slips if s.member.pk == personas.member_a2.pk)
    assert client.login(request=HttpRequest(), username=used.username, password=used.code)
    again = services.member_codes_reissue(organization=city.city, actor=personas.board)
    assert {s.member.full_name for s in again.slips} == WITHOUT_ACCOUNT - {"Nguyễn Văn Dũng"}
    old = {s.username: s.code for s in batch.slips}
    for slip in again.slips:
        user = User.objects.get(username=slip.username)
        assert user.check_password(slip.code) and not user.check_password(old[slip.username])
        assert user.account_state.codes_issued == 2


# --- Configuration ------------------------------------------------------------------------------


def test_the_system_check_wants_the_code_hasher_after_the_default(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    assert [m.id for m in check_initial_code_hasher(None)] == ["accounts.W001"]
    settings.PASSWORD_HASHERS = [INITIAL_HASHER, "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    assert [m.id for m in check_initial_code_hasher(None)] == ["accounts.E001"]
    assert [m.level for m in check_initial_code_hasher(None)] == [checks.ERROR]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher", INITIAL_HASHER]
    assert check_initial_code_hasher(None) == []


def test_the_project_settings_put_the_code_hasher_second():
    from config import settings as project

    assert project.PASSWORD_HASHERS[:2] == ["django.contrib.auth.hashers.PBKDF2PasswordHasher", INITIAL_HASHER]


def test_without_the_code_hasher_codes_still_work(personas, city, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    slip = services.member_accounts_create(organization=fresh(city.cell_a1), actor=personas.secretary_a1).slips[0]
    user = User.objects.get(username=slip.username)
    assert user.password.startswith("md5$") and user.check_password(slip.code)
