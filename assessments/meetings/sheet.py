"""Reading a cell's meeting: its roster, each member's line with the rulebook's cap and the proposal
the count gives, the turnout and quorum of the online ballot."""

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from django.db.models import Q
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from members.models import Member
from vocabulary import Level

from ..core.errors import WorkflowError
from ..core.facts import period_parameters
from ..core.models import Assessment, Period
from ..core.text import lang
from ..evaluations import evaluate_assessments
from ..rulebooks import TaskStats, lowest
from .models import Ballot, BallotCount, Meeting, VoterMark

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


# The cell's view of each member's year, in percentages: the share of tasks completed, on time, beyond.
SHARE_FIELDS = ("tasks_completed", "tasks_on_time", "tasks_exceeding")


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


def share_label(name):
    """The name of a task-share column as the page and the messages show it."""
    return {
        "tasks_completed": _("Tasks completed (%)"),
        "tasks_on_time": _("Completed on time (%)"),
        "tasks_exceeding": _("Beyond requirements (%)"),
    }[name]


def meeting_task_shares(assessments, *, period=None, scope=None):
    """{assessment pk: TaskStats} of the task shares the cell's meeting recorded for these members'
    forms (fractions from 0 to 1); a member whose line gives no share completed is left out. One query.
    With `period` and `scope` (a long list: `core.facts.Scope`, whose subtree holds every form's
    organisation) the lines are found by a join on the subtree, not by an `IN` list of the forms; the
    answer may hold others of the subtree too.

    The cell's view: where it is given, the decision prefers it to the shares the member declared."""
    shares = {}
    if period is not None and scope is not None:
        chosen = Q(assessment__period=period, assessment__organization__path__startswith=scope.path)
    else:
        chosen = Q(assessment_id__in=[getattr(a, "pk", a) for a in assessments])
    rows = BallotCount.objects.filter(chosen, tasks_completed__isnull=False).values_list("assessment_id", *SHARE_FIELDS)
    for pk, completed, on_time, exceeding in rows:
        shares[pk] = TaskStats(
            completed=completed / 100,
            on_time=None if on_time is None else on_time / 100,
            exceeding=None if exceeding is None else exceeding / 100,
        )
    return shares


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
    return period_parameters(period).ballot_quorum


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


def roster_of(period, organization):
    """Every member's assessment of the cell, in name order: what the meeting's forms are bound to."""
    return _roster(period, organization)


def _roster(period, organization, *, lock=False):
    queryset = Assessment.objects.filter(period=period, organization=organization, member__isnull=False)
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    return list(queryset.select_related("member").order_by("member__sort_key", "pk"))


def read_lines(period, assessments, counts):
    """A Line for each classified assessment, with the rulebook's reading of every fact it needs (the
    cap and the findings): a fixed number of queries for the whole cell."""
    evaluations = evaluate_assessments(period, [a for a in assessments if a.classified])
    language = lang()
    lines = []
    for assessment in assessments:
        evaluation = evaluations.get(assessment.pk)
        if evaluation is None:
            continue
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
            # In name order, and the member's id after it: never the order of the rows. While the ballot
            # is open, from its voter marks; once closed, from the voters recorded by the closing.
            if ballot.state == Ballot.State.OPEN:
                voters = [
                    mark.voter
                    for mark in VoterMark.objects.filter(ballot=ballot)
                    .select_related("voter")
                    .order_by("voter__sort_key", "voter_id")
                ]
            else:
                voters = list(ballot.recorded_voters.order_by("sort_key", "pk"))
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
