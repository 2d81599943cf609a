"""The cell's meeting and its ballot: the minutes (biên bản kiểm phiếu), the proposal they give for each
member, and the online secret ballot (bỏ phiếu kín) that can fill them.

Every write is a service here: it checks who acts and the state of the period, checks the whole input
before it writes anything, writes inside one transaction and leaves audit entries.

Two choices, documented here because the regulations leave them to practice:

* **Blank ballots.** A ballot on which no level is ticked for a member is *invalid for that member*.
  So the four per-level counts add up exactly to the valid ballots, and the check is an equality.
* **The proposal.** A level is proposed when more than half (`PROPOSAL_THRESHOLD`) of the valid
  ballots are for that level or a better one; the best such level is taken. The rulebook then caps it
  (a member disciplined this year is KHTNV whatever the votes). The threshold is a module constant
  and not a period parameter: the rulebooks reject parameters they do not know.

* **A line not counted yet.** A member's line counts once its four level counts are typed. Until then
  the numbers shared by every line (ballots issued, received, valid, which "Fill in for every member"
  puts in) are not checked and not saved, so that the minutes can be saved while the counting goes on;
  the secretary is told which members are still to count.

Secrecy of the online ballot (see `ballot_vote`): who voted is a `VoterMark`, what was voted is only in
`BallotTally` counters created at zero when the ballot opens; a vote adds one in place and touches
every counter and every mark of the ballot, so no row, order or transaction stamp tells one vote from
another. Nothing of the tally is read before the ballot is closed: the page, the print view and the
.docx read the minutes (`BallotCount`), which the closing writes, and the admin does not register the
ballot's tables. Who has voted is shown, in name order (never in the order of voting): with no count
beside it, it says nothing of the votes.

The quorum of the online ballot (`ballot_close`). The Party Charter counts a cell's official members
when it sets the quorum of a vote, so the base here is **the cell's official members**: the members on
the period's roster of the cell who are official (`official_date` set) and active (an excused or
suspended member is not counted), whether or not they came to the meeting or have an account.
Counting only the voters on the list (those present with an account) would let a cell where two
members have an account decide for fifty with one vote, which is what the quorum is there to prevent.
The share is the period parameter `ballot_quorum` ("0.5": more than half; "1": all): the
ballot closes only when the votes are more than that share of the official members (`quorum_needed`).
A ballot that cannot reach it is not opened, and an open one that does not reach it can be stopped
unread (`ballot_discard`) so that the cell counts paper ballots instead. When it closes, the turnout
is kept on the ballot for the minutes. With few voters the tally still shows how they voted (one
voter's ballot is the whole tally): that is why the quorum, and not a smaller number, decides.
"""

import dataclasses
import datetime
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt

from members.models import Member
from organizations.access import scope_for

from .facts import member_facts_for
from .formview import fold_ascii, lang
from .models import Assessment, AuditEntry, Ballot, BallotCount, BallotTally, Meeting, Period, VoterMark
from .rulebooks import LeaderFacts, Level, MemberFacts, get_rulebook, lowest
from .services import ConflictError, WorkflowError
from .workflow import Actor, transition_allowed

# More than this share of the valid ballots must be for a level or better for it to be proposed.
PROPOSAL_THRESHOLD = Fraction(1, 2)
# A guard against typing slips (and the limits of the columns): no cell counts ten thousand ballots.
MAX_COUNT = 9999
MAX_COMMENT = 5000

LEVEL_FIELDS = (("htxsnv", Level.HTXSNV), ("httnv", Level.HTTNV), ("htnv", Level.HTNV), ("khtnv", Level.KHTNV))
LEVEL_NAMES = tuple(name for name, _level in LEVEL_FIELDS)
# The numbers that are the same for every member when one ballot paper lists them all.
SHARED_FIELDS = ("issued", "received", "valid")
COUNT_FIELDS = (*SHARED_FIELDS, *LEVEL_NAMES)
ATTENDANCE_FIELDS = ("members_total", "present", "absent")
# How many names a message lists before it says "and N more".
NAMES_SHOWN = 8
# The states whose proposal can no longer change: the grassroots level has decided.
FROZEN_STATES = (Assessment.State.DECIDED, Assessment.State.PUBLISHED)


class MeetingError(WorkflowError):
    """The minutes were refused; `field_errors` maps a field ("present", or "<public id>:<field>" for a
    member's line) to its messages. Nothing was saved."""

    def __init__(self, message, *, field_errors=None):
        super().__init__(message)
        self.field_errors = field_errors or {}


