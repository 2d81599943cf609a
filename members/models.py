"""Party members and the records that matter for a year's review.

A member record outlives every review: the reviews refer to it, never the other way round.
"""

import datetime
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from organizations.models import Organization
from organizations.vietnamese import fold, name_sort_key
from vocabulary import Level
from vocabulary.choices import model_choices

# The organisations a member may head as their secretary beyond their own cell.
HEADED_COMMITTEE_KINDS = (
    Organization.Kind.CITY_COMMITTEE,
    Organization.Kind.GRASSROOTS_COMMITTEE,
    Organization.Kind.SECTION_COMMITTEE,
)


class MemberQuerySet(models.QuerySet):
    def under(self, organization):
        """Every member whose cell lies in the subtree of `organization`: one query at any depth."""
        return self.filter(cell__path__startswith=organization.path)

    def vietnamese_order(self):
        return self.order_by("sort_key", "pk")


class Member(models.Model):
    class Gender(models.TextChoices):
        MALE = "male", _("Male")
        FEMALE = "female", _("Female")

    class Occupation(models.TextChoices):
        CIVIL_SERVANT = "civil_servant", _("Cadre, civil servant or public employee")
        ARMED_FORCES = "armed_forces", _("Armed forces")
        WORKER = "worker", _("Worker")
        FARMER = "farmer", _("Farmer")
        RETIRED = "retired", _("Retired")
        STUDENT = "student", _("Student")
        PRIVATE_SECTOR = "private_sector", _("Private sector")
        OTHER = "other", _("Other")

    class PartyPost(models.TextChoices):
        NONE = "", _("None")
        SECRETARY = "secretary", _("Secretary")
        DEPUTY_SECRETARY = "deputy_secretary", _("Deputy secretary")
        COMMITTEE_MEMBER = "committee_member", _("Committee member")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        EXCUSED = "excused", _("Excused from work and party activities")
        SUSPENDED = "suspended", _("Suspended from party activities")
        TRANSFERRED_OUT = "transferred_out", _("Transferred out")
        DECEASED = "deceased", _("Deceased")
        REMOVED = "removed", _("Removed")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    full_name = models.CharField(_("full name"), max_length=120)
    search_name = models.CharField(max_length=120, editable=False, db_index=True)
    sort_key = models.CharField(max_length=400, editable=False)
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices)
    date_of_birth = models.DateField(_("date of birth"))
    card_number = models.CharField(_("party card number"), max_length=20, unique=True)
    admission_date = models.DateField(_("admission date"))
    official_date = models.DateField(
        _("official date"), null=True, blank=True, help_text=_("Empty while the member is probationary.")
    )
    cell = models.ForeignKey(
        Organization,
        verbose_name=_("cell"),
        on_delete=models.PROTECT,
        related_name="members",
        limit_choices_to={"kind__in": Organization.CELL_KINDS},
    )
    work_unit = models.CharField(_("work unit"), max_length=255, blank=True)
    occupation = models.CharField(_("occupation group"), max_length=20, choices=Occupation.choices)
    party_post = models.CharField(_("party post"), max_length=20, choices=PartyPost.choices, blank=True)
    # The party post is held in the member's cell; a committee above it is headed by one of the members of
    # its subtree: its secretary, who is reviewed as a leader held to the committee's level (L-UNIT,
    # L-NOT-ABOVE). A cell's secretary heads the cell by the party post alone.
    headed_committee = models.ForeignKey(
        Organization,
        verbose_name=_("secretary of the committee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        limit_choices_to={"kind__in": HEADED_COMMITTEE_KINDS},
        help_text=_(
            "The party committee this member heads as its secretary (a grassroots or section committee, the "
            "city committee). The member belongs to a cell under it and is reviewed as a leader."
        ),
    )
    government_post = models.CharField(_("government post"), max_length=255, blank=True)
    is_leader = models.BooleanField(_("leader or manager"), default=False)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE)
    status_since = models.DateField(_("status since"), null=True, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="member",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("party member")
        verbose_name_plural = _("party members")
        ordering = ["sort_key", "pk"]
        constraints = [
            models.CheckConstraint(
                name="member_official_after_admission",
                condition=Q(official_date__isnull=True) | Q(official_date__gte=F("admission_date")),
                violation_error_message=_("The official date cannot be before the admission date."),
            ),
            models.CheckConstraint(
                name="member_born_before_admission",
                condition=Q(admission_date__gt=F("date_of_birth")),
                violation_error_message=_("The admission date must be after the date of birth."),
            ),
            models.UniqueConstraint(
                fields=["headed_committee"],
                condition=Q(headed_committee__isnull=False),
                name="member_one_secretary_per_committee",
                violation_error_message=_("Another member is already the secretary of this committee."),
            ),
        ]
        indexes = [
            # Member lists of a cell, in Vietnamese order.
            models.Index(fields=["cell", "sort_key"], name="member_cell_sort"),
            # The admin and the lists sort the whole scope by name.
            models.Index(fields=["sort_key"], name="member_sort"),
        ]

    def __str__(self):
        return self.full_name

    def fill_derived(self):
        """Compute the stored search and sort keys; bulk creation calls this since it skips save()."""
        self.full_name = " ".join((self.full_name or "").split())
        self.search_name = fold(self.full_name)
        self.sort_key = name_sort_key(self.full_name)
        self.card_number = (self.card_number or "").strip()

    def save(self, *args, **kwargs):
        self.fill_derived()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "full_name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "search_name", "sort_key"}
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        errors = {}
        if self.date_of_birth and self.admission_date and self.admission_date <= self.date_of_birth:
            errors["admission_date"] = _("The admission date must be after the date of birth.")
        if self.admission_date and self.official_date and self.official_date < self.admission_date:
            errors["official_date"] = _("The official date cannot be before the admission date.")
        if self.cell_id and self.cell.kind not in Organization.CELL_KINDS:
            errors["cell"] = _("A member belongs to a cell, not to a committee.")
        if self.headed_committee_id:
            errors.update(self._headed_committee_errors())
        if errors:
            raise ValidationError(errors)

    def _headed_committee_errors(self):
        committee = self.headed_committee
        if committee.kind not in HEADED_COMMITTEE_KINDS:
            return {"headed_committee": _("Choose a committee: a cell's secretary is given by the party post.")}
        if self.cell_id and not self.cell.path.startswith(committee.path):
            return {"headed_committee": _("The secretary of a committee belongs to a cell under it.")}
        if not self.is_leader:
            return {"is_leader": _("The secretary of a committee is reviewed as a leader: tick “leader or manager”.")}
        return {}

    @property
    def is_probationary(self):
        return self.official_date is None

    @property
    def given_name(self):
        return self.full_name.split()[-1] if self.full_name else ""


class YearRecord(models.Model):
    """Common shape of the records that the review of a year reads."""

    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.CASCADE)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        self.validate_once_a_year()

    def validate_once_a_year(self):
        """The constraints on (member, year), checked here with their message: the member's admin page
        edits these records inline, and an inline form leaves the member out of the constraints it checks
        (a second record for a year would otherwise fail in the database, not on the form)."""
        if not self.member_id or getattr(self, "year", None) is None:
            return
        for constraint in self._meta.constraints:
            if isinstance(constraint, models.UniqueConstraint) and set(constraint.fields) == {"member", "year"}:
                others = type(self)._default_manager.filter(member_id=self.member_id, year=self.year)
                if others.exclude(pk=self.pk).exists():
                    raise ValidationError({"year": constraint.violation_error_message})


