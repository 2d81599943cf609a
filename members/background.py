"""The commit of an import as a background job (`jobs.registry`, kind "import_commit").

The import screen checks the file in the request (the dry run, bounded by the upload limits of
`organizations.uploads`); when the file is correct and the user presses "Import", the uploaded bytes are
saved under settings.JOBS_RESULTS_DIR (a random name, `job.input_path`) and a job is queued. The worker
re-opens the file and runs `importing.run_import(..., commit=True)`: every row is checked again inside
the transaction that writes them, so what changed since the check (a card number taken meanwhile) fails
the job and writes nothing; the first MAX_ERRORS_KEPT errors go to the job's summary, for its page.
The runner removes the input file when the job ends, whichever way (jobs.services.discard_input).

Safe to run again after a worker died: the job's summary is written, with `committed`, in the
transaction that writes the rows (`importing.run_import`'s `on_written`). A worker killed before the
commit left nothing, and the retry imports; killed after it, the retry (and `jobs_recover`) finds the
summary and does not import twice.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from jobs import registry, services
from jobs.models import Job
from jobs.services import job_actor
from organizations import policy
from organizations.access import scope_for
from organizations.models import Organization

from .importing import KINDS, MEMBERS, ImportRejected, ImportResult, run_import

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.contrib.auth.models import User

# The errors a failed commit keeps in its summary, shown on the job's page.
MAX_ERRORS_KEPT = 200


def import_organization(user: User) -> Organization | None:
    """The organisation an import job is filed under: the first subtree the user manages (their own
    organisation: the job's page is theirs to see), the first root for an administrator; None when
    there is none (an administrator's first import of organisations, into an empty tree)."""
    scope = scope_for(user)
    if scope.managed_paths:
        found = Organization.objects.filter(path=scope.managed_paths[0]).first()
        if found is not None:
            return found
    if scope.is_superuser:
        return Organization.objects.get_first_root_node()
    return None


def authorise_import(user: Any, organization: Organization, period: Any = None) -> None:
    """Who may queue an import: whoever may import something and manages the job's organisation (each
    row is checked again against its own cell or parent by `run_import`, in the worker)."""
    if policy.actor_user(user) is None and not isinstance(user, policy.SystemActor):
        raise policy.Refused(_("The account that started this job no longer exists."))
    if not policy.may(user, "import.members", organization):
        raise policy.Refused(str(policy.RULES["import.members"].refusal))


def save_upload(upload: Any) -> str:
    """Write the uploaded bytes under JOBS_RESULTS_DIR with a random name, flushed to the disk; the name
    relative to the directory."""
    directory = Path(settings.JOBS_RESULTS_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{uuid.uuid4().hex}.upload"
    path = directory / name
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(handle, "wb") as target:
            for chunk in upload.chunks():
                target.write(chunk)
            target.flush()
            os.fsync(target.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return name


def import_commit_start(kind: str, upload: Any, user: User, organization: Organization) -> Job:
    """Queue the commit of `upload` (already checked in the request) for `user`: the file is saved,
    then the job started (the file removed again if it is refused)."""
    name = save_upload(upload)
    try:
        job, _created = services.job_start(
            kind=Job.Kind.IMPORT_COMMIT,
            user=user,
            organization=organization,
            arguments={"kind": kind, "filename": Path(upload.name or "").name[:150]},
            input_path=name,
        )
    except BaseException:
        (Path(settings.JOBS_RESULTS_DIR) / name).unlink(missing_ok=True)
        raise
    return job


def _stored_summary(job: Job) -> dict[str, Any]:
    summary = Job.objects.filter(pk=job.pk).values_list("summary", flat=True).first()
    return summary or {}


def imported_by_job(job: Job) -> bool:
    """Whether an earlier attempt of the job committed the import (its summary is written in the same
    transaction as the rows)."""
    return bool(_stored_summary(job).get("committed"))


def _input(job: Job) -> UploadedFile:
    directory = Path(settings.JOBS_RESULTS_DIR).resolve()
    path = (directory / job.input_path).resolve()
    if not job.input_path or path.parent != directory or not path.is_file():
        raise policy.Refused(_("The uploaded file is no longer there. Nothing was imported: please upload it again."))
    return UploadedFile(open(path, "rb"), name=job.arguments.get("filename", ""), size=path.stat().st_size)  # noqa: SIM115


def _summary(result: ImportResult) -> dict[str, Any]:
    return {"kind": result.kind, "rows": result.rows, "created": result.created, "errors": len(result.errors)}


def run_import_commit(job: Job, progress: Callable[..., None]) -> dict[str, Any]:
    if job.attempts > 1 and imported_by_job(job):
        return _stored_summary(job)
    kind = job.arguments.get("kind", MEMBERS)
    if kind not in KINDS:
        raise policy.Refused(_("Unknown kind of import."))
    user = job_actor(job)
    authorise_import(user, job.organization)
    progress(0, 0, _("Reading the file"))

    def written(result: ImportResult) -> None:
        # In the import's transaction: committed with the rows, or rolled back with them.
        Job.objects.filter(pk=job.pk).update(summary={**_summary(result), "committed": True})

    upload = _input(job)
    try:
        result = run_import(
            kind,
            upload,
            user,
            commit=True,
            progress=progress,
            on_written=written,
            audit_data={"job": str(job.public_id)},
        )
    except ImportRejected as exc:
        raise policy.Refused(str(exc)) from exc
    finally:
        upload.close()
    if result.errors:
        kept = [{"row": e.row, "column": e.column, "message": e.message} for e in result.errors[:MAX_ERRORS_KEPT]]
        Job.objects.filter(pk=job.pk).update(summary={**_summary(result), "error_rows": kept})
        raise policy.Refused(
            ngettext(
                "Nothing was imported: the file has %(count)d error (the row below). "
                "Correct it, check the file again and import it.",
                "Nothing was imported: the file has %(count)d errors (the rows below). "
                "Correct them, check the file again and import it.",
                len(result.errors),
            )
            % {"count": len(result.errors)}
        )
    return {**_summary(result), "committed": True}


def register() -> None:
    registry.register(
        Job.Kind.IMPORT_COMMIT,
        registry.JobKind(authorise=authorise_import, run=run_import_commit, already_done=imported_by_job),
    )
