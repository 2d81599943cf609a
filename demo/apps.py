"""The demo app: no models, and a deployment check that says so when it is installed without DEBUG."""

from django.apps import AppConfig
from django.conf import settings
from django.core import checks


class DemoConfig(AppConfig):
    name = "demo"

    def ready(self):
        checks.register(installed_in_production, checks.Tags.security, deploy=True)


def installed_in_production(app_configs, **kwargs):
    """`check --deploy` warns when the demo is installed with DEBUG off: seed_demo --reset deletes every
    organisation and member, and its accounts share a published password."""
    if settings.DEBUG:
        return []
    return [
        checks.Warning(
            "The demo app is installed with DEBUG off: its seed_demo command can replace the data.",
            hint="Leave DJANGO_DEMO unset (or 0) in production.",
            id="demo.W001",
        )
    ]
