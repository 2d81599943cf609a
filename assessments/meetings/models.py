"""The cell's meeting and its ballot: the minutes, each member's count, the online secret ballot with
its voter marks and tallies."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from members.models import Member
from organizations.models import Organization
from vocabulary import Level
from vocabulary.choices import model_choices

from ..core.models import Assessment, Period


class Meeting(models.Model):
    """A cell's review meeting in a period (hội nghị chi bộ) and its ballot minutes (biên bản kiểm phiếu):
    the attendance, and for each member to be classified the comments and the count of the ballots
    (`BallotCount`). Written by `assessments.meetings`, which checks the arithmetic."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    period = models.ForeignKey(Period, verbose_name=_("period"), on_delete=models.CASCADE, related_name="meetings")
    organization = models.ForeignKey(
        Organization, verbose_name=_("cell"), on_delete=models.PROTECT, related_name="meetings"
    )
    held_on = models.DateField(_("date of the meeting"))
    members_total = models.PositiveSmallIntegerField(_("members of the cell"))
    present = models.PositiveSmallIntegerField(_("members present"))
    absent = models.PositiveSmallIntegerField(_("members absent"))
    absentees = models.ManyToManyField(Member, verbose_name=_("absent members"), blank=True, related_name="+")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Optimistic concurrency, as on the forms: a save based on an older version is refused.
    version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("cell meeting")
        verbose_name_plural = _("cell meetings")
        constraints = [
            models.UniqueConstraint(
                fields=["period", "organization"],
                name="meeting_one_per_cell_period",
                violation_error_message=_("This cell already has a meeting record for this period."),
            ),
            models.CheckConstraint(
                name="meeting_attendance_adds_up",
                condition=Q(members_total=models.F("present") + models.F("absent")),
                violation_error_message=_("Present and absent members must add up to the members of the cell."),
            ),
        ]

    def __str__(self):
        return f"{self.organization} – {self.period}"


