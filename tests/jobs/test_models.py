"""The job record: one opening or export of a subject at a time, by a database constraint."""

import pytest
from django.db import IntegrityError, transaction

from jobs.models import Job

pytestmark = pytest.mark.django_db


def job(city, period, **fields):
    return Job.objects.create(period=period, **{"kind": "export", "organization": city.city, **fields})


def test_a_second_running_export_of_the_same_subject_is_refused_by_the_database(city, period):
    job(city, period, state="running")
    with pytest.raises(IntegrityError), transaction.atomic():
        job(city, period)


def test_a_second_opening_while_one_is_queued_is_refused_by_the_database(city, period):
    job(city, period, kind="open_period")
    with pytest.raises(IntegrityError), transaction.atomic():
        job(city, period, kind="open_period")


@pytest.mark.parametrize("ended", ["succeeded", "failed", "cancelled"])
def test_a_new_export_may_start_once_the_last_one_ended(city, period, ended):
    job(city, period, state=ended)
    job(city, period)
    assert Job.objects.count() == 2


def test_an_export_and_an_opening_may_run_side_by_side(city, period):
    job(city, period)
    job(city, period, kind="open_period")
    job(city, period, organization=city.committee_a)
    assert Job.objects.filter(state="queued").count() == 3


def test_imports_are_not_exclusive(city, period):
    # Each import is of its own file: two of them may wait in the queue at once.
    job(city, period, kind="import_commit")
    job(city, period, kind="import_commit")
    assert Job.objects.filter(kind="import_commit").count() == 2


def test_one_accounts_job_at_a_time_per_organisation(city, period):
    job(city, None, kind="accounts")
    with pytest.raises(IntegrityError), transaction.atomic():
        job(city, None, kind="accounts")
    Job.objects.filter(kind="accounts").update(state="succeeded")
    job(city, None, kind="accounts")


def test_done_cannot_pass_total(city, period):
    with pytest.raises(IntegrityError), transaction.atomic():
        job(city, period, done=5, total=3)


def test_the_share_done(city, period):
    assert job(city, period, done=1, total=3).percent == 33
    assert Job(state="succeeded", total=0).percent == 100
    assert Job(state="running", total=0).percent == 0
