"""The organisation tree, clusters and the roles users hold on organisations.

The tree knows no people and no reviews. It is a materialised path (django-treebeard): "every
organisation under X" is one query, `path LIKE 'X.path%'`, whatever the depth.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from treebeard.exceptions import InvalidMoveToDescendant
from treebeard.mp_tree import MP_Node, MP_NodeManager

from vocabulary import Level
from vocabulary.choices import label_lazy

from .vietnamese import fold, title_sort_key


class Cluster(models.Model):
    """A group of organisations that evaluate one another (cụm thi đua)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("cluster")
        verbose_name_plural = _("clusters")
        ordering = ["name"]

    def __str__(self):
        return self.name


class OrganizationManager(MP_NodeManager):
    """Treebeard's manager, computing the sort key before treebeard places a new node by it."""

    @staticmethod
    def _prepare(instance, create_kwargs):
        if instance is not None:
            instance.fill_derived()
        elif create_kwargs is not None and "name" in create_kwargs:
            create_kwargs["sort_key"] = title_sort_key(create_kwargs["name"])
            create_kwargs["search_name"] = fold(create_kwargs["name"])

    def add_root(self, create_kwargs=None, *, instance=None):
        self._prepare(instance, create_kwargs)
        return super().add_root(create_kwargs, instance=instance)

    def add_child(self, target, create_kwargs=None, *, instance=None):
        self._prepare(instance, create_kwargs)
        return super().add_child(target, create_kwargs, instance=instance)

    def add_sibling(self, target, pos=None, create_kwargs=None, *, instance=None):
        self._prepare(instance, create_kwargs)
        return super().add_sibling(target, pos, create_kwargs, instance=instance)


class Organization(MP_Node):
    class Kind(models.TextChoices):
        CITY_COMMITTEE = "city", _("City committee")
        GRASSROOTS_COMMITTEE = "grassroots_committee", _("Grassroots committee")
        SECTION_COMMITTEE = "section_committee", _("Section committee")
        GRASSROOTS_CELL = "grassroots_cell", _("Grassroots cell")
        SUBORDINATE_CELL = "cell", _("Subordinate cell")

    class Sector(models.TextChoices):
        COMMUNE = "commune", _("Commune")
        WARD = "ward", _("Ward")
        TOWNSHIP = "township", _("Township")
        PARTY_STATE_AGENCY = "agency", _("Party, State, Fatherland Front or mass organisation agency")
        PUBLIC_SERVICE = "public_service", _("Public service unit")
        SCHOOL = "school", _("School")
        HEALTH = "health", _("Health")
        STATE_ENTERPRISE = "state_enterprise", _("State-owned enterprise")
        PRIVATE_ENTERPRISE = "private_enterprise", _("Non-state enterprise")
        MILITARY = "military", _("Military")
        POLICE = "police", _("Police")
        OTHER = "other", _("Other")

    # Kinds whose members sit directly in them; the others hold organisations.
    CELL_KINDS = (Kind.GRASSROOTS_CELL, Kind.SUBORDINATE_CELL)
    # The grassroots level (tổ chức cơ sở đảng): decides its members' levels, counts the quota.
    GRASSROOTS_KINDS = (Kind.GRASSROOTS_COMMITTEE, Kind.GRASSROOTS_CELL)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.SlugField(
        _("code"), max_length=40, unique=True, help_text=_("A short unique code, used in addresses and imports.")
    )
    name = models.CharField(_("name"), max_length=255)
    search_name = models.CharField(max_length=255, editable=False, db_index=True)
    # Siblings sort by this: Vietnamese alphabet, numbers in numeric order ("số 2" before "số 10").
    sort_key = models.CharField(max_length=600, editable=False, default="")
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    sector = models.CharField(_("sector"), max_length=24, choices=Sector.choices, default=Sector.OTHER)
    cluster = models.ForeignKey(
        Cluster,
        verbose_name=_("cluster"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="organizations",
    )
    founded_on = models.DateField(_("founding date"), null=True, blank=True)
    dissolved_on = models.DateField(_("dissolution date"), null=True, blank=True)

    objects = OrganizationManager()

    node_order_by = ["sort_key"]

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.CheckConstraint(
                name="organization_dissolved_after_founded",
                condition=Q(dissolved_on__isnull=True)
                | Q(founded_on__isnull=True)
                | Q(dissolved_on__gte=F("founded_on")),
                violation_error_message=_("The dissolution date cannot be before the founding date."),
            ),
        ]
        indexes = [
            # The quota and the ranking screens list the grassroots organisations of a subtree. With the
            # columns a ranking's summary joins and groups by (id, cluster): PostgreSQL reads a country's
            # 52,000 grassroots organisations from this index alone, not from 8,000 pages of the table
            # (the summary by province of a national ranking: 0.14 s down to 0.11). SQLite ignores `include`.
            models.Index(fields=["kind", "path"], include=["id", "cluster"], name="organization_kind_path"),
        ]

    def __str__(self):
        return self.name

    def fill_derived(self):
        """Compute the stored search and sort keys; bulk creation calls this since it skips save()."""
        self.search_name = fold(self.name)
        self.sort_key = title_sort_key(self.name)

    def save(self, *args, **kwargs):
        self.fill_derived()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "search_name", "sort_key"}
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        if self.founded_on and self.dissolved_on and self.dissolved_on < self.founded_on:
            raise ValidationError({"dissolved_on": _("The dissolution date cannot be before the founding date.")})

    @property
    def is_cell(self):
        return self.kind in self.CELL_KINDS

    @property
    def is_grassroots(self):
        return self.kind in self.GRASSROOTS_KINDS

    def subtree(self):
        """This organisation and every organisation under it: one query."""
        return Organization.objects.filter(path__startswith=self.path)

    def move_under(self, parent):
        """Make this organisation a child of `parent`, refusing a move under itself or its descendants."""
        if parent.pk == self.pk or parent.path.startswith(self.path):
            raise ValidationError(_("An organisation cannot be moved under itself or one of its own subordinates."))
        with transaction.atomic():
            try:
                Organization.objects.move(self, parent, pos="sorted-child")
            except InvalidMoveToDescendant as exc:  # a concurrent change made the move invalid
                raise ValidationError(
                    _("An organisation cannot be moved under itself or one of its own subordinates.")
                ) from exc
        self.refresh_from_db()