def row_key(assessment, name):
    return f"{assessment.public_id}:{name}"


def count_label(name):
    """The name of a count column as the page and the messages show it."""
    labels = {"issued": _("Ballots issued"), "received": _("Ballots received"), "valid": _("Valid ballots")}
    return labels.get(name) or name.upper()


def name_list(names):
    """'A, B, C' or, past NAMES_SHOWN, 'A, B, … and 12 more'."""
    names = list(names)
    if len(names) <= NAMES_SHOWN:
        return ", ".join(names)
    rest = len(names) - NAMES_SHOWN
    return ngettext("%(names)s and %(count)d more", "%(names)s and %(count)d more", rest) % {
        "names": ", ".join(names[:NAMES_SHOWN]),
        "count": rest,
    }


def show_date(day):
    return day.strftime("%d/%m/%Y")


# --- Reading: the roster, the rulebook's cap, the proposal ----------------------------------------------


def proposal_from_counts(counts, valid):
    """The best level that more than `PROPOSAL_THRESHOLD` of the valid ballots reach, counting the
    ballots for that level and every better one; None without valid ballots.

    `counts` maps each Level (or its code) to the ballots for it."""
    if not valid:
        return None
    cumulative = 0
    for level in Level.best_first():
        cumulative += counts.get(level, 0) or 0
        if cumulative > PROPOSAL_THRESHOLD * valid:
            return level
    return None


def capped_proposal(majority, evaluation):
    """The majority level under the rulebook: the best level at or below it that the rules allow.

    When a blocking finding without a cap forbids every level (a missing record), the majority level
    capped by the findings' cap is kept, and the findings are shown beside it."""
    if majority is None:
        return None
    if evaluation is None:
        return majority
    for level in Level.best_first():
        if level <= majority and evaluation.allowed(level):
            return level
    return lowest(majority, evaluation.cap)


@dataclass
class Line:
    """One member on the meeting page and in the minutes."""

    assessment: Assessment
    count: BallotCount | None
    evaluation: object = None
    cap: Level | None = None
    blocking: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    @property
    def member(self):
        return self.assessment.member

    @property
    def counted(self):
        return self.count is not None and self.count.counted

    @property
    def level_counts(self):
        if not self.counted:
            return {}
        return {level: getattr(self.count, name) for name, level in LEVEL_FIELDS}

    @property
    def majority(self):
        return proposal_from_counts(self.level_counts, self.count.valid) if self.counted else None

    @property
    def proposal(self):
        return capped_proposal(self.majority, self.evaluation)

    @property
    def frozen(self):
        return self.assessment.state in FROZEN_STATES

    @property
    def proposal_recorded(self):
        """The proposal is on the member's form (which the cell has reviewed)."""
        return self.assessment.state in (Assessment.State.CELL_REVIEWED, *FROZEN_STATES) and bool(
            self.assessment.cell_proposed_level
        )


@dataclass(frozen=True)
class Turnout:
    """Who could vote in the online ballot, who did, and the quorum it needs to be closed."""

    official: int  # the cell's official members: the base of the quorum
    eligible: int  # the voters on the list: official, active, present, with an account
    voted: int
    needed: int  # the fewest votes with which the ballot may be closed

    @property
    def reached(self):
        return self.voted >= self.needed

    @property
    def missing(self):
        return max(0, self.needed - self.voted)


def official_members(roster):
    """The base of the quorum: the members on the cell's roster who are official and active, whether
    present or not, with an account or not (see the module's docstring)."""
    return [a.member for a in roster if a.member.status == Member.Status.ACTIVE and a.member.official_date is not None]


def quorum_needed(official, share):
    """The fewest votes that are more than `share` of the `official` members: 13 of 25 and 3 of 4 for
    "0.5"; never more than all of them (so "1" means everyone), and at least one."""
    if official <= 0:
        return 1
    return min(official, int(Decimal(share) * official) + 1)


def ballot_quorum(period):
    """The period's `ballot_quorum` parameter (a share, "0.5" by default)."""
    return get_rulebook(period.regime).parameters(period.parameters, year=period.year).ballot_quorum


def quorum_rule(share):
    """The quorum in words: "more than half of the official members"."""
    share = Decimal(share)
    if share == Decimal("0.5"):
        return _("more than half of the official members")
    if share >= 1:
        return _("every official member")
    if share == 0:
        return _("at least one vote")
    percent = number_format((share * 100).normalize(), use_l10n=True)
    return _("more than %(percent)s%% of the official members") % {"percent": percent}


