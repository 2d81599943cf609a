"""The quota holds when two officers save at the same moment.

Two officers of one grassroots committee each raise one member of a different cell to HTXSNV. Each
save alone is within the quota; the two together are not. The count is read inside the save's
transaction, after locking the grassroots organisation's row, so the second save sees the first and is
refused with the quota's message: exactly one is accepted, and no exception is recorded.

On PostgreSQL two threads (each with its own connection) post at once, after a barrier, several times
over. SQLite serialises writers on its own: there the same two posts are made one after the other."""

import threading

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from assessments.core import services
from assessments.models import Assessment, AuditEntry, Period
from organizations.models import RoleAssignment
from tests.factories import UserFactory, bulk_committee, grant

TRIALS = 10
QUOTA_MESSAGE = "vượt tỷ lệ tối đa"  # "These decisions exceed the quota", in the officers' language


@pytest.fixture
def two_cells(city, personas):
    """A committee of two cells of five members, everyone decided HTTNV (0 HTXSNV; one of 9 HTTNV is
    within 20%, two of 8 are not), and two officers who decide them."""
    committee = bulk_committee(city.city, "dua", cells=2, members_per_cell=5)
    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=period, user=personas.board)
    period.refresh_from_db()
    forms = Assessment.objects.filter(
        period=period, member__isnull=False, organization__path__startswith=committee.path
    )
    forms.update(decided_level="HTTNV", state=Assessment.State.DECIDED)
    cells = list(committee.subtree().filter(kind="cell").order_by("path"))
    one, two = (forms.filter(organization=cell).order_by("pk").first() for cell in cells)
    officers = []
    for name in ("officer_race_1", "officer_race_2"):
        officer = UserFactory(username=name)
        grant(officer, RoleAssignment.Role.COMMITTEE_OFFICER, committee)
        officers.append(officer)
    return period, committee, (one, two), officers


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def address(period, committee):
    return reverse("assessments:decide", args=[period.public_id, committee.code])


def raise_to_htxsnv(client, url, form, outcome, barrier=None):
    """One officer's save of one row at HTXSNV, as the htmx row posts it."""
    try:
        if barrier is not None:
            barrier.wait(timeout=30)
        response = client.post(url, {f"level-{form.pk}": "HTXSNV"}, HTTP_HX_REQUEST="true")
        outcome[form.pk] = (response.status_code, response.content.decode())
    finally:
        if barrier is not None:
            connections.close_all()  # the thread's own connection


def htxsnv(period):
    return Assessment.objects.filter(period=period, decided_level="HTXSNV").count()


def one_accepted_one_refused(outcome):
    statuses = sorted(status for status, _text in outcome.values())
    refused = [text for status, text in outcome.values() if status == 422]
    return statuses == [200, 422] and QUOTA_MESSAGE in refused[0]


@pytest.mark.django_db(transaction=True)
def test_two_officers_saving_at_once_cannot_both_pass_the_quota(two_cells):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers: the sequential test below covers it")
    period, committee, forms, officers = two_cells
    url = address(period, committee)
    clients = [signed_in(officer) for officer in officers]
    results = []
    for _trial in range(TRIALS):
        Assessment.objects.filter(pk__in=[f.pk for f in forms]).update(decided_level="HTTNV")
        barrier, outcome = threading.Barrier(2), {}
        threads = [
            threading.Thread(target=raise_to_htxsnv, args=(client, url, form, outcome, barrier))
            for client, form in zip(clients, forms, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        results.append((one_accepted_one_refused(outcome), htxsnv(period)))
    # Every trial: one save accepted, the other refused with the quota's message; one HTXSNV in the end.
    assert results == [(True, 1)] * TRIALS
    assert not AuditEntry.objects.filter(period=period, action="quota_exception").exists()


@pytest.mark.django_db
def test_two_officers_saving_one_after_the_other_cannot_both_pass_the_quota(two_cells):
    period, committee, forms, officers = two_cells
    url = address(period, committee)
    outcome = {}
    for officer, form in zip(officers, forms, strict=True):
        raise_to_htxsnv(signed_in(officer), url, form, outcome)
    assert one_accepted_one_refused(outcome)
    assert outcome[forms[0].pk][0] == 200  # the first save is within the quota on its own
    assert htxsnv(period) == 1
    assert not AuditEntry.objects.filter(period=period, action="quota_exception").exists()


@pytest.mark.django_db
def test_one_officer_raising_one_member_is_within_the_quota(two_cells):
    period, committee, forms, officers = two_cells
    outcome = {}
    raise_to_htxsnv(signed_in(officers[1]), address(period, committee), forms[1], outcome)
    assert outcome[forms[1].pk][0] == 200 and htxsnv(period) == 1
