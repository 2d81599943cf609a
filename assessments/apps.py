"""The assessments app: the review of the year, one package per stage (see the package docstrings)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentsConfig(AppConfig):
    """Review periods, self-reviews, meetings, decisions and the year-end outputs."""

    name = "assessments"
    verbose_name = _("Reviews and classification")

    def ready(self):
        from organizations.audit import act_done

        from . import background
        from .core.transitions import record_announced

        act_done.connect(record_announced, dispatch_uid="assessments.record_announced")
        background.register()
