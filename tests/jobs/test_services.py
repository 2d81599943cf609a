"""Starting, running and cancelling jobs: the work done by the queue's worker (tests/jobs/helpers.py)."""

from pathlib import Path

import pytest
from django.conf import settings
from django_tasks_db.models import DBTaskResult
from openpyxl import load_workbook

from assessments.models import Assessment, AuditEntry, Period
from jobs import services
from jobs.models import Job
from tests.jobs.helpers import run_jobs

pytestmark = pytest.mark.django_db


def start_open(period, user):
    return services.job_start(kind="open_period", user=user, organization=period.organization, period=period)


def start_export(period, user, organization=None):
    return services.job_start(kind="export", user=user, organization=organization or period.organization, period=period)


def test_opening_by_a_job_opens_the_period_and_says_how_many(period, personas):
    job, created = start_open(period, personas.board)
    assert created and job.state == "queued" and job.started_by == personas.board
    assert DBTaskResult.objects.get().id.hex == job.task_id.replace("-", "")
    run_jobs()
    job.refresh_from_db()
    period.refresh_from_db()
    assert job.state == "succeeded" and job.percent == 100 and job.error == ""
    assert period.state == Period.State.OPEN
    assert job.summary["assessments"] == Assessment.objects.filter(period=period).count() > 0
    assert job.started_at <= job.finished_at and job.attempts == 1
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


def test_a_second_click_shows_the_job_under_way(period, personas):
    first, created = start_open(period, personas.board)
    second, again = start_open(period, personas.board)
    assert created and not again and second == first
    assert Job.objects.count() == 1 and DBTaskResult.objects.count() == 1


def test_after_the_job_ended_a_new_one_may_start(opened, personas):
    first, _ = start_export(opened, personas.board)
    run_jobs()
    second, created = start_export(opened, personas.board)
    assert created and second != first


def test_the_export_is_written_to_its_place_and_reads_back(opened, personas, city):
    job, _ = start_export(opened, personas.officer_a, city.committee_a)
    run_jobs()
    job.refresh_from_db()
    assert job.state == "succeeded" and job.result_name.endswith(".xlsx")
    files = sorted(p.name for p in Path(settings.JOBS_RESULTS_DIR).iterdir())
    assert files == [f"{job.public_id}.xlsx"]  # no ".part" left beside it
    workbook = load_workbook(Path(settings.JOBS_RESULTS_DIR) / job.result_path, read_only=True)
    assert len(workbook.sheetnames) == 7
    assert job.summary["rows"] > 0


def test_a_queued_job_cancelled_never_runs(period, personas):
    job, _ = start_open(period, personas.board)
    services.job_cancel(job=job, user=personas.board)
    run_jobs()
    job.refresh_from_db()
    period.refresh_from_db()
    assert job.state == "cancelled" and period.state == Period.State.PREPARING
    entry = AuditEntry.objects.get(action="job_cancelled")
    assert entry.period == period and entry.actor == personas.board and entry.data["kind"] == "open_period"


def test_a_finished_job_cannot_be_cancelled(opened, personas):
    from organizations.policy import Refused

    job, _ = start_export(opened, personas.board)
    run_jobs()
    job.refresh_from_db()
    with pytest.raises(Refused):
        services.job_cancel(job=job, user=personas.board)
    job.refresh_from_db()
    assert job.state == "succeeded" and not job.cancel_requested


def test_an_export_cancelled_between_chunks_keeps_no_file(opened, personas, monkeypatch):
    """The work reports its chunks; the cancel flag set in the middle stops it at the next one."""
    from assessments import background

    def chunked_writer(period, organization, target, progress=None):
        for done in range(5):
            if done == 2:
                Job.objects.filter(kind="export").update(cancel_requested=True)
            target.write(b"x" * 10)
            progress(done, 5, "chunk")
        return {"sheet": 5}

    monkeypatch.setattr(background, "write_workbook", chunked_writer)
    job, _ = start_export(opened, personas.board)
    run_jobs()
    job.refresh_from_db()
    assert job.state == "cancelled" and job.result_path == ""
    assert list(Path(settings.JOBS_RESULTS_DIR).iterdir()) == []
    assert AuditEntry.objects.filter(action="job_cancelled").count() == 1


def test_progress_is_passed_only_to_work_that_takes_it():
    from jobs.registry import call_with_progress

    seen = []

    def takes(a, progress):
        progress(1, 2)
        return a

    def does_not(a):
        return a

    assert call_with_progress(takes, lambda d, t: seen.append((d, t)), 5) == 5
    assert call_with_progress(does_not, lambda d, t: seen.append((d, t)), 6) == 6
    assert seen == [(1, 2)]


def test_the_progress_reported_is_on_the_job_while_it_runs(opened, personas, monkeypatch):
    from assessments import background

    seen = []

    def chunked_writer(period, organization, target, progress=None):
        for done in range(1, 4):
            progress(done, 3, f"sheet {done}")
            job = Job.objects.get(kind="export")
            seen.append((job.done, job.total, job.step, job.state))
        return {}

    monkeypatch.setattr(background, "write_workbook", chunked_writer)
    start_export(opened, personas.board)
    run_jobs()
    assert seen == [(1, 3, "sheet 1", "running"), (2, 3, "sheet 2", "running"), (3, 3, "sheet 3", "running")]
