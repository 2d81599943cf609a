"""Reads for the account pages. Each costs a fixed number of queries, whatever the size of the tree."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from members.selectors import current_members, search_members

if TYPE_CHECKING:
    from django.utils.functional import Promise

    from members.models import Member, MemberQuerySet
    from organizations.models import Organization

    # (code, label, Bootstrap colour): one of AccountStatus's values.
    Status = tuple[str, Promise, str]


class AccountStatus:
    """Where a member's account stands, as shown in the list (code, label, Bootstrap colour)."""

    NONE = ("none", _("No account yet"), "secondary")
    DISABLED = ("disabled", _("Account switched off"), "dark")
    CODE_UNUSED = ("code_unused", _("Code handed out, not used yet"), "warning")
    MUST_CHANGE = ("must_change", _("Signed in, has not chosen a password yet"), "warning")
    NEVER_SIGNED_IN = ("never_signed_in", _("Has not signed in yet"), "light")
    IN_USE = ("in_use", _("In use"), "success")


def account_status(member: Member) -> Status:
    user = member.user
    if user is None:
        return AccountStatus.NONE
    if not user.is_active:
        return AccountStatus.DISABLED
    state = getattr(user, "account_state", None)
    if state is not None and state.must_change_password:
        return AccountStatus.CODE_UNUSED if user.last_login is None else AccountStatus.MUST_CHANGE
    if user.last_login is None:
        return AccountStatus.NEVER_SIGNED_IN
    return AccountStatus.IN_USE


def members_with_accounts(organization: Organization, query: str | None = "") -> MemberQuerySet:
    """The current members under `organization` with cell and account, in Vietnamese order."""
    queryset = current_members().under(organization).select_related("cell", "user", "user__account_state")
    return search_members(queryset, query).vietnamese_order()


def account_counts(organization: Organization) -> dict[str, int]:
    """{"total", "without_account", "code_unused"} over the current members under `organization`: one query."""
    return (
        current_members()
        .under(organization)
        .aggregate(
            total=Count("pk"),
            without_account=Count("pk", filter=Q(user__isnull=True)),
            code_unused=Count(
                "pk",
                filter=Q(user__account_state__must_change_password=True, user__last_login__isnull=True),
            ),
        )
    )


def members_without_account_exist(organization: Organization) -> bool:
    """Whether "create accounts" has anything to do under `organization` (one query)."""
    return current_members().under(organization).filter(user__isnull=True).exists()


def unused_codes_exist(organization: Organization) -> bool:
    """Whether "new codes" has anything to do under `organization`: an account whose code was never used
    (one query)."""
    return (
        current_members()
        .under(organization)
        .filter(user__account_state__must_change_password=True, user__last_login__isnull=True)
        .exists()
    )
