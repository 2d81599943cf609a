"""Steps of the year that many tests need done before the step they test, through the services."""

from assessments import decisions
from assessments.decisions import ranking
from assessments.models import Assessment
from organizations.models import Organization


def decide_members(period, user, level="HTNV"):
    """Every classified member of the period decided at `level`, one grassroots organisation at a time."""
    for group in period.organization.subtree().filter(kind__in=Organization.GRASSROOTS_KINDS):
        forms = decisions.member_assessments(period, group).filter(classified=True)
        decisions.decisions_record(
            period=period, organization=group, user=user, choices={f.pk: (level, "") for f in forms}
        )


def rank_organizations(period, user, level="HTNV"):
    """Every classified organisation decided at `level`: the cells by their committees, then the
    grassroots organisations by the board (an organisation after those below it)."""
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


def decide_everything(period, user, level="HTNV"):
    decide_members(period, user, level)
    rank_organizations(period, user, level)
    return Assessment.objects.filter(period=period).exclude(decided_level="").count()
