"""Whoever signs in with a one-time code chooses a password before anything else; the code then
stops working. The check costs the pages no query."""

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import services
from accounts.middleware import SESSION_KEY
from tests.conftest import PASSWORD

from .helpers import LOGIN, NEW_PASSWORD, PASSWORD_CHANGE, choose_password, fresh, sign_in

pytestmark = pytest.mark.django_db
User = get_user_model()
MIDDLEWARE = "accounts.middleware.PasswordChangeRequiredMiddleware"


@pytest.fixture
def slip(personas, city):
    """The slip of Phạm Đức Anh, of cell A1, who had no account."""
    batch = services.member_accounts_create(organization=fresh(city.cell_a1), actor=personas.secretary_a1)
    (slip,) = batch.slips
    return slip


def test_the_code_signs_in_and_leads_straight_to_choosing_a_password(client, slip):
    response = sign_in(client, slip.username, slip.code)
    assert response.status_code == 302
    home = client.get(response.url)
    assert home.status_code == 302 and home.url == PASSWORD_CHANGE
    page = client.get(PASSWORD_CHANGE)
    assert page.status_code == 200 and page.context["first_password"]
    # The reason, in plain words, above the form.
    assert [m.level_tag for m in page.context["messages"]] == ["warning"]
    # The code is not asked for again.
    assert set(page.context["form"].fields) == {"new_password1", "new_password2"}


@pytest.mark.parametrize(
    "name, args",
    [
        ("home", []),
        ("members:me", []),
        ("members:list", []),
        ("organizations:list", []),
        ("accounts:organization_accounts", ["chi-bo-a1"]),
        ("accounts:login", []),
        ("admin:index", []),
    ],
)
def test_every_page_leads_to_the_password_change_until_it_is_done(name, args, client, slip):
    sign_in(client, slip.username, slip.code)
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302 and response.url == PASSWORD_CHANGE


def test_a_post_elsewhere_is_turned_back_too(client, slip, personas):
    sign_in(client, slip.username, slip.code)
    url = reverse("accounts:member_password_reset", args=[personas.member_record.public_id])
    response = client.post(url, {"codes_issued": 0, "confirmed": "1"})
    assert response.status_code == 302 and response.url == PASSWORD_CHANGE


def test_an_htmx_request_is_sent_to_the_password_change_as_a_whole_page(client, slip):
    sign_in(client, slip.username, slip.code)
    response = client.get(reverse("home"), HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == PASSWORD_CHANGE


def test_signing_out_the_language_and_static_files_stay_open(client, slip):
    sign_in(client, slip.username, slip.code)
    assert client.post(reverse("set_language"), {"language": "en", "next": "/"}).status_code == 302
    assert client.get(reverse("accounts:password_change_done")).status_code == 200
    assert client.get(django_settings.STATIC_URL + "no-such-file.css").status_code == 404
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302 and response.url == reverse("accounts:login")


def test_after_choosing_a_password_every_page_opens_and_the_code_never_works_again(client, slip):
    sign_in(client, slip.username, slip.code)
    response = choose_password(client)
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("members:me")).status_code == 302  # to the member's own record
    user = User.objects.get(username=slip.username)
    assert not user.account_state.must_change_password
    assert user.account_state.password_changed_at is not None

    assert sign_in(client, slip.username, slip.code).status_code == 200  # the form again, with an error
    assert "_auth_user_id" not in client.session
    assert sign_in(client, slip.username, NEW_PASSWORD).status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_the_code_signs_in_until_the_password_is_chosen_but_opens_only_that_page(client, slip):
    """Closing the browser before choosing a password loses nothing: the code still signs in."""
    sign_in(client, slip.username, slip.code)
    assert sign_in(client, slip.username, slip.code).status_code == 302
    assert client.get(reverse("home")).url == PASSWORD_CHANGE


def test_the_code_forgives_case_spaces_and_missing_dashes(client, slip):
    typed = slip.code.replace("-", " ").lower()
    assert sign_in(client, slip.username, typed).status_code == 302


def test_a_code_does_not_open_another_account(client, slip, personas):
    for username in ("member", "secretary_a1", personas.member_a2.card_number):
        assert sign_in(client, username, slip.code).status_code == 200
        assert "_auth_user_id" not in client.session


def test_the_new_password_must_not_be_the_code(client, slip):
    sign_in(client, slip.username, slip.code)
    response = choose_password(client, slip.code)
    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"]
    assert User.objects.get(username=slip.username).account_state.must_change_password


def test_a_weak_new_password_is_refused_with_a_message(client, slip):
    sign_in(client, slip.username, slip.code)
    response = choose_password(client, "12345678")
    assert response.status_code == 200 and response.context["form"].errors
    assert client.get(reverse("home")).url == PASSWORD_CHANGE


