"""Sign-in bookkeeping: failed attempts, for slowing down password guessing (django-axes' table), and
the state of each account's password (a one-time code still to be replaced, who issued it and when)."""

from axes.models import AccessAttempt
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class FailedSignIn(AccessAttempt):
    """The failed sign-ins that django-axes counts (accounts.throttle), as the admin shows them: one
    row per username, address and browser, with its count and the time of the last failure. Deleting
    rows lifts the pauses they caused. A proxy: the table is axes' own."""

    class Meta:
        proxy = True
        verbose_name = _("failed sign-in")
        verbose_name_plural = _("failed sign-ins")

    def __str__(self):
        return f"{self.username or '—'} · {self.ip_address or '—'}"


class AccountState(models.Model):
    """The password side of an account that was given a one-time code (accounts.services).

    Accounts made another way (the administration, the demo) have none until a code is issued.
    The code itself is never stored: only its hash, as the user's password.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="account_state"
    )
    must_change_password = models.BooleanField(
        _("must choose a new password"),
        default=False,
        help_text=_("Set while the password is a one-time code: every page leads to the password change."),
    )
    code_issued_at = models.DateTimeField(_("one-time code issued at"), null=True, blank=True)
    code_issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("one-time code issued by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Counts the codes issued: a reset names the count it saw, so two people resetting the same
    # account at once cannot both hand out a slip (the second is told, and changes nothing).
    codes_issued = models.PositiveIntegerField(_("codes issued"), default=0)
    password_changed_at = models.DateTimeField(_("own password chosen at"), null=True, blank=True)

    class Meta:
        verbose_name = _("account state")
        verbose_name_plural = _("account states")

    def __str__(self):
        return str(self.user)