@dataclass
class Sheet:
    """The meeting page: the record (None before the first save), every member of the cell to be
    classified, those not classified, and the online ballot with its voters."""

    period: Period
    organization: object
    meeting: Meeting | None
    lines: list
    not_classified: list
    roster: list  # every member's assessment of the cell, for the attendance
    absentee_ids: set
    ballot: Ballot | None = None
    voters: list = field(default_factory=list)  # the members who have voted (not what), in name order
    eligible_count: int = 0
    turnout: Turnout | None = None  # of the online ballot
    quorum_share: Decimal = Decimal("0.5")  # the period's `ballot_quorum`

    @property
    def ballot_open(self):
        return self.ballot is not None and self.ballot.state == Ballot.State.OPEN

    @property
    def online(self):
        return self.ballot is not None

    @property
    def counts_editable(self):
        return self.ballot is None

    @property
    def any_counted(self):
        return any(line.counted for line in self.lines)


def _facts(assessment, facts):
    if assessment.subject_kind == Assessment.SubjectKind.LEADER:
        return LeaderFacts(**{f.name: getattr(facts, f.name) for f in dataclasses.fields(MemberFacts)})
    return facts


def _roster(period, organization, *, lock=False):
    queryset = Assessment.objects.filter(period=period, organization=organization, member__isnull=False)
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    return list(queryset.select_related("member").order_by("member__sort_key", "pk"))


def read_lines(period, assessments, counts):
    """A Line for each classified assessment, with the rulebook's reading of the member's records
    (the cap and the findings): six queries for the whole cell."""
    rulebook = get_rulebook(period.regime)
    params = rulebook.parameters(period.parameters, year=period.year)
    facts = member_facts_for([a.member for a in assessments], period.year)
    language = lang()
    lines = []
    for assessment in assessments:
        member_facts = _facts(assessment, facts[assessment.member_id])
        evaluation = rulebook.evaluate(assessment.subject_kind, member_facts, None, params)
        lines.append(
            Line(
                assessment=assessment,
                count=counts.get(assessment.pk),
                evaluation=evaluation,
                cap=evaluation.cap,
                blocking=[f.message(language) for f in evaluation.findings if f.severity == "block"],
                warnings=[f.message(language) for f in evaluation.findings if f.severity == "warn" and not f.unchecked],
            )
        )
    return lines


def meeting_sheet(period, organization):
    """Everything the meeting page, the print view and the .docx show: a fixed number of queries."""
    meeting = (
        Meeting.objects.filter(period=period, organization=organization).select_related("ballot", "recorded_by").first()
    )
    roster = _roster(period, organization)
    counts, absentee_ids, ballot, voters, eligible, turnout = {}, set(), None, [], 0, None
    share = ballot_quorum(period)
    if meeting is not None:
        counts = {c.assessment_id: c for c in BallotCount.objects.filter(meeting=meeting)}
        absentee_ids = set(meeting.absentees.values_list("pk", flat=True))
        ballot = getattr(meeting, "ballot", None)
        if ballot is not None:
            # In name order, and the member's id after it: never the marks' own order, which is the
            # order of voting.
            voters = [
                mark.voter
                for mark in VoterMark.objects.filter(ballot=ballot)
                .select_related("voter")
                .order_by("voter__sort_key", "voter_id")
            ]
            eligible = ballot.eligible_voters.count()
            if ballot.state == Ballot.State.CLOSED and ballot.official_members is not None:
                # The turnout as it stood at the closing, whatever has changed since.
                turnout = Turnout(ballot.official_members, eligible, len(voters), ballot.quorum_needed)
            else:
                official = len(official_members(roster))
                turnout = Turnout(official, eligible, len(voters), quorum_needed(official, share))
    classified = [a for a in roster if a.classified]
    return Sheet(
        period=period,
        organization=organization,
        meeting=meeting,
        lines=read_lines(period, classified, counts),
        not_classified=[a for a in roster if not a.classified],
        roster=roster,
        absentee_ids=absentee_ids,
        ballot=ballot,
        voters=voters,
        eligible_count=eligible,
        turnout=turnout,
        quorum_share=share,
    )


# --- Checking the minutes --------------------------------------------------------------------------------


@dataclass
class MeetingInput:
    """The minutes as typed: raw strings, checked and converted by `check_meeting`."""

    held_on: str = ""
    members_total: str = ""
    present: str = ""
    absent: str = ""
    absentees: list = field(default_factory=list)  # public ids of the absent members' assessments
    rows: dict = field(default_factory=dict)  # assessment public id -> {field name: raw string}


