"""Language helpers every stage uses: the language of the page, and a name folded to ASCII."""

from django.utils.translation import get_language

from organizations.vietnamese import fold


def fold_ascii(text):
    return fold(text)


def lang():
    """ "vi" or "en": the language the page is written in, for the rulebooks' messages."""
    return "vi" if (get_language() or "vi").startswith("vi") else "en"
