"""The acts of the people-and-accounts apps announced for the audit trail: accounts created, codes
reissued, rows imported.

The trail (`assessments.core.models.AuditEntry`) lives with the reviews, above these apps, so they
cannot write it themselves: they `announce()` the act here, and the trail's app records it (its
receiver is connected in `assessments.apps`). The entries have no period: they belong to no year.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.dispatch import Signal

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Sent with: action (an AuditEntry.Action value), actor (the user), data (a dict for the details), and
# period_id when the act concerns a review period (a background job's: jobs.services.audit).
act_done = Signal()


def announce(
    action: str, *, actor: User | None, data: dict[str, Any] | None = None, period_id: int | None = None
) -> None:
    act_done.send(sender=None, action=action, actor=actor, data=data or {}, period_id=period_id)