@dataclass
class CheckedMeeting:
    held_on: datetime.date
    members_total: int
    present: int
    absent: int
    absentee_member_ids: set
    rows: dict  # assessment pk -> {"comments": str, field: int | None}
    # Lines with shared numbers typed but no level count yet: not counted, their numbers not saved.
    pending: set = field(default_factory=set)  # assessment pks


def _number(raw, errors, key):
    """A whole number from the form, or None when empty; a message in `errors` when it is not one."""
    raw = (raw or "").strip()
    if raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        errors.setdefault(key, []).append(_("Please enter a whole number."))
        return False
    if value < 0:
        errors.setdefault(key, []).append(_("The number cannot be negative."))
        return False
    if value > MAX_COUNT:
        errors.setdefault(key, []).append(_("The number is too large (at most %(max)d).") % {"max": MAX_COUNT})
        return False
    return value


DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})$")
YEAR_MONTH_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def parse_date(raw):
    """A date written day/month/year (25/11/2026, 25-11-2026, 25.11.2026) or as the browser sends it
    (2026-11-25); None when it is not a date."""
    raw = (raw or "").strip()
    match = YEAR_MONTH_DAY.match(raw)
    if match:
        year, month, day = map(int, match.groups())
    else:
        match = DAY_MONTH_YEAR.match(raw)
        if not match:
            return None
        day, month, year = map(int, match.groups())
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def _date(raw, errors, key, *, year=None):
    """The date of the meeting: given, a real date, not after today and not before the year reviewed."""
    raw = (raw or "").strip()
    today = timezone.localdate()
    if not raw:
        errors.setdefault(key, []).append(
            _("Please enter the date of the meeting as day/month/year, for example %(example)s.")
            % {"example": show_date(today)}
        )
        return None
    value = parse_date(raw)
    if value is None:
        errors.setdefault(key, []).append(
            _(
                "“%(value)s” is not a date. Please write the date of the meeting as day/month/year, "
                "for example %(example)s."
            )
            % {"value": raw[:40], "example": show_date(today)}
        )
        return None
    if value > today:
        errors.setdefault(key, []).append(
            _("The date of the meeting (%(date)s) is after today (%(today)s). Please enter the day the cell met.")
            % {"date": show_date(value), "today": show_date(today)}
        )
        return None
    if year is not None and value.year < year:
        errors.setdefault(key, []).append(
            _("The date of the meeting (%(date)s) is before the year under review (%(year)d). Please check the year.")
            % {"date": show_date(value), "year": year}
        )
        return None
    return value


def missing_message():
    """The message of a number left empty in a line that is being counted."""
    return _("Please fill in this number.")


def check_counts(numbers, present, errors, key):
    """The arithmetic of one member's line; `numbers` maps each count field to an int, None (empty) or
    False (already refused). Messages go to `errors` under `key(field)`, and what the line as a whole
    lacks under `key("line")`. A line without any level count is not counted yet: nothing to check."""
    if all(numbers.get(name) is None for name in LEVEL_NAMES):
        return
    given = {name: value for name, value in numbers.items() if value is not None}
    missing = [name for name in COUNT_FIELDS if numbers.get(name) is None]
    for name in missing:
        errors.setdefault(key(name), []).append(missing_message())
    if missing:
        errors.setdefault(key("line"), []).append(
            _(
                "This line still lacks: %(fields)s. Fill them in, or empty the four level counts "
                "to leave this member for later."
            )
            % {"fields": ", ".join(count_label(name) for name in missing)}
        )
    if missing or any(value is False for value in given.values()):
        return
    issued, received, valid = numbers["issued"], numbers["received"], numbers["valid"]
    if isinstance(present, int) and present is not False and issued > present:
        errors.setdefault(key("issued"), []).append(
            _("Ballots issued (%(issued)d) cannot be more than the members present (%(present)d).")
            % {"issued": issued, "present": present}
        )
    if received > issued:
        errors.setdefault(key("received"), []).append(
            _("Ballots received (%(received)d) cannot be more than the ballots issued (%(issued)d).")
            % {"received": received, "issued": issued}
        )
    if valid > received:
        errors.setdefault(key("valid"), []).append(
            _("Valid ballots (%(valid)d) cannot be more than the ballots received (%(received)d).")
            % {"valid": valid, "received": received}
        )
    if valid == 0:
        errors.setdefault(key("valid"), []).append(
            _("With no valid ballot no level can be proposed: leave the line empty until the ballots are counted.")
        )
    total = sum(numbers[name] for name in LEVEL_NAMES)
    if total != valid:
        errors.setdefault(key("levels"), []).append(
            _(
                "The ballots for the four levels add up to %(total)d, but the valid ballots are %(valid)d. "
                "They must be equal: a ballot with no level ticked for this member is invalid for them."
            )
            % {"total": total, "valid": valid}
        )


