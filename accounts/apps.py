from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from . import background, checks  # noqa: F401 - checks registers the system checks
        from .middleware import remember_at_login

        # Caches "must change the password" in the session, so that pages need no query for it.
        user_logged_in.connect(remember_at_login, dispatch_uid="accounts.remember_must_change_password")
        # Creating a whole organisation's accounts, and new codes for it, run as background jobs.
        background.register()
