"""The online secret ballot: opened with its voters fixed, voted on, closed once the quorum is reached
(its count then fills the minutes), or stopped without counting."""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from members.models import Member
from vocabulary import Level

from ..core.errors import WorkflowError
from ..core.models import Assessment, AuditEntry, Period
from ..core.transitions import Step, log_action, step_refusal, table
from .minutes import Recorded, _apply_proposals, _write_counts, check_manager
from .models import Ballot, BallotCount, BallotTally, Meeting, VoterMark
from .sheet import (
    FROZEN_STATES,
    LEVEL_FIELDS,
    SHARE_FIELDS,
    MeetingError,
    Turnout,
    _roster,
    ballot_quorum,
    official_members,
    quorum_needed,
    quorum_rule,
    read_lines,
)

if TYPE_CHECKING:
    from decimal import Decimal

    from django.contrib.auth.models import AnonymousUser, User

    from organizations.models import Organization

A = AuditEntry.Action
NO_BALLOT = ""  # the state before a ballot is opened (and after it is stopped: the row is deleted)

# The ballot's transition table. Voting is not a step: it changes no state and, for secrecy, writes
# no audit entry (the voter's mark is the record).
BALLOT = table(
    Step(
        A.BALLOT_OPEN,
        gettext_lazy("Open the online ballot"),
        (NO_BALLOT,),
        Ballot.State.OPEN,
        "ballot.run",
        wrong_state=gettext_lazy("This meeting already has an online ballot."),
    ),
    Step(
        A.BALLOT_CLOSE,
        gettext_lazy("Close and count"),
        (Ballot.State.OPEN,),
        Ballot.State.CLOSED,
        "ballot.run",
        wrong_state=gettext_lazy("This ballot is already closed."),
    ),
    Step(
        A.BALLOT_DISCARD,
        gettext_lazy("Stop without counting"),
        (Ballot.State.OPEN,),
        NO_BALLOT,
        "ballot.run",
        wrong_state=gettext_lazy("Only an open ballot can be stopped; this one is closed or already stopped."),
    ),
)


def _check_step(name: str, ballot: Ballot | None) -> None:
    """Refuse the step unless the ballot's table allows it from the ballot's state (authority is
    checked before, with the period, by `check_manager`)."""
    state = ballot.state if ballot is not None else NO_BALLOT
    message = step_refusal(BALLOT, name, state, None, None)
    if message is not None:
        raise WorkflowError(message)


def eligible_voters(roster: Iterable[Assessment], absentee_ids: Container[int]) -> list[Member]:
    """Who may vote online: the cell's members on the period's roster who are active, official (a
    probationary member does not vote: Điều lệ Đảng, Điều 5), present and signed up with an account."""
    return [
        a.member
        for a in roster
        if a.member.status == Member.Status.ACTIVE
        and a.member.official_date is not None
        and a.member.user_id is not None
        and a.member.pk not in absentee_ids
    ]


def ballot_open(*, period: Period, organization: Organization, user: User) -> Ballot:
    """Open the online secret ballot of the cell's meeting: the voters are fixed, and the tally gets a
    counter at zero for every member to be classified and every level. A ballot whose voters could not
    reach the quorum even if all of them voted is not opened."""
    check_manager(user, period, organization, action="ballot.run")
    with transaction.atomic():
        check_manager(user, Period.objects.get(pk=period.pk), organization, action="ballot.run")
        meeting = Meeting.objects.select_for_update().filter(period=period, organization=organization).first()
        if meeting is None:
            raise WorkflowError(_("Record the date and the attendance of the meeting first, then open the ballot."))
        _check_step(A.BALLOT_OPEN, Ballot.objects.filter(meeting=meeting).first())
        if BallotCount.objects.filter(meeting=meeting, issued__isnull=False).exists():
            raise WorkflowError(_("The paper ballots of this meeting have already been counted."))
        roster = _roster(period, organization, lock=True)
        subjects = [a for a in roster if a.classified]
        if not subjects:
            raise WorkflowError(_("No member of this cell is to be classified."))
        if any(a.state in FROZEN_STATES for a in subjects):
            raise WorkflowError(_("Some levels of this cell have already been decided."))
        absentee_ids = set(meeting.absentees.values_list("pk", flat=True))
        voters = eligible_voters(roster, absentee_ids)
        if not voters:
            raise WorkflowError(_("No member present has an account to vote with."))
        active_users = set(
            Member.objects.filter(pk__in=[m.pk for m in voters], user__is_active=True).values_list("pk", flat=True)
        )
        voters = [m for m in voters if m.pk in active_users]
        if not voters:
            raise WorkflowError(_("No member present has an account to vote with."))
        official = len(official_members(roster))
        needed = quorum_needed(official, ballot_quorum(period))
        if len(voters) < needed:
            raise WorkflowError(
                ngettext(
                    "Only %(voters)d member present can vote online (official, with an account), but the ballot "
                    "needs at least %(needed)d votes of the %(official)d official members of the cell (%(rule)s). "
                    "Count paper ballots instead (section 2), or give more members present an account first.",
                    "Only %(voters)d members present can vote online (official, with an account), but the ballot "
                    "needs at least %(needed)d votes of the %(official)d official members of the cell (%(rule)s). "
                    "Count paper ballots instead (section 2), or give more members present an account first.",
                    len(voters),
                )
                % {
                    "voters": len(voters),
                    "needed": needed,
                    "official": official,
                    "rule": quorum_rule(ballot_quorum(period)),
                }
            )
        ballot = Ballot.objects.create(meeting=meeting, opened_by=user, official_members=official, quorum_needed=needed)
        ballot.eligible_voters.set(voters)
        BallotTally.objects.bulk_create(
            [
                BallotTally(ballot=ballot, subject_assessment=a, level=level.value, count=0)
                for a in subjects
                for level in Level.best_first()
            ]
        )
        meeting.version += 1
        meeting.save(update_fields=["version", "updated_at"])
        log_action(
            A.BALLOT_OPEN,
            period=period,
            actor=user,
            data={
                "organization": organization.code,
                "voters": len(voters),
                "subjects": len(subjects),
                "official_members": official,
                "quorum_needed": needed,
            },
        )
    return ballot


