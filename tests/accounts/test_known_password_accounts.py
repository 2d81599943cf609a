"""accounts_create: accounts with a password chosen beforehand (a first administrator, the shared
accounts of a training or demo database), which sign in at once."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password

from accounts import services
from accounts.models import AccountState
from accounts.services import AccountError, NewAccount
from members.models import Member
from organizations.policy import SYSTEM, Refused

from .helpers import sign_in

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "mat khau chung 2025"


def test_accounts_are_made_in_the_order_asked_with_the_password(personas):
    users = services.accounts_create(
        [
            NewAccount("quantri", superuser=True),
            NewAccount("hoidong", full_name="Nguyễn Thị Mai"),
            NewAccount("dung", member=personas.member_a2),
        ],
        password=PASSWORD,
        actor=SYSTEM,
    )
    assert [user.username for user in users] == ["quantri", "hoidong", "dung"]
    assert all(user.pk for user in users)
    for user in User.objects.filter(username__in=["quantri", "hoidong", "dung"]):
        assert user.check_password(PASSWORD) and not user.check_password("wrong")
    admin = User.objects.get(username="quantri")
    assert admin.is_superuser and admin.is_staff
    named = User.objects.get(username="hoidong")
    assert (named.last_name, named.first_name) == ("Nguyễn Thị", "Mai")
    assert not named.is_staff and not named.is_superuser


def test_a_member_s_account_becomes_theirs_and_carries_their_name_and_email(personas):
    personas.member_a2.email = "dung@example.vn"
    personas.member_a2.save()
    (user,) = services.accounts_create([NewAccount("dung", member=personas.member_a2)], password=PASSWORD, actor=SYSTEM)
    member = Member.objects.select_related("user").get(pk=personas.member_a2.pk)
    assert member.user == user
    assert (user.last_name, user.first_name, user.email) == ("Nguyễn Văn", "Dũng", "dung@example.vn")


def test_the_password_is_hashed_once_for_all(personas):
    users = services.accounts_create([NewAccount("mot"), NewAccount("hai")], password=PASSWORD, actor=SYSTEM)
    assert users[0].password == users[1].password
    assert check_password(PASSWORD, users[0].password)


def test_they_sign_in_without_a_code_to_replace(client, personas):
    services.accounts_create([NewAccount("dung", member=personas.member_a2)], password=PASSWORD, actor=SYSTEM)
    response = sign_in(client, "dung", PASSWORD)
    assert response.status_code == 302
    assert not services.must_change_password(User.objects.get(username="dung"))
    assert not AccountState.objects.filter(user__username="dung").exists()


def test_a_taken_username_refuses_them_all(personas):
    with pytest.raises(AccountError, match="board"):
        services.accounts_create([NewAccount("moi"), NewAccount("board")], password=PASSWORD, actor=SYSTEM)
    assert not User.objects.filter(username="moi").exists()


def test_a_member_who_has_an_account_refuses_them_all(personas):
    with pytest.raises(AccountError, match="Lê Thị Hoa"):
        services.accounts_create(
            [NewAccount("dung", member=personas.member_a2), NewAccount("hoa", member=personas.member_record)],
            password=PASSWORD,
            actor=SYSTEM,
        )
    assert not User.objects.filter(username__in=["dung", "hoa"]).exists()
    assert Member.objects.get(pk=personas.member_a2.pk).user is None


@pytest.mark.parametrize("usernames", [["co dau cach"], ["trung", "trung"], [""]])
def test_usernames_must_be_valid_and_distinct(personas, usernames):
    with pytest.raises(ValueError):
        services.accounts_create([NewAccount(name) for name in usernames], password=PASSWORD, actor=SYSTEM)


def test_only_whoever_administers_the_server_makes_them(personas):
    """A board member, however high, cannot make an account whose password they would know; nor can
    a call that names no one."""
    for actor in (personas.board, None):
        with pytest.raises(Refused):
            services.accounts_create([NewAccount("moi")], password=PASSWORD, actor=actor)
    assert not User.objects.filter(username="moi").exists()
    from tests.factories import UserFactory

    admin = UserFactory(is_superuser=True, is_staff=True)
    services.accounts_create([NewAccount("moi")], password=PASSWORD, actor=admin)
    assert User.objects.filter(username="moi").exists()
