import pytest
from django.urls import reverse

from tests.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
WRONG = "The username or password is not correct."


def post_login(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password}, HTTP_ACCEPT_LANGUAGE="en")


def error_text(response):
    return " ".join(str(e) for e in response.context["form"].non_field_errors())


@pytest.fixture
def english(settings):
    settings.LANGUAGE_CODE = "en"


def test_login_page_speaks_vietnamese_by_default(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert "Đăng nhập" in response.content.decode()


def test_correct_password_signs_in_and_goes_home(client):
    UserFactory(username="an")
    response = client.post(LOGIN, {"username": "an", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("home")


def test_unknown_user_wrong_password_and_inactive_account_get_the_same_message(client, english):
    UserFactory(username="an")
    UserFactory(username="old", is_active=False)
    messages = {
        error_text(post_login(client, "nobody", PASSWORD)),
        error_text(post_login(client, "an", "wrong password")),
        error_text(post_login(client, "old", PASSWORD)),
    }
    assert len(messages) == 1
    assert WRONG in messages.pop()


def test_logout_needs_post(client, personas):
    client.force_login(personas.member)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_password_change_works(client):
    user = UserFactory(username="an")
    client.force_login(user)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": "Trung thu 2026!", "new_password2": "Trung thu 2026!"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Trung thu 2026!")