def ballot_subjects(ballot: Ballot) -> list[Assessment]:
    """The assessments on the ballot paper, in Vietnamese order (one query)."""
    return [
        tally.subject_assessment
        for tally in BallotTally.objects.filter(ballot=ballot, level=Level.HTXSNV.value)
        .select_related("subject_assessment__member")
        .order_by("subject_assessment__member__sort_key", "subject_assessment__pk")
    ]


def voter_for(user: User | AnonymousUser | None, ballot: Ballot) -> Member | None:
    """The member record of `user` if they may vote in `ballot`; None otherwise."""
    if not user or not user.is_authenticated:
        return None
    return ballot.eligible_voters.filter(user=user, user__is_active=True).first()


def ballot_vote(*, ballot: Ballot, user: User, choices: Mapping[str, str]) -> None:
    """Cast `user`'s ballot: `choices` maps the public id of every subject's assessment to a level.

    What is written, and only that: one VoterMark (ballot, voter), and +1 on one counter per subject.
    The single UPDATE rewrites every counter of the ballot (adding 0 to the others) and every mark is
    rewritten too, so that on PostgreSQL all live rows carry the same transaction stamp (xmin) after
    each vote: the stamps say nothing about which counters this voter moved. No audit entry is written
    per vote: the mark is the record that the member voted."""
    with transaction.atomic():
        locked = Ballot.objects.select_for_update().select_related("meeting__period").get(pk=ballot.pk)
        if locked.state != Ballot.State.OPEN:
            raise WorkflowError(_("This ballot is closed."))
        if locked.meeting.period.is_locked:
            raise WorkflowError(_("This review period is finalised: nothing can be changed."))
        voter = voter_for(user, locked)
        if voter is None:
            raise WorkflowError(_("You are not on the list of voters of this ballot."))
        if VoterMark.objects.filter(ballot=locked, voter=voter).exists():
            raise WorkflowError(_("You have already voted in this ballot. Each member votes once."))
        subjects = {str(a.public_id): a.pk for a in ballot_subjects(locked)}
        errors = {}
        chosen = {}
        for public_id in subjects:
            raw = choices.get(public_id, "")
            try:
                chosen[subjects[public_id]] = Level.coerce(raw)
            except ValueError:
                errors[public_id] = [_("Please choose one level for this member.")]
        if set(map(str, choices)) - set(subjects):
            raise WorkflowError(_("A member in this ballot does not belong to this cell."))
        if errors:
            raise MeetingError(
                _("Please choose a level for every member; your ballot has not been recorded yet."),
                field_errors=errors,
            )
        try:
            with transaction.atomic():
                VoterMark.objects.create(ballot=locked, voter=voter)
        except IntegrityError as error:
            raise WorkflowError(_("You have already voted in this ballot. Each member votes once.")) from error
        votes = Q(pk__in=[])
        for pk, level in chosen.items():
            votes |= Q(subject_assessment_id=pk, level=level.value)
        BallotTally.objects.filter(ballot=locked).update(
            count=F("count") + Case(When(votes, then=Value(1)), default=Value(0))
        )
        VoterMark.objects.filter(ballot=locked).update(voter=F("voter"))


def quorum_refusal(turnout: Turnout, share: Decimal) -> str:
    """Why the ballot cannot be closed yet, and what to do."""
    return ngettext(
        "%(voted)d of the %(official)d official members of the cell has voted; at least %(needed)d votes are "
        "needed to close the ballot (%(rule)s). Nothing has been counted. Wait for more members to vote "
        "(%(missing)d more are needed) and close it again; or, if they cannot vote, stop the online ballot "
        "and count paper ballots instead.",
        "%(voted)d of the %(official)d official members of the cell have voted; at least %(needed)d votes are "
        "needed to close the ballot (%(rule)s). Nothing has been counted. Wait for more members to vote "
        "(%(missing)d more are needed) and close it again; or, if they cannot vote, stop the online ballot "
        "and count paper ballots instead.",
        turnout.voted,
    ) % {
        "voted": turnout.voted,
        "official": turnout.official,
        "needed": turnout.needed,
        "missing": turnout.missing,
        "rule": quorum_rule(share),
    }


