"""The organisations' own reviews, as the board's ranking list in the admin."""

from django.utils.translation import gettext_lazy as _

from ..core.models import Assessment


class OrganizationReview(Assessment):
    """The organisations' own reviews, for the board's ranking list in the admin."""

    class Meta:
        proxy = True
        verbose_name = _("organisation ranking")
        verbose_name_plural = _("organisation ranking")
