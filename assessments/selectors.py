"""Reads over assessments that other apps' pages show."""

from organizations.access import scope_for

from .models import Assessment, Period


def level_history(user, *, member=None, organization=None):
    """The levels of a member (or an organisation) across periods, newest first: one query.

    Those who manage the subject see every decided level; the member sees only published ones."""
    queryset = Assessment.objects.exclude(decided_level="").select_related("period").order_by(
        "-period__year", "-period__quarter"
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
