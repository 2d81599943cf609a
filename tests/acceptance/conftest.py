"""The acceptance test drives Debian's Chromium for a few steps, like the browser tests, and on PostgreSQL
runs as the application's role like them (the test database is migrated by the tests' own role, the owner)."""

from tests.e2e.conftest import (  # noqa: F401 - fixtures
    _as_the_application_role,
    browser_context_args,
    browser_type_launch_args,
)
