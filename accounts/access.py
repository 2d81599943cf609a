"""The access helpers of the account pages: what the user manages, else 404 (as everywhere)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.http import Http404
from django.shortcuts import get_object_or_404

from members.selectors import current_members
from organizations.access import get_organization_for_user, scope_for

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    from members.models import Member
    from organizations.models import Organization


def get_managed_organization_for_user(user: User | AnonymousUser, code: str) -> Organization:
    """The organisation with this code if the user manages its people; 404 otherwise, also for an
    evaluator, who may see the organisation but not its members."""
    organization = get_organization_for_user(user, code)
    if not scope_for(user).manages_organization(organization):
        raise Http404
    return organization


def get_managed_member_for_user(user: User | AnonymousUser, public_id: UUID | str) -> Member:
    """A current member of a subtree the user manages, with cell and account; else 404. A member's
    own record is not enough: nobody resets their own account here."""
    scope = scope_for(user)
    return get_object_or_404(
        current_members()
        .filter(scope.managed_organization_q("cell__"))
        .select_related("cell", "user", "user__account_state"),
        public_id=public_id,
    )
