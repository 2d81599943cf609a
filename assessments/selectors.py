"""Reads over assessments that other apps' pages show."""

from organizations.access import scope_for

from .models import Assessment, Period


def level_history(user, *, member=None, organization=None):
    """The levels of a member (or an organisation) across periods, newest first: one query.

    Those who manage the subject see every decided level; the member sees only published ones."""
    queryset = (
        Assessment.objects.exclude(decided_level="")
        .select_related("period")
        .order_by("-period__year", "-period__quarter")
    )
    if member is not None:
        queryset = queryset.filter(member=member)
        own = member.user_id == user.pk
        subject_organization = member.cell
    else:
        queryset = queryset.filter(organization=organization, member__isnull=True, subject_kind="organization")
        own = False
        subject_organization = organization
    if own and not scope_for(user).manages_organization(subject_organization):
        queryset = queryset.filter(period__state=Period.State.PUBLISHED)
    return list(queryset)


def analysis_summaries(assessments):
    """{assessment pk: summary} of the handed-in analysis forms on each assessment: one query.

    A summary counts the forms, the proposed levels, and per criterion the ratings given (2018) or
    the mean of the points (2025)."""
    from collections import Counter, defaultdict
    from decimal import Decimal, InvalidOperation

    from .models import Analysis
    from .rulebooks import Level, Rating

    ratings_codes = {r.value for r in Rating}
    summaries = {}
    by_assessment = defaultdict(list)
    for analysis in Analysis.objects.filter(
        assessment__in=[a.pk for a in assessments], submitted_at__isnull=False
    ).only("assessment_id", "answers", "proposed_level"):
        by_assessment[analysis.assessment_id].append(analysis)
    for assessment in assessments:
        forms = by_assessment.get(assessment.pk, [])
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
            "levels": [(level.value, levels.get(level.value, 0)) for level in Level.best_first()],
            "ratings": {key: dict(counter) for key, counter in ratings.items()},
            "points": {key: sum(values) / len(values) for key, values in points.items() if values},
            "top_level": levels.most_common(1)[0][0] if levels else "",
        }
    return summaries


def cell_levels(assessments):
    """{(period id, organisation id): the organisation's review} for the organisation each member's
    assessment in `assessments` was made in (the member's cell), where its level is decided: one query.

    The caller decides who may see which level; a member sees only those of published periods."""
    pairs = {(a.period_id, a.organization_id) for a in assessments if a.member_id}
    if not pairs:
        return {}
    reviews = Assessment.objects.filter(
        period_id__in={period_id for period_id, _org in pairs},
        organization_id__in={organization_id for _period, organization_id in pairs},
        subject_kind=Assessment.SubjectKind.ORGANIZATION,
    ).exclude(decided_level="")
    return {
        (review.period_id, review.organization_id): review
        for review in reviews.select_related("organization")
        if (review.period_id, review.organization_id) in pairs
    }
