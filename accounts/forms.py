from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .hashers import matches_code


class SignInForm(AuthenticationForm):
    """The sign-in form. An unknown user, a wrong password and an inactive account get one message.
    Too many failures pause sign-in for a while (accounts.throttle, through `authenticate`): the page
    that says so replaces this form's answer (AxesMiddleware, accounts.views.signin_paused)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The username or password is not correct. Both are case-sensitive."),
        # An inactive account is told the same as a wrong password, so as not to reveal it exists.
        "inactive": _("The username or password is not correct. Both are case-sensitive."),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("Username")
        self.fields["password"].label = _("Password")


class NewPasswordMixin:
    """Refuses a new password that is the current password again, or the one-time code in any spelling
    ("abcd efgh jk" for "ABCD-EFGH-JK"): the code printed on the slip never becomes the password."""

    def clean(self):
        cleaned = super().clean()
        new = cleaned.get("new_password2")
        if new and self._is_current(new, cleaned):
            self.add_error(
                "new_password2",
                forms.ValidationError(
                    _("The new password must be different from the old password or the code on the slip."),
                    code="password_unchanged",
                ),
            )
        return cleaned

    def _is_current(self, new, cleaned):
        if "old_password" in self.fields:  # already checked against the account: no second hashing
            return cleaned.get("old_password") == new
        # Not user.check_password: that would re-hash a matching code as typed.
        return matches_code(new, self.user.password)


class PasswordChangeForm(NewPasswordMixin, auth_forms.PasswordChangeForm):
    """The everyday password change: the current password, then the new one twice."""


class FirstPasswordForm(NewPasswordMixin, auth_forms.SetPasswordForm):
    """The first password of an account opened with a one-time code: the new password twice.

    The code is not asked again: the user has just signed in with it, and typing it a second time
    (dashes or not, capitals or not) would only trip up the members it is meant to help.
    """


class ConfirmForm(forms.Form):
    """The second step of a button that changes things: a page that says what will happen first."""

    confirmed = forms.BooleanField(required=False)


class ResetForm(ConfirmForm):
    """A password reset: `codes_issued` is what the page showed, so that two resets at once are caught."""

    codes_issued = forms.IntegerField(min_value=0, max_value=2**31 - 1)
