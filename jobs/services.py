"""Starting, cancelling and recovering jobs. Running one is `jobs.runner`."""

from __future__ import annotations

import datetime
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from organizations import policy
from organizations.access import scope_for
from organizations.audit import announce

from . import registry
from .models import Job

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from organizations.models import Organization

logger = logging.getLogger(__name__)


def job_start(
    *,
    kind: str,
    user: User | policy.SystemActor,
    organization: Organization,
    period=None,
    arguments: dict | None = None,
    input_path: str = "",
) -> tuple[Job, bool]:
    """Queue `kind` of work on `organization` (and `period`) for `user`, who must be allowed the work
    itself (the kind's `authorise`, the same permission the work asks). Returns (job, created): while an
    opening or an export of the same period and organisation is queued or running, that job, not a
    second one (a database constraint decides, so two clicks at once start one job)."""
    job_kind = registry.get(kind)
    job_kind.authorise(user, organization, period)
    if kind in Job.EXCLUSIVE_KINDS:
        running = active_job(kind, organization, period)
        if running is not None:
            return running, False
    try:
        with transaction.atomic():
            job = Job.objects.create(
                kind=kind,
                organization=organization,
                period=period,
                started_by=policy.actor_user(user),
                by_system=isinstance(user, policy.SystemActor),
                language=translation.get_language() or settings.LANGUAGE_CODE,
                step=_("Waiting for a worker"),
                arguments=arguments or {},
                input_path=input_path,
            )
    except IntegrityError:
        # The other click won the race between our look and our insert.
        running = active_job(kind, organization, period)
        if running is None:
            raise
        return running, False
    _enqueue(job)
    return job, True


def job_actor(job: Job) -> User | policy.SystemActor:
    """Who the work acts as, in the worker: whoever started the job (the work asks their permission
    again), or the system for a job started from the command line; refused when that account is gone."""
    if job.started_by_id:
        return job.started_by
    if job.by_system:
        return policy.SYSTEM
    raise policy.Refused(_("The account that started this job no longer exists."))


def active_job(kind: str, organization: Organization, period=None) -> Job | None:
    """The job of `kind` on `organization` (and `period`) still queued or running, if any: where a
    second click is sent."""
    return (
        Job.objects.filter(kind=kind, organization=organization, period=period, state__in=Job.ACTIVE_STATES)
        .order_by("created_at")
        .first()
    )


def _enqueue(job: Job) -> None:
    """Hand the job to the task queue (a row of django_tasks_db, committed with the caller's transaction;
    with the immediate backend, run now)."""
    from .tasks import run_job

    result = run_job.enqueue(job.pk)
    Job.objects.filter(pk=job.pk, task_id="").update(task_id=str(result.id))
    if not job.task_id:
        job.task_id = str(result.id)


def discard_input(job: Job) -> None:
    """Remove the job's input file (an uploaded spreadsheet to import), once the job has ended, whichever
    way: it is read by the work only, and kept no longer than the work needs it."""
    if not job.input_path:
        return
    directory = Path(settings.JOBS_RESULTS_DIR).resolve()
    path = (directory / job.input_path).resolve()
    if path.parent == directory:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            logger.warning("job %s: its input file could not be removed", job.public_id, exc_info=True)


def may_see(user, job: Job) -> bool:
    """Who sees a job (its page, its file) and may cancel it: whoever manages its organisation, as for the
    work itself (the starter too, while they do)."""
    return scope_for(user).manages_organization(job.organization)


def job_cancel(*, job: Job, user: User) -> Job:
    """Ask a queued or running job to stop. A queued one stops at once; a running one at its next chunk,
    rolling back what it did. Refused once finished."""
    if not may_see(user, job):
        raise policy.Refused(_("This job is not yours to cancel."))
    with transaction.atomic():
        current = Job.objects.select_for_update().get(pk=job.pk)
        if current.is_finished:
            raise policy.Refused(_("This job has finished: it can no longer be cancelled."))
        if current.state == Job.State.QUEUED:
            current.state = Job.State.CANCELLED
            current.finished_at = timezone.now()
            current.step = _("Cancelled before it started.")
        current.cancel_requested = True
        current.save(update_fields=["state", "finished_at", "step", "cancel_requested"])
    if current.state == Job.State.CANCELLED:
        discard_input(current)
        audit(current, "job_cancelled", user=user)
    return current


