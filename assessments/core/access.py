"""The access helpers for assessments and periods: inside the user's business, or 404."""

from django.http import Http404
from django.shortcuts import get_object_or_404

from organizations.access import get_organization_for_user, scope_for

from .models import Assessment, Period
from .services import actors_for


def get_assessment_for_user(user, public_id):
    """The assessment if the user is its subject or manages its organisation; else 404."""
    assessment = get_object_or_404(
        Assessment.objects.select_related(
            "period__organization", "member__cell", "member__user", "organization", "filled_by"
        ),
        public_id=public_id,
    )
    actors = actors_for(user, assessment)
    if not actors:
        raise Http404
    return assessment, actors


def get_period_and_organization_for_manager(user, period_id, code):
    """A period and an organisation under it that the user manages; else 404."""
    organization = get_organization_for_user(user, code)
    if not scope_for(user).manages_organization(organization):
        raise Http404
    period = get_object_or_404(Period.objects.select_related("organization"), public_id=period_id)
    if not organization.path.startswith(period.organization.path):
        raise Http404
    return period, organization
