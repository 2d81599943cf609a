from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services


class ThrottledAuthenticationForm(AuthenticationForm):
    """The sign-in form. An unknown user, a wrong password and an inactive account get one message;
    after too many failures the username is locked for a while, whatever password is given."""

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

    def clean(self):
        username = self.cleaned_data.get("username")
        if username:
            minutes = services.login_locked_minutes(username)
            if minutes:
                raise forms.ValidationError(
                    ngettext(
                        "Too many failed attempts. Please try again in %(minutes)d minute.",
                        "Too many failed attempts. Please try again in %(minutes)d minutes.",
                        minutes,
                    )
                    % {"minutes": minutes},
                    code="locked",
                )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if username:
                services.login_failed(username, self.request.META.get("REMOTE_ADDR") if self.request else None)
            raise
        services.login_succeeded(username)
        return cleaned
