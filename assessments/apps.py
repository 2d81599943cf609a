from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentsConfig(AppConfig):
    """Review periods, rulebooks, forms and decisions: filled by the issues that follow the foundation."""

    name = "assessments"
    verbose_name = _("Reviews and classification")
