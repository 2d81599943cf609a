"""Faults: a job that fails leaves nothing half-done, says why on its page and in the audit trail; a
worker that died is found and its job tried again or ended; a database restart is retried or reported."""

import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from assessments.core import services as opening
from assessments.models import Assessment, AuditEntry, Period
from jobs import services
from jobs.models import Job
from tests.jobs.helpers import run_jobs

pytestmark = pytest.mark.django_db


def start_open(period, user):
    return services.job_start(kind="open_period", user=user, organization=period.organization, period=period)[0]


def fail_after_writing(monkeypatch, error):
    """The opening's stream of rows is written, then the worker "dies" (raises) before the commit."""
    original = opening.insert_rows

    def writes_then_raises(*args, **kwargs):
        original(*args, **kwargs)
        assert Assessment.objects.exists()  # written, inside the opening's transaction
        raise error

    monkeypatch.setattr(opening, "insert_rows", writes_then_raises)


def test_an_opening_that_fails_in_the_middle_leaves_nothing(period, personas, monkeypatch):
    fail_after_writing(monkeypatch, RuntimeError("disk full"))
    job = start_open(period, personas.board)
    run_jobs()
    job.refresh_from_db()
    period.refresh_from_db()
    assert period.state == Period.State.PREPARING and period.opened_at is None
    assert not Assessment.objects.filter(period=period).exists()
    assert not AuditEntry.objects.filter(action="open").exists()
    assert job.state == "failed"
    assert "unexpected error" in job.error or "lỗi" in job.error
    assert "disk full" not in job.error and "Traceback" not in job.error
    entry = AuditEntry.objects.get(action="job_failed")
    assert entry.period == period and entry.actor == personas.board and entry.data["reason"] == job.error


def test_the_job_page_says_why_it_failed(period, personas, monkeypatch, client_for):
    from django.urls import reverse

    fail_after_writing(monkeypatch, RuntimeError("disk full"))
    job = start_open(period, personas.board)
    run_jobs()
    job.refresh_from_db()
    page = client_for(personas.board).get(reverse("jobs:detail", args=[job.public_id]))
    assert job.error in page.content.decode()
    assert "disk full" not in page.content.decode()


def test_a_refusal_in_the_worker_is_the_jobs_message(period, personas):
    """Opened by someone else between the click and the worker: the job says so."""
    from assessments.core import services as core

    job = start_open(period, personas.board)
    core.period_open(period=period, user=personas.board)
    run_jobs()
    job.refresh_from_db()
    assert job.state == "failed" and job.error
    assert AuditEntry.objects.filter(action="job_failed", period=period).count() == 1


def test_a_database_error_that_lasts_is_reported_and_leaves_nothing(period, personas, monkeypatch):
    fail_after_writing(monkeypatch, OperationalError("server closed the connection unexpectedly"))
    job = start_open(period, personas.board)
    run_jobs()
    job.refresh_from_db()
    assert job.state == "failed"
    assert "database" in job.error.lower() or "cơ sở dữ liệu" in job.error
    assert not Assessment.objects.filter(period=period).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_a_database_restart_during_a_job_is_retried(personas, city, monkeypatch, error):
    """Outside a transaction of the test's (as in the worker), the work runs again on a new connection."""
    from assessments import background
    from assessments.outputs import workbook

    calls = []

    def restart_once(period, organization, target, progress=None):
        calls.append(1)
        if len(calls) == 1:
            raise error("the database system is shutting down")
        return workbook.write_workbook(period, organization, target)

    monkeypatch.setattr(background, "write_workbook", restart_once)
    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    job = services.job_start(kind="export", user=personas.board, organization=city.city, period=period)[0]
    run_jobs()
    job.refresh_from_db()
    assert job.state == "succeeded" and len(calls) == 2
    assert [p.suffix for p in Path(settings.JOBS_RESULTS_DIR).iterdir()] == [".xlsx"]


def test_a_failed_export_leaves_no_file(opened, personas, monkeypatch):
    from assessments import background

    def half_written(period, organization, target, progress=None):
        target.write(b"half a workbook")
        raise ValueError("boom")

    monkeypatch.setattr(background, "write_workbook", half_written)
    job = services.job_start(kind="export", user=personas.board, organization=opened.organization, period=opened)[0]
    run_jobs()
    job.refresh_from_db()
    assert job.state == "failed" and not job.has_result
    assert list(Path(settings.JOBS_RESULTS_DIR).iterdir()) == []