def check_meeting(data, roster, *, year=None):
    """(CheckedMeeting, errors): every field of the minutes checked against the cell's roster.

    The errors map a field to its messages; the CheckedMeeting is only meaningful without errors.
    `year`, the year under review, bounds the date of the meeting from below."""
    errors = {}
    held_on = _date(data.held_on, errors, "held_on", year=year)
    numbers = {}
    for name in ATTENDANCE_FIELDS:
        value = _number(getattr(data, name), errors, name)
        if value is None:
            errors.setdefault(name, []).append(_("Please enter this number."))
        numbers[name] = value
    total, present, absent = numbers["members_total"], numbers["present"], numbers["absent"]
    if all(isinstance(v, int) and v is not False for v in (total, present, absent)):
        if total == 0:
            errors.setdefault("members_total", []).append(_("A cell meeting needs at least one member."))
        elif present + absent != total:
            errors.setdefault("members_total", []).append(
                _("Present (%(present)d) and absent (%(absent)d) must add up to the members of the cell (%(total)d).")
                % {"present": present, "absent": absent, "total": total}
            )
    by_public_id = {str(a.public_id): a for a in roster}
    absentee_ids = set()
    for public_id in data.absentees:
        assessment = by_public_id.get(str(public_id))
        if assessment is None:
            raise WorkflowError(_("A member in this list does not belong to this cell."))
        absentee_ids.add(assessment.member_id)
    if isinstance(absent, int) and absent is not False and len(absentee_ids) != absent:
        errors.setdefault("absentees", []).append(
            _(
                "You ticked %(ticked)d absent members, but the number absent is %(absent)d. "
                "Please tick each absent member."
            )
            % {"ticked": len(absentee_ids), "absent": absent}
        )
    rows, pending = {}, set()
    for public_id, raw in data.rows.items():
        assessment = by_public_id.get(str(public_id))
        if assessment is None or not assessment.classified:
            raise WorkflowError(_("A member in this list does not belong to this cell."))
        comments = (raw.get("comments") or "").replace("\r\n", "\n").strip()
        if len(comments) > MAX_COMMENT:
            errors.setdefault(row_key(assessment, "comments"), []).append(
                _("The comments are longer than %(max)d characters. Please shorten them.") % {"max": MAX_COMMENT}
            )
        line = {name: _number(raw.get(name), errors, row_key(assessment, name)) for name in LEVEL_NAMES}
        if all(value is None for value in line.values()):
            # Not counted yet: the shared numbers wait, unchecked and unsaved, for the level counts.
            line = dict.fromkeys(COUNT_FIELDS)
            if any((raw.get(name) or "").strip() for name in SHARED_FIELDS):
                pending.add(assessment.pk)
        else:
            line.update({name: _number(raw.get(name), errors, row_key(assessment, name)) for name in SHARED_FIELDS})
            check_counts(line, present, errors, lambda name, a=assessment: row_key(a, name))
        line["comments"] = comments
        rows[assessment.pk] = line
    checked = CheckedMeeting(
        held_on=held_on,
        members_total=total,
        present=present,
        absent=absent,
        absentee_member_ids=absentee_ids,
        rows=rows,
        pending=pending,
    )
    return checked, errors


def refusal_message(errors, roster):
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


# --- Recording -------------------------------------------------------------------------------------------


def check_manager(user, period, organization):
    """Refuse unless `user` manages the cell and the period takes meeting records (open or closed)."""
    if not organization.is_cell:
        raise WorkflowError(_("Meetings are recorded for cells."))
    if not scope_for(user).manages_organization(organization):
        raise WorkflowError(_("Only those who lead this cell may record its meeting."))
    if period.is_locked:
        raise WorkflowError(_("This review period is finalised: nothing can be changed."))
    if period.state not in (Period.State.OPEN, Period.State.CLOSED):
        raise WorkflowError(_("This review period is not open."))


def _lock_meeting(period, organization, base_version):
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


def _apply_proposals(period, user, lines, now):
    """Record each counted member's proposal on their form, through the workflow table: submitted forms
    (and forms already reviewed, when the minutes are corrected) become "reviewed by the cell"."""
    changed, entries, waiting = [], [], []
    for line in lines:
        proposal = line.proposal
        assessment = line.assessment
        if proposal is None:
            continue
        if not transition_allowed("record_proposal", assessment.state, {Actor.MANAGER}):
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
                period=period,
                assessment=assessment,
                actor=user,
                action="record_proposal",
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
    Assessment.objects.bulk_update(changed, ["cell_proposed_level", "state", "version", "updated_at"])
    AuditEntry.objects.bulk_create(entries)
    return len(changed), waiting


