"""The access helpers for assessments and periods: inside the user's business, or 404."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.http import Http404
from django.shortcuts import get_object_or_404

from organizations.access import get_organization_for_user, scope_for

from .models import Assessment, Period
from .services import actors_for

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    from organizations.models import Organization
    from organizations.policy import Relation


def get_assessment_for_user(
    user: User | AnonymousUser, public_id: UUID | str
) -> tuple[Assessment, frozenset[Relation]]:
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


def get_period_and_organization_for_manager(
    user: User | AnonymousUser, period_id: UUID | str, code: str
) -> tuple[Period, Organization]:
    """A period and an organisation under it that the user manages; else 404."""
    organization = get_organization_for_user(user, code)
    if not scope_for(user).manages_organization(organization):
        raise Http404
    period = get_object_or_404(Period.objects.select_related("organization"), public_id=period_id)
    if not organization.path.startswith(period.organization.path):
        raise Http404
    return period, organization
