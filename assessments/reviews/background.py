"""The reminders to many members as a background job (`jobs.registry`, kind "reminders").

A cell secretary reminding a handful of members keeps one click and an immediate answer: up to
REMINDERS_IN_REQUEST_MAX members with an e-mail address (a setting, 500 by default), the screen sends
them in the request, as before (`services.reminders_send`). Above it (a committee, a province: up to
100,000 e-mails), the screen queues a job, which sends by chunks of CHUNK (one send_mass_mail each).

Safe to run again after a worker died, and never sending twice what it sent: the self-reviews are taken
in the order of their key, and after each chunk is handed to the mail server the job's summary records
the last key sent (`last_id`) and the count, durably (its own statement, outside any transaction). A
retry starts after `last_id`. A worker killed between the sending of a chunk and its record resends that
chunk only (at most CHUNK e-mails sent twice rather than any reminder lost). Who submits meanwhile is
not reminded: each chunk is read from the pending self-reviews when it is sent.

Cancelled, the job stops before its next chunk (what was sent is sent: the summary and the audit entry
say how many). The audit entry ("remind") is written at the end, as the request writes it, with the
summary marked `finished` in the same transaction (a retry then finds the job done).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from jobs import registry
from jobs.models import Job
from jobs.registry import JobCancelled
from jobs.services import active_job, job_actor
from organizations import policy

from ..core.models import AuditEntry, Period
from ..core.transitions import log_action
from .services import reminder_message, reminders_pending

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.db.models import QuerySet

    from organizations.models import Organization

    from ..core.models import Assessment

# E-mails handed to the mail server at once (one connection, one send_mass_mail).
CHUNK = 200
# Up to this many members with an address, the reminders are sent in the request.
IN_REQUEST_MAX = 500


def in_request_max() -> int:
    return getattr(settings, "REMINDERS_IN_REQUEST_MAX", IN_REQUEST_MAX)


def _with_mail(period: Period, organization: Organization) -> QuerySet[Assessment]:
    return reminders_pending(period, organization).exclude(member__email="")


def reminders_by_job(period: Period, organization: Organization) -> bool:
    """Whether the reminders under `organization` are too many to send in the request."""
    return _with_mail(period, organization).count() > in_request_max()


def active_reminders(period: Period, organization: Organization) -> Job | None:
    """The reminders job of this organisation and period still queued or running: a second click is sent
    to it rather than sending everything twice."""
    return active_job(Job.Kind.REMINDERS, organization, period)


def authorise_reminders(user: Any, organization: Organization, period: Period) -> None:
    policy.require(user, "review.remind", organization)
    if period is None or not organization.path.startswith(period.organization.path):
        raise policy.Refused(_("This organisation is not under the period's."))


def _stored(job: Job) -> dict[str, Any]:
    return Job.objects.filter(pk=job.pk).values_list("summary", flat=True).first() or {}


def reminders_finished(job: Job) -> bool:
    """Whether an earlier attempt of the job sent every reminder and wrote its audit entry."""
    return bool(_stored(job).get("finished"))


def _record(job: Job, summary: dict[str, Any]) -> None:
    Job.objects.filter(pk=job.pk).update(summary=summary)


def run_reminders(job: Job, progress: Callable[..., None]) -> dict[str, Any]:
    summary = _stored(job)
    if summary.get("finished"):
        return summary
    user = job_actor(job)
    period, organization = job.period, job.organization
    authorise_reminders(user, organization, period)
    sent, last_id = int(summary.get("sent", 0)), int(summary.get("last_id", 0))
    in_person = reminders_pending(period, organization).filter(member__email="").count()
    remaining = _with_mail(period, organization).filter(pk__gt=last_id).order_by("pk")
    total = sent + remaining.count()
    summary = {"sent": sent, "last_id": last_id, "in_person": in_person}
    step = _("Sending the reminders by e-mail")
    try:
        while True:
            progress(sent, total, step)  # stops here when cancelled, before the next chunk
            chunk = list(remaining.filter(pk__gt=last_id).select_related("member")[:CHUNK])
            if not chunk:
                break
            send_mass_mail([reminder_message(period, a.member) for a in chunk], fail_silently=True)
            sent, last_id = sent + len(chunk), chunk[-1].pk
            summary.update(sent=sent, last_id=last_id)
            _record(job, summary)
    except JobCancelled:
        _audit(job, user, summary, cancelled=True)
        raise
    with transaction.atomic():
        summary["finished"] = True
        _audit(job, user, summary)
        _record(job, summary)
    return summary


def _audit(job: Job, user: Any, summary: dict[str, Any], *, cancelled: bool = False) -> None:
    data = {
        "organization": job.organization.code,
        "emailed": summary["sent"],
        "in_person": summary["in_person"],
        "job": str(job.public_id),
    }
    if cancelled:
        data["cancelled"] = True
    log_action(AuditEntry.Action.REMIND, period=job.period, actor=user, data=data)


def register() -> None:
    registry.register(
        Job.Kind.REMINDERS,
        registry.JobKind(
            authorise=authorise_reminders,
            run=run_reminders,
            already_done=reminders_finished,
            cancelled_step=reminders_cancelled_step,
        ),
    )


def reminders_cancelled_step(job: Job) -> str:
    """A cancelled mailing keeps what it sent: the page says how many went."""
    sent = int(_stored(job).get("sent", 0))
    return ngettext(
        "Cancelled: %(count)d reminder had been sent; no more will go.",
        "Cancelled: %(count)d reminders had been sent; no more will go.",
        sent,
    ) % {"count": sent}
