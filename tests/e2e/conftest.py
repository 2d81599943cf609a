"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

No browser is ever downloaded: the system Chromium is used, with flags that keep it off the network.
"""

import os
import shutil
import threading

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Seconds the end of the run waits for each of the live server's request threads still running.
LIVE_SERVER_THREADS_WAIT = 10
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session", autouse=True)
def _connections_closed_before_the_browser_starts():
    """Playwright's synchronous API runs its event loop in this thread, through greenlets: once it has
    started, Django's connections are looked up in another context than before, and a connection opened
    before it stays open, forgotten, to the end of the run, where it keeps the test database from being
    dropped ("database is being accessed by other users"). So they are closed before the browser starts
    (an autouse fixture of the session is set up before the session's other fixtures).

    At the end of the run, once the browser has closed (and with it its connections to the live server),
    the live server's request threads are awaited: each closes its database connection as it ends, and
    the test database cannot be dropped while one is open."""
    from django.db import connections

    connections.close_all()
    yield
    for thread in threading.enumerate():
        if thread.name.endswith("(process_request_thread)"):
            thread.join(timeout=LIVE_SERVER_THREADS_WAIT)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium is required for the browser tests: {CHROMIUM} not found (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture
def browser_context_args(browser_context_args):
    # The users' language: the site must speak Vietnamese without being asked.
    return {**browser_context_args, "locale": "vi-VN", "viewport": {"width": 1280, "height": 900}}


@pytest.fixture(autouse=True)
def _as_the_application_role(as_app_role_when_configured):
    """On PostgreSQL the browser tests run as the application's role (tests/db_roles.py): the pages they
    drive write with the application's rights only."""
    return as_app_role_when_configured