class RoleAssignment(models.Model):
    """A role a user holds on an organisation; the role covers the organisation's whole subtree.

    Being a member of a cell is not a role here: it follows from the member record linked to the
    user. An evaluator's role gives sight of the organisation it names, and nothing below it.
    """

    class Role(models.TextChoices):
        CELL_SECRETARY = "cell_secretary", _("Cell secretary")
        COMMITTEE_OFFICER = "committee_officer", _("Grassroots committee officer")
        BOARD = "board", _("City organisation board")
        EVALUATOR = "evaluator", _("Evaluator")

    # Roles that see and manage the subtree of their organisation.
    MANAGING_ROLES = (Role.CELL_SECRETARY, Role.COMMITTEE_OFFICER, Role.BOARD)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="role_assignments"
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField(_("role"), max_length=24, choices=Role.choices)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization", "role"],
                name="role_assignment_unique",
                violation_error_message=_("This user already holds this role on this organisation."),
            ),
        ]

    def __str__(self):
        return f"{self.user} - {self.get_role_display()} - {self.organization}"

    def clean(self):
        super().clean()
        org = getattr(self, "organization", None)
        if org is None:
            return
        if self.role == self.Role.CELL_SECRETARY and not org.is_cell:
            raise ValidationError({"organization": _("A cell secretary's role must be held on a cell.")})
        if self.role == self.Role.COMMITTEE_OFFICER and org.kind == Organization.Kind.SUBORDINATE_CELL:
            raise ValidationError(
                {"organization": _("A committee officer's role must be held on a committee or a grassroots cell.")}
            )


class OrganizationRecord(models.Model):
    """A decision or conclusion of the year on a party organisation itself, which the review of the year
    reads: the organisation disciplined (2018: at most KHTNV), a competent body's conclusion on its
    personnel work or internal unity (2025: its leadership collective is KHTNV; 2018: the organisation
    too), corruption, waste or negativity disciplined in it (2018). A subordinate organisation disciplined
    keeps its committee's leadership collective below HTXSNV (2025)."""

    class Kind(models.TextChoices):
        DISCIPLINED = "disciplined", _("The organisation was disciplined (party organisation discipline)")
        PERSONNEL_OR_DISUNITY = (
            "personnel_or_disunity",
            _(
                "A competent body concluded wrongdoing in personnel work, internal disunity, factionalism, "
                "or buying posts or power"
            ),
        )
        CORRUPTION = "corruption", _("Corruption, waste or negativity in the organisation, disciplined")

    organization = models.ForeignKey(
        Organization, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="records"
    )
    kind = models.CharField(_("record"), max_length=24, choices=Kind.choices)
    decided_on = models.DateField(
        _("date of the decision or conclusion"), help_text=_("The review of this date's year reads the record.")
    )
    body = models.CharField(_("deciding or concluding body"), max_length=255)
    summary = models.TextField(_("summary"))
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("record of the organisation")
        verbose_name_plural = _("records of the organisation")
        ordering = ["-decided_on", "pk"]
        indexes = [models.Index(fields=["decided_on"], name="organization_record_date")]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.decided_on:%d/%m/%Y})"

    def clean(self):
        super().clean()
        if self.decided_on and self.decided_on > timezone.localdate():
            raise ValidationError({"decided_on": _("The date of the decision or conclusion cannot be in the future.")})


