"""Regime 2025: Quy định 366-QĐ/TW (30/8/2025) + Hướng dẫn 43-HD/BTCTW (31/10/2025), current.

Every subject is scored out of 100 (30 general + 70 results, weights inside the groups set by local
guidance: the templates are data). The level is the lower of the score band and the highest level whose
extra conditions hold (Điều 11); a KHTNV trigger overrides the score, but the deciding level may grade
higher with a written reason (mitigable findings). Rules: data/regime2025/rules.json.

The modules: rulebook.py (the registered Regime2025: documents, forms 2A/2B/2C/01, who is classified),
scoring.py (what every subject kind shares: the score band, the task conditions, the triggers),
individuals.py (the checks of members and leaders), collectives.py (of leadership collectives and party
organisations) and parameters.py (Parameters2025).
"""

from .parameters import Parameters2025
from .rulebook import IN_POLITICAL_SYSTEM, Regime2025
from .scoring import TRIGGER_IDS

__all__ = ["IN_POLITICAL_SYSTEM", "TRIGGER_IDS", "Parameters2025", "Regime2025"]