class DisciplineDecision(YearRecord):
    class Form(models.TextChoices):
        REPRIMAND = "reprimand", _("Reprimand")
        WARNING = "warning", _("Warning")
        DISMISSAL = "dismissal", _("Dismissal from post")
        EXPULSION = "expulsion", _("Expulsion")

    decided_on = models.DateField(_("decision date"))
    form = models.CharField(_("form of discipline"), max_length=12, choices=Form.choices)
    reason = models.TextField(_("reason"))
    in_official_duties = models.BooleanField(
        _("violation in official duties"), default=False, help_text=_("The 2025 rules count these separately.")
    )
    violation_reference = models.CharField(
        _("violation"),
        max_length=120,
        blank=True,
        help_text=_("Decisions with the same reference concern one violation, which counts once."),
    )
    violation_year = models.PositiveSmallIntegerField(
        _("year of the violation"), null=True, blank=True, help_text=_("Leave empty when it is the decision's year.")
    )
    counted_in_earlier_year = models.BooleanField(
        _("already counted in an earlier year"),
        default=False,
        help_text=_("The violation already lowered the level of an earlier year: it does not count again."),
    )

    class Meta:
        verbose_name = _("discipline decision")
        verbose_name_plural = _("discipline decisions")
        default_related_name = "discipline_decisions"
        ordering = ["-decided_on"]

    def __str__(self):
        return f"{self.get_form_display()} ({self.decided_on:%d/%m/%Y})"

    def clean(self):
        super().clean()
        if self.decided_on and self.violation_year and self.violation_year > self.decided_on.year:
            raise ValidationError(
                {"violation_year": _("The violation cannot come after the decision that disciplines it.")}
            )
        if self.decided_on and self.decided_on > datetime.date.today():
            raise ValidationError({"decided_on": _("The decision date cannot be in the future.")})


