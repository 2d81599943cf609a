from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Party members")

    def ready(self) -> None:
        from . import background

        # The commit of an import runs as a background job (members/background.py).
        background.register()
