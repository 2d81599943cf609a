"""The reviews' long work as background jobs (`jobs.registry`): opening a period, the year-end export.

Both call the functions the request used to call (`period_open`, `write_workbook`), passing them
`progress=` when they take it (jobs.registry.call_with_progress).

Safe to run again after a worker died:
- opening runs in one transaction (period_open): a worker killed before the commit left nothing, and the
  retry opens the period; killed after the commit, the period is open (opened_at after the job started),
  and the job is found done rather than refused ("already opened");
- the export writes a temporary file beside its place and moves it there at the end: a killed worker
  leaves at most a ".part" file, which the retry does not reuse.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from bulk import vacuum
from config.routers import reports_on_replica
from jobs import registry
from jobs.models import Job
from jobs.services import job_actor
from organizations import policy

from .core import services
from .core.models import Assessment, Period
from .outputs.views import export_filename
from .outputs.workbook import write_workbook
from .reviews import background as reviews_background


def authorise_open(user, organization, period: Period) -> None:
    policy.require(user, "period.manage", period.organization)
    if not Period.objects.filter(pk=period.pk, state=Period.State.PREPARING).exists():
        raise policy.Refused(_("This period has already been opened."))


def opened_by_job(job: Job) -> bool:
    period = Period.objects.get(pk=job.period_id)
    return (
        period.state != Period.State.PREPARING
        and period.opened_at is not None
        and job.started_at is not None
        and period.opened_at >= job.started_at
    )


def run_open(job: Job, progress) -> dict:
    if job.attempts > 1 and opened_by_job(job):
        return {"already_open": True}
    progress(0, 0, _("Taking the roster and checking every member against the rules"))
    opened = registry.call_with_progress(services.period_open, progress, period=job.period, user=job_actor(job))
    assessments = opened.members + opened.leaders + opened.organizations + opened.collectives
    if assessments >= services.ANALYZE_AFTER:
        # The period is open (committed); the new forms made ready for the counts of the screens.
        progress(assessments, assessments, _("Preparing the new forms for the screens"))
        vacuum(Assessment)
    return {"assessments": assessments, "not_classified": len(opened.excluded)}


def authorise_export(user, organization, period: Period) -> None:
    policy.require(user, "report.export", organization)
    if not organization.path.startswith(period.organization.path):
        raise policy.Refused(_("This organisation is not under the period's."))


def run_export(job: Job, progress) -> dict:
    directory = Path(settings.JOBS_RESULTS_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    progress(0, 0, _("Writing the spreadsheets"))
    handle, partial = tempfile.mkstemp(dir=directory, prefix=f"{job.public_id}-", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as target:
            # Read-only: on the replica when there is one (config/routers.py).
            with reports_on_replica():
                written = registry.call_with_progress(write_workbook, progress, job.period, job.organization, target)
        final = directory / f"{job.public_id}.xlsx"
        os.replace(partial, final)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    job.result_path = final.name
    job.result_name = export_filename(job.period, job.organization)
    return {"rows": sum(written.values()) if isinstance(written, dict) else None}


def register() -> None:
    registry.register(
        Job.Kind.OPEN_PERIOD, registry.JobKind(authorise=authorise_open, run=run_open, already_done=opened_by_job)
    )
    registry.register(Job.Kind.EXPORT, registry.JobKind(authorise=authorise_export, run=run_export))
    reviews_background.register()
