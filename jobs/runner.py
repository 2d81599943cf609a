"""Running one job inside a worker: claim it, do its work with a heartbeat and progress, end it.

The work itself leaves nothing half-done (`jobs.registry`); here, what surrounds it:

- the job's progress and heartbeat are written while the work runs. Work that runs in one transaction
  (opening a period) cannot write them on its own connection (nobody would see them before the commit, and
  a rollback would take them back), so they are written from a short-lived thread, on a connection of its
  own, which also reads the cancel flag. SQLite has one writer at a time: there the job shows its progress
  between transactions only (development; PostgreSQL in production);
- a database error a reconnection may cure (OperationalError, InterfaceError: a restart) is retried
  JOBS_DB_RETRIES times, after close_old_connections; then reported;
- every other error ends the job as failed, with a sentence for the user (the traceback goes to the log)
  and an entry in the audit trail.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    transaction,
)
from django.db import connections as all_connections
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from organizations.policy import Refused

from . import registry, services
from .models import Job
from .registry import JobCancelled

logger = logging.getLogger(__name__)

RETRIED_ERRORS = (OperationalError, InterfaceError)


class Reporter:
    """The progress of the job running in this thread, and its cancel flag, kept in step with its row."""

    def __init__(self, job: Job) -> None:
        self.job_id = job.pk
        self.done = 0
        self.total = 0
        self.step = ""
        self.cancelled = False
        # This thread's connection (the heartbeat thread has its own, and looks at this one).
        self._main = all_connections[DEFAULT_DB_ALIAS]
        self._vendor = self._main.vendor
        # The transactions open when the job began (a test's): deeper ones are the work's own.
        self._depth = len(self._main.atomic_blocks)
        self._last_sync = time.monotonic()
        self._stop = threading.Event()
        self._heart: threading.Thread | None = None

    # The callable handed to the work: progress(done, total, step="").
    def progress(self, done: int, total: int, step: str = "") -> None:
        self.done, self.total = max(0, int(done)), max(0, int(total))
        if step:
            self.step = str(step)
        if time.monotonic() - self._last_sync >= settings.JOBS_PROGRESS_SECONDS:
            self.sync()
        if self.cancelled:
            raise JobCancelled

    def _in_work_transaction(self) -> bool:
        return len(self._main.atomic_blocks) > self._depth

    def sync(self) -> None:
        """Write the progress and heartbeat, read the cancel flag: on this connection between the work's
        transactions, from another one inside them (not on SQLite, which would wait for the commit)."""
        self._last_sync = time.monotonic()
        if not self._in_work_transaction():
            self._write()
        elif self._vendor != "sqlite":
            side = threading.Thread(target=self._write_elsewhere, name=f"job-{self.job_id}-progress")
            side.start()
            side.join()

    def _write(self) -> None:
        values = {"heartbeat_at": timezone.now()}
        if self.total:
            values.update(done=min(self.done, self.total), total=self.total)
        if self.step:
            values["step"] = self.step[:200]
        with transaction.atomic():
            # SKIP LOCKED: a row another transaction holds is not waited for (the next beat writes it).
            flag = (
                Job.objects.select_for_update(skip_locked=True)
                .filter(pk=self.job_id)
                .values_list("cancel_requested", flat=True)
                .first()
            )
            if flag is None:
                return
            Job.objects.filter(pk=self.job_id).update(**values)
        if flag:
            self.cancelled = True

    def _write_elsewhere(self) -> None:
        try:
            self._write()
        except DatabaseError:
            logger.warning("job %s: progress not written", self.job_id, exc_info=True)
        finally:
            all_connections.close_all()

    def _beat(self) -> None:
        while not self._stop.wait(settings.JOBS_HEARTBEAT_SECONDS):
            if self._vendor == "sqlite" and self._in_work_transaction():
                continue
            self._write_elsewhere()

    def start(self) -> None:
        """The heartbeat, for work that reports no progress for a long while."""
        self._heart = threading.Thread(target=self._beat, name=f"job-{self.job_id}-heartbeat", daemon=True)
        self._heart.start()

    def stop(self) -> None:
        self._stop.set()
        if self._heart is not None:
            self._heart.join()


def execute(job_id: int) -> str | None:
    """Run the job `job_id` (the task's body). Returns the job's final state, None when it was not ours
    to run (cancelled while queued, taken by another worker after a recovery)."""
    try:
        services.jobs_recover()
    except DatabaseError:
        logger.warning("jobs_recover failed before job %s", job_id, exc_info=True)
    job = _claim(job_id)
    if job is None:
        return None
    with translation.override(job.language):
        reporter = Reporter(job)
        reporter.start()
        try:
            return _run(job, reporter)
        finally:
            reporter.stop()


def _claim(job_id: int) -> Job | None:
    with transaction.atomic():
        job = (
            Job.objects.select_for_update(of=("self",))
            .select_related("organization", "period", "started_by")
            .filter(pk=job_id)
            .first()
        )
        if job is None or job.state != Job.State.QUEUED:
            return None
        now = timezone.now()
        if job.cancel_requested:
            job.state = Job.State.CANCELLED
            job.finished_at = now
        else:
            job.state = Job.State.RUNNING
            job.started_at = job.started_at or now
            job.attempts += 1
        job.heartbeat_at = now
        with translation.override(job.language):
            job.step = _("Starting") if job.state == Job.State.RUNNING else _("Cancelled before it started.")
        job.save(update_fields=["state", "started_at", "finished_at", "attempts", "heartbeat_at", "step"])
    if job.state != Job.State.RUNNING:
        services.discard_input(job)
        return None
    return job


def _work(job: Job, reporter: Reporter) -> dict:
    """The work, again after a database error a reconnection may cure (a restart)."""
    kind = registry.get(job.kind)
    attempt = 0
    while True:
        try:
            return kind.run(job, reporter.progress) or {}
        except RETRIED_ERRORS:
            attempt += 1
            # Only outside any transaction can a new connection help (one we do not own stays as it is).
            if attempt > settings.JOBS_DB_RETRIES or connection.in_atomic_block:
                raise
            logger.warning("job %s: database error, try %d again", job.public_id, attempt, exc_info=True)
            time.sleep(settings.JOBS_DB_RETRY_DELAY)
            close_old_connections()


def _run(job: Job, reporter: Reporter) -> str:
    state, error, action = Job.State.SUCCEEDED, "", None
    summary: dict = {}
    try:
        summary = _work(job, reporter)
    except JobCancelled:
        # Work that reported after its commit cannot be taken back: then it is done, not cancelled.
        if registry.get(job.kind).already_done(job):
            summary = {"already_open": True}
        else:
            state, action = Job.State.CANCELLED, "job_cancelled"
    except Refused as refused:
        details = [d if isinstance(d, str) else d.message(job.language) for d in refused.errors]
        state, error, action = Job.State.FAILED, " ".join([str(refused.message), *map(str, details)]), "job_failed"
    except RETRIED_ERRORS:
        logger.exception("job %s: the database could not be reached", job.public_id)
        state, action = Job.State.FAILED, "job_failed"
        error = _("The database could not be reached while this job ran. Nothing of it was kept: please try again.")
    except Exception:
        logger.exception("job %s failed", job.public_id)
        state, action = Job.State.FAILED, "job_failed"
        error = _("An unexpected error stopped this job. Nothing of it was kept; the administrators can read why.")
    fields = {"state": state, "finished_at": timezone.now(), "heartbeat_at": timezone.now(), "error": error}
    if state == Job.State.SUCCEEDED:
        total = reporter.total or 1
        fields.update(done=total, total=total, step=_("Done"), summary=summary)
        fields.update(result_path=job.result_path, result_name=job.result_name)
    elif state == Job.State.CANCELLED:
        note = registry.get(job.kind).cancelled_step
        fields["step"] = note(job) if note else _("Cancelled: nothing of it was kept.")
    else:
        fields["step"] = ""
    _finish(job, fields)
    if job.is_finished:  # its end was written (else a retry after recovery still needs the input)
        services.discard_input(job)
    if action:
        try:
            services.audit(job, action, reason=error)
        except DatabaseError:
            logger.exception("job %s: audit entry not written", job.public_id)
    return state


def _finish(job: Job, fields: dict) -> None:
    """The job's end, written even just after a database restart (else the heartbeat goes stale and
    jobs_recover ends it)."""
    for attempt in range(settings.JOBS_DB_RETRIES + 1):
        try:
            Job.objects.filter(pk=job.pk).update(**fields)
            break
        except RETRIED_ERRORS:
            if attempt == settings.JOBS_DB_RETRIES or connection.in_atomic_block:
                logger.exception("job %s: its end could not be written", job.public_id)
                return
            time.sleep(settings.JOBS_DB_RETRY_DELAY)
            close_old_connections()
    for name, value in fields.items():
        setattr(job, name, value)


def run_queued(*, worker_id: str, max_tasks: int | None = None) -> None:
    """Run the queued jobs with django_tasks_db's own worker loop, in this process, until the queue is
    empty (what `manage.py db_worker --batch` does): the tests and the benchmarks run jobs so."""
    from django_tasks_db.management.commands.db_worker import Worker

    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=max_tasks,
        worker_id=worker_id,
        excluded_queue_names=[],
    ).run()