def test_an_everyday_password_change_still_asks_for_the_current_password(personas, client_for):
    client = client_for(personas.member)
    page = client.get(PASSWORD_CHANGE)
    assert not page.context["first_password"]
    assert "old_password" in page.context["form"].fields
    same = client.post(
        PASSWORD_CHANGE, {"old_password": PASSWORD, "new_password1": PASSWORD, "new_password2": PASSWORD}
    )
    assert same.status_code == 200 and same.context["form"].errors["new_password2"]
    data = {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    response = client.post(PASSWORD_CHANGE, data)
    assert response.status_code == 302 and response.url == reverse("accounts:password_change_done")


def test_after_a_reset_the_member_must_choose_a_password_again(client, personas):
    slip = services.member_password_reset(member=personas.member_record, actor=personas.secretary_a1)
    assert sign_in(client, "member", PASSWORD).status_code == 200  # the old password is gone
    sign_in(client, "member", slip.code)
    assert client.get(reverse("home")).url == PASSWORD_CHANGE
    choose_password(client)
    assert client.get(reverse("home")).status_code == 200


def test_a_reset_signs_the_member_out_everywhere(client, personas):
    client.force_login(personas.member)
    assert client.get(reverse("home")).status_code == 200
    services.member_password_reset(member=personas.member_record, actor=personas.secretary_a1)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


def test_staff_signing_in_with_a_code_choose_their_password_on_the_sites_page_not_the_admins(client, personas):
    """The admin's own password change would take the code as the current password (re-hashing it as
    typed) and accept it as the new one: a member with a code never reaches it."""
    User.objects.filter(username="member").update(is_staff=True)
    root = User.objects.create(username="root", is_superuser=True, is_staff=True)
    slip = services.member_password_reset(member=personas.member_record, actor=root)  # only an administrator may
    sign_in(client, "member", slip.code)
    for url in (reverse("admin:password_change"), reverse("admin:index")):
        response = client.get(url)
        assert response.status_code == 302 and response.url == PASSWORD_CHANGE
    data = {"old_password": slip.code, "new_password1": slip.code, "new_password2": slip.code}
    response = client.post(reverse("admin:password_change"), data)
    assert response.status_code == 302 and response.url == PASSWORD_CHANGE
    assert User.objects.get(username="member").password.startswith("initial_pbkdf2$")
    choose_password(client)
    assert not User.objects.get(username="member").account_state.must_change_password
    assert client.get(reverse("admin:index")).status_code == 200


# --- The code never becomes the password ---------------------------------------------------------


def spellings(code):
    """The code as printed, and as a member might type it."""
    raw = code.replace("-", "")
    return [code, raw, raw.lower(), code.lower(), code.replace("-", " "), " ".join(raw.lower()), f" {raw} "]


def test_signing_in_with_the_code_however_typed_leaves_the_code_as_it_was(client, slip):
    """Django re-hashes a password at sign-in when its hasher is not the preferred one, as typed: the
    code stays the code (the same hash) instead of turning into what the member typed."""
    stored = User.objects.get(username=slip.username).password
    for typed in spellings(slip.code):
        assert sign_in(client, slip.username, typed).status_code == 302, typed
        assert User.objects.get(username=slip.username).password == stored
    # In the admin's sign-in too (staff signing in with a code).
    User.objects.filter(username=slip.username).update(is_staff=True)
    client.logout()
    admin_login = reverse("admin:login")
    response = client.post(admin_login, {"username": slip.username, "password": slip.code.lower().replace("-", "")})
    assert response.status_code == 302
    assert User.objects.get(username=slip.username).password == stored


@pytest.mark.parametrize("form", range(7))
def test_the_new_password_may_not_be_the_code_in_any_spelling(form, client, slip):
    typed_at_sign_in = slip.code.lower().replace("-", "")  # the spelling the issue saw re-hashed
    sign_in(client, slip.username, typed_at_sign_in)
    candidate = spellings(slip.code)[form].strip()
    response = choose_password(client, candidate)
    assert response.status_code == 200
    assert [e.code for e in response.context["form"].errors.as_data()["new_password2"]] == ["password_unchanged"]
    assert User.objects.get(username=slip.username).account_state.must_change_password


def test_after_the_first_password_neither_the_printed_nor_the_typed_code_signs_in(client, slip):
    sign_in(client, slip.username, slip.code.lower().replace("-", ""))
    assert choose_password(client).status_code == 302
    client.logout()
    for number, typed in enumerate(spellings(slip.code)):
        # From as many addresses: more than 5 failures from one would pause the account there.
        data = {"username": slip.username, "password": typed}
        response = client.post(LOGIN, data, REMOTE_ADDR=f"10.0.0.{number + 1}")
        assert response.status_code == 200 and response.context["form"].errors, typed
        assert "_auth_user_id" not in client.session
    assert not User.objects.get(username=slip.username).password.startswith("initial_pbkdf2$")
    assert sign_in(client, slip.username, NEW_PASSWORD).status_code == 302


# --- What it costs ----------------------------------------------------------------------------------


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response
    return len(ctx.captured_queries)


@pytest.mark.parametrize("persona", ["member", "secretary_a1", "board"])
def test_the_check_adds_no_query_to_a_page(persona, personas, client_for, settings):
    client = client_for(getattr(personas, persona))
    with_check = count_queries(client, reverse("home"))
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != MIDDLEWARE]
    assert count_queries(client, reverse("home")) == with_check


def test_a_session_from_before_the_check_reads_the_flag_once(personas, client_for):
    client = client_for(personas.member)
    baseline = count_queries(client, reverse("home"))
    session = client.session
    del session[SESSION_KEY]
    session.save()
    # The flag (1 query), then the session is saved with it: the UPDATE, between a savepoint and its
    # release in a test (3 queries). Once only.
    assert count_queries(client, reverse("home")) == baseline + 4
    assert client.session[SESSION_KEY] is False
    assert count_queries(client, reverse("home")) == baseline
