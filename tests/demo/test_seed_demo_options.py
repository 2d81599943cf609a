"""manage.py seed_demo on an empty database: what it refuses, and --without-current-year."""

import re
import unicodedata

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError
from django.utils import timezone

from assessments.models import Period
from demo.accounts import DEMO_PASSWORD, DEMO_USERNAMES
from demo.loader import DemoLoader
from demo.people import NameGenerator, Population
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


@pytest.mark.django_db
def test_members_are_written_with_the_names_first_drawn_and_none_are_kept(monkeypatch):
    """The members are drawn twice from the same random sequence (the second time as they are written, for
    their names and contact details): the names written are the ones drawn first, in order, each with
    the e-mail made from it, and the population holds no name once written (memory flat in the size)."""
    drawn = {}
    full_name = NameGenerator.full_name

    def recording(self, gender, born_year):
        name = full_name(self, gender, born_year)
        drawn.setdefault(id(self), []).append(name)
        return name

    populations = []
    create = Population.create

    def keeping(self):
        populations.append(self)
        return create(self)

    monkeypatch.setattr(NameGenerator, "full_name", recording)
    monkeypatch.setattr(Population, "create", keeping)
    loader = DemoLoader(total=SMALL, seed=11)
    loader.load()

    first_pass = drawn[id(loader.names)][:SMALL]  # then the accounts' names
    written = list(Member.objects.order_by("pk").values_list("full_name", "email"))
    assert [name for name, _email in written] == [" ".join(name.split()) for name in first_pass]
    mailed = [(name, email) for name, email in written if email]
    assert mailed
    for name, email in mailed:
        given = unicodedata.normalize("NFD", name.split()[-1].replace("Đ", "D").replace("đ", "d"))
        assert email.startswith("".join(ch for ch in given if ch.isascii()).lower() + "."), (name, email)
    people = populations[0].people
    assert len(people) == SMALL
    assert not any(hasattr(p.member, name) for p in people for name in ("full_name", "phone", "email"))
