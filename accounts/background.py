"""Member accounts for a whole organisation as a background job (`jobs.registry`, kind "accounts"): an
account for every member who has none (arguments {"action": "create"}), and new codes for the accounts
never used (arguments {"action": "reissue"}). A province has 100,000 members: more than a request may take.

Both run the service the request used to run (`member_accounts_create`, `member_codes_reissue`), with its
`progress`, and write the printable slips (templates/accounts/slips.html, as the request showed them) to
the job's file, which is handed out once: its download removes it (jobs.views.download). The database
keeps the codes' hashes only; that file is their one plain copy.

Nothing half-done, and safe to run again:
- the service runs in one transaction, and the slips are written to their file inside it, just before the
  commit; the job points at the file (`result_path`) in that same transaction. Cancelled or failed before
  the commit: no account made, no code changed, and the file is removed (or, if the worker was killed,
  left unpointed at, and replaced by the retry);
- a worker that died after the commit: the job points at its file, which is there, so the job is found
  done (`already_done`). Were the file gone, the codes would be lost with it: the retry then makes no second
  set of codes behind the user's back (which would void the first without a word); it fails, saying to
  use "New codes".
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.db import DatabaseError
from django.template.loader import get_template, render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from jobs import registry
from jobs.models import Job
from jobs.services import job_actor
from organizations import policy

from . import services

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from organizations.models import Organization

HTML = "text/html; charset=utf-8"
CREATE, REISSUE = "create", "reissue"
SERVICES: dict[str, Callable[..., services.SlipBatch]] = {
    CREATE: services.member_accounts_create,
    REISSUE: services.member_codes_reissue,
}


def slips_filename(organization: Organization) -> str:
    return f"phieu-tai-khoan-{organization.code}.html"


def _heading(action: str) -> str:
    return _("New accounts") if action == CREATE else _("New codes")


def _directory() -> Path:
    return Path(settings.JOBS_RESULTS_DIR)


def authorise(user: User | policy.SystemActor, organization: Organization, period: Any = None) -> None:
    """The permission both services ask."""
    services._check_manages(user, organization)


def _pointed_at(job: Job) -> str:
    """The file the job points at as stored: set only by a committed transaction of its work."""
    return Job.objects.filter(pk=job.pk).values_list("result_path", flat=True).first() or ""


def slips_lost() -> str:
    return _(
        "The accounts were saved, but the page of slips with their codes was lost before anyone "
        "opened it, so those codes cannot be handed out. Nothing more was done: on the accounts page, "
        "use “New codes” to print new slips for these members."
    )


def lost_error(job: Job) -> str:
    """A job whose worker stopped on its last attempt: when its work had committed (the job points at
    its file) and the slips are gone, the accounts are there and the codes lost ("nothing of it was
    kept" would be untrue, and starting it again would make no accounts)."""
    return slips_lost() if _pointed_at(job) else ""


# Slips rendered at a time (whole cells): the page of a province's 100,000 is ~60 MB of HTML, never held whole.
SLIPS_PER_PART = 1000


class SlipsFile:
    """The job's slips, as the service makes them chunk by chunk (`services.SlipsWriter`): rendered a
    thousand or so at a time, whole cells each, into an unnamed temporary file beside the page's place;
    at the close, the page around them is written with their count and the members skipped, the slips
    copied into it, and the whole moved to its place (`_write_slips`). What is held in memory is a
    chunk's slips and the cell they end in."""

    def __init__(
        self, job: Job, final: Path, progress: Callable[..., None], on_close: Callable[[services.SlipBatch], None]
    ) -> None:
        self.job, self.final, self.progress, self.on_close = job, final, progress, on_close
        self.address = job.arguments.get("site_address", "")
        self.cells = get_template("accounts/_slip_cells.html")
        self.pending: list[services.Slip] = []
        self.rendered: IO[str] | None = None

    def add(self, slips: Sequence[services.Slip]) -> None:
        self.pending += slips
        if not self.pending:
            return
        # The last cell may go on in the next chunk: rendered with it.
        last = self.pending[-1].member.cell
        end = len(self.pending)
        while end and self.pending[end - 1].member.cell == last:
            end -= 1
        if end >= SLIPS_PER_PART:
            self._render(self.pending[:end])
            self.pending = self.pending[end:]

    def _render(self, slips: Sequence[services.Slip]) -> None:
        if self.rendered is None:
            self.final.parent.mkdir(parents=True, exist_ok=True)
            # Unnamed: no other process can open it, and it goes when closed (or with the process).
            self.rendered = tempfile.TemporaryFile("w+", encoding="utf-8", dir=self.final.parent)
        for part in _by_whole_cells(slips, SLIPS_PER_PART):
            self.rendered.write(self.cells.render({"slips": part, "site_address": self.address}))

    def close(self, batch: services.SlipBatch) -> None:
        if not batch.made and not batch.skipped:
            return
        self.progress(batch.made, batch.made, _("Writing the slips"))
        self._render(self.pending)
        self.pending = []
        self.rendered.seek(0)
        _write_slips(self.job, SlipsPart(batch, self.rendered), self.final)
        # Gone before the commit: the page is the codes' one plain copy.
        self.discard()
        self.on_close(batch)

    def discard(self) -> None:
        """Close (and so remove) the slips rendered (the page is written whole or not at all: `_write_slips`)."""
        if self.rendered is not None:
            self.rendered.close()


@dataclass(frozen=True)
class SlipsPart:
    """The slips rendered (`rendered`, read from its start) and what the page around them says (`batch`:
    their count, the members skipped)."""

    batch: services.SlipBatch
    rendered: IO[str]


def _write_slips(job: Job, slips: SlipsPart, final: Path) -> None:
    """The slips page, written beside its place (the page around the slips, with the slips rendered
    already copied in) and moved there whole."""
    address = job.arguments.get("site_address", "")
    # The page around the slips, with a mark where they go.
    mark = f"<!--slips-{uuid.uuid4().hex}-->"
    page = render_to_string(
        "accounts/slips.html",
        {
            "organization": job.organization,
            "heading": _heading(job.arguments["action"]),
            "slip_count": slips.batch.made,
            "skipped": slips.batch.skipped,
            "slips_written_apart": mark_safe(mark),
            "site_address": address,
            # A page of its own, opened from the job's page (no menu, no form of the session).
            "base_template": "accounts/slips_document.html",
        },
    )
    before, after = page.split(mark)
    final.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=final.parent, prefix=f"{job.public_id}-", suffix=".part")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as target:
            target.write(before)
            shutil.copyfileobj(slips.rendered, target)
            target.write(after)
        os.replace(partial, final)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def _by_whole_cells(slips: Sequence[services.Slip], size: int) -> Iterator[Sequence[services.Slip]]:
    """`slips` (in cell order) in parts of about `size`, each ending where a cell ends."""
    start = 0
    while start < len(slips):
        end = min(start + size, len(slips))
        while end < len(slips) and slips[end].member.cell == slips[end - 1].member.cell:
            end += 1
        yield slips[start:end]
        start = end


