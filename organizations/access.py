"""The one place that decides what a user may see.

A user's scope is the union of the subtrees of the organisations on which they hold a managing role
(cell secretary, committee officer, board), plus the organisations they are assigned to evaluate.
Superusers see everything. Views call the helpers here first; outside the scope a page answers 404.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from .models import Organization, RoleAssignment

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

_NOTHING = Q(pk__in=[])


def collapse_paths(paths: Iterable[str]) -> tuple[str, ...]:
    """Drop the paths that lie under another path of the list: their subtrees are already covered."""
    kept = []
    for path in sorted(set(paths)):
        if not kept or not path.startswith(kept[-1]):
            kept.append(path)
    return tuple(kept)


class Scope:
    """What one user may see; computed once per request (see `scope_for`)."""

    def __init__(self, user: User | AnonymousUser | None) -> None:
        self.user = user
        self.is_authenticated = bool(user and user.is_authenticated)
        self.is_superuser = self.is_authenticated and user.is_active and user.is_superuser

    @cached_property
    def assignments(self) -> list[RoleAssignment]:
        if not self.is_authenticated:
            return []
        return list(
            RoleAssignment.objects.filter(user=self.user, user__is_active=True)
            .select_related("organization")
            .order_by("organization__path", "role")
        )

    @cached_property
    def managed_paths(self) -> tuple[str, ...]:
        return collapse_paths(a.organization.path for a in self.assignments if a.role in RoleAssignment.MANAGING_ROLES)

    @cached_property
    def evaluated_ids(self) -> tuple[int, ...]:
        return tuple(a.organization_id for a in self.assignments if a.role == RoleAssignment.Role.EVALUATOR)

    def has_role(self, *roles: str) -> bool:
        return any(a.role in roles for a in self.assignments)

    @property
    def is_board(self) -> bool:
        return self.is_superuser or self.has_role(RoleAssignment.Role.BOARD)

    @property
    def manages_anything(self) -> bool:
        return self.is_superuser or bool(self.managed_paths)

    def _path_q(self, field: str) -> Q:
        if self.is_superuser:
            return Q()
        q = _NOTHING
        for path in self.managed_paths:
            q |= Q(**{f"{field}__startswith": path})
        return q

    def path_q(self, field: str) -> Q:
        """A filter on `field`, an organisation's path ("cell__path"), for the managed subtrees."""
        return self._path_q(field)

    @property
    def manages_a_root(self) -> bool:
        """Whether a managed subtree is a whole tree: what belongs to no organisation (an account with no
        role and no member record, the trail of imports) is then this user's to see too."""
        return self.is_superuser or any(len(path) == Organization.steplen for path in self.managed_paths)

    def organization_q(self, prefix: str = "") -> Q:
        """A filter for organisations in scope: managed subtrees and evaluated organisations."""
        q = self._path_q(f"{prefix}path")
        if self.evaluated_ids and not self.is_superuser:
            q |= Q(**{f"{prefix}pk__in": self.evaluated_ids})
        return q

    def managed_organization_q(self, prefix: str = "") -> Q:
        """A filter for organisations whose people this user may see (evaluators see no people)."""
        return self._path_q(f"{prefix}path")

    def organizations(self) -> QuerySet[Organization]:
        return Organization.objects.filter(self.organization_q())

    def can_see_organization(self, org: Organization) -> bool:
        return (
            self.is_superuser or any(org.path.startswith(p) for p in self.managed_paths) or org.pk in self.evaluated_ids
        )

    def manages_organization(self, org: Organization) -> bool:
        return self.is_superuser or any(org.path.startswith(p) for p in self.managed_paths)


def scope_for(user: User | AnonymousUser | None) -> Scope:
    """The user's scope, cached on the user object for the length of the request."""
    scope = getattr(user, "_review_scope", None)
    if scope is None:
        scope = Scope(user)
        if user is not None:
            user._review_scope = scope
    return scope


def get_organization_for_user(user: User | AnonymousUser, code: str) -> Organization:
    """The organisation with this code if the user may see it, else 404."""
    scope = scope_for(user)
    return get_object_or_404(
        Organization.objects.filter(scope.organization_q()).select_related("cluster"),
        code=code,
    )
