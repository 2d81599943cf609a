"""The online secret ballot: opened with its voters fixed, voted on, closed once the quorum is reached
(its count then fills the minutes), or stopped without counting.

Secrecy, with the database in the threat model. A vote writes a voter mark (who voted) and adds
one to a counter per subject (what was voted); the database keeps more than these rows, and each of the
following would link the two, so each is dealt with:

* **The order of the rows.** Marks have random keys (no sequence), and every vote writes all the marks
  of the ballot again, in the order of their keys: neither a key nor a row's place in the table (its
  ctid on PostgreSQL, its rowid on SQLite) gives the order of voting.
* **The transaction that wrote a row** (xmin on PostgreSQL, which the application's own role can
  read). Every vote rewrites every counter and every mark of its ballot, so all the live rows of a
  ballot share the last vote's stamp. (The foreign key check of every rewritten mark also stamps each
  voter's member row with a lock: those stamps are all the last writer's too.)
* **Old row versions.** PostgreSQL keeps the version of a row that an UPDATE or DELETE replaced in the
  table's pages until a vacuum removes it, and a plain VACUUM leaves its bytes in the page's free
  space: with the `pageinspect` extension each vote's counters could be read back with its stamp. A
  VACUUM FULL keeps them too, as long as any transaction older than them is still running anywhere
  on the server (it keeps what that one might still see). So the transaction that closes (or stops) a
  ballot moves who voted to `Ballot.recorded_voters`, deletes the ballot's counters and marks, and
  then empties the two vote tables with TRUNCATE, which gives each a new, empty file whatever else is
  running, and writes back the rows of the ballots still open (`_purge_vote_tables`). The old files,
  with every old version in them, are dropped when it commits. On SQLite, which keeps no old versions
  in the file, `secure_delete` (config/settings.py) overwrites deleted content with zeros.
* **Locks.** TRUNCATE needs the vote tables to itself: every service here takes its lock on them
  first (`_lock_vote_tables`), before any row lock, so that a closing and a vote cannot deadlock.

What remains while a ballot is open, and outside the tables (the write-ahead log, backups), is in the
README ("Ballot secrecy"); tests/assessments/test_ballot_pages.py reads the pages to check the above.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Container, Iterable, Mapping
from typing import TYPE_CHECKING

from django.db import DatabaseError, IntegrityError, connection, transaction
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

logger = logging.getLogger(__name__)

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
        _lock_vote_tables(exclusive=False)
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
    The single UPDATE rewrites every counter of the ballot (adding 0 to the others), and the marks are
    all written again in the order of their random keys, so that afterwards all live rows of the
    ballot carry the same transaction stamp (xmin) and stand in an order unrelated to the voting: the
    stamps say nothing about which counters this voter moved. No audit entry is written per vote: the
    mark is the record that the member voted."""
    with transaction.atomic():
        _lock_vote_tables(exclusive=False)
        # The ballot's row only: a lock leaves the vote's transaction id on every row it takes.
        locked = Ballot.objects.select_for_update(of=("self",)).select_related("meeting__period").get(pk=ballot.pk)
        if locked.state != Ballot.State.OPEN:
            raise WorkflowError(_("This ballot is closed."))
        if locked.meeting.period.is_locked:
            raise WorkflowError(_("This review period is finalised: nothing can be changed."))
        voter = voter_for(user, locked)
        if voter is None:
            raise WorkflowError(_("You are not on the list of voters of this ballot."))
        # Read under the ballot's lock: a second vote of the same member waits for the first, then sees it.
        marks = list(VoterMark.objects.filter(ballot=locked).values_list("id", "voter_id"))
        if any(voter_id == voter.pk for _key, voter_id in marks):
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
        votes = Q(pk__in=[])
        for pk, level in chosen.items():
            votes |= Q(subject_assessment_id=pk, level=level.value)
        BallotTally.objects.filter(ballot=locked).update(
            count=F("count") + Case(When(votes, then=Value(1)), default=Value(0))
        )
        try:
            _write_marks(locked, [*marks, (uuid.uuid4(), voter.pk)])
        except IntegrityError as error:  # the ballot's lock makes this unreachable; the constraint stays
            raise WorkflowError(_("You have already voted in this ballot. Each member votes once.")) from error


def _write_marks(ballot: Ballot, marks: Iterable[tuple[uuid.UUID, int]]) -> None:
    """Write all the marks of `ballot` again, in the order of their random keys: every row gets the
    current transaction's stamp and a place in the table that follows the keys, not the voting."""
    VoterMark.objects.filter(ballot=ballot).delete()
    VoterMark.objects.bulk_create(
        VoterMark(id=key, ballot=ballot, voter_id=voter_id) for key, voter_id in sorted(marks)
    )


# The tables that hold the votes of the open ballots.
VOTE_TABLES = (BallotTally, VoterMark)


def _lock_vote_tables(*, exclusive: bool) -> None:
    """Take the lock on the vote tables that the service will need, before any other: ROW EXCLUSIVE to
    open or vote (ballots go on side by side), ACCESS EXCLUSIVE to close or stop, which empties them
    (TRUNCATE). Taken in this order by everyone, a closing waits for the votes under way and the votes
    wait for it, and none of them waits for another while holding what that one needs. SQLite locks
    the whole database for a write anyway."""
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in VOTE_TABLES)
    mode = "ACCESS EXCLUSIVE" if exclusive else "ROW EXCLUSIVE"
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {tables} IN {mode} MODE")


