"""The review period, the assessment of one subject in it, and the audit trail of every change.

An assessment is one subject's review in one period: a member's self-review, a leader's, a
leadership collective's or a party organisation's. Its answers are data shaped by the rulebook's form
template (JSON), not model fields, so a new regime needs no migration.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from members.models import Member
from organizations.models import Organization
from vocabulary import ExclusionReason, Level
from vocabulary.choices import model_choices

from ..rulebooks import Schedule, available_rulebooks, exclusion_message
from .text import lang


class Period(models.Model):
    class State(models.TextChoices):
        PREPARING = "preparing", _("Preparing")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")
        FINALISED = "finalised", _("Finalised")
        PUBLISHED = "published", _("Published")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="periods",
        help_text=_("The committee whose whole subtree is reviewed, usually the city committee."),
    )
    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(
        _("quarter"), null=True, blank=True, help_text=_("Empty for the annual review.")
    )
    regime = models.CharField(_("regulation regime"), max_length=16)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.PREPARING)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    self_review_due = models.DateField(_("self-reviews due"), null=True, blank=True)
    cell_meeting_due = models.DateField(_("cell meetings due"), null=True, blank=True)
    grassroots_decision_due = models.DateField(_("grassroots decisions due"), null=True, blank=True)
    city_decision_due = models.DateField(_("city decision due"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("review period")
        verbose_name_plural = _("review periods")
        ordering = ["-year", "-quarter"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "year"],
                condition=Q(quarter__isnull=True),
                name="period_one_annual_per_organization_year",
                violation_error_message=_("This organisation already has a review period for this year."),
            ),
            models.UniqueConstraint(
                fields=["organization", "year", "quarter"],
                condition=Q(quarter__isnull=False),
                name="period_one_per_organization_quarter",
                violation_error_message=_("This organisation already has a review period for this quarter."),
            ),
            models.CheckConstraint(
                name="period_quarter_range",
                condition=Q(quarter__isnull=True) | Q(quarter__gte=1, quarter__lte=4),
                violation_error_message=_("The quarter must be between 1 and 4."),
            ),
            models.CheckConstraint(
                name="period_year_range",
                condition=Q(year__gte=2000, year__lte=2200),
                violation_error_message=_("The year is not plausible."),
            ),
        ]

    def __str__(self):
        # Without the organisation's name: lists and filters show periods without joining it.
        if self.quarter:
            return _("Review %(year)s, quarter %(quarter)s") % {"year": self.year, "quarter": self.quarter}
        return _("Review %(year)s") % {"year": self.year}

    @property
    def is_locked(self):
        return self.state in (self.State.FINALISED, self.State.PUBLISHED)

    @property
    def accepts_self_reviews(self):
        return self.state == self.State.OPEN

    @property
    def schedule(self) -> Schedule:
        """The period's dates as the rulebook reads them (`schedule_findings`, `meeting_findings`)."""
        return Schedule(
            year=self.year,
            quarter=self.quarter,
            self_review_due=self.self_review_due,
            cell_meeting_due=self.cell_meeting_due,
            grassroots_decision_due=self.grassroots_decision_due,
            city_decision_due=self.city_decision_due,
        )

    def clean(self):
        super().clean()
        if self.regime and self.regime not in {r.code for r in available_rulebooks()}:
            raise ValidationError({"regime": _("Unknown regulation regime.")})


