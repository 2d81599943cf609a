"""The members' forms counted by period, organisation and decided level (MemberLevelCount), kept by the
database's own triggers (migration 0024) through every kind of write: a period opened (COPY or one
executemany), decisions recorded by `UPDATE … FROM (VALUES …)`, a form saved by the ORM, a queryset's
update, `bulk_update`, a form moved to another cell, forms deleted, a write rolled back; and the levels
below a ranking's organisations read from them, as they were counted from the forms."""

import pytest
from django.db import connection, transaction
from django.db.models import Sum

from assessments import decisions
from assessments.core import services
from assessments.core.organization_facts import LevelsBelow
from assessments.models import Assessment, MemberLevelCount, Period
from organizations.models import Organization, RoleAssignment
from tests.factories import UserFactory, bulk_committee, grant
from tests.helpers import scored_2025

pytestmark = pytest.mark.django_db


def counted_from_the_forms():
    """{(period, organisation, level): n}, counted from the members' forms to be classified."""
    counts = {}
    rows = Assessment.objects.filter(member__isnull=False, classified=True).values_list(
        "period_id", "organization_id", "decided_level"
    )
    for key in rows:
        counts[key] = counts.get(key, 0) + 1
    return counts


def kept():
    return {
        (p, o, level): n
        for p, o, level, n in MemberLevelCount.objects.values_list("period_id", "organization_id", "decided_level", "n")
        if n
    }


def assert_counts_hold():
    assert kept() == counted_from_the_forms()
    assert not MemberLevelCount.objects.filter(n__lt=0).exists()


@pytest.fixture
def committee(city, personas):
    committee = bulk_committee(city.city, "muoi", cells=2, members_per_cell=6)
    officer = UserFactory(username="officer_ten", first_name="Cán bộ")
    grant(officer, RoleAssignment.Role.COMMITTEE_OFFICER, committee)
    return committee, officer


@pytest.fixture
def period(city, personas, committee):
    period = Period.objects.create(organization=city.city, year=2026, regime="2025")
    services.period_open(period=period, user=personas.board)
    period.refresh_from_db()
    scored_2025(period.assessments.all())
    return period


def member_forms(period, organization):
    return list(decisions.member_assessments(period, organization).order_by("member__sort_key", "pk"))


def test_opening_a_period_counts_its_members_undecided(period):
    assert_counts_hold()
    assert kept()  # not empty: the period's members are counted, every one undecided
    assert set(MemberLevelCount.objects.filter(n__gt=0).values_list("decided_level", flat=True)) == {""}


def test_decisions_recorded_in_bulk_move_the_counts(period, committee):
    organization, officer = committee
    forms = member_forms(period, organization)
    choices = {form.pk: ("HTTNV", "") for form in forms[:5]} | {form.pk: ("HTNV", "") for form in forms[5:7]}
    decisions.decisions_record(period=period, organization=organization, user=officer, choices=choices)
    assert_counts_hold()
    levels = dict(
        MemberLevelCount.objects.filter(period=period, organization__path__startswith=organization.path, n__gt=0)
        .values_list("decided_level")
        .annotate(total=Sum("n"))
    )
    assert levels["HTTNV"] == 5 and levels["HTNV"] == 2
    # Decided again the other way: one statement both lowers and raises counts.
    again = {form.pk: ("HTNV", "") for form in forms[:5]} | {form.pk: ("HTTNV", "") for form in forms[5:7]}
    decisions.decisions_record(period=period, organization=organization, user=officer, choices=again)
    assert_counts_hold()


def test_every_other_kind_of_write_keeps_them(period, committee, city):
    organization, _officer = committee
    forms = member_forms(period, organization)
    # A form saved by the ORM.
    forms[0].decided_level = "HTXSNV"
    forms[0].save()
    assert_counts_hold()
    # Saved again without a change of level: nothing moves.
    forms[0].save()
    assert_counts_hold()
    # A queryset's update: no longer to be classified, then again.
    Assessment.objects.filter(pk=forms[1].pk).update(classified=False)
    assert_counts_hold()
    Assessment.objects.filter(pk=forms[1].pk).update(classified=True, decided_level="KHTNV")
    assert_counts_hold()
    # bulk_update (CASE/WHEN) of several forms.
    for form, level in zip(forms[2:5], ["HTNV", "HTTNV", ""], strict=True):
        form.decided_level = level
    Assessment.objects.bulk_update(forms[2:5], ["decided_level"])
    assert_counts_hold()
    # A form moved to another cell (a transfer), keeping its level.
    other = Organization.objects.filter(kind__in=Organization.CELL_KINDS).exclude(pk=forms[0].organization_id).first()
    Assessment.objects.filter(pk=forms[0].pk).update(organization=other)
    assert_counts_hold()
    # An organisation's own form changes nothing of the members' counts.
    before = kept()
    Assessment.objects.filter(period=period, member__isnull=True).update(decided_level="HTTNV")
    assert kept() == before
    # A form deleted, then several at once.
    Assessment.objects.filter(pk=forms[5].pk).delete()
    assert_counts_hold()
    Assessment.objects.filter(pk__in=[form.pk for form in forms[6:]]).delete()
    assert_counts_hold()


def test_a_write_undone_undoes_its_count(period, committee):
    organization, _officer = committee
    form = member_forms(period, organization)[0]
    before = kept()
    with pytest.raises(RuntimeError), transaction.atomic():
        Assessment.objects.filter(pk=form.pk).update(decided_level="HTTNV")
        assert kept() != before
        raise RuntimeError("rolled back")
    assert kept() == before


def test_the_levels_below_read_from_the_counts_are_those_of_the_forms(period, committee, city):
    organization, officer = committee
    forms = member_forms(period, organization)
    decisions.decisions_record(
        period=period,
        organization=organization,
        user=officer,
        choices={form.pk: ("HTTNV", "") for form in forms[:4]} | {forms[4].pk: ("HTNV", "")},
    )
    listed = [organization, city.committee_a, city.cell_c]
    below = LevelsBelow(period, listed)
    for org in listed:
        forms_under = Assessment.objects.filter(
            period=period, member__isnull=False, classified=True, organization__path__startswith=org.path
        )
        decided = {}
        for level in forms_under.exclude(decided_level="").values_list("decided_level", flat=True):
            decided[level] = decided.get(level, 0) + 1
        assert dict(below.member_levels[org.path]) == decided
        assert below.members_undecided[org.path] == forms_under.filter(decided_level="").count()
    assert below.member_levels[organization.path] == {"HTTNV": 4, "HTNV": 1}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the statement triggers are PostgreSQL's")
def test_a_copy_of_many_forms_is_counted_by_one_statement(period):
    """COPY (how a large period opens) fires the statement trigger once with every row."""
    from bulk import insert_rows

    member_form = Assessment.objects.filter(period=period, member__isnull=False).first()
    year = Period.objects.create(organization=period.organization, year=2027, regime="2025")
    with transaction.atomic():
        insert_rows(
            Assessment,
            ["period_id", "subject_kind", "member_id", "organization_id", "classified", "decided_level"],
            [(year.pk, "member", member_form.member_id, member_form.organization_id, True, "HTNV")],
        )
    assert_counts_hold()
    assert kept()[(year.pk, member_form.organization_id, "HTNV")] == 1