class Transfer(YearRecord):
    """A move between cells. The member's current cell is on the member; this keeps the history."""

    transferred_on = models.DateField(_("transfer date"))
    from_cell = models.ForeignKey(
        Organization, verbose_name=_("from cell"), on_delete=models.PROTECT, related_name="transfers_out"
    )
    to_cell = models.ForeignKey(
        Organization, verbose_name=_("to cell"), on_delete=models.PROTECT, related_name="transfers_in"
    )
    former_cell_comment = models.TextField(
        _("former cell's written comment"),
        blank=True,
        help_text=_("Required before classifying a member who spent 6 months or more of the year in the former cell."),
    )

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        default_related_name = "transfers"
        ordering = ["-transferred_on"]
        constraints = [
            models.CheckConstraint(
                name="transfer_between_different_cells",
                condition=~Q(from_cell=F("to_cell")),
                violation_error_message=_("A transfer must be between two different cells."),
            ),
        ]

    def __str__(self):
        return f"{self.from_cell} → {self.to_cell} ({self.transferred_on:%d/%m/%Y})"

    def clean(self):
        super().clean()
        if self.from_cell_id and self.from_cell_id == self.to_cell_id:
            raise ValidationError({"to_cell": _("A transfer must be between two different cells.")})


class LeavePeriod(YearRecord):
    class Kind(models.TextChoices):
        SICK = "sick", _("Sick leave")
        MATERNITY = "maternity", _("Maternity leave")

    kind = models.CharField(_("kind of leave"), max_length=12, choices=Kind.choices)
    starts_on = models.DateField(_("start"))
    ends_on = models.DateField(_("end"))

    class Meta:
        verbose_name = _("leave period")
        verbose_name_plural = _("leave periods")
        default_related_name = "leave_periods"
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                name="leave_ends_after_start",
                condition=Q(ends_on__gte=F("starts_on")),
                violation_error_message=_("A leave period cannot end before it starts."),
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.starts_on:%d/%m/%Y}–{self.ends_on:%d/%m/%Y}"

    def clean(self):
        super().clean()
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("A leave period cannot end before it starts.")})


class CivilServiceRating(YearRecord):
    """The state-side rating of a cadre, civil servant or public employee (CBCCVC) for a year."""

    year = models.PositiveSmallIntegerField(_("year"))
    level = models.CharField(_("level"), max_length=8, choices=model_choices(Level))

    class Meta:
        verbose_name = _("civil-service rating")
        verbose_name_plural = _("civil-service ratings")
        default_related_name = "civil_service_ratings"
        ordering = ["-year"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "year"],
                name="civil_service_rating_once_a_year",
                violation_error_message=_("This member already has a civil-service rating for this year."),
            ),
            models.CheckConstraint(
                name="civil_service_rating_year_range",
                condition=Q(year__gte=1945) & Q(year__lte=2200),
                violation_error_message=_("The year is not plausible."),
            ),
        ]

    def __str__(self):
        return f"{self.year}: {self.level}"


class LeaderYear(YearRecord):
    """What the year says of the units a leader or manager directly leads (QĐ 366 Điều 11 khoản 4,
    for the leaders' KHTNV conditions): entered by the board for the leaders it reviews."""

    year = models.PositiveSmallIntegerField(_("year"))
    unit_plan_share = models.DecimalField(
        _("share of the plan completed by the units led (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Below 70%, a leader is classified KHTNV (2025)."),
    )
    basic_targets_missed = models.BooleanField(
        _("the five basic socio-economic targets were not met"),
        default=False,
        help_text=_("Only for the posts these targets are assigned to."),
    )
    units_led = models.PositiveSmallIntegerField(_("localities and units led"), null=True, blank=True)
    units_led_khtnv = models.PositiveSmallIntegerField(_("of which classified KHTNV"), null=True, blank=True)
    low_confidence_share = models.DecimalField(
        _("share of low-confidence votes (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Leave empty when there was no confidence vote this year."),
    )
    remit_corruption_disciplined = models.BooleanField(
        _("corruption, waste or negativity in the remit, disciplined"), default=False
    )

    class Meta:
        verbose_name = _("leader's year")
        verbose_name_plural = _("leader's years")
        default_related_name = "leader_years"
        ordering = ["-year"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "year"],
                name="leader_year_once_a_year",
                violation_error_message=_("This leader already has a record for this year."),
            ),
            models.CheckConstraint(
                name="leader_year_shares_are_percentages",
                condition=(Q(unit_plan_share__isnull=True) | Q(unit_plan_share__gte=0, unit_plan_share__lte=100))
                & (
                    Q(low_confidence_share__isnull=True) | Q(low_confidence_share__gte=0, low_confidence_share__lte=100)
                ),
                violation_error_message=_("A share is a percentage from 0 to 100."),
            ),
            models.CheckConstraint(
                name="leader_year_khtnv_within_units",
                condition=Q(units_led_khtnv__isnull=True)
                | Q(units_led__isnull=True)
                | Q(units_led_khtnv__lte=F("units_led")),
                violation_error_message=_("The units classified KHTNV cannot outnumber the units led."),
            ),
        ]

    def __str__(self):
        return str(self.year)