def _purge_vote_tables() -> int:
    """Leave no old version of a vote's rows in the database's files: the caller has removed the rows
    of the ballot that ends, under `_lock_vote_tables(exclusive=True)`; this rewrites the vote tables
    with only the rows of the ballots still open. Returns how many rows were written back.

    PostgreSQL: the rows left are read, the tables emptied with TRUNCATE (new files; the old ones, with
    the dead versions and the free space they leave, are dropped at the commit) and the rows written
    back, marks in the order of their keys and counters in the order of their ids, all stamped with
    this transaction. SQLite: nothing to rewrite, as long as secure_delete zeroes what is deleted."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA secure_delete")
            if not cursor.fetchone()[0]:
                raise WorkflowError(
                    _(
                        "The ballot was not ended: the database is not set to erase deleted votes (SQLite's "
                        "secure_delete is off). Nothing has been changed; tell the administrator."
                    )
                )
        return 0
    if connection.vendor != "postgresql":
        return 0
    marks = list(VoterMark.objects.order_by("id"))
    tallies = list(BallotTally.objects.order_by("id"))
    tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in VOTE_TABLES)
    try:
        with connection.cursor() as cursor:
            # TRUNCATE refuses a table with foreign key checks still due in this transaction (rows
            # inserted earlier in it, where a ballot is opened and closed in one): run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {tables}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    except DatabaseError as error:  # the transaction is rolled back with the WorkflowError
        logger.exception("TRUNCATE of the vote tables refused")
        raise WorkflowError(
            _(
                "The ballot was not ended: the database would not let the application erase the old copies of "
                "the votes (it needs the TRUNCATE privilege on the vote tables). Nothing has been changed; "
                "tell the administrator."
            )
        ) from error
    VoterMark.objects.bulk_create(marks)
    BallotTally.objects.bulk_create(tallies)
    return len(marks) + len(tallies)


def _stamp_members(member_ids: Iterable[int]) -> None:
    """Lock the members' rows (FOR KEY SHARE, which blocks nothing but their deletion) so that the lock
    stamp each row carries is this transaction's. Every vote rewrites the ballot's marks, and the check
    of their foreign key locks each voter's row: once a ballot is stopped, with its marks deleted, those
    stamps would still say who had voted in it. PostgreSQL only (SQLite has no such stamps)."""
    if connection.vendor != "postgresql":
        return
    table = connection.ops.quote_name(Member._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {table} WHERE id = ANY(%s) FOR KEY SHARE", [list(member_ids)])  # noqa: S608


def purge_vote_tables() -> int:
    """Rewrite the vote tables without any old version of their rows, as closing a ballot does: for
    `manage.py scrub_ballots` (after the migration to random voter keys, say). Returns the rows kept."""
    with transaction.atomic():
        _lock_vote_tables(exclusive=True)
        return _purge_vote_tables()


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
    `ballot_quorum` share of the cell's official members have voted.

    Then who voted is recorded with the ballot (`recorded_voters`), its counters and marks are deleted
    and the vote tables rewritten without any old version of a vote (`_purge_vote_tables`), all in this
    transaction: if the rewrite is refused, the ballot stays open, untouched."""
    meeting = ballot.meeting
    period, organization = meeting.period, meeting.organization
    check_manager(user, period, organization, action="ballot.run")
    now = timezone.now()
    with transaction.atomic():
        _lock_vote_tables(exclusive=True)
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
        # The counts are in the minutes now, and who voted goes with the ballot, in the members' order:
        # the counters and the marks go, and with them every old version of the votes.
        Through = Ballot.recorded_voters.through
        voter_ids = sorted(VoterMark.objects.filter(ballot=locked).values_list("voter_id", flat=True))
        Through.objects.bulk_create(Through(ballot_id=locked.pk, member_id=pk) for pk in voter_ids)
        BallotTally.objects.filter(ballot=locked).delete()
        VoterMark.objects.filter(ballot=locked).delete()
        _purge_vote_tables()
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
        _lock_vote_tables(exclusive=True)
        check_manager(user, Period.objects.get(pk=period.pk), organization, action="ballot.run")
        locked = Ballot.objects.select_for_update().filter(pk=ballot.pk).first()
        _check_step(A.BALLOT_DISCARD, locked)
        meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
        eligible_ids = list(locked.eligible_voters.values_list("pk", flat=True))
        eligible = len(eligible_ids)
        voted = VoterMark.objects.filter(ballot=locked).count()
        _stamp_members(eligible_ids)
        BallotTally.objects.filter(ballot=locked).delete()
        VoterMark.objects.filter(ballot=locked).delete()
        locked.delete()
        _purge_vote_tables()
        meeting.version += 1
        meeting.save(update_fields=["version", "updated_at"])
        log_action(
            A.BALLOT_DISCARD,
            period=period,
            actor=user,
            data={"organization": organization.code, "voters": eligible, "voted": voted},
        )
    return voted