# A same-level body's level, or "none": the organisation has no such body beside it (a cell in an
# enterprise has no government or Front of its own level).
NO_PEER = "none"
PEER_LEVEL_CHOICES = [(level.value, label_lazy(level)) for level in Level] + [
    (NO_PEER, _("None at this level")),
]


class OrganizationYear(models.Model):
    """What the year says of an organisation beside its own review, entered by the board on the
    organisation's page.

    The levels of the same-level government, Fatherland Front and mass organisations (2018, HD 21: an
    organisation's HTXSNV needs them all at HTTNV or better, its HTTNV at HTNV or better): the three are
    entered together, "none at this level" where there is no such body; all three empty means not known
    yet. The plan share and the five basic targets of the locality or unit its leadership collective
    leads (2025, QĐ 366 Điều 11 khoản 4: under 70%, or the five targets missed, makes the collective
    KHTNV)."""

    PEER_FIELDS = ("government_level", "front_level", "mass_organizations_level")

    organization = models.ForeignKey(
        Organization, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="years"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    government_level = models.CharField(
        _("same-level government"),
        max_length=8,
        choices=PEER_LEVEL_CHOICES,
        blank=True,
        help_text=_("Or the agency or unit the organisation leads."),
    )
    front_level = models.CharField(_("Fatherland Front"), max_length=8, choices=PEER_LEVEL_CHOICES, blank=True)
    mass_organizations_level = models.CharField(
        _("mass organisations"),
        max_length=8,
        choices=PEER_LEVEL_CHOICES,
        blank=True,
        help_text=_("The lowest level among the same-level mass organisations."),
    )
    unit_plan_share = models.DecimalField(
        _("share of the plan completed by the unit led (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Below 70%, the leadership collective is classified KHTNV (2025)."),
    )
    basic_targets_missed = models.BooleanField(
        _("the five basic socio-economic targets were not met"),
        default=False,
        help_text=_(
            "Economic growth, state budget revenue, public investment disbursed, income per head, poverty "
            "reduction: only where the competent level assigned them (2025: the leadership collective is "
            "classified KHTNV)."
        ),
    )
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("organisation's year")
        verbose_name_plural = _("organisation's years")
        ordering = ["-year"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "year"],
                name="organization_year_once_a_year",
                violation_error_message=_("This organisation already has a record for this year."),
            ),
            models.CheckConstraint(
                name="organization_year_year_range",
                condition=Q(year__gte=1945) & Q(year__lte=2200),
                violation_error_message=_("The year is not plausible."),
            ),
            models.CheckConstraint(
                name="organization_year_share_is_a_percentage",
                condition=Q(unit_plan_share__isnull=True) | Q(unit_plan_share__gte=0, unit_plan_share__lte=100),
                violation_error_message=_("A share is a percentage from 0 to 100."),
            ),
            models.CheckConstraint(
                name="organization_year_peer_levels_in_the_scale",
                condition=Q(government_level__in=["", *dict(PEER_LEVEL_CHOICES)])
                & Q(front_level__in=["", *dict(PEER_LEVEL_CHOICES)])
                & Q(mass_organizations_level__in=["", *dict(PEER_LEVEL_CHOICES)]),
                violation_error_message=_("A level must be one of the four levels, or none at this level."),
            ),
            models.CheckConstraint(
                name="organization_year_peer_levels_together",
                condition=Q(government_level="", front_level="", mass_organizations_level="")
                | (~Q(government_level="") & ~Q(front_level="") & ~Q(mass_organizations_level="")),
                violation_error_message=_(
                    "Enter the levels of the government, the Front and the mass organisations together "
                    "(“None at this level” where there is no such body), or leave all three empty."
                ),
            ),
        ]

    def __str__(self):
        return str(self.year)

    def clean(self):
        super().clean()
        errors = {}
        if self.unit_plan_share is not None and not 0 <= self.unit_plan_share <= 100:
            errors["unit_plan_share"] = _("A share is a percentage from 0 to 100.")
        peers = [getattr(self, name) for name in self.PEER_FIELDS]
        # The admin's inline leaves the organisation out of the constraints it validates: checked here.
        if (
            self.organization_id
            and self.year
            and OrganizationYear.objects.filter(organization_id=self.organization_id, year=self.year)
            .exclude(pk=self.pk)
            .exists()
        ):
            errors["year"] = _("This organisation already has a record for this year.")
        if any(peers) and not all(peers):
            message = _(
                "Enter the levels of the government, the Front and the mass organisations together "
                "(“None at this level” where there is no such body), or leave all three empty."
            )
            errors.update({name: message for name, value in zip(self.PEER_FIELDS, peers, strict=True) if not value})
        if errors:
            raise ValidationError(errors)

    def peer_levels(self) -> tuple[str, ...] | None:
        """The levels of the same-level bodies there are (the rulebook's `peer_levels`): None while they
        are not entered, () when there is none."""
        peers = [getattr(self, name) for name in self.PEER_FIELDS]
        if not all(peers):
            return None
        return tuple(level for level in peers if level != NO_PEER)