class TemporaryAttachment(YearRecord):
    """A member attached for a time to another cell (sinh hoạt tạm thời): reviewed at the official cell,
    after the written comment of the temporary one (HD 43 §7.6)."""

    temporary_cell = models.ForeignKey(
        Organization, verbose_name=_("temporary cell"), on_delete=models.PROTECT, related_name="+"
    )
    starts_on = models.DateField(_("start"))
    ends_on = models.DateField(_("end"), null=True, blank=True)
    comment = models.TextField(_("written comment of the temporary cell"), blank=True)

    class Meta:
        verbose_name = _("temporary attachment")
        verbose_name_plural = _("temporary attachments")
        default_related_name = "temporary_attachments"
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                name="temporary_attachment_ends_after_it_starts",
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                violation_error_message=_("The attachment cannot end before it starts."),
            ),
        ]

    def __str__(self):
        return f"{self.temporary_cell} ({self.starts_on:%d/%m/%Y})"


class CommitteeSuspension(YearRecord):
    """A committee member suspended from the committee's activities only (đình chỉ sinh hoạt cấp ủy), not
    from party activities: 2018 (HD 21), still reviewed and classified like the other members; 2025
    (HD 43 §7.7), reviewed at the cell, for the time before the suspension. A member suspended from party
    activities has that status instead, and is not classified."""

    year = models.PositiveSmallIntegerField(_("year of the review"))
    suspended_on = models.DateField(
        _("suspended from committee activities on"),
        help_text=_(
            "Within the year of the review. Leave the member's status active: a suspension from party "
            "activities is a status, and such a member is not classified."
        ),
    )
    body = models.CharField(_("deciding body"), max_length=255)

    class Meta:
        verbose_name = _("suspension from committee activities")
        verbose_name_plural = _("suspensions from committee activities")
        default_related_name = "committee_suspensions"
        ordering = ["-year"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "year"],
                name="committee_suspension_once_a_year",
                violation_error_message=_("This member already has a suspension from committee activities this year."),
            ),
            models.CheckConstraint(
                name="committee_suspension_within_its_year",
                condition=Q(suspended_on__year=F("year")),
                violation_error_message=_("The suspension date must fall within the year of the review."),
            ),
        ]

    def __str__(self):
        return f"{self.year}: {self.suspended_on:%d/%m/%Y}"

    def clean(self):
        super().clean()  # once a year: YearRecord.validate_once_a_year
        if self.suspended_on and self.year and self.suspended_on.year != self.year:
            raise ValidationError(
                {
                    "suspended_on": _("The suspension date must fall within the year of the review (%(year)s).")
                    % {"year": self.year}
                }
            )
        if self.suspended_on and self.suspended_on > datetime.date.today():
            raise ValidationError({"suspended_on": _("The suspension date cannot be in the future.")})


class DegradationConclusion(YearRecord):
    """A competent body's conclusion on a member's conduct: degradation, self-evolution or
    self-transformation; and (2025, Điều 11 khoản 4) a violation of what members must not do, or of the
    duty to set an example."""

    class Kind(models.TextChoices):
        DEGRADATION = "degradation", _("Degradation, self-evolution, self-transformation")
        PROHIBITIONS = "prohibitions", _("Violation of what party members must not do")
        EXEMPLARY_DUTY = "exemplary_duty", _("Violation of the duty to set an example")

    kind = models.CharField(_("conclusion"), max_length=16, choices=Kind.choices, default=Kind.DEGRADATION)
    concluded_on = models.DateField(_("conclusion date"))
    body = models.CharField(_("concluding body"), max_length=255)
    summary = models.TextField(_("summary"))

    class Meta:
        verbose_name = _("conclusion on conduct")
        verbose_name_plural = _("conclusions on conduct")
        default_related_name = "degradation_conclusions"
        ordering = ["-concluded_on"]

    def __str__(self):
        return f"{self.body} ({self.concluded_on:%d/%m/%Y})"
