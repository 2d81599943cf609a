"""A vocabulary's codes as the choices of a model field, labelled in the language of the page.

The one module of the package that touches Django (its translation machinery, never a model): the
models import it; the rulebooks do not.
"""

from django.utils.functional import lazy
from django.utils.translation import get_language


def _label(item):
    # No active language (makemigrations deactivates translations) reads as English, the source
    # language, as gettext would: the migrations keep the English labels.
    language = get_language()
    return item.label("vi" if language and language.startswith("vi") else "en")


label_lazy = lazy(_label, str)


def model_choices(enum):
    """[(code, label in the active language)] for a model field, in the order of `enum`."""
    return [(item.value, label_lazy(item)) for item in enum]
