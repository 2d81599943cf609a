"""The kinds of work a job runs, registered by the apps that own the work (the reviews above this app).

A kind gives two functions:

- `authorise(user, organization, period)`: refuse (`policy.Refused`, with its message) unless `user` may
  start this work now; called in the request before anything is queued, with the same permission the
  work itself asks (the work asks again in the worker);
- `run(job, progress)`: do the work for `job` and return a summary (a dict of JSON values). `progress(done,
  total, step="")` reports how far it is and raises `JobCancelled` when the job was cancelled: the work
  then stops where it is and leaves nothing half-done (it runs in one transaction, or writes a file that
  is moved into place only at the end). The work must be safe to run again after a worker died (opening
  refuses a period already opened, so a retry after the commit finds it opened; an export rewrites its
  file), which `recover` says how to take (`already_done(job)`: True when the earlier attempt finished
  the work before dying).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import Job


class JobCancelled(Exception):
    """Raised by `progress` inside the work when the job was cancelled: the work rolls back."""


@dataclass(frozen=True)
class JobKind:
    authorise: Callable[..., None]
    run: Callable[[Job, Callable[..., None]], dict[str, Any] | None]
    already_done: Callable[[Job], bool] = lambda job: False
    # What a cancelled job's page says, when not "nothing of it was kept" (the reminders already sent
    # stay sent).
    cancelled_step: Callable[[Job], str] | None = None
    # What a job whose worker stopped on its last attempt says (`jobs_recover`), when some of it was kept
    # after all (empty: the usual "nothing of it was kept").
    lost_error: Callable[[Job], str] | None = None


KINDS: dict[str, JobKind] = {}


def register(kind: str, job_kind: JobKind) -> None:
    KINDS[kind] = job_kind


def get(kind: str) -> JobKind:
    return KINDS[kind]


def call_with_progress(function: Callable[..., Any], progress: Callable[..., None], *args: Any, **kwargs: Any) -> Any:
    """Call `function`, passing `progress=` when it takes one (a function made to report its progress
    by chunks); otherwise the job shows its step only, and is cancelled between the steps."""
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        parameters = {}
    if "progress" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        kwargs["progress"] = progress
    return function(*args, **kwargs)
