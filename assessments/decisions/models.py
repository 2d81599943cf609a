"""The organisations' own reviews, as the board's ranking list in the admin; the matters the board must
re-check before the round can close (complaints, denunciations, pending discipline, signs of disunity);
the conflicts of interest that make a decider stand aside from a subject."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from members.models import Member
from organizations.models import Organization

from ..core.models import Assessment, Period


class OrganizationReview(Assessment):
    """The organisations' own reviews, for the board's ranking list in the admin."""

    class Meta:
        proxy = True
        verbose_name = _("organisation ranking")
        verbose_name_plural = _("organisation ranking")


class Recheck(models.Model):
    """An open matter about a member or an organisation of the period that the higher committee must
    re-check before the final decision (QĐ 366, Điều 12 khoản 1 Bước 3): while one is open, the period
    is not finalised."""

    class Kind(models.TextChoices):
        COMPLAINT = "complaint", _("Complaint")
        DENUNCIATION = "denunciation", _("Denunciation")
        DISCIPLINE = "discipline", _("Discipline pending")
        DISUNITY = "disunity", _("Sign of disunity")

    period = models.ForeignKey(Period, verbose_name=_("period"), on_delete=models.CASCADE, related_name="rechecks")
    assessment = models.ForeignKey(
        Assessment,
        verbose_name=_("subject"),
        on_delete=models.PROTECT,
        related_name="rechecks",
        help_text=_("The member's or the organisation's assessment in this period."),
    )
    kind = models.CharField(pgettext_lazy("recheck", "kind"), max_length=16, choices=Kind.choices)
    summary = models.TextField(_("summary"))
    opened_on = models.DateField(_("opened on"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolution = models.TextField(_("resolution"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("re-check")
        verbose_name_plural = _("re-checks")
        ordering = ["period", "resolved_on", "opened_on", "pk"]
        indexes = [models.Index(fields=["period", "resolved_on"], name="recheck_period_resolved")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.assessment.subject_name}"

    @property
    def is_open(self):
        return self.resolved_on is None


class DecisionConflict(models.Model):
    """A conflict of interest the board records: `user` does not decide the level of `member` (any of
    their reviews) or of `organization` (its own review and its leadership collective's), whatever role
    allows it; another member of the deciding body does (`organizations.policy.stand_aside`).

    One's own level, and the organisations one leads or whose committee one sits on, need no record:
    they are read from the accounts, the roles and the members' posts. This is for the rest (a spouse or
    a relative, a dispute, a complaint one made). It holds across years until the board deletes it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decider"),
        on_delete=models.CASCADE,
        related_name="decision_conflicts",
        help_text=_("The account that must not decide this subject's level."),
    )
    member = models.ForeignKey(
        Member, verbose_name=_("member"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("The organisation's own level and its leadership collective's."),
    )
    reason = models.TextField(_("reason"), help_text=_("For example: spouse of the member."))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("conflict of interest")
        verbose_name_plural = _("conflicts of interest")
        ordering = ["user", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(member__isnull=False, organization__isnull=True)
                | Q(member__isnull=True, organization__isnull=False),
                name="decisionconflict_one_subject",
                violation_error_message=_("Choose either a member or an organisation: one subject per record."),
            ),
            models.UniqueConstraint(
                fields=["user", "member"],
                condition=Q(member__isnull=False),
                name="decisionconflict_unique_member",
                violation_error_message=_("This conflict is already on record."),
            ),
            models.UniqueConstraint(
                fields=["user", "organization"],
                condition=Q(organization__isnull=False),
                name="decisionconflict_unique_organization",
                violation_error_message=_("This conflict is already on record."),
            ),
        ]

    def __str__(self):
        return f"{self.user} ↔ {self.member or self.organization}"
