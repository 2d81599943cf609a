"""Sign-in bookkeeping: failed attempts, for slowing down password guessing."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class FailedLogin(models.Model):
    """One failed sign-in. Kept in the database so that every app server sees the same count."""

    username = models.CharField(_("username"), max_length=150)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    attempted_at = models.DateTimeField(_("attempted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("failed sign-in")
        verbose_name_plural = _("failed sign-ins")
        indexes = [
            # The lock check counts the recent failures of one username.
            models.Index(fields=["username", "attempted_at"], name="failed_login_recent"),
        ]

    def __str__(self):
        return f"{self.username} {self.attempted_at:%Y-%m-%d %H:%M}"