def meeting_record(*, period, organization, user, data, base_version):
    """Save the minutes of the cell's meeting and record the proposals they give. All or nothing:
    every field is checked first, and one wrong number saves nothing."""
    check_manager(user, period, organization)
    now = timezone.now()
    with transaction.atomic():
        # Again inside the transaction: the period may have been finalised since the page was loaded.
        check_manager(user, Period.objects.get(pk=period.pk), organization)
        meeting = _lock_meeting(period, organization, base_version)
        roster = _roster(period, organization, lock=True)
        checked, errors = check_meeting(data, roster, year=period.year)
        existing = {c.assessment_id: c for c in BallotCount.objects.filter(meeting=meeting)} if meeting else {}
        ballot = Ballot.objects.filter(meeting=meeting).first() if meeting else None
        by_pk = {a.pk: a for a in roster}
        pending = set(checked.pending)
        for pk, line in checked.rows.items():
            assessment = by_pk[pk]
            old = existing.get(pk)
            new_numbers = {name: line[name] for name in COUNT_FIELDS}
            old_numbers = {name: getattr(old, name) if old else None for name in COUNT_FIELDS}
            if ballot is not None or (old is not None and old.source == BallotCount.Source.ONLINE):
                # The online ballot's numbers are not typed: they stay as the ballot gave them.
                line.update(old_numbers)
                for name in (*COUNT_FIELDS, "levels", "line"):
                    errors.pop(row_key(assessment, name), None)
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
            elif (
                old is not None
                and old.counted
                and all(value is None for value in new_numbers.values())
                and not any(row_key(assessment, name) in errors for name in COUNT_FIELDS)
            ):
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
        meeting.held_on = checked.held_on
        meeting.members_total = checked.members_total
        meeting.present = checked.present
        meeting.absent = checked.absent
        meeting.recorded_by = user
        meeting.version += 1
        try:
            with transaction.atomic():
                meeting.save()
        except IntegrityError as error:
            # Two first saves at the same moment: the other one won.
            raise ConflictError(_("These minutes were saved elsewhere a moment ago. Reload the page first.")) from error
        meeting.absentees.set(checked.absentee_member_ids)
        counts = _write_counts(meeting, checked.rows, existing)
        lines = read_lines(period, [a for a in roster if a.classified], counts)
        for line in lines:
            if line.count is not None:
                line.count.proposed_level = line.proposal.value if line.proposal else ""
        BallotCount.objects.bulk_update([c for c in counts.values()], ["proposed_level"])
        proposed, waiting = _apply_proposals(period, user, lines, now)
        AuditEntry.objects.create(
            period=period,
            actor=user,
            action="meeting_record",
            data={
                "organization": organization.code,
                "held_on": str(checked.held_on),
                "members_total": checked.members_total,
                "present": checked.present,
                "absent": checked.absent,
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


def _write_counts(meeting, rows, existing):
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
        for name in COUNT_FIELDS:
            setattr(count, name, line[name])
    BallotCount.objects.bulk_create(new)
    BallotCount.objects.bulk_update(changed, ["comments", *COUNT_FIELDS])
    return {c.assessment_id: c for c in BallotCount.objects.filter(meeting=meeting)}


# --- The online secret ballot ----------------------------------------------------------------------------


def eligible_voters(roster, absentee_ids):
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


def ballot_open(*, period, organization, user):
    """Open the online secret ballot of the cell's meeting: the voters are fixed, and the tally gets a
    counter at zero for every member to be classified and every level. A ballot whose voters could not
    reach the quorum even if all of them voted is not opened."""
    check_manager(user, period, organization)
    with transaction.atomic():
        check_manager(user, Period.objects.get(pk=period.pk), organization)
        meeting = Meeting.objects.select_for_update().filter(period=period, organization=organization).first()
        if meeting is None:
            raise WorkflowError(_("Record the date and the attendance of the meeting first, then open the ballot."))
        if Ballot.objects.filter(meeting=meeting).exists():
            raise WorkflowError(_("This meeting already has an online ballot."))
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
        AuditEntry.objects.create(
            period=period,
            actor=user,
            action="ballot_open",
            data={
                "organization": organization.code,
                "voters": len(voters),
                "subjects": len(subjects),
                "official_members": official,
                "quorum_needed": needed,
            },
        )
    return ballot


def ballot_subjects(ballot):
    """The assessments on the ballot paper, in Vietnamese order (one query)."""
    return [
        tally.subject_assessment
        for tally in BallotTally.objects.filter(ballot=ballot, level=Level.HTXSNV.value)
        .select_related("subject_assessment__member")
        .order_by("subject_assessment__member__sort_key", "subject_assessment__pk")
    ]


def voter_for(user, ballot):
    """The member record of `user` if they may vote in `ballot`; None otherwise."""
    if not user or not user.is_authenticated:
        return None
    return ballot.eligible_voters.filter(user=user, user__is_active=True).first()


def ballot_vote(*, ballot, user, choices):
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


def quorum_refusal(turnout, share):
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


def ballot_close(*, ballot, user):
    """Close the ballot and write its tally into the minutes: for every member, issued = the voters on
    the list, received = valid = those who voted, and the count of each level; then the proposals.

    Refused, with nothing read from the tally, until the quorum is reached: more than the period's
    `ballot_quorum` share of the cell's official members have voted."""
    meeting = ballot.meeting
    period, organization = meeting.period, meeting.organization
    check_manager(user, period, organization)
    now = timezone.now()
    with transaction.atomic():
        check_manager(user, Period.objects.get(pk=period.pk), organization)
        locked = Ballot.objects.select_for_update().get(pk=ballot.pk)
        if locked.state != Ballot.State.OPEN:
            raise WorkflowError(_("This ballot is already closed."))
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
        AuditEntry.objects.create(
            period=period,
            actor=user,
            action="ballot_close",
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


def ballot_discard(*, ballot, user):
    """Stop an open ballot without counting it, so that the cell counts paper ballots instead (or opens
    a new ballot): the tally is deleted unread, with the marks of who voted. Only how many had voted is
    kept, in the audit trail."""
    meeting = ballot.meeting
    period, organization = meeting.period, meeting.organization
    check_manager(user, period, organization)
    with transaction.atomic():
        check_manager(user, Period.objects.get(pk=period.pk), organization)
        locked = Ballot.objects.select_for_update().filter(pk=ballot.pk).first()
        if locked is None or locked.state != Ballot.State.OPEN:
            raise WorkflowError(_("Only an open ballot can be stopped; this one is closed or already stopped."))
        meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
        eligible = locked.eligible_voters.count()
        voted = VoterMark.objects.filter(ballot=locked).count()
        BallotTally.objects.filter(ballot=locked).delete()
        VoterMark.objects.filter(ballot=locked).delete()
        locked.delete()
        meeting.version += 1
        meeting.save(update_fields=["version", "updated_at"])
        AuditEntry.objects.create(
            period=period,
            actor=user,
            action="ballot_discard",
            data={"organization": organization.code, "voters": eligible, "voted": voted},
        )
    return voted


# --- The minutes as a .docx -------------------------------------------------------------------------------


def _vietnamese_date(day):
    return f"ngày {day.day:02d} tháng {day.month:02d} năm {day.year}" if day else "ngày … tháng … năm ……"


def turnout_lines_vi(sheet):
    """The turnout of the online ballot as the minutes state it, in Vietnamese (the official language of
    the minutes whatever the screen's); empty for paper ballots."""
    turnout = sheet.turnout
    if turnout is None:
        return []
    lines = [
        "Hình thức: bỏ phiếu kín trực tuyến.",
        f"Số đảng viên chính thức của chi bộ: {turnout.official}. "
        f"Số đảng viên có quyền bỏ phiếu trực tuyến (có mặt, có tài khoản): {turnout.eligible}. "
        f"Số đảng viên đã bỏ phiếu: {turnout.voted}. "
        f"Số phiếu tối thiểu để kết thúc bỏ phiếu: {turnout.needed} "
        f"(trên {turnout.official} đảng viên chính thức).",
    ]
    if sheet.ballot_open:
        lines.append(
            "Cuộc bỏ phiếu đang mở: chưa kiểm phiếu; kết quả chỉ có sau khi kết thúc bỏ phiếu và đủ số phiếu tối thiểu."
        )
    return lines


def minutes_document(sheet, *, parent=None):
    """(bytes, filename) of the ballot minutes (biên bản kiểm phiếu) as an A4 .docx, in the official
    layout: the heading, the attendance, every member's counts and proposal, the comments, signatures.

    Official documents are written in Vietnamese whatever the language of the screen."""
    meeting, organization, period = sheet.meeting, sheet.organization, sheet.period
    document = Document()
    for section in document.sections:
        section.page_height, section.page_width = Cm(29.7), Cm(21)
        section.left_margin, section.right_margin = Cm(3), Cm(2)
        section.top_margin = section.bottom_margin = Cm(2)
    style = document.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(13)

    header = document.add_table(rows=1, cols=2)
    left, right = header.rows[0].cells
    superior = (parent.name if parent else period.organization.name).upper()
    left.text = f"{superior}\n{organization.name.upper()}\n*"
    right.text = f"ĐẢNG CỘNG SẢN VIỆT NAM\n……, {_vietnamese_date(meeting.held_on if meeting else None)}"
    for cell in (left, right):
        for paragraph in cell.paragraphs:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    left.paragraphs[0].runs[0].bold = True
    right.paragraphs[0].runs[0].bold = True

    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run("BIÊN BẢN KIỂM PHIẾU")
    run.bold = True
    run.font.size = Pt(14)
    subtitle = document.add_paragraph(f"Đánh giá, xếp loại chất lượng đảng viên năm {period.year}")
    subtitle.alignment = WD_ALIGN_PARAGRAPH.CENTER
    subtitle.runs[0].bold = True

    absent_names = [a.member.full_name for a in sheet.roster if a.member_id in sheet.absentee_ids]
    if meeting is not None:
        document.add_paragraph(
            f"Hội nghị {organization.name} họp {_vietnamese_date(meeting.held_on)} để kiểm điểm, đánh giá, "
            f"xếp loại chất lượng đảng viên năm {period.year}."
        )
        document.add_paragraph(
            f"Tổng số đảng viên của chi bộ: {meeting.members_total}. Có mặt: {meeting.present}. "
            f"Vắng mặt: {meeting.absent}" + (f" ({', '.join(absent_names)})." if absent_names else ".")
        )
        for text in turnout_lines_vi(sheet):
            document.add_paragraph(text)
    else:
        document.add_paragraph(f"Hội nghị {organization.name} họp ngày … tháng … năm ……")
        document.add_paragraph("Tổng số đảng viên: ……  Có mặt: ……  Vắng mặt: …… (………………………………)")

    document.add_paragraph().add_run("Kết quả kiểm phiếu:").bold = True
    headings = ["TT", "Họ và tên", "Phiếu phát ra", "Phiếu thu về", "Phiếu hợp lệ", "HTXSNV", "HTTNV", "HTNV", "KHTNV"]
    headings.append("Chi bộ đề xuất")
    table = document.add_table(rows=1, cols=len(headings))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headings, strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
    for number, line in enumerate(sheet.lines, start=1):
        cells = table.add_row().cells
        values = [str(number), line.member.full_name]
        for name in COUNT_FIELDS:
            value = getattr(line.count, name) if line.counted else None
            values.append("" if value is None else str(value))
        values.append(line.proposal.value if line.proposal else "")
        for cell, text in zip(cells, values, strict=True):
            cell.text = text
    document.add_paragraph(
        "Mức đề xuất: mức cao nhất được quá nửa số phiếu hợp lệ (tính cả số phiếu cho các mức cao hơn), "
        "trong giới hạn mức tối đa theo quy định."
    )
    comments = [
        (line.member.full_name, line.count.comments) for line in sheet.lines if line.count and line.count.comments
    ]
    if comments:
        document.add_paragraph().add_run("Ý kiến góp ý của chi bộ:").bold = True
        for name, text in comments:
            paragraph = document.add_paragraph()
            paragraph.add_run(f"{name}: ").bold = True
            paragraph.add_run(text)
    if sheet.not_classified:
        document.add_paragraph().add_run("Đảng viên không xếp loại:").bold = True
        for assessment in sheet.not_classified:
            document.add_paragraph(f"{assessment.member.full_name}: {assessment.exclusion_reason}")

    signatures = document.add_table(rows=1, cols=2)
    signatures.rows[0].cells[0].text = "TỔ KIỂM PHIẾU\n(Ký, ghi rõ họ tên)"
    signatures.rows[0].cells[1].text = "T/M CHI BỘ\nBÍ THƯ\n(Ký, ghi rõ họ tên)"
    for cell in signatures.rows[0].cells:
        for paragraph in cell.paragraphs:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        cell.paragraphs[0].runs[0].bold = True

    buffer = io.BytesIO()
    document.save(buffer)
    slug = "".join(ch if ch.isalnum() else "-" for ch in fold_ascii(organization.name)).strip("-")
    return buffer.getvalue(), f"bien-ban-kiem-phieu-{period.year}-{slug or 'chi-bo'}.docx"
