"""manage.py seed_demo on an empty database: what it refuses, and --without-current-year."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError
from django.utils import timezone

from assessments.models import Period
from demo.accounts import DEMO_PASSWORD, DEMO_USERNAMES
from demo.plan import MIN_MEMBERS
from members.models import Member
from organizations.models import Organization

from .conftest import SMALL, seed


@pytest.mark.django_db
def test_refuses_when_demo_accounts_exist_and_writes_nothing():
    get_user_model().objects.create_user("bithu", password="x")
    with pytest.raises(CommandError, match="bithu"):
        seed("--members", str(SMALL))
    assert not Organization.objects.exists() and not Member.objects.exists()


@pytest.mark.django_db
def test_refuses_too_few_members():
    with pytest.raises(CommandError):
        seed("--members", "10")
    assert not Organization.objects.exists()


@pytest.mark.django_db
def test_without_current_year_publishes_last_year_and_leaves_this_year_to_the_board():
    """What the acceptance test starts from, here on the smallest city the demo makes."""
    output = seed("--members", str(MIN_MEMBERS), "--without-current-year")
    (period,) = Period.objects.all()
    assert period.year == timezone.localdate().year - 1 and period.state == Period.State.PUBLISHED
    assert "this year's is not opened" in output
    assert Member.objects.count() == MIN_MEMBERS
    assert all(re.search(rf"^{name} +{DEMO_PASSWORD}", output, re.MULTILINE) for name in DEMO_USERNAMES)
