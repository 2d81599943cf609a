"""The 2018 criteria as the checks read them: the rated items of a form, their labels, and the disciplines counted."""

from __future__ import annotations

from decimal import Decimal

from ..catalogue import Text
from ..facts import Discipline
from ..form_answers import AnswerError, AnswersError
from ..forms import FormTemplate, Item
from ..scales import DisciplineForm, Rating

RESULTS = "results"  # the tag of the criteria on the results of assigned duties
PARTY_BUILDING = "party_building"  # the tag of an organisation's party-building criteria


def share_of(part: int, total: int) -> Decimal:
    return Decimal(part) / Decimal(total)


def labels_text(items: list[Item]) -> Text:
    return Text("; ".join(item.label_vi for item in items), "; ".join(item.label_en for item in items))


def countable_disciplines(
    disciplines: tuple[Discipline, ...], counted: frozenset[str], minimum: DisciplineForm = DisciplineForm.REPRIMAND
) -> list[Discipline]:
    """One decision per violation, leaving out violations already counted in an earlier year (HD 21)."""
    by_key: dict[str, Discipline] = {}
    for discipline in disciplines:
        if discipline.key in counted or discipline.form.rank < minimum.rank:
            continue
        by_key.setdefault(discipline.key, discipline)
    return list(by_key.values())


def checked_ratings(template: FormTemplate, ratings) -> dict[str, Rating]:
    """The ratings checked against the template: a criterion the template does not rate is the caller's error."""
    rating_ids = {item.id for item in template.rating_items()}
    unknown = [key for key in ratings if key not in rating_ids]
    if unknown:
        raise AnswersError(
            AnswerError(
                key, "unknown_item", f"Mẫu {template.code} không có tiêu chí {key!r}.", f"No criterion {key!r}."
            )
            for key in unknown
        )
    return dict(ratings)