def _summary(action: str, batch: services.SlipBatch) -> dict[str, Any]:
    return {"action": action, "slips": batch.made, "skipped": len(batch.skipped)}


def run(job: Job, progress: Callable[..., None]) -> dict[str, Any]:
    action = job.arguments.get("action")
    service = SERVICES.get(action)
    if service is None:
        raise policy.Refused(_("This job does not say what to do with the accounts."))
    # Read again: the runner may call this a second time with the same job after a database error.
    committed = _pointed_at(job)
    if committed:
        # An earlier attempt committed (its transaction pointed the job at its file), then stopped.
        if (_directory() / committed).is_file():
            job.refresh_from_db(fields=["result_path", "result_name", "summary"])
            return job.summary
        raise policy.Refused(slips_lost())
    final = _directory() / f"{job.public_id}.html"

    def written(batch: services.SlipBatch) -> None:
        # Inside the service's transaction: undone with it if anything fails or the job is cancelled.
        Job.objects.filter(pk=job.pk).update(
            result_path=final.name,
            result_name=slips_filename(job.organization),
            result_content_type=HTML,
            result_once=True,
            summary=_summary(action, batch),
        )

    slips = SlipsFile(job, final, progress, written)
    progress(0, 0, _("Reading the members"))
    try:
        batch = service(organization=job.organization, actor=job_actor(job), progress=progress, on_slips=slips)
    except services.AccountError as exc:
        final.unlink(missing_ok=True)
        raise policy.Refused(exc.message) from exc
    except BaseException:
        _remove_unless_committed(job, final)
        raise
    finally:
        slips.discard()
    if batch.made or batch.skipped:
        job.result_path = final.name
        job.result_name = slips_filename(job.organization)
        job.result_content_type = HTML
        job.result_once = True
    # After the commit, no more progress: a cancel now could not undo the work.
    return _summary(action, batch)


def _remove_unless_committed(job: Job, final: Path) -> None:
    """After a failure: the file's codes are not the accounts' unless the transaction committed after all
    (a connection lost during COMMIT); when the database cannot say, the file stays (the retry finds it)."""
    try:
        committed = _pointed_at(job)
    except DatabaseError:
        return
    if not committed:
        final.unlink(missing_ok=True)


def already_done(job: Job) -> bool:
    """The work was committed (the job points at its file, in the same transaction) and its slips are
    there: the job is done, and offers them."""
    path = _pointed_at(job)
    if not path or not (_directory() / path).is_file():
        return False
    job.result_path = path
    return True


def register() -> None:
    registry.register(
        Job.Kind.ACCOUNTS,
        registry.JobKind(authorise=authorise, run=run, already_done=already_done, lost_error=lost_error),
    )
