from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentsConfig(AppConfig):
    """Review periods, rulebooks, forms and decisions: filled by the issues that follow the foundation."""

    name = "assessments"
    verbose_name = _("Reviews and classification")

    def ready(self):
        from organizations.audit import act_done

        from .core.transitions import record_announced

        act_done.connect(record_announced, dispatch_uid="assessments.record_announced")
