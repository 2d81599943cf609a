"""Members transferred during the review (HD 21 tiết 6): the receiving cell classifies the member, with
the former cell's written comment when the member spent 6 months or more of the year there.

`transfer_record` is the one way a transfer is recorded (the member's page in the admin calls it): the
member's open reviews move to the receiving cell; a review already decided stays decided where it was;
a member transferred out of the organisation under review is not classified by it (the receiving
organisation does). `transfer_comment_record` is the former cell's comment. `transfers_of` gives each
side of a transfer the lines its screens show.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from members.models import Member, Transfer
from organizations import policy
from vocabulary import ExclusionReason

from ..rulebooks import get_rulebook
from .errors import WorkflowError
from .models import Assessment, AuditEntry, Period
from .transitions import log_action

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.contrib.auth.models import User

    from organizations.models import Organization
    from organizations.policy import SystemActor

S = Assessment.State

# The states in which the receiving cell takes the review over; from DECIDED on, it stays where it was.
DECIDED_STATES = (S.DECIDED, S.PUBLISHED)

# The periods whose reviews a transfer moves: opened and not finalised.
RUNNING = (Period.State.OPEN, Period.State.CLOSED)


class Outcome:
    MOVED = "moved"  # now reviewed by the receiving cell
    DECIDED = "decided"  # decided before the transfer: stays decided where it was
    OUTSIDE = "outside"  # the receiving cell is outside the period's organisation: not classified by it


@dataclass
class Recorded:
    transfer: Transfer
    moved: list[Assessment] = field(default_factory=list)
    decided: list[Assessment] = field(default_factory=list)
    outside: list[Assessment] = field(default_factory=list)


def _inside(organization: Organization, root: Organization) -> bool:
    return organization.path.startswith(root.path)


def transfer_record(*, transfer: Transfer, user: User | SystemActor) -> Recorded:
    """Record `transfer` (saved here if it is new) and hand the member's open reviews to the receiving cell.

    The member's cell becomes the receiving one, unless a later transfer is on record (an old one
    entered late is history only). For each review of a period that is open or closed (not finalised):
    not decided yet, it moves to the receiving cell, which classifies the member, and keeps the cell it
    left (`former_organization`); decided, it stays decided where it was; when the receiving cell is
    outside the period's organisation, it stays where it was, not classified by this organisation (the
    transfer rule's reason), unless the regime's rule is switched off. Each is written to the trail."""
    refusals = [policy.refusal(user, "transfer.record", cell) for cell in (transfer.from_cell, transfer.to_cell)]
    if all(refusals):
        raise WorkflowError(str(refusals[0]))
    if transfer.from_cell_id == transfer.to_cell_id:
        raise WorkflowError(_("A transfer must be between two different cells."))
    recorded = Recorded(transfer=transfer)
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=transfer.member_id)
        if transfer.pk is None:
            transfer.save()
        later = Transfer.objects.filter(member=member, transferred_on__gt=transfer.transferred_on).exists()
        if later:
            log_action(AuditEntry.Action.TRANSFER, actor=user, data=_trail_data(transfer, "history"))
            return recorded
        if member.cell_id != transfer.to_cell_id:
            member.cell = transfer.to_cell
            member.save(update_fields=["cell", "updated_at"])
        reviews = (
            Assessment.objects.select_for_update(of=("self",))
            .filter(member=member, period__state__in=RUNNING)
            .exclude(organization=transfer.to_cell)
            .select_related("period__organization", "organization")
            .order_by("pk")
        )
        for assessment in reviews:
            outcome = _hand_over(assessment, transfer)
            getattr(recorded, outcome).append(assessment)
            log_action(
                AuditEntry.Action.TRANSFER,
                actor=user,
                assessment=assessment,
                from_state=assessment.state,
                to_state=assessment.state,
                reason=transfer.note,
                data=_trail_data(transfer, outcome),
            )
        if not (recorded.moved or recorded.decided or recorded.outside):
            log_action(AuditEntry.Action.TRANSFER, actor=user, data=_trail_data(transfer, "no_open_review"))
    return recorded


def _hand_over(assessment: Assessment, transfer: Transfer) -> str:
    """Move the locked `assessment` as `transfer` requires; the outcome (an attribute of Recorded)."""
    if assessment.state in DECIDED_STATES:
        return Outcome.DECIDED
    period = assessment.period
    if not _inside(transfer.to_cell, period.organization):
        if assessment.classified:
            rulebook = get_rulebook(period.regime)
            params = rulebook.parameters(period.parameters, year=period.year)
            exclusion = rulebook.transferred_out(
                params, transferred_on=transfer.transferred_on, to_cell=transfer.to_cell.name
            )
            if exclusion is not None:
                for name, value in Assessment.exclusion_fields(exclusion).items():
                    setattr(assessment, name, value)
                assessment.exclusion_note = ""
                assessment.exclusion_overridden = False
                assessment.save(
                    update_fields=[
                        "classified",
                        "exclusion_reason",
                        "exclusion_rule",
                        "exclusion_values",
                        "exclusion_note",
                        "exclusion_overridden",
                        "updated_at",
                    ]
                )
        return Outcome.OUTSIDE
    assessment.former_organization = assessment.organization
    assessment.organization = transfer.to_cell
    assessment.save(update_fields=["organization", "former_organization", "updated_at"])
    return Outcome.MOVED


def _trail_data(transfer: Transfer, outcome: str) -> dict[str, str]:
    return {
        "member": transfer.member.card_number,
        "from": transfer.from_cell.code,
        "to": transfer.to_cell.code,
        "transferred_on": transfer.transferred_on.isoformat(),
        "outcome": outcome,
    }


def transfer_comment_record(*, transfer: Transfer, period: Period, user: User, comment: str | None) -> Transfer:
    """The former cell's written comment on a member it transferred away, for the receiving cell's
    classification; written (or corrected) by those who lead the former cell while the period runs."""
    comment = (comment or "").strip()
    policy.require(user, "transfer.comment", transfer.from_cell)
    if period.is_locked:
        raise WorkflowError(_("This review period is finalised: nothing can be changed."))
    if not comment:
        raise WorkflowError(_("Please write the former cell's comment."))
    with transaction.atomic():
        locked = (
            Transfer.objects.select_for_update(of=("self",))
            .select_related("member", "from_cell", "to_cell")
            .get(pk=transfer.pk)
        )
        before = locked.former_cell_comment
        locked.former_cell_comment = comment
        locked.save(update_fields=["former_cell_comment"])
        review = Assessment.objects.filter(period=period, member=locked.member).order_by("pk").first()
        log_action(
            AuditEntry.Action.TRANSFER_COMMENT,
            actor=user,
            period=period,
            assessment=review,
            reason=comment,
            data={**_trail_data(locked, "comment"), "corrected": bool(before.strip())},
        )
    return locked


# --- What each side's screens show ---------------------------------------------------------------------------


@dataclass
class TransferLine:
    """A transfer into or out of an organisation, and the member's review in the period (None: none)."""

    transfer: Transfer
    assessment: Assessment | None

    @property
    def member(self) -> Member:
        return self.transfer.member

    @property
    def comment_received(self) -> bool:
        return bool(self.transfer.former_cell_comment.strip())

    @property
    def decided_before(self) -> bool:
        """Decided before the transfer: it stayed with the former cell."""
        a = self.assessment
        return a is not None and a.organization_id == self.transfer.from_cell_id and a.state in DECIDED_STATES

    @property
    def outside(self) -> bool:
        """Transferred out of the organisation: not classified by it."""
        a = self.assessment
        return a is not None and a.exclusion_reason == ExclusionReason.TRANSFERRED_OUT


