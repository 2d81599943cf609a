"""Sign-in limits (accounts.throttle, django-axes): each counter pauses what it should and nothing
more; a pause ends by itself after the cool-off or at once when a secretary lifts it; the page that
says so is the site's, in the user's language; the admin's sign-in is limited the same way."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db.models import F
from django.test import RequestFactory
from django.urls import reverse

from accounts import services, throttle
from assessments.models import AuditEntry
from tests.conftest import PASSWORD
from tests.factories import UserFactory

from .helpers import LOGIN, fail

pytestmark = pytest.mark.django_db

ADMIN_LOGIN = reverse("admin:login")
HOME = reverse("home")
A, B, C, D = "203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"


def post_login(client, username, password, address=A, url=LOGIN, **extra):
    client.logout()
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address, **extra)


def signed_in(response):
    return response.status_code == 302 and "_auth_user_id" in response.client.session


def paused(response):
    return response.status_code == 429 and "signin-paused" in response.content.decode()


def failures(**where):
    return sum(AccessAttempt.objects.filter(**where).values_list("failures_since_start", flat=True))


def expire_all():
    """The cool-off passes."""
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - throttle.cool_off() - timedelta(seconds=1))


@pytest.fixture
def an(db):
    return UserFactory(username="an")


@pytest.fixture
def counted_checks(monkeypatch):
    """How many times a password was actually checked."""
    from accounts.backends import AccountBackend

    calls = []
    original = AccountBackend.authenticate

    def counting(self, request, username=None, password=None, **kwargs):
        calls.append(username)
        return original(self, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(AccountBackend, "authenticate", counting)
    return calls


# --- One username from one address -------------------------------------------------------------------


def test_five_failures_pause_the_username_from_that_address_even_for_the_right_password(client, an, counted_checks):
    for _ in range(4):
        response = post_login(client, "an", "wrong")
        assert response.status_code == 200 and response.context["form"].errors
    # The fifth failure says so at once.
    assert paused(post_login(client, "an", "wrong"))
    response = post_login(client, "an", PASSWORD)
    assert paused(response) and "_auth_user_id" not in client.session
    # The password of the refused attempt was never checked, and the refusal is not counted.
    assert len(counted_checks) == 5
    assert failures(username="an") == 5


def test_four_failures_then_the_right_password_signs_in_and_clears_them(client, an):
    for _ in range(4):
        post_login(client, "an", "wrong")
    assert signed_in(post_login(client, "an", PASSWORD))
    assert failures(username="an") == 0
    # A fresh start: four more mistakes pause nothing.
    for _ in range(4):
        assert post_login(client, "an", "wrong").status_code == 200


def test_the_pause_of_one_address_leaves_the_member_free_elsewhere(client, an):
    for _ in range(5):
        post_login(client, "an", "wrong", address=A)
    assert paused(post_login(client, "an", PASSWORD, address=A))
    assert signed_in(post_login(client, "an", PASSWORD, address=B))


def test_capitals_and_spaces_do_not_make_another_counter(client, an):
    for username in ("an", "AN", " An", "aN", "an "):
        post_login(client, username, "wrong")
    assert failures(username="an") == 5
    assert paused(post_login(client, "an", PASSWORD))


def test_the_pause_of_one_username_does_not_pause_another(client, an):
    UserFactory(username="binh")
    for _ in range(5):
        post_login(client, "an", "wrong")
    assert signed_in(post_login(client, "binh", PASSWORD))


# --- One username from anywhere -----------------------------------------------------------------------


@pytest.fixture
def small_limits(settings):
    settings.SIGNIN_LIMITS = {"username+ip_address": 3, "username": 6, "ip_address": 9}


def test_failures_from_many_addresses_pause_the_username_everywhere(client, an, small_limits):
    for address in (A, B, C):
        for _ in range(2):
            post_login(client, "an", "wrong", address=address)
    assert failures(username="an") == 6
    response = post_login(client, "an", PASSWORD, address=D)
    assert paused(response) and not response.context["by_address"]


def test_fewer_failures_from_many_addresses_pause_nothing(client, an, small_limits):
    for address in (A, A, B, B, C):
        post_login(client, "an", "wrong", address=address)
    assert failures(username="an") == 5
    assert signed_in(post_login(client, "an", PASSWORD, address=D))


def test_one_address_alone_cannot_pause_a_username_everywhere(client, an, small_limits):
    """Someone who knows a card number and tries it from one machine pauses only that machine."""
    for _ in range(30):
        post_login(client, "an", "wrong", address=A)
    assert failures(username="an") == 3
    assert signed_in(post_login(client, "an", PASSWORD, address=B))


# --- One address, any username ---------------------------------------------------------------------


def test_one_password_sprayed_over_many_card_numbers_pauses_the_address(client, an, small_limits, counted_checks):
    cards = [f"3101{n:04d}" for n in range(20)]
    for card in cards:
        post_login(client, card, "123456", address=A)
    # Nine guesses, then every username from that address is refused without a check.
    assert len(counted_checks) == 9
    assert failures(ip_address=A) == 9
    response = post_login(client, "an", PASSWORD, address=A)
    assert paused(response) and response.context["by_address"]
    assert "dữ liệu di động" in response.content.decode()
    # Another address is not affected, nor are the card numbers tried (one failure each).
    assert signed_in(post_login(client, "an", PASSWORD, address=B))
    assert throttle.pauses_of(cards) == {}


def test_a_few_members_mistyping_behind_one_address_pause_nobody(client, an, small_limits):
    for number in range(4):
        UserFactory(username=f"member{number}")
        post_login(client, f"member{number}", "wrong", address=A)
        post_login(client, f"member{number}", "wrong", address=A)
    assert failures(ip_address=A) == 8
    assert signed_in(post_login(client, "an", PASSWORD, address=A))


def test_signing_into_ones_own_account_wins_no_new_guesses_at_others(client, an, small_limits):
    """A success clears that username's failures from that address, not the address's."""
    for number in range(8):
        post_login(client, f"victim{number}", "guess", address=A)
    assert signed_in(post_login(client, "an", PASSWORD, address=A))
    assert failures(ip_address=A) == 8
    post_login(client, "victim8", "guess", address=A)
    assert paused(post_login(client, "victim9", "guess", address=A))


# --- The pause ends ---------------------------------------------------------------------------------


def test_the_pause_ends_by_itself_after_the_cool_off(client, an):
    for _ in range(5):
        post_login(client, "an", "wrong")
    assert paused(post_login(client, "an", PASSWORD))
    expire_all()
    assert signed_in(post_login(client, "an", PASSWORD))


def test_attempts_while_paused_do_not_lengthen_the_pause(client, an):
    for _ in range(5):
        post_login(client, "an", "wrong")
    until = throttle.pauses_of(["an"])["an"].until
    for _ in range(10):
        assert paused(post_login(client, "an", "wrong"))
    assert throttle.pauses_of(["an"])["an"].until == until
    assert failures(username="an") == 5


def test_the_page_says_how_long_to_wait_in_vietnamese(client, an):
    for _ in range(5):
        response = post_login(client, "an", "wrong")
    assert response.status_code == 429
    page = response.content.decode()
    assert "Đăng nhập sai quá nhiều lần. Xin vui lòng thử lại sau 15 phút." in page
    assert 'id="main"' in page  # the site's layout
    assert response["Retry-After"] == str(15 * 60)
    assert response["Content-Language"] == "vi"


def test_the_page_speaks_english_when_asked(client, an):
    for _ in range(5):
        response = post_login(client, "an", "wrong", HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert "Too many failed attempts. Please try again in 15 minutes." in page
    assert response["Content-Language"] == "en"


def test_the_minutes_left_count_down(an):
    fail("an", A, 5, minutes_ago=11)
    pause = throttle.pauses_of(["an"])["an"]
    assert pause.minutes == 4 and pause.counter == "username+ip_address"
    fail("an", B, 1)
    assert throttle.pauses_of(["an"])["an"].minutes == 4
    # A newer failure alone does not reach the limit: the pause still ends when the older ones expire.
    fail("an", A, 1, browser="another browser")
    assert throttle.pauses_of(["an"])["an"].minutes == 4
    # Newer failures that reach the limit by themselves: 15 minutes from them.
    fail("an", A, 4, browser="a third browser")
    assert throttle.pauses_of(["an"])["an"].minutes == 15


# --- The admin's sign-in ------------------------------------------------------------------------------


def test_the_admins_sign_in_is_limited_too(client, counted_checks):
    UserFactory(username="root", is_staff=True, is_superuser=True)
    for _ in range(4):
        response = post_login(client, "root", "wrong", url=ADMIN_LOGIN)
        assert response.status_code == 200
    assert paused(post_login(client, "root", "wrong", url=ADMIN_LOGIN))
    response = post_login(client, "root", PASSWORD, url=ADMIN_LOGIN)
    assert paused(response) and "_auth_user_id" not in client.session
    assert len(counted_checks) == 5
    # One counter for both forms.
    assert paused(post_login(client, "root", PASSWORD, url=LOGIN))


def test_the_admins_sign_in_still_works(client):
    UserFactory(username="root", is_staff=True, is_superuser=True)
    post_login(client, "root", "wrong", url=ADMIN_LOGIN)
    assert signed_in(post_login(client, "root", PASSWORD, url=ADMIN_LOGIN))


# --- A secretary lifts the pause --------------------------------------------------------------------


def accounts_page(client):
    return client.get(reverse("accounts:organization_accounts", args=["chi-bo-a1"]))


def unlock_url(member):
    return reverse("accounts:member_signin_unlock", args=[member.public_id])


def test_the_secretary_sees_the_pause_and_lifts_it_and_the_member_signs_in_at_once(client, personas, client_for):
    for _ in range(5):
        post_login(client, "member", "wrong", address=A)
    fail("member", B, 2)
    secretary = client_for(personas.secretary_a1)
    page = accounts_page(secretary)
    pauses = {m.pk: pause for m, _s, _n, pause in page.context["rows"]}
    assert pauses[personas.member_record.pk] is not None
    assert [pk for pk, pause in pauses.items() if pause] == [personas.member_record.pk]
    assert 'data-action="unlock"' in page.content.decode()

    response = secretary.post(unlock_url(personas.member_record), {"next": "/accounts/org/chi-bo-a1/"})
    assert response.status_code == 302 and response.url == "/accounts/org/chi-bo-a1/"
    assert not AccessAttempt.objects.filter(username="member").exists()
    entry = AuditEntry.objects.get(action="signin_unlock")
    assert entry.actor == personas.secretary_a1
    assert entry.data == {"organization": "chi-bo-a1", "member": str(personas.member_record.public_id), "cleared": 2}
    assert signed_in(post_login(client, "member", PASSWORD, address=A))
    assert 'data-action="unlock"' not in accounts_page(secretary).content.decode()


def test_lifting_a_pause_that_is_not_there_records_nothing(personas, client_for):
    secretary = client_for(personas.secretary_a1)
    response = secretary.post(unlock_url(personas.member_record), follow=True)
    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["info"]
    assert not AuditEntry.objects.filter(action="signin_unlock").exists()


#                 anonymous outsider member secretary_a1 secretary_b1 officer_a evaluator board
MAY_UNLOCK = (False, False, False, True, False, True, False, True)
PERSONAS = ["anonymous", "outsider", "member", "secretary_a1", "secretary_b1", "officer_a", "evaluator", "board"]


@pytest.mark.parametrize("persona, may", zip(PERSONAS, MAY_UNLOCK, strict=True))
def test_only_those_who_manage_the_member_lift_the_pause(persona, may, personas, client_for):
    fail("member", A, 5)
    response = client_for(getattr(personas, persona)).post(unlock_url(personas.member_record))
    assert response.status_code == (302 if may or persona == "anonymous" else 404)
    assert AccessAttempt.objects.filter(username="member").exists() != may
    assert AuditEntry.objects.filter(action="signin_unlock").exists() == may


def test_lifting_needs_a_post(personas, client_for):
    assert client_for(personas.secretary_a1).get(unlock_url(personas.member_record)).status_code == 405


def test_the_pause_of_an_administrators_account_is_not_the_secretarys_to_lift(personas):
    personas.member.is_staff = True
    personas.member.save()
    fail("member", A, 5)
    with pytest.raises(services.AccountError):
        services.member_signin_unlock(member=personas.member_record, actor=personas.secretary_a1)
    assert AccessAttempt.objects.filter(username="member").exists()


def test_a_pause_of_the_address_is_not_a_members_and_is_not_lifted_with_theirs(client, personas, settings):
    settings.SIGNIN_LIMITS = {**settings.SIGNIN_LIMITS, "ip_address": 6}
    for number in range(6):
        post_login(client, f"3101{number:04d}", "123456", address=A)
    assert throttle.pauses_of(["member"]) == {}
    assert services.member_signin_unlock(member=personas.member_record, actor=personas.secretary_a1) == 0
    assert paused(post_login(client, "member", PASSWORD, address=A))
    assert signed_in(post_login(client, "member", PASSWORD, address=B))


# --- The client's address behind a reverse proxy -------------------------------------------------------


def address_of(remote, forwarded=None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return throttle.client_ip(RequestFactory().post("/", REMOTE_ADDR=remote, **extra))


def test_without_trusted_proxies_the_address_is_remote_addr_and_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert address_of(A) == A
    assert address_of(A, forwarded=B) == A
    assert address_of("127.0.0.1", forwarded=B) == "127.0.0.1"


def test_behind_a_trusted_proxy_the_address_is_the_one_the_proxy_saw(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.0/8"]
    assert address_of("127.0.0.1", forwarded=B) == B
    # What the client wrote itself is on the left, and never read.
    assert address_of("127.0.0.1", forwarded=f"{C}, {B}") == B
    # Two trusted proxies in a row.
    assert address_of("127.0.0.1", forwarded=f"{C}, {B}, 10.1.2.3") == B
    # An untrusted peer's header is not believed.
    assert address_of(D, forwarded=B) == D
    # Garbage stops the walk at the last address a trusted proxy vouched for.
    assert address_of("127.0.0.1", forwarded=f"{B}, not-an-address") == "127.0.0.1"
    assert address_of("127.0.0.1", forwarded="") == "127.0.0.1"
    assert address_of("127.0.0.1", forwarded="2001:db8::1") == "2001:db8::1"


def test_behind_the_proxy_each_client_has_its_own_counter_and_cannot_pick_another(client, an, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    for _ in range(5):
        post_login(client, "an", "wrong", address="127.0.0.1", HTTP_X_FORWARDED_FOR=f"{B}, {A}")
    assert failures(username="an", ip_address=A) == 5
    assert paused(post_login(client, "an", PASSWORD, address="127.0.0.1", HTTP_X_FORWARDED_FOR=A))
    # Writing another address in front does not escape the counter.
    assert paused(post_login(client, "an", PASSWORD, address="127.0.0.1", HTTP_X_FORWARDED_FOR=f"{C}, {A}"))
    assert signed_in(post_login(client, "an", PASSWORD, address="127.0.0.1", HTTP_X_FORWARDED_FOR=B))


def test_without_an_address_the_username_counter_still_holds_and_nothing_breaks(client, an, small_limits):
    """A server reached through a socket sees no address: only the username is counted, and two rows
    of one key (NULL escapes the unique key) do not turn the next attempt into an error."""
    fail("an", None, 1)
    fail("an", None, 1)
    for _ in range(3):
        assert post_login(client, "an", "wrong", address="").status_code == 200
    assert failures(username="an") == 5
    assert signed_in(post_login(client, "an", PASSWORD, address=""))
    for _ in range(6):
        response = post_login(client, "an", "wrong", address="")
    assert paused(response) and not response.context["by_address"]
