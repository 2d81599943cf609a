"""Regime 2018: Quy định 132-QĐ/TW + Hướng dẫn 16-HD/BTCTW, with the refinements of Hướng dẫn 21-HD/BTCTW.

Each criterion is rated Xuất sắc / Tốt / Trung bình / Kém; the level is the highest one whose conditions
hold. The `guidance` parameter switches between HD 16 (the 2018 review: suspended members classified,
the manifestation checklist in the self-review) and HD 21 (2019-2022). Rules: data/regime2018/rules.json;
notes and sources: the regime-2018 notes of the project (rule ids R2018-...).

The modules: rulebook.py (the registered Regime2018: documents, forms, who is classified), individuals.py
(the checks of members and leaders), collectives.py (of leadership collectives and party organisations),
criteria.py (the rated criteria and the disciplines they count) and parameters.py (Parameters2018).
"""

from .parameters import Parameters2018
from .rulebook import Regime2018

__all__ = ["Parameters2018", "Regime2018"]
