"""Reads over the analysis forms: what the raters handed in on each subject, summed up."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypedDict

from vocabulary import Level

from .models import Analysis

if TYPE_CHECKING:
    from decimal import Decimal

    from ..core.models import Assessment


class AnalysisSummary(TypedDict):
    """What the handed-in analysis forms on one subject say, summed up."""

    count: int  # forms handed in
    levels: list[tuple[str, int]]  # (level code, forms proposing it), best first
    ratings: dict[str, dict[str, int]]  # criterion -> {rating code: forms giving it} (2018)
    points: dict[str, Decimal]  # criterion -> mean of the points given (2025)
    top_level: str  # the level most proposed, or ""


def analysis_summaries(assessments: Sequence[Assessment]) -> dict[int, AnalysisSummary]:
    """{assessment pk: summary} of the handed-in analysis forms on each assessment: one query.

    A summary counts the forms, the proposed levels, and per criterion the ratings given (2018) or
    the mean of the points (2025)."""
    from decimal import Decimal, InvalidOperation

    from ..rulebooks import Rating

    ratings_codes = {r.value for r in Rating}
    codes = Level.codes()
    summaries = {}
    by_assessment = defaultdict(list)
    for analysis in Analysis.objects.filter(
        assessment__in=[a.pk for a in assessments], submitted_at__isnull=False
    ).only("assessment_id", "answers", "proposed_level"):
        by_assessment[analysis.assessment_id].append(analysis)
    none = [(code, 0) for code in codes]
    for assessment in assessments:
        forms = by_assessment.get(assessment.pk)
        if not forms:
            # Most subjects of a long list have no form handed in: their summary made without counters.
            summaries[assessment.pk] = {"count": 0, "levels": none.copy(), "ratings": {}, "points": {}, "top_level": ""}
            continue
        levels = Counter(f.proposed_level for f in forms if f.proposed_level)
        ratings = defaultdict(Counter)
        points = defaultdict(list)
        for form in forms:
            for key, value in form.answers.items():
                if value in ratings_codes:
                    ratings[key][value] += 1
                elif isinstance(value, str) and key not in ("rater", "subject", "general_comment"):
                    try:
                        points[key].append(Decimal(value))
                    except InvalidOperation:
                        continue
        summaries[assessment.pk] = {
            "count": len(forms),
            "levels": [(code, levels.get(code, 0)) for code in codes],
            "ratings": {key: dict(counter) for key, counter in ratings.items()},
            "points": {key: sum(values) / len(values) for key, values in points.items() if values},
            "top_level": levels.most_common(1)[0][0] if levels else "",
        }
    return summaries
