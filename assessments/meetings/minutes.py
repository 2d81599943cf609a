"""Recording the minutes of a cell's meeting and the proposals they give, all or nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from organizations import policy

from ..core.errors import ConflictError, WorkflowError
from ..core.models import Assessment, AuditEntry, Period
from ..core.transitions import audit_fields, log_action
from ..core.workflow import state_allows
from .models import Ballot, BallotCount, Meeting
from .sheet import (
    ATTENDANCE_FIELDS,
    COUNT_FIELDS,
    FROZEN_STATES,
    SHARE_FIELDS,
    Line,
    MeetingError,
    _roster,
    name_list,
    read_lines,
    row_key,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from members.models import Member
    from organizations.models import Organization
    from organizations.policy import SystemActor


def takes_minutes(period: Period) -> bool:
    """Whether the period takes meeting records: open or closed, not finalised (the page's inputs too)."""
    return period.state in (Period.State.OPEN, Period.State.CLOSED) and not period.is_locked


def check_manager(
    user: User | SystemActor, period: Period, organization: Organization, *, action: str = "meeting.record"
) -> None:
    """Refuse unless `user` may record the cell's meeting (or run its ballot) and the period takes
    meeting records (open or closed)."""
    policy.require(user, action, organization)
    if period.is_locked:
        raise WorkflowError(_("This review period is finalised: nothing can be changed."))
    if period.state not in (Period.State.OPEN, Period.State.CLOSED):
        raise WorkflowError(_("This review period is not open."))


def _lock_meeting(period: Period, organization: Organization, base_version: int) -> Meeting | None:
    meeting = Meeting.objects.select_for_update().filter(period=period, organization=organization).first()
    current = meeting.version if meeting else 0
    if base_version != current:
        raise ConflictError(
            _(
                "These minutes were changed elsewhere (another window or another person) after you opened them. "
                "Your copy was not saved, so that the newer record is not lost. Reload the page to see it."
            )
        )
    return meeting


@dataclass
class Recorded:
    meeting: Meeting
    proposed: int = 0  # forms whose proposal was recorded or changed
    waiting: list = field(default_factory=list)  # members counted whose form is not submitted
    pending: list = field(default_factory=list)  # members whose line was started but not counted yet


def _apply_proposals(period: Period, user: User, lines: list[Line], now: datetime) -> tuple[int, list[Member]]:
    """Record each counted member's proposal on their form, through the workflow table: submitted forms
    (and forms already reviewed, when the minutes are corrected) become "reviewed by the cell"."""
    changed, entries, waiting = [], [], []
    for line in lines:
        proposal = line.proposal
        assessment = line.assessment
        if proposal is None:
            continue
        if not state_allows(AuditEntry.Action.RECORD_PROPOSAL, assessment.state):
            if assessment.state not in FROZEN_STATES:
                waiting.append(assessment.member)
            continue
        if assessment.state == Assessment.State.CELL_REVIEWED and assessment.cell_proposed_level == proposal:
            continue
        from_state = assessment.state
        assessment.cell_proposed_level = proposal.value
        assessment.state = Assessment.State.CELL_REVIEWED
        assessment.version += 1
        assessment.updated_at = now
        changed.append(assessment)
        entries.append(
            AuditEntry(
                **audit_fields(
                    AuditEntry.Action.RECORD_PROPOSAL,
                    period=period,
                    assessment=assessment,
                    actor=user,
                    from_state=from_state,
                    to_state=Assessment.State.CELL_REVIEWED,
                    data={
                        "level": proposal.value,
                        "majority": line.majority.value if line.majority else "",
                        "cap": line.cap.value if line.cap else "",
                        "counts": {name: getattr(line.count, name) for name in COUNT_FIELDS},
                        "source": line.count.source,
                    },
                )
            )
        )
    Assessment.objects.bulk_update(changed, ["cell_proposed_level", "state", "version", "updated_at"])
    AuditEntry.objects.bulk_create(entries)
    return len(changed), waiting


def _lines_of_roster(
    roster: list[Assessment], minutes: dict[str, Any], lines: dict[str, dict[str, Any]]
) -> tuple[set[int], dict[int, dict[str, Any]], set[int]]:
    """(absent member ids, {assessment pk: line}, pks of the lines pending) from the public ids of the
    forms; WorkflowError when one names someone not of the cell (or not to be classified)."""
    by_public_id = {str(a.public_id): a for a in roster}
    absentee_ids = set()
    for public_id in minutes.get("absentees", ()):
        assessment = by_public_id.get(str(public_id))
        if assessment is None:
            raise WorkflowError(_("A member in this list does not belong to this cell."))
        absentee_ids.add(assessment.member_id)
    rows, pending = {}, set()
    for public_id, line in lines.items():
        assessment = by_public_id.get(str(public_id))
        if assessment is None or not assessment.classified:
            raise WorkflowError(_("A member in this list does not belong to this cell."))
        rows[assessment.pk] = {name: line.get(name) for name in (*COUNT_FIELDS, *SHARE_FIELDS)} | {
            "comments": line.get("comments", "")
        }
        if line.get("pending"):
            pending.add(assessment.pk)
    return absentee_ids, rows, pending


def meeting_record(
    *,
    period: Period,
    organization: Organization,
    user: User,
    minutes: dict[str, Any],
    lines: dict[str, dict[str, Any]],
    base_version: int,
) -> Recorded:
    """Save the minutes of the cell's meeting and record the proposals they give. All or nothing.

    `minutes` is the meeting as `forms.MinutesForm` cleans it (held_on, members_total, present,
    absent, and absentees: the public ids of the absent members' assessments); `lines` maps the public
    id of a member's assessment to their line as `forms.BallotCountForm` cleans it (the seven numbers,
    all None when not counted yet, the comments, the task shares the cell gives, and `pending`). The
    forms have checked the typing and the arithmetic; what depends on the records is checked here: a
    decided member's count, a count from the online ballot, a count recorded before."""
    check_manager(user, period, organization)
    now = timezone.now()
    with transaction.atomic():
        # Again inside the transaction: the period may have been finalised since the page was loaded.
        check_manager(user, Period.objects.get(pk=period.pk), organization)
        meeting = _lock_meeting(period, organization, base_version)
        roster = _roster(period, organization, lock=True)
        absentee_ids, rows, pending = _lines_of_roster(roster, minutes, lines)
        errors = {}
        existing = {c.assessment_id: c for c in BallotCount.objects.filter(meeting=meeting)} if meeting else {}
        ballot = Ballot.objects.filter(meeting=meeting).first() if meeting else None
        by_pk = {a.pk: a for a in roster}
        for pk, line in rows.items():
            assessment = by_pk[pk]
            old = existing.get(pk)
            new_numbers = {name: line[name] for name in COUNT_FIELDS}
            old_numbers = {name: getattr(old, name) if old else None for name in COUNT_FIELDS}
            if ballot is not None or (old is not None and old.source == BallotCount.Source.ONLINE):
                # The online ballot's numbers are not typed: they stay as the ballot gave them.
                line.update(old_numbers)
                pending.discard(pk)
                continue
            if new_numbers == old_numbers:
                continue
            if assessment.state in FROZEN_STATES and all(value is None for value in new_numbers.values()):
                # A decided member's count is shown, not offered for typing: it stays as it was.
                line.update(old_numbers)
                pending.discard(pk)
                continue
            if assessment.state in FROZEN_STATES:
                errors.setdefault(row_key(assessment, "line"), []).append(
                    _("The level of this member has been decided: the count can no longer be changed.")
                )
            elif old is not None and old.counted and all(value is None for value in new_numbers.values()):
                pending.discard(pk)
                errors.setdefault(row_key(assessment, "line"), []).append(
                    _(
                        "The count of this member has been recorded: correct the numbers, "
                        "but do not leave the four level counts empty."
                    )
                )
        if errors:
            raise MeetingError(refusal_message(errors, roster), field_errors=errors)
        if meeting is None:
            meeting = Meeting(period=period, organization=organization)
        meeting.held_on = minutes["held_on"]
        meeting.members_total = minutes["members_total"]
        meeting.present = minutes["present"]
        meeting.absent = minutes["absent"]
        meeting.recorded_by = policy.actor_user(user)
        meeting.version += 1
        try:
            with transaction.atomic():
                meeting.save()
        except IntegrityError as error:
            # Two first saves at the same moment: the other one won.
            raise ConflictError(_("These minutes were saved elsewhere a moment ago. Reload the page first.")) from error
        meeting.absentees.set(absentee_ids)
        counts = _write_counts(meeting, rows, existing)
        lines = read_lines(period, [a for a in roster if a.classified], counts)
        for line in lines:
            if line.count is not None:
                line.count.proposed_level = line.proposal.value if line.proposal else ""
        BallotCount.objects.bulk_update([c for c in counts.values()], ["proposed_level"])
        proposed, waiting = _apply_proposals(period, user, lines, now)
        log_action(
            AuditEntry.Action.MEETING_RECORD,
            period=period,
            actor=user,
            data={
                "organization": organization.code,
                "held_on": str(minutes["held_on"]),
                "members_total": minutes["members_total"],
                "present": minutes["present"],
                "absent": minutes["absent"],
                "version": meeting.version,
                "proposals": proposed,
            },
        )
    return Recorded(
        meeting=meeting,
        proposed=proposed,
        waiting=waiting,
        pending=[a.member for a in roster if a.pk in pending],
    )


def _write_counts(
    meeting: Meeting, rows: dict[int, dict[str, Any]], existing: dict[int, BallotCount]
) -> dict[int, BallotCount]:
    """Create or update the member lines; {assessment pk: BallotCount} of every line of the meeting."""
    new, changed = [], []
    for pk, line in rows.items():
        count = existing.get(pk)
        if count is None:
            count = BallotCount(meeting=meeting, assessment_id=pk)
            new.append(count)
        else:
            changed.append(count)
        count.comments = line["comments"]
        for name in (*COUNT_FIELDS, *SHARE_FIELDS):
            setattr(count, name, line[name])
    BallotCount.objects.bulk_create(new)
    BallotCount.objects.bulk_update(changed, ["comments", *COUNT_FIELDS, *SHARE_FIELDS])
    return {c.assessment_id: c for c in BallotCount.objects.filter(meeting=meeting)}


def refusal_message(errors: dict[str, Any], roster: list[Assessment]) -> str:
    """The message at the top of refused minutes: what kinds of things are wrong, and where."""
    problems = []
    if "held_on" in errors:
        problems.append(_("the date of the meeting"))
    if any(name in errors for name in ATTENDANCE_FIELDS):
        problems.append(_("the number of members, present and absent"))
    if "absentees" in errors:
        problems.append(_("the members ticked as absent"))
    wrong_lines = {key.split(":", 1)[0] for key in errors if ":" in key}
    names = [a.member.full_name for a in roster if str(a.public_id) in wrong_lines]
    if names:
        problems.append(
            ngettext(
                "the line of %(count)d member (%(names)s)",
                "the lines of %(count)d members (%(names)s)",
                len(names),
            )
            % {"count": len(names), "names": name_list(names)}
        )
    return _(
        "The minutes have not been saved. Please correct: %(problems)s. "
        "Everything you typed is still on the page; the places to correct are marked in red."
    ) % {"problems": "; ".join(problems)}
