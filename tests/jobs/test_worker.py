"""The real worker (`manage.py db_worker --batch`) end to end, and two clicks at once, on committed data
(a transactional test), as in production: on SQLite and on PostgreSQL."""

import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django_tasks_db.models import DBTaskResult

from assessments.models import Assessment, AuditEntry, Period
from jobs import services
from jobs.models import Job

pytestmark = pytest.mark.django_db(transaction=True)


def db_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--interval", "0", verbosity=0)


def test_the_db_worker_opens_a_period_then_exports_it(personas, city):
    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    opening, _ = services.job_start(kind="open_period", user=personas.board, organization=city.city, period=period)
    db_worker()
    opening.refresh_from_db()
    period.refresh_from_db()
    assert opening.state == "succeeded" and period.state == Period.State.OPEN
    assert Assessment.objects.filter(period=period).count() == opening.summary["assessments"]
    export, _ = services.job_start(kind="export", user=personas.officer_a, organization=city.committee_a, period=period)
    db_worker()
    export.refresh_from_db()
    assert export.state == "succeeded" and export.has_result
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
    assert AuditEntry.objects.filter(action="open", period=period).count() == 1


def vacuums_of_the_forms():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'assessments_assessment'")
        return cursor.fetchone()[0]


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="VACUUM and index-only scans: PostgreSQL")
@pytest.mark.parametrize("threshold, vacuumed", [(1, True), (10_000, False)])
def test_a_large_opening_has_its_new_forms_vacuumed_once_committed(personas, city, monkeypatch, threshold, vacuumed):
    from assessments.core import services as core

    monkeypatch.setattr(core, "ANALYZE_AFTER", threshold)
    before = vacuums_of_the_forms()
    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    opening, _ = services.job_start(kind="open_period", user=personas.board, organization=city.city, period=period)
    db_worker()
    opening.refresh_from_db()
    assert opening.state == "succeeded" and Period.objects.get(pk=period.pk).state == Period.State.OPEN
    assert (vacuums_of_the_forms() > before) is vacuumed


def test_vacuum_runs_on_postgresql_outside_a_transaction_only():
    from bulk import vacuum

    assert vacuum(Assessment) is (connection.vendor == "postgresql")
    with transaction.atomic():
        assert vacuum(Assessment) is False


def cancel_from_another_request():
    """The user's click on Cancel: another connection, committed at once."""

    def click():
        try:
            Job.objects.filter(kind="open_period").update(cancel_requested=True)
        finally:
            connections.close_all()

    thread = threading.Thread(target=click)
    thread.start()
    thread.join()


def test_a_cancelled_opening_in_the_worker_leaves_nothing(personas, city, monkeypatch):
    """The opening reports its chunks inside its transaction; the cancel flag, read from another connection
    (PostgreSQL) or at the next step (SQLite), rolls it all back."""
    from assessments.core import services as core

    original = core.period_open

    def chunked_open(*, period, user, progress=None):
        # As period_open will report its chunks: inside its one transaction.
        with transaction.atomic():
            opened = original(period=period, user=user)
            assert Assessment.objects.filter(period=period).exists()
            cancel_from_another_request()
            progress(1, 2, "half the rows written")
        return opened

    monkeypatch.setattr(core, "period_open", chunked_open)
    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    job, _ = services.job_start(kind="open_period", user=personas.board, organization=city.city, period=period)
    if connection.vendor == "sqlite":
        pytest.skip("SQLite: one writer at a time, the flag is read between transactions only")
    db_worker()
    job.refresh_from_db()
    period.refresh_from_db()
    assert job.state == "cancelled"
    assert period.state == Period.State.PREPARING and not Assessment.objects.filter(period=period).exists()


def test_an_opening_that_reports_after_its_commit_is_done_not_cancelled(personas, city, monkeypatch):
    from assessments.core import services as core

    original = core.period_open

    def reports_late(*, period, user, progress=None):
        opened = original(period=period, user=user)
        Job.objects.filter(kind="open_period").update(cancel_requested=True)
        progress(1, 1, "done")
        return opened

    monkeypatch.setattr(core, "period_open", reports_late)
    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    job, _ = services.job_start(kind="open_period", user=personas.board, organization=city.city, period=period)
    db_worker()
    job.refresh_from_db()
    assert job.state == "succeeded" and Period.objects.get(pk=period.pk).state == Period.State.OPEN


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="two connections writing at once: PostgreSQL")
def test_two_clicks_at_once_start_one_job(personas, city, monkeypatch):
    """Both requests look, find no job, insert: the unique index makes the second wait for the first and
    fail; it then shows the first's job."""
    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    looked = threading.local()
    original = services.active_job

    def blind_first_look(*args):
        if not getattr(looked, "once", False):
            looked.once = True
            return None
        return original(*args)

    monkeypatch.setattr(services, "active_job", blind_first_look)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def click():
        try:
            barrier.wait()
            results.append(
                services.job_start(kind="open_period", user=personas.board, organization=city.city, period=period)
            )
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert Job.objects.count() == 1
    assert sorted(created for _job, created in results) == [False, True]
    assert {job.pk for job, _created in results} == {Job.objects.get().pk}


def test_a_long_step_without_progress_still_beats(personas, city, monkeypatch, settings):
    """Work that reports nothing for a while (an export without `progress=`): the heartbeat thread writes
    for it, so jobs_recover does not take it for dead."""
    import time

    from assessments import background

    settings.JOBS_HEARTBEAT_SECONDS = 0.05
    beats = []

    def slow_writer(period, organization, target):
        first = Job.objects.get(kind="export").heartbeat_at
        time.sleep(0.5)
        beats.append((first, Job.objects.get(kind="export").heartbeat_at))
        return {}

    monkeypatch.setattr(background, "write_workbook", slow_writer)
    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.job_start(kind="export", user=personas.board, organization=city.city, period=period)
    db_worker()
    [(first, later)] = beats
    assert later > first