class Assessment(models.Model):
    class SubjectKind(models.TextChoices):
        MEMBER = "member", _("Party member")
        LEADER = "leader", _("Leader or manager")
        COLLECTIVE = "collective", _("Leadership collective")
        ORGANIZATION = "organization", _("Party organisation")

    class State(models.TextChoices):
        NOT_STARTED = "not_started", _("Not started")
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        RETURNED = "returned", _("Returned for revision")
        CELL_REVIEWED = "cell_reviewed", _("Reviewed by the cell")
        DECIDED = "decided", _("Decided")
        PUBLISHED = "published", _("Published")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    period = models.ForeignKey(Period, verbose_name=_("period"), on_delete=models.CASCADE, related_name="assessments")
    subject_kind = models.CharField(_("kind of subject"), max_length=16, choices=SubjectKind.choices)
    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assessments",
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="assessments",
        help_text=_("The organisation reviewed, or the member's cell (at the opening, or since a transfer)."),
    )
    # The cell a member's open assessment left when the member was transferred while the period was
    # open (the latest such move): the receiving cell classifies (HD 21 tiết 6), the former one comments.
    former_organization = models.ForeignKey(
        Organization,
        verbose_name=_("former organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The cell the member was transferred from while the period was open."),
    )
    form_variant = models.CharField(_("form"), max_length=16, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.NOT_STARTED)
    classified = models.BooleanField(_("to be classified"), default=True)
    # Why a subject is not classified: the rule of the regulation (its id, the reason and what its message
    # cites, from which the message is written in the reader's language), or the board's own reason.
    exclusion_reason = models.CharField(
        _("reason for not classifying"), max_length=20, choices=model_choices(ExclusionReason), blank=True
    )
    exclusion_rule = models.CharField(
        _("rule"),
        max_length=40,
        blank=True,
        help_text=_("The rule of the regulation that keeps the subject out of the classification."),
    )
    exclusion_values = models.JSONField(
        _("cited in the reason"),
        default=dict,
        blank=True,
        help_text=_("The date of admission or founding and the number of months, as the reason cites them."),
    )
    exclusion_note = models.CharField(
        _("the board's reason"),
        max_length=255,
        blank=True,
        help_text=_("Written by the board when it decides who is classified against the rules."),
    )
    exclusion_overridden = models.BooleanField(_("decided by the board"), default=False)
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    self_level = models.CharField(_("self-proposed level"), max_length=8, choices=model_choices(Level), blank=True)
    return_reason = models.TextField(_("reason for return"), blank=True)
    cell_proposed_level = models.CharField(
        _("cell's proposed level"), max_length=8, choices=model_choices(Level), blank=True
    )
    decided_level = models.CharField(_("decided level"), max_length=8, choices=model_choices(Level), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reopened = models.BooleanField(
        _("reopened by the board"),
        default=False,
        help_text=_("A finalised subject the board reopened, with a reason, so that its level can be decided again."),
    )
    # Re-grading (QĐ 366, Điều 15): the board's decision that reopens a finalised subject (Mẫu 03 in 2025)
    # and the level the subject had before it; the new level is `decided_level`. Earlier re-gradings are
    # in the history.
    regrading_reference = models.CharField(
        _("re-grading decision"),
        max_length=120,
        blank=True,
        help_text=_("The number and date of the board's decision to grade the subject again."),
    )
    regraded_from = models.CharField(
        _("level before re-grading"), max_length=8, choices=model_choices(Level), blank=True
    )
    decision_note = models.TextField(
        _("reason for the decision"), blank=True, help_text=_("Required when a warning of the rules is set aside.")
    )
    # An organisation or collective decided before a level below it changed, whose rules no longer
    # allow its level: decided again (confirmed) before the period can be finalised.
    to_confirm = models.BooleanField(
        _("to confirm"),
        default=False,
        help_text=_("A level decided below changed, and the rules no longer allow this decided level."),
    )
    to_confirm_reason = models.TextField(_("why it is to confirm"), blank=True)
    filled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last filled by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    on_paper = models.BooleanField(
        _("handed in on paper"),
        default=False,
        help_text=_("The member wrote the self-review on paper; the cell keeps the paper copy."),
    )
    # Optimistic concurrency: each save of the answers increments it; a save based on an older
    # version is refused, so a stale browser tab cannot overwrite newer text.
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        constraints = [
            models.UniqueConstraint(
                fields=["period", "member", "subject_kind"],
                condition=Q(member__isnull=False),
                name="assessment_one_per_member_kind",
            ),
            models.UniqueConstraint(
                fields=["period", "organization", "subject_kind"],
                condition=Q(member__isnull=True),
                name="assessment_one_per_organization_kind",
            ),
            models.CheckConstraint(
                name="assessment_member_matches_kind",
                condition=(Q(subject_kind__in=["member", "leader"]) & Q(member__isnull=False))
                | (Q(subject_kind__in=["collective", "organization"]) & Q(member__isnull=True)),
            ),
        ]
        indexes = [
            # The cell dashboard: every assessment of one period and one cell. With the columns the counts
            # of a subtree read (the levels below an organisation, the statistics, the tallies of a
            # decision screen): PostgreSQL counts them from the index alone (an index-only scan), not
            # from the forms' wide rows (a form's row holds its answers): a city of 500,000 members'
            # levels below its grassroots organisations in 0.1 s instead of 0.3. SQLite ignores `include`.
            models.Index(
                fields=["period", "organization", "state"],
                include=[
                    "member",
                    "subject_kind",
                    "classified",
                    "decided_level",
                    "cell_proposed_level",
                    "self_level",
                    "reopened",
                ],
                name="assessment_period_org_state",
            ),
            # The levels of a subtree's organisations and collectives (a ranking's, the statistics'): read
            # from this index alone, not found among the members' forms of the period. (The unique
            # constraint on the same columns cannot hold them: SQLite would not build it at all.)
            models.Index(
                fields=["period", "organization", "subject_kind"],
                include=["classified", "decided_level", "self_level", "reopened"],
                condition=Q(member__isnull=True),
                name="assessment_organization_levels",
            ),
            # The members of a period counted by organisation, in the order they are grouped: their levels
            # (the levels below the organisations of a ranking, the statistics' years) and their progress
            # (classified, handed in, proposed, decided: the statistics). PostgreSQL counts them from this
            # index alone as it reads it (no hash of the groups), and the index is small: its keys repeat
            # (a cell's members in the same state at one level), and a B-tree keeps each key once with its
            # rows (not when it has included columns). A city of 500,000 members: 12 MB, its levels counted
            # in 52 ms instead of 164, its progress in 70 instead of 145 (the covering index above, 86 MB,
            # read whole).
            models.Index(
                fields=["period", "organization", "decided_level", "classified", "state", "cell_proposed_level"],
                condition=Q(member__isnull=False),
                name="assessment_member_progress",
            ),
            # The year-end lists of one level (KHTNV two years running, HTXSNV for the awards), a country's
            # by province: the few of the level found without reading the millions of the period. Only
            # those levels are in it (nothing is added to it when a period opens).
            models.Index(
                fields=["period", "decided_level"],
                # The award lists' counts read these too (from the index alone).
                include=["organization", "member", "classified"],
                condition=Q(decided_level__in=["KHTNV", "HTXSNV"]),
                name="assessment_period_list_level",
            ),
            # The board's roster: the subjects not classified, and those the board classified against the
            # rules. A few thousand of a province's period, found without reading its 100,000 forms (a city
            # of 500,000 members: the roster's page and its count read 519,000 rows to keep 14,000). Only
            # those subjects are in it.
            models.Index(
                fields=["period", "subject_kind", "organization"],
                condition=Q(classified=False) | Q(exclusion_overridden=True),
                name="assessment_roster",
            ),
        ]

    def __str__(self):
        subject = self.member or self.organization
        return f"{subject} ({self.get_subject_kind_display()}, {self.period.year})"

    @property
    def subject_name(self):
        return self.member.full_name if self.member_id else self.organization.name

    @property
    def regrading_text(self):
        """The re-grading, when the subject was graded again: "HTTNV → HTNV (QĐ số 12, 05/02/2026)"."""
        if not self.regraded_from:
            return ""
        text = f"{self.regraded_from} → {self.decided_level or '…'}"
        return f"{text} ({self.regrading_reference})" if self.regrading_reference else text

    @staticmethod
    def exclusion_fields(exclusion):
        """The fields that keep a subject out of the classification by the rulebook's `exclusion` (None:
        classified)."""
        if exclusion is None:
            return {"classified": True, "exclusion_reason": "", "exclusion_rule": "", "exclusion_values": {}}
        return {
            "classified": False,
            "exclusion_reason": exclusion.reason.value,
            "exclusion_rule": exclusion.rule_id,
            "exclusion_values": dict(exclusion.values),
        }

    def exclusion_text_in(self, language):
        """Why the subject is not classified, in `language` ("vi" or "en"): the rule's message, then the
        board's reason if it wrote one; empty if nothing keeps it out."""
        parts = []
        if self.exclusion_rule:
            parts.append(exclusion_message(self.exclusion_rule, self.exclusion_reason, self.exclusion_values, language))
        if self.exclusion_note:
            parts.append(self.exclusion_note)
        return "; ".join(parts)

    @property
    def exclusion_text(self):
        """Why the subject is not classified, in the language of the page."""
        return self.exclusion_text_in(lang())


class MemberLevelCount(models.Model):
    """How many members' forms of a period, classified, an organisation holds at each decided level ("" for
    not decided yet). Kept by the database itself: triggers on the forms' table (migration 0024) change it
    with every write of a form, whatever makes it (the ORM, `UPDATE … FROM (VALUES …)`, COPY), in the same
    transaction. The levels below a ranking's organisations are summed from these rows (a cell's few), not
    counted from the members' forms: the 485,000 members under a city's root were 55 ms of its ranking.

    No foreign-key constraints: a form's row may be deleted after its period's or its organisation's (a
    period deleted whole), and its count is then lowered, never refused. A count that falls to 0 stays,
    as 0."""

    period = models.ForeignKey(Period, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    decided_level = models.CharField(max_length=8, blank=True)
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["period", "organization", "decided_level"], name="member_level_count_key")
        ]

    def __str__(self):
        return f"{self.period_id} {self.organization_id} {self.decided_level or '-'}: {self.n}"


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValidationError(_("The audit trail cannot be changed."))

    def delete(self):
        raise ValidationError(_("The audit trail cannot be deleted."))


