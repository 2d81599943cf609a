"""A database that cannot be reached for a moment is answered 503 with Retry-After and a page that says
nothing changed; any other error keeps the 500 page (config/errors.py)."""

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client
from django.urls import path

import config.urls
from config.errors import server_error


def database_down(request):
    raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')


def connection_gone(request):
    raise InterfaceError("connection already closed")


def broken(request):
    raise ValueError("a bug")


urlpatterns = [path("down/", database_down), path("gone/", connection_gone), path("broken/", broken)]
handler500 = "config.errors.server_error"

pytestmark = [pytest.mark.urls("tests.test_server_errors")]


@pytest.fixture
def client_no_raise():
    return Client(raise_request_exception=False)


def test_the_site_uses_the_handler():
    assert config.urls.handler500 == "config.errors.server_error"
    assert server_error.__module__ == "config.errors"


@pytest.mark.parametrize("url", ["/down/", "/gone/"])
def test_an_unreachable_database_is_503_with_retry_after(url, client_no_raise):
    response = client_no_raise.get(url)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    text = response.content.decode()
    assert "Không có dữ liệu nào bị thay đổi" in text and "Nothing was changed" in text
    assert "Connection refused" not in text and "Traceback" not in text
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_any_other_error_is_500(client_no_raise):
    response = client_no_raise.get("/broken/")
    assert response.status_code == 500
    assert "Retry-After" not in response
    assert "Đã xảy ra lỗi" in response.content.decode()
    assert "a bug" not in response.content.decode()
