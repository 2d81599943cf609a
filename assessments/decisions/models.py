"""The organisations' own reviews, as the board's ranking list in the admin; the matters the board must
re-check before the round can close (complaints, denunciations, pending discipline, signs of disunity)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

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
