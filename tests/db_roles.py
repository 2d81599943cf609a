"""The application's PostgreSQL role in the tests.

The test database is created and migrated by the tests' own role, which owns its tables, as the owner does
in production. APP_ROLE_DATABASE_URL (postgres://review_app:password@host:port/, the database name is not
used) names a second role with no rights of its own; `as_app_role` grants it the application's rights on
the test database (assessments/core/privileges.py) and connects as it for the test, so that the test and
the live server's requests run with no more rights than the application has in production.

On SQLite there are no roles: the fixture does nothing. On PostgreSQL without APP_ROLE_DATABASE_URL it
skips the tests that need the role, except in CI (CI=true), where a missing role is a failure.
"""

import os

import dj_database_url
import pytest
from django.db import connection

from assessments.core.privileges import connected_as, grant_app_privileges


def app_role_settings():
    """The USER, PASSWORD, HOST and PORT of the application's role, or None when it is not configured."""
    url = os.environ.get("APP_ROLE_DATABASE_URL")
    if not url:
        return None
    parsed = dj_database_url.parse(url)
    return {key: parsed[key] for key in ("USER", "PASSWORD", "HOST", "PORT") if parsed.get(key)}


def in_ci():
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_app_role():
    """The application's role for a test that proves what it may do: skipped on SQLite, failed in CI on
    PostgreSQL when the role is not configured, skipped elsewhere."""
    if connection.vendor != "postgresql":
        pytest.skip("database roles are PostgreSQL's")
    role = app_role_settings()
    if role is None:
        message = "APP_ROLE_DATABASE_URL is not set: the application's role cannot be tested (see .ci/run)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return role


@pytest.fixture
def as_app_role(transactional_db):
    """The test runs connected as the application's role, with exactly the application's rights."""
    role = require_app_role()
    grant_app_privileges(app_role=role["USER"])
    with connected_as(role):
        yield role


@pytest.fixture
def as_app_role_when_configured(request):
    """as_app_role for the browser and acceptance tests on PostgreSQL when the role is configured (always in
    CI); the tests' own role otherwise."""
    marker = request.node.get_closest_marker("django_db")
    transactional = marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    if not transactional:
        yield None
        return
    request.getfixturevalue("transactional_db")
    if connection.vendor != "postgresql" or (app_role_settings() is None and not in_ci()):
        yield None
        return
    yield request.getfixturevalue("as_app_role")
