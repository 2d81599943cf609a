"""Steps of the year that many tests need done before the step they test, through the services."""

from assessments import decisions
from assessments.decisions import ranking
from assessments.models import Assessment
from organizations.models import Organization


def decide_members(period, user, level="HTNV"):
    """Every classified member of the period decided at `level`, one grassroots organisation at a time
    (in 2025 with the score and task shares their self-reviews would give, where they have none)."""
    if period.regime == "2025":
        scored_2025(Assessment.objects.filter(period=period, classified=True).exclude(answers__has_key="paper_total"))
    for group in period.organization.subtree().filter(kind__in=Organization.GRASSROOTS_KINDS):
        forms = decisions.member_assessments(period, group).filter(classified=True)
        decisions.decisions_record(
            period=period, organization=group, user=user, choices={f.pk: (level, "") for f in forms}
        )


def rank_organizations(period, user, level="HTNV"):
    """Every classified organisation decided at `level`: the cells by their committees, then the
    grassroots organisations by the board (an organisation after those below it)."""
    if period.regime == "2025":
        scored_2025(Assessment.objects.filter(period=period, classified=True).exclude(answers__has_key="paper_total"))
    root = period.organization
    parents = [*root.subtree().filter(kind=Organization.Kind.GRASSROOTS_COMMITTEE), root]
    for parent in parents:
        # The leadership collectives first (QĐ 366 Điều 7, in 2025), at the same level.
        forms = ranking.collective_assessments(period, parent).filter(classified=True)
        ranking.ranking_record(
            period=period,
            parent=parent,
            user=user,
            choices={f.pk: (level, "") for f in forms},
            subject_kind="collective",
        )
        forms = ranking.organization_assessments(period, parent).filter(classified=True)
        ranking.ranking_record(period=period, parent=parent, user=user, choices={f.pk: (level, "") for f in forms})


def decide_collectives(period, level="HTNV"):
    """Every classified leadership collective still undecided set at `level`, straight in the database:
    a shortcut for tests whose subject is not the collectives' decision (`rank_organizations` decides
    them through the ranking screen's service)."""
    return Assessment.objects.filter(
        period=period, subject_kind=Assessment.SubjectKind.COLLECTIVE, classified=True, decided_level=""
    ).update(decided_level=level, state=Assessment.State.DECIDED)


def decide_everything(period, user, level="HTNV"):
    decide_members(period, user, level)
    rank_organizations(period, user, level)
    decide_collectives(period, level)
    return Assessment.objects.filter(period=period).exclude(decided_level="").count()


def scored_2025(queryset, total="95", completed="100", on_time="100", exceeding="40"):
    """The 2025 self-reviews of `queryset` as a paper form would give them: the total score, and the
    year's task shares (percentages), enough for the rules to allow up to HTXSNV."""
    from decimal import Decimal

    from assessments.evaluations import PAPER_TOTAL
    from assessments.reviews.formview import template_for

    shares = {"tasks_completed": completed, "tasks_on_time": on_time, "tasks_exceeding": exceeding}
    for assessment in queryset.select_related("period") if hasattr(queryset, "select_related") else queryset:
        # Points typed in win over a paper total: those the form holds follow the total too.
        try:
            items = template_for(assessment).points_items()
        except ValueError:  # a form variant the subject's kind does not have: only the total counts
            items = ()
        points = {
            item.id: str((item.max_points * Decimal(total) / 100).quantize(Decimal("0.01")))
            for item in items
            if item.id in assessment.answers
        }
        assessment.answers = {**assessment.answers, PAPER_TOTAL: total, **shares, **points}
        assessment.save(update_fields=["answers"])


def confirm_again(period, user):
    """Every decision put back "to confirm" decided again at its level, by the level that decides it: the
    root for the grassroots organisations (depth 2), their grassroots committee for those below."""
    flagged = Assessment.objects.filter(period=period, to_confirm=True, member__isnull=True).select_related(
        "organization"
    )
    for review in flagged:
        organization = review.organization
        grassroots_path = organization.path[: 2 * Organization.steplen]
        parent = period.organization if organization.depth == 2 else Organization.objects.get(path=grassroots_path)
        ranking.ranking_record(
            period=period,
            parent=parent,
            user=user,
            choices={review.pk: (review.decided_level, "")},
            subject_kind=review.subject_kind,
        )
