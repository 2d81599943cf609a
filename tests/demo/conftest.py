"""What the demo's tests share: seed_demo run in English, and a small demo city loaded once per module.

The shape of the default city (7,300 members) is tested on the plan, without a database; the tests
that need rows load a city of 400 members, which still holds every kind of record.
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import translation

SMALL = 400
FAST_HASHING = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(*args):
    """Run seed_demo in English (the output is translated) and return what it printed."""
    out = StringIO()
    with translation.override("en"):
        call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def demo_city(django_db_setup, django_db_blocker):
    """The output of `seed_demo --members 400`, loaded once for the tests of a module.

    The city stays in a transaction that is open for the whole module and rolled back at its end;
    each test runs inside it in a savepoint of its own (the `db` fixture), so a test may change or
    even reset the city without the next one noticing. Tests that need an empty database go in a
    module that does not use this fixture.
    """
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHING), transaction.atomic():
        output = seed("--members", str(SMALL))
        yield output
        transaction.set_rollback(True)


@pytest.fixture
def seeded(demo_city, db):
    """The small demo city, for one test: what seed_demo printed."""
    return demo_city