class AuditEntry(models.Model):
    """One change of state or decision: who, on whose behalf, when, from, to, and why. Append-only."""

    class Action(models.TextChoices):
        """Every action the services write, with its label in the history and the admin.

        Not the field's `choices`: the stored strings stay as they are, and an action added elsewhere
        without a label here still shows (as its code) rather than failing. The context "history"
        keeps these labels apart from the states and buttons of the same English words."""

        OPEN = "open", pgettext_lazy("history", "Review period opened")
        CLOSE = "close", pgettext_lazy("history", "Review period closed")
        FINALISE = "finalise", pgettext_lazy("history", "Results finalised")
        PUBLISH = "publish", pgettext_lazy("history", "Results published")
        REOPEN = "reopen", pgettext_lazy("history", "Reopened by the board for a new decision")
        RECHECK_OPEN = "recheck_open", pgettext_lazy("history", "Matter to re-check recorded")
        RECHECK_RESOLVE = "recheck_resolve", pgettext_lazy("history", "Matter to re-check resolved")
        REMIND = "remind", pgettext_lazy("history", "Reminders sent")
        SAVE = "save", pgettext_lazy("history", "Draft saved")
        SUBMIT = "submit", pgettext_lazy("history", "Submitted")
        RETURN = "return", pgettext_lazy("history", "Returned for revision")
        ANALYSIS = "analysis", pgettext_lazy("history", "Analysis form handed in")
        MEETING_RECORD = "meeting_record", pgettext_lazy("history", "Cell meeting minutes recorded")
        BALLOT_OPEN = "ballot_open", pgettext_lazy("history", "Online secret ballot opened")
        BALLOT_CLOSE = "ballot_close", pgettext_lazy("history", "Online secret ballot closed")
        BALLOT_DISCARD = "ballot_discard", pgettext_lazy("history", "Online secret ballot stopped without counting")
        RECORD_PROPOSAL = "record_proposal", pgettext_lazy("history", "Cell's proposal recorded")
        DECIDE = "decide", pgettext_lazy("history", "Level decided")
        RECHECK = "recheck", pgettext_lazy("history", "To confirm again: a level decided below changed")
        CONFIRM_AGAIN = "confirm_again", pgettext_lazy("history", "Confirmed again by the board after finalising")
        LOWER_TO_CAP = (
            "lower_to_cap",
            pgettext_lazy("history", "Re-graded by the board to the level the rules allow after finalising"),
        )
        QUOTA_EXCEPTION = "quota_exception", pgettext_lazy("history", "Decided above the quota, with a reason")
        CLASSIFICATION_OVERRIDE = (
            "classification_override",
            pgettext_lazy("history", "Board's decision on whether to classify"),
        )
        ACCOUNTS_CREATE = "accounts_create", pgettext_lazy("history", "Accounts created")
        CODE_REISSUE = "code_reissue", pgettext_lazy("history", "New sign-in codes issued")
        SIGNIN_UNLOCK = "signin_unlock", pgettext_lazy("history", "Sign-in pause lifted")
        IMPORT_MEMBERS = "import_members", pgettext_lazy("history", "Party members imported")
        IMPORT_ORGANIZATIONS = "import_organizations", pgettext_lazy("history", "Organisations imported")
        TRANSFER = "transfer", pgettext_lazy("history", "Transferred to another cell")
        TRANSFER_COMMENT = "transfer_comment", pgettext_lazy("history", "Former cell's comment recorded")
        JOB_FAILED = "job_failed", pgettext_lazy("history", "Background job failed")
        JOB_CANCELLED = "job_cancelled", pgettext_lazy("history", "Background job cancelled")

    # Acts done for the member, in the member's place: a secretary writing a member's self-review.
    # Every other act (a return, a proposal, a decision) is the actor's own.
    ON_BEHALF_ACTIONS = (Action.SAVE, Action.SUBMIT)

    # No period: an act that belongs to no year (accounts created, codes reissued, an import).
    period = models.ForeignKey(
        Period, verbose_name=_("period"), null=True, blank=True, on_delete=models.PROTECT, related_name="audit"
    )
    assessment = models.ForeignKey(
        Assessment,
        verbose_name=_("assessment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    on_behalf_of = models.ForeignKey(
        Member,
        verbose_name=_("on behalf of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    action = models.CharField(_("action"), max_length=40)
    from_state = models.CharField(_("from"), max_length=16, blank=True)
    to_state = models.CharField(_("to"), max_length=16, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        ordering = ["at", "pk"]
        indexes = [
            models.Index(fields=["assessment", "at"], name="audit_assessment_at"),
            # The quota exceptions of a period (every decision screen reads its group's latest), found
            # without reading the period's hundreds of thousands of entries; only they are in it.
            models.Index(
                fields=["period", "at"], condition=Q(action="quota_exception"), name="audit_period_quota_exception"
            ),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"

    @property
    def action_label(self):
        return label_for_action(self.action)

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("The audit trail cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("The audit trail cannot be deleted."))


def label_for_action(action):
    """The label of a stored action string, in the current language; the string itself if unknown."""
    try:
        return AuditEntry.Action(action).label
    except ValueError:
        return action
