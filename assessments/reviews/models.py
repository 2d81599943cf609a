"""The analysis form (phiếu phân tích chất lượng) a rater fills on a subject."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from vocabulary import Level
from vocabulary.choices import model_choices

from ..core.models import Assessment


class Analysis(models.Model):
    """A rater's analysis form (phiếu phân tích chất lượng) on one assessment: criteria rated on the
    four steps (2018) or scored (2025), a general comment and a proposed level."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    assessment = models.ForeignKey(
        Assessment, verbose_name=_("assessment"), on_delete=models.CASCADE, related_name="analyses"
    )
    rater = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("rater"), on_delete=models.PROTECT, related_name="analyses"
    )
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    proposed_level = models.CharField(_("proposed level"), max_length=8, choices=model_choices(Level), blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("analysis form")
        verbose_name_plural = _("analysis forms")
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "rater"],
                name="analysis_one_per_rater",
                violation_error_message=_("This rater already has an analysis form for this subject."),
            ),
        ]

    def __str__(self):
        return f"{self.assessment} – {self.rater}"
