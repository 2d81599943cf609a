"""Sign-in limits hold under concurrency, on PostgreSQL: of attempts made at the same moment, no more
than the limit reach the password check (django-axes alone lets them all through: it reads the
counters before the check and counts after). Each attempt is a real request in its own thread, with
its own database connection and transactions."""

import threading

import pytest
from axes.models import AccessAttempt
from django.db import connection
from django.test import Client

from accounts.backends import AccountBackend
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency is tested on PostgreSQL"),
]

ATTEMPTS = 20


@pytest.fixture
def checks(monkeypatch):
    """The password checks made, counted across threads."""
    made = []
    lock = threading.Lock()
    original = AccountBackend.authenticate

    def counting(self, request, username=None, password=None, **kwargs):
        with lock:
            made.append(username)
        return original(self, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(AccountBackend, "authenticate", counting)
    return made


def at_once(attempts):
    """POST each (username, password, address) to the sign-in page from its own thread, all released
    together; the status codes."""
    barrier = threading.Barrier(len(attempts))
    statuses = [None] * len(attempts)

    def attempt(index, username, password, address):
        try:
            client = Client()
            barrier.wait(timeout=30)
            response = client.post(
                "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address
            )
            statuses[index] = response.status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(i, *a)) for i, a in enumerate(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


def counted(**where):
    return sum(AccessAttempt.objects.filter(**where).values_list("failures_since_start", flat=True))


def test_twenty_wrong_passwords_at_once_for_one_username_check_at_most_five(checks, settings):
    UserFactory(username="an")
    statuses = at_once([("an", f"wrong {n}", "203.0.113.1") for n in range(ATTEMPTS)])
    assert all(status in (200, 429) for status in statuses), statuses
    limit = settings.SIGNIN_LIMITS["username+ip_address"]
    assert 1 <= len(checks) <= limit
    # Every check made is counted; every refusal gave its count back.
    assert counted(username="an") == len(checks)
    assert statuses.count(429) >= ATTEMPTS - limit
    print(f"one username, one address: {len(checks)} checked, {ATTEMPTS - len(checks)} refused unchecked")


def test_twenty_at_once_from_twenty_addresses_check_at_most_the_usernames_limit(checks, settings):
    settings.SIGNIN_LIMITS = {**settings.SIGNIN_LIMITS, "username": 6}
    UserFactory(username="an")
    statuses = at_once([("an", "wrong", f"203.0.113.{n + 1}") for n in range(ATTEMPTS)])
    assert all(status in (200, 429) for status in statuses), statuses
    assert 1 <= len(checks) <= 6
    assert counted(username="an") == len(checks)
    print(f"one username, {ATTEMPTS} addresses: {len(checks)} checked, {ATTEMPTS - len(checks)} refused unchecked")


def test_one_password_sprayed_at_once_over_twenty_usernames_checks_at_most_the_addresss_limit(checks, settings):
    settings.SIGNIN_LIMITS = {**settings.SIGNIN_LIMITS, "ip_address": 6}
    statuses = at_once([(f"3101{n:04d}", "123456", "203.0.113.9") for n in range(ATTEMPTS)])
    assert all(status in (200, 429) for status in statuses), statuses
    assert 1 <= len(checks) <= 6
    assert counted(ip_address="203.0.113.9") == len(checks)
    print(f"one address, {ATTEMPTS} usernames: {len(checks)} checked, {ATTEMPTS - len(checks)} refused unchecked")


def test_the_rightful_user_elsewhere_still_signs_in_after_the_burst(checks):
    UserFactory(username="an")
    at_once([("an", "wrong", "203.0.113.1") for _ in range(ATTEMPTS)])
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": "an", "password": "correct horse 42"}, REMOTE_ADDR="203.0.113.2"
    )
    assert response.status_code == 302
