"""Whoever signs in with a one-time code chooses their own password before anything else.

The flag is read from the session, where it is written at sign-in (`remember_at_login`, connected to
`user_logged_in` in apps.py) and cleared by the password change: pages cost no extra query. A session
from before this middleware existed has no flag yet; its first request reads it once.
"""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from . import services

SESSION_KEY = "accounts_must_change_password"

# Pages a user who must change the password may still open: the change itself, signing out and the
# language switch. Not the admin's own password change, staff included: it asks for the current
# password and Django would re-hash a code typed there, and it does not refuse the code as the new
# password (accounts.forms does).
ALLOWED_URL_NAMES = (
    "accounts:password_change",
    "accounts:password_change_done",
    "accounts:logout",
    "set_language",
    "admin:logout",
)


def remember(request, must_change):
    request.session[SESSION_KEY] = bool(must_change)


def remember_at_login(sender, request, user, **kwargs):
    """Receiver of `user_logged_in`: one query at sign-in instead of one on every page."""
    if request is not None and hasattr(request, "session"):
        remember(request, services.must_change_password(user))


def _allowed_paths():
    # Resolved on first use: URLconfs are not loaded when the middleware is built.
    paths = set()
    for name in ALLOWED_URL_NAMES:
        try:
            paths.add(reverse(name))
        except NoReverseMatch:  # a site without the admin has no admin URLs
            continue
    return frozenset(paths)


class PasswordChangeRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self._paths = None

    def __call__(self, request):
        if self._must_change(request) and not self._allowed(request.path_info):
            return self._to_password_change(request)
        return self.get_response(request)

    def _must_change(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return False
        must_change = request.session.get(SESSION_KEY)
        if must_change is None:
            must_change = services.must_change_password(user)
            remember(request, must_change)
        return must_change

    def _allowed(self, path):
        if self._paths is None:
            self._paths = _allowed_paths()
        static = "/" + settings.STATIC_URL.lstrip("/")
        return path in self._paths or path.startswith(static)

    def _to_password_change(self, request):
        target = reverse("accounts:password_change")
        if request.headers.get("HX-Request") == "true":
            return HttpResponseClientRedirect(target)
        messages.warning(
            request,
            _(
                "You signed in with a one-time code. Before anything else, please choose your own "
                "password. From then on you sign in with your new password."
            ),
        )
        return redirect(target)