def audit(job: Job, action: str, *, user=None, reason: str = "") -> None:
    """An entry in the audit trail for the job (the trail lives with the reviews: `organizations.audit`)."""
    data = {
        "job": str(job.public_id),
        "kind": job.kind,
        "organization": job.organization.code,
    }
    if reason:
        data["reason"] = reason
    if job.attempts:
        data["attempts"] = job.attempts
    announce(action, actor=user if user is not None else job.started_by, data=data, period_id=job.period_id)


def jobs_recover(*, now: datetime.datetime | None = None) -> list[Job]:
    """The running jobs whose worker died (no heartbeat for JOBS_STALE_SECONDS): queued again while
    attempts remain (the work is idempotent: see `jobs.registry`), else failed with a message. Returns
    the jobs recovered. Each worker runs it before a job; `manage.py jobs_recover` runs it by hand."""
    now = now or timezone.now()
    stale = now - datetime.timedelta(seconds=settings.JOBS_STALE_SECONDS)
    recovered = []
    candidates = Job.objects.filter(state=Job.State.RUNNING, heartbeat_at__lt=stale).values_list("pk", flat=True)
    for pk in list(candidates):
        with transaction.atomic():
            job = (
                Job.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, state=Job.State.RUNNING, heartbeat_at__lt=stale)
                .first()
            )
            if job is None:
                continue
            job.heartbeat_at = now
            with translation.override(job.language):
                if job.cancel_requested:
                    job.state = Job.State.CANCELLED
                    job.finished_at = now
                    job.step = _("Cancelled: the worker stopped, nothing was kept.")
                elif registry.get(job.kind).already_done(job):
                    job.state = Job.State.SUCCEEDED
                    job.finished_at = now
                    job.done = job.total
                    job.step = _("Done (found done after the worker stopped).")
                elif job.attempts >= settings.JOBS_MAX_ATTEMPTS:
                    job.state = Job.State.FAILED
                    job.finished_at = now
                    lost_error = registry.get(job.kind).lost_error
                    job.error = (lost_error(job) if lost_error else "") or _(
                        "The worker running this job stopped (%(attempts)d attempts). Nothing of it was kept: "
                        "please start it again."
                    ) % {"attempts": job.attempts}
                    job.step = ""
                else:
                    job.state = Job.State.QUEUED
                    job.task_id = ""
                    job.step = _("The worker stopped: waiting for another one to try again.")
            job.save()
        if job.state == Job.State.QUEUED:
            _enqueue(job)
        else:
            discard_input(job)
        if job.state == Job.State.FAILED:
            audit(job, "job_failed", reason=job.error)
        logger.warning("job %s (%s) lost its worker: now %s", job.public_id, job.kind, job.state)
        recovered.append(job)
    recovered += _orphans(stale)
    return recovered


# At most this many queued jobs are checked each time (a long queue is not read whole before every job).
ORPHANS_CHECKED = 50


def _orphans(stale: datetime.datetime) -> list[Job]:
    """Queued jobs whose task ended without running them (the task itself failed before the job began):
    failed with a message, else they would wait forever; and queued jobs that never got a task: given
    one."""
    from .tasks import run_job

    ended = []
    # A job whose handing over to the queue failed (the database went away between the job's row and
    # its task's): given a task now, or it would wait forever.
    for job in Job.objects.filter(state=Job.State.QUEUED, created_at__lt=stale, task_id="").order_by("created_at")[
        :ORPHANS_CHECKED
    ]:
        try:
            _enqueue(job)
        except DatabaseError:
            logger.warning("job %s: still not handed to the queue", job.public_id, exc_info=True)
            continue
        logger.warning("job %s had no task: handed to the queue again", job.public_id)
        ended.append(job)
    waiting = Job.objects.filter(state=Job.State.QUEUED, created_at__lt=stale).exclude(task_id="")
    for job in waiting.order_by("created_at")[:ORPHANS_CHECKED]:
        try:
            finished = run_job.get_result(job.task_id).is_finished
        except Exception:  # noqa: BLE001 - a backend that keeps no results, a task pruned: leave the job
            continue
        if not finished:
            continue
        with translation.override(job.language):
            error = _("This job could not be started. Nothing of it was done: please start it again.")
        updated = Job.objects.filter(pk=job.pk, state=Job.State.QUEUED).update(
            state=Job.State.FAILED, finished_at=timezone.now(), error=error, step=""
        )
        if updated:
            job.state, job.error = Job.State.FAILED, error
            discard_input(job)
            audit(job, "job_failed", reason=error)
            ended.append(job)
    return ended
