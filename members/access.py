"""The access helper for members: own record, or a member of a subtree the user manages; else 404."""

from django.shortcuts import get_object_or_404

from .selectors import members_visible_to


def get_member_for_user(user, public_id):
    return get_object_or_404(
        members_visible_to(user).select_related("cell", "user"),
        public_id=public_id,
    )