def ballot_close(*, ballot: Ballot, user: User) -> Recorded:
    """Close the ballot and write its tally into the minutes: for every member, issued = the voters on
    the list, received = valid = those who voted, and the count of each level; then the proposals.

    Refused, with nothing read from the tally, until the quorum is reached: more than the period's
    `ballot_quorum` share of the cell's official members have voted."""
    meeting = ballot.meeting
    period, organization = meeting.period, meeting.organization
    check_manager(user, period, organization, action="ballot.run")
    now = timezone.now()
    with transaction.atomic():
        check_manager(user, Period.objects.get(pk=period.pk), organization, action="ballot.run")
        locked = Ballot.objects.select_for_update().get(pk=ballot.pk)
        _check_step(A.BALLOT_CLOSE, locked)
        meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
        roster = _roster(period, organization, lock=True)
        issued = locked.eligible_voters.count()
        voted = VoterMark.objects.filter(ballot=locked).count()
        share = ballot_quorum(period)
        official = len(official_members(roster))
        turnout = Turnout(official=official, eligible=issued, voted=voted, needed=quorum_needed(official, share))
        if not turnout.reached:
            raise WorkflowError(quorum_refusal(turnout, share))
        tallies = {}
        for tally in BallotTally.objects.filter(ballot=locked):
            tallies.setdefault(tally.subject_assessment_id, {})[tally.level] = tally.count
        existing = {c.assessment_id: c for c in BallotCount.objects.filter(meeting=meeting)}
        rows = {}
        for pk, by_level in tallies.items():
            if sum(by_level.values()) != voted:
                raise WorkflowError(_("The tally of this ballot does not add up; it has not been closed."))
            old = existing.get(pk)
            rows[pk] = {
                "comments": old.comments if old else "",
                **{name: getattr(old, name) if old else None for name in SHARE_FIELDS},
                "issued": issued,
                "received": voted,
                "valid": voted,
                **{name: by_level.get(level.value, 0) for name, level in LEVEL_FIELDS},
            }
        counts = _write_counts(meeting, rows, existing)
        BallotCount.objects.filter(meeting=meeting, assessment_id__in=list(rows)).update(
            source=BallotCount.Source.ONLINE
        )
        for count in counts.values():
            if count.assessment_id in rows:
                count.source = BallotCount.Source.ONLINE
        lines = read_lines(period, [a for a in roster if a.pk in tallies], counts)
        for line in lines:
            line.count.proposed_level = line.proposal.value if line.proposal else ""
        BallotCount.objects.bulk_update([line.count for line in lines], ["proposed_level"])
        proposed, waiting = _apply_proposals(period, user, lines, now)
        locked.state = Ballot.State.CLOSED
        locked.closed_by = user
        locked.closed_at = now
        locked.official_members = turnout.official
        locked.quorum_needed = turnout.needed
        locked.save(update_fields=["state", "closed_by", "closed_at", "official_members", "quorum_needed"])
        meeting.version += 1
        meeting.save(update_fields=["version", "updated_at"])
        # One last rewrite of the counters and the marks under the closing transaction's stamp.
        BallotTally.objects.filter(ballot=locked).update(count=F("count"))
        VoterMark.objects.filter(ballot=locked).update(voter=F("voter"))
        log_action(
            A.BALLOT_CLOSE,
            period=period,
            actor=user,
            data={
                "organization": organization.code,
                "voters": issued,
                "voted": voted,
                "official_members": turnout.official,
                "quorum_needed": turnout.needed,
                "proposals": proposed,
            },
        )
    return Recorded(meeting=meeting, proposed=proposed, waiting=waiting)


def ballot_discard(*, ballot: Ballot, user: User) -> int:
    """Stop an open ballot without counting it, so that the cell counts paper ballots instead (or opens
    a new ballot): the tally is deleted unread, with the marks of who voted. Only how many had voted is
    kept, in the audit trail."""
    meeting = ballot.meeting
    period, organization = meeting.period, meeting.organization
    check_manager(user, period, organization, action="ballot.run")
    with transaction.atomic():
        check_manager(user, Period.objects.get(pk=period.pk), organization, action="ballot.run")
        locked = Ballot.objects.select_for_update().filter(pk=ballot.pk).first()
        _check_step(A.BALLOT_DISCARD, locked)
        meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
        eligible = locked.eligible_voters.count()
        voted = VoterMark.objects.filter(ballot=locked).count()
        BallotTally.objects.filter(ballot=locked).delete()
        VoterMark.objects.filter(ballot=locked).delete()
        locked.delete()
        meeting.version += 1
        meeting.save(update_fields=["version", "updated_at"])
        log_action(
            A.BALLOT_DISCARD,
            period=period,
            actor=user,
            data={"organization": organization.code, "voters": eligible, "voted": voted},
        )
    return voted
