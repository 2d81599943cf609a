"""The access helper for members: own record, or a member of a subtree the user manages; else 404."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.shortcuts import get_object_or_404

from .models import Member
from .selectors import members_visible_to

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


def get_member_for_user(user: User | AnonymousUser, public_id: UUID | str) -> Member:
    return get_object_or_404(
        members_visible_to(user).select_related("cell", "user", "headed_committee"),
        public_id=public_id,
    )
