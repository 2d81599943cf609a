"""The acceptance test drives Debian's Chromium for a few steps, like the browser tests."""

from tests.e2e.conftest import browser_context_args, browser_type_launch_args  # noqa: F401 - fixtures