def killed(job, *, attempts=1, minutes=10):
    """As a worker killed mid-job leaves it: running, its heartbeat old, its transaction rolled back."""
    old = timezone.now() - datetime.timedelta(minutes=minutes)
    Job.objects.filter(pk=job.pk).update(state="running", attempts=attempts, started_at=old, heartbeat_at=old)


def test_a_job_whose_worker_died_is_queued_again_and_done(period, personas):
    job = start_open(period, personas.board)
    killed(job)
    recovered = services.jobs_recover()
    assert [j.pk for j in recovered] == [job.pk]
    job.refresh_from_db()
    assert job.state == "queued"
    run_jobs()
    job.refresh_from_db()
    period.refresh_from_db()
    assert job.state == "succeeded" and job.attempts == 2 and period.state == Period.State.OPEN


def test_a_job_still_beating_is_left_alone(period, personas):
    job = start_open(period, personas.board)
    killed(job, minutes=0)
    assert services.jobs_recover() == []
    job.refresh_from_db()
    assert job.state == "running"


def test_after_the_last_attempt_the_job_is_failed_with_a_message(period, personas):
    job = start_open(period, personas.board)
    killed(job, attempts=settings.JOBS_MAX_ATTEMPTS)
    services.jobs_recover()
    job.refresh_from_db()
    assert job.state == "failed" and str(settings.JOBS_MAX_ATTEMPTS) in job.error
    assert AuditEntry.objects.get(action="job_failed").period == period


def test_an_opening_committed_before_its_worker_died_is_found_done(period, personas):
    """Idempotent: the retry does not open twice (period_open refuses), it finds the period opened after
    the job started."""
    from assessments.core import services as core

    job = start_open(period, personas.board)
    killed(job)
    core.period_open(period=period, user=personas.board)
    services.jobs_recover()
    job.refresh_from_db()
    assert job.state == "succeeded"
    assert Assessment.objects.filter(period=period).count() > 0


def test_the_next_worker_recovers_before_its_job(opened, personas, city):
    next_year = Period.objects.create(organization=city.city, year=2027, regime="2018")
    dead = start_open(next_year, personas.board)
    killed(dead, attempts=settings.JOBS_MAX_ATTEMPTS)
    services.job_start(kind="export", user=personas.board, organization=city.committee_a, period=opened)
    run_jobs()
    dead.refresh_from_db()
    assert dead.state == "failed"


def test_the_recover_command(period, personas):
    from io import StringIO

    from django.core.management import call_command

    job = start_open(period, personas.board)
    killed(job)
    out = StringIO()
    call_command("jobs_recover", stdout=out)
    assert f"{job.public_id} open_period: queued" in out.getvalue()


def test_a_job_whose_task_failed_before_it_began_is_ended(period, personas):
    """The task itself failed (before the job was claimed): the job does not wait forever."""
    from django_tasks_db.models import DBTaskResult

    job = start_open(period, personas.board)
    DBTaskResult.objects.filter(id=job.task_id).update(status="FAILED")
    assert services.jobs_recover() == []  # not yet: it may be a moment old
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - datetime.timedelta(hours=1))
    assert [j.pk for j in services.jobs_recover()] == [job.pk]
    job.refresh_from_db()
    assert job.state == "failed" and job.error
    assert AuditEntry.objects.get(action="job_failed").period == period


def test_a_queued_job_whose_task_waits_is_left_alone(period, personas):
    job = start_open(period, personas.board)
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - datetime.timedelta(hours=1))
    assert services.jobs_recover() == []
    job.refresh_from_db()
    assert job.state == "queued"


def test_a_job_whose_handing_to_the_queue_failed_gets_a_task_and_runs(period, personas, monkeypatch):
    """The job's row was written, then the database went away before its task's: the recovery hands it
    to the queue again (not at once: the first handing may still be under way), and it runs."""

    def database_gone(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "_enqueue", database_gone)
    with pytest.raises(OperationalError):
        start_open(period, personas.board)
    monkeypatch.undo()
    job = Job.objects.get(kind="open_period")
    assert job.state == "queued" and job.task_id == ""
    assert services.jobs_recover() == []  # a moment old: left alone
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - datetime.timedelta(hours=1))
    assert [j.pk for j in services.jobs_recover()] == [job.pk]
    job.refresh_from_db()
    assert job.task_id
    run_jobs()
    job.refresh_from_db()
    assert job.state == "succeeded"
    period.refresh_from_db()
    assert period.state == Period.State.OPEN