class BallotCount(models.Model):
    """One member's line of the ballot minutes: the comments (góp ý) and the count of the ballots.

    The numbers are all empty (not counted yet) or all filled; the database repeats the arithmetic
    that `assessments.meetings` checks with a message per field. A blank ballot for a member counts as
    invalid for that member, so the four levels add up to the valid ballots exactly."""

    class Source(models.TextChoices):
        PAPER = "paper", _("Paper ballots")
        ONLINE = "online", _("Online secret ballot")

    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="counts")
    assessment = models.ForeignKey(
        Assessment, verbose_name=_("assessment"), on_delete=models.PROTECT, related_name="ballot_counts"
    )
    comments = models.TextField(_("comments"), blank=True)
    issued = models.PositiveSmallIntegerField(_("ballots issued"), null=True, blank=True)
    received = models.PositiveSmallIntegerField(_("ballots received"), null=True, blank=True)
    valid = models.PositiveSmallIntegerField(_("valid ballots"), null=True, blank=True)
    htxsnv = models.PositiveSmallIntegerField("HTXSNV", null=True, blank=True)
    httnv = models.PositiveSmallIntegerField("HTTNV", null=True, blank=True)
    htnv = models.PositiveSmallIntegerField("HTNV", null=True, blank=True)
    khtnv = models.PositiveSmallIntegerField("KHTNV", null=True, blank=True)
    source = models.CharField(_("counted from"), max_length=8, choices=Source.choices, default=Source.PAPER)
    proposed_level = models.CharField(
        _("cell's proposed level"), max_length=8, choices=model_choices(Level), blank=True
    )
    # The cell's view of the member's year (percentages, 0 to 100): the share of tasks completed, of
    # those completed on time and of those beyond requirements, which the rules read (Answers.tasks).
    tasks_completed = models.DecimalField(
        _("tasks completed (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    tasks_on_time = models.DecimalField(
        _("tasks completed on time (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    tasks_exceeding = models.DecimalField(
        _("tasks completed beyond requirements (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("ballot count")
        verbose_name_plural = _("ballot counts")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "assessment"], name="ballot_count_one_per_member"),
            models.CheckConstraint(
                name="ballot_count_all_or_nothing",
                condition=Q(
                    issued__isnull=True,
                    received__isnull=True,
                    valid__isnull=True,
                    htxsnv__isnull=True,
                    httnv__isnull=True,
                    htnv__isnull=True,
                    khtnv__isnull=True,
                )
                | Q(
                    issued__isnull=False,
                    received__isnull=False,
                    valid__isnull=False,
                    htxsnv__isnull=False,
                    httnv__isnull=False,
                    htnv__isnull=False,
                    khtnv__isnull=False,
                ),
            ),
            models.CheckConstraint(
                name="ballot_count_received_within_issued",
                condition=Q(issued__isnull=True) | Q(received__lte=models.F("issued")),
            ),
            models.CheckConstraint(
                name="ballot_count_valid_within_received",
                condition=Q(issued__isnull=True) | Q(valid__lte=models.F("received")),
            ),
            models.CheckConstraint(
                name="ballot_count_task_shares_in_range",
                condition=(Q(tasks_completed__isnull=True) | Q(tasks_completed__gte=0, tasks_completed__lte=100))
                & (Q(tasks_on_time__isnull=True) | Q(tasks_on_time__gte=0, tasks_on_time__lte=100))
                & (Q(tasks_exceeding__isnull=True) | Q(tasks_exceeding__gte=0, tasks_exceeding__lte=100)),
            ),
            models.CheckConstraint(
                name="ballot_count_task_shares_add_up",
                condition=Q(tasks_completed__isnull=True, tasks_on_time__isnull=True, tasks_exceeding__isnull=True)
                | Q(
                    tasks_completed__isnull=False,
                    tasks_on_time__lte=models.F("tasks_completed"),
                    tasks_exceeding__lte=models.F("tasks_completed"),
                )
                | Q(tasks_completed__isnull=False, tasks_on_time__isnull=True, tasks_exceeding__isnull=True)
                | Q(
                    tasks_completed__isnull=False,
                    tasks_on_time__isnull=True,
                    tasks_exceeding__lte=models.F("tasks_completed"),
                )
                | Q(
                    tasks_completed__isnull=False,
                    tasks_exceeding__isnull=True,
                    tasks_on_time__lte=models.F("tasks_completed"),
                ),
            ),
            models.CheckConstraint(
                name="ballot_count_levels_add_up",
                condition=Q(issued__isnull=True)
                | Q(valid=models.F("htxsnv") + models.F("httnv") + models.F("htnv") + models.F("khtnv")),
            ),
        ]

    def __str__(self):
        return f"{self.meeting} – {self.assessment_id}"

    @property
    def counted(self):
        return self.issued is not None


class Ballot(models.Model):
    """An online secret ballot of a cell's meeting. Who may vote is fixed when it opens.

    Secrecy: while the ballot is open, that a member voted is a `VoterMark`; what was voted is only in
    `BallotTally`, counters per subject and level created at zero when the ballot opens and incremented
    in place. Neither table has a timestamp, and nothing in the tally is per vote, so nothing links the
    two. The database keeps more than the rows, though (the order of the rows, the transaction that
    wrote each version, old versions): `assessments.meetings.ballot` says how each of these is emptied
    of the votes. Once closed, the counts are in the minutes (`BallotCount`) and who voted in
    `recorded_voters`."""

    class State(models.TextChoices):
        OPEN = "open", _("Open for voting")
        CLOSED = "closed", _("Closed")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    meeting = models.OneToOneField(Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="ballot")
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.OPEN)
    eligible_voters = models.ManyToManyField(Member, verbose_name=_("eligible voters"), related_name="+")
    # Who voted, once the ballot is closed: written by the closing, all at once in the members' order,
    # from the voter marks, which are then deleted with the counters (the vote tables hold open ballots).
    recorded_voters = models.ManyToManyField(Member, verbose_name=_("members who voted"), related_name="+", blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("opened by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # The quorum: the cell's official members and the votes needed, as at the opening, then as they stood
    # at the closing, which the minutes keep: the roster and the period's parameters may change
    # afterwards, the record of the meeting must not. While the ballot is open the page reckons them anew.
    official_members = models.PositiveSmallIntegerField(_("official members of the cell"), null=True, blank=True)
    quorum_needed = models.PositiveSmallIntegerField(_("votes needed to close"), null=True, blank=True)

    class Meta:
        verbose_name = _("online secret ballot")
        verbose_name_plural = _("online secret ballots")

    def __str__(self):
        return str(self.meeting)


class VoterMark(models.Model):
    """That a member has voted in a ballot, and nothing else: no time, no trace of the vote.

    The key is random, not a number from a sequence, which would give the order of voting; the rows
    are written again in the order of their keys after every vote (`assessments.meetings.ballot`), so
    their place in the table gives no order either. Closing the ballot moves the marks to
    `Ballot.recorded_voters`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    ballot = models.ForeignKey(Ballot, verbose_name=_("ballot"), on_delete=models.CASCADE, related_name="voter_marks")
    voter = models.ForeignKey(Member, verbose_name=_("voter"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("voter mark")
        verbose_name_plural = _("voter marks")
        constraints = [models.UniqueConstraint(fields=["ballot", "voter"], name="voter_mark_one_per_voter")]

    def __str__(self):
        return f"{self.ballot_id}: {self.voter_id}"


class BallotTally(models.Model):
    """How many ballots chose `level` for `subject_assessment`, while the ballot is open. The rows are
    created at zero for every subject and level when the ballot opens; a vote only adds one to counters
    in place (F() updates), never inserts a row, so neither the rows nor their order say anything about
    who voted what. Closing the ballot copies the counts into the minutes (`BallotCount`) and deletes
    the rows."""

    ballot = models.ForeignKey(Ballot, verbose_name=_("ballot"), on_delete=models.CASCADE, related_name="tallies")
    subject_assessment = models.ForeignKey(
        Assessment, verbose_name=_("assessment"), on_delete=models.PROTECT, related_name="+"
    )
    level = models.CharField(_("level"), max_length=8, choices=model_choices(Level))
    count = models.PositiveIntegerField(_("ballots"), default=0)

    class Meta:
        verbose_name = _("ballot tally")
        verbose_name_plural = _("ballot tallies")
        constraints = [
            models.UniqueConstraint(
                fields=["ballot", "subject_assessment", "level"], name="ballot_tally_one_per_subject_level"
            )
        ]

    def __str__(self):
        return f"{self.ballot_id}: {self.subject_assessment_id} {self.level} {self.count}"
