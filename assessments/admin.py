"""The admin of every stage (Django's autodiscovery imports this module)."""

from .core import admin as core_admin  # noqa: F401 - registers the periods and the audit trail
from .decisions import admin as decisions_admin  # noqa: F401 - registers the ranking
from .reviews import admin as reviews_admin  # noqa: F401 - registers the assessments
