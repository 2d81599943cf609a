"""Reads over members that the screens and the admin share. Each costs a fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db.models import Count, IntegerField, Q, Subquery

from organizations.access import collapse_paths, scope_for
from organizations.selectors import words_start_with

from .models import Member, MemberQuerySet

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    from organizations.models import Organization

# Members who still belong to a cell and are counted in its strength.
CURRENT_STATUSES = (Member.Status.ACTIVE, Member.Status.EXCUSED, Member.Status.SUSPENDED)


class SubqueryCount(Subquery):
    """COUNT(*) of a subquery, for annotating each row of a list with one correlated count."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _count)"
    output_field = IntegerField()


def current_members() -> MemberQuerySet:
    return Member.objects.filter(status__in=CURRENT_STATUSES)


def member_counts_for(organizations: Iterable[Organization]) -> dict[int, int]:
    """{organization pk: current members in its subtree} for organisations of one depth: one query.

    The counts are grouped by cell in the database and summed here by path prefix, so the cost does
    not grow with the number of organisations listed.
    """
    organizations = list(organizations)
    if not organizations:
        return {}
    depths = {len(org.path) for org in organizations}
    condition = Q()
    for path in collapse_paths(org.path for org in organizations):
        condition |= Q(cell__path__startswith=path)
    rows = current_members().filter(condition).order_by().values_list("cell__path").annotate(n=Count("pk"))
    by_path = {org.path: org.pk for org in organizations}
    counts = dict.fromkeys(by_path.values(), 0)
    for cell_path, n in rows:
        for length in depths:
            pk = by_path.get(cell_path[:length])
            if pk is not None:
                counts[pk] += n
    return counts


def members_visible_to(user: User | AnonymousUser) -> MemberQuerySet:
    """Members the user may see: those of the subtrees they manage, and their own record."""
    scope = scope_for(user)
    if scope.is_superuser:
        return Member.objects.all()
    condition = scope.managed_organization_q("cell__")
    if user.is_authenticated:
        condition |= Q(user=user)
    return Member.objects.filter(condition)


def search_members(queryset: MemberQuerySet, text: str | None) -> MemberQuerySet:
    """Filter by name with or without diacritics ("Nguyen Van" finds "Nguyễn Văn"), or card number."""
    text = (text or "").strip()
    if not text:
        return queryset
    condition = Q(card_number__startswith=text.replace(" ", ""))
    by_name = words_start_with("search_name", text)
    if by_name is not None:
        condition |= by_name
    return queryset.filter(condition)
