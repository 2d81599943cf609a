"""The browser tests run as the application's role on PostgreSQL (tests/db_roles.py, autouse in
tests/e2e/conftest.py): the test's connection, and so the live server's, is that role's."""

import pytest
from django.db import connection

from tests.db_roles import require_app_role

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_browser_tests_connect_as_the_application_role(live_server, page):
    role = require_app_role()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == role["USER"]
    page.goto(live_server.url + "/accounts/login/")
    assert page.locator("input[name=username]").count() == 1
