"""The codes every layer of the project shares, each defined once: the quality levels and the reasons a
subject is not classified.

Pure standard-library Python: no Django, no model, no translation catalogue. Every layer may import it,
the rulebooks included (they import nothing else of the project). Each code carries its Vietnamese and
English labels; `vocabulary.choices` turns them into a model field's choices in the page's language.
"""

from .exclusions import ExclusionReason
from .levels import Level

__all__ = ["ExclusionReason", "Level"]