@dataclass
class Transfers:
    """One organisation's transfers in the period's year (and after it), latest first, one line a member."""

    out: list[TransferLine]  # left a cell of the organisation; reviewed elsewhere now
    into: list[TransferLine]  # came into a cell of it; reviewed elsewhere (decided before the transfer)
    here: dict[int, TransferLine]  # {assessment pk: the latest transfer} of those reviewed here
    from_here: list[TransferLine]  # every member who left one of its cells: the former cell's comments


def transfers_of(period: Period, organization: Organization) -> Transfers:
    """The transfers since 1 January of the period's year into or out of the cells under `organization`,
    each with the member's review in the period: two queries (one when there are none)."""
    path = organization.path
    transfers = list(
        Transfer.objects.filter(
            Q(from_cell__path__startswith=path) | Q(to_cell__path__startswith=path),
            transferred_on__gte=datetime.date(period.year, 1, 1),
        )
        .select_related("member", "from_cell", "to_cell")
        .order_by("-transferred_on", "-pk")
    )
    reviews = {}
    if transfers:
        reviews = {
            a.member_id: a
            for a in Assessment.objects.filter(period=period, member_id__in={t.member_id for t in transfers})
            .select_related("organization")
            .order_by("-pk")
        }
    result = Transfers(out=[], into=[], here={}, from_here=[])
    seen: dict[str, set[int]] = {"out": set(), "into": set(), "from_here": set()}

    def add(kind: str, line: TransferLine) -> None:
        if line.transfer.member_id not in seen[kind]:
            seen[kind].add(line.transfer.member_id)
            getattr(result, kind).append(line)

    for transfer in transfers:
        line = TransferLine(transfer=transfer, assessment=reviews.get(transfer.member_id))
        if _inside(transfer.from_cell, organization):
            add("from_here", line)
        review = line.assessment
        if review is not None and _inside(review.organization, organization):
            result.here.setdefault(review.pk, line)
        elif _inside(transfer.from_cell, organization):
            add("out", line)
        elif _inside(transfer.to_cell, organization):
            add("into", line)
    return result


def transferred_refusal(period: Period, organization: Organization, pks: Iterable[int]) -> str | None:
    """Why the levels of `pks`, reviews that are not under `organization`, are not its to decide, when a
    transfer is the reason; None otherwise. One query, and one per such review."""
    reasons = []
    for review in (
        Assessment.objects.filter(period=period, pk__in=list(pks), member__isnull=False)
        .select_related("member", "organization")
        .order_by("pk")
    ):
        transfer = (
            Transfer.objects.filter(member=review.member_id, transferred_on__gte=datetime.date(period.year, 1, 1))
            .select_related("from_cell", "to_cell")
            .order_by("-transferred_on", "-pk")
            .first()
        )
        if transfer is None:
            continue
        values = {
            "name": review.member.full_name,
            "from": transfer.from_cell.name,
            "to": transfer.to_cell.name,
            "date": transfer.transferred_on.strftime("%d/%m/%Y"),
            "where": review.organization.name,
        }
        if review.organization_id == transfer.from_cell_id and review.state in DECIDED_STATES:
            reasons.append(
                _(
                    "%(name)s was transferred to %(to)s on %(date)s after the level was decided: "
                    "it stays as decided by %(where)s."
                )
                % values
            )
        elif _inside(transfer.from_cell, organization):
            reasons.append(
                _(
                    "%(name)s was transferred from %(from)s to %(to)s on %(date)s: the receiving organisation "
                    "decides the level, with the former cell's comment."
                )
                % values
            )
    return " ".join(reasons) or None
