from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The pages that combine the other apps (portal/views.py). No models, so no admin section."""

    name = "portal"
