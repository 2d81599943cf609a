from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import Member
from organizations.access import scope_for
from organizations.admin_scope import ScopedAdminMixin, ScopedInlineMixin
from organizations.models import RoleAssignment
from organizations.roles import sync_user_groups

from . import throttle
from .models import AccountState, FailedSignIn

User = get_user_model()


class RoleAssignmentInline(ScopedInlineMixin, admin.TabularInline):
    model = RoleAssignment
    scope_lookup = "organization__path"  # the roles of this account within the user's scope
    extra = 0
    autocomplete_fields = ["organization"]
    fields = ["role", "organization"]


class AccountStateInline(admin.StackedInline):
    """How the account's password stands: a one-time code still to be replaced, or the member's own."""

    model = AccountState
    fk_name = "user"
    can_delete = False
    extra = 0
    fields = ["must_change_password", "code_issued_at", "code_issued_by", "codes_issued", "password_changed_at"]
    readonly_fields = ["code_issued_at", "code_issued_by", "codes_issued", "password_changed_at"]


class UserWithRolesAdmin(ScopedAdminMixin, UserAdmin):
    inlines = [*UserAdmin.inlines, AccountStateInline, RoleAssignmentInline]
    list_select_related = ["account_state"]

    def scope_q(self, request):
        """The accounts of the members in scope and of those holding a role in it; for the board of a
        whole tree and the administrator, also those of no one (no member record, no role yet)."""
        scope = scope_for(request.user)
        if scope.is_superuser:
            return Q()
        roles = RoleAssignment.objects.filter(user=OuterRef("pk"))
        members = Member.objects.filter(user=OuterRef("pk"))
        q = Q(Exists(members.filter(scope.path_q("cell__path")))) | Q(
            Exists(roles.filter(scope.path_q("organization__path")))
        )
        if scope.manages_a_root:
            q |= ~Q(Exists(members)) & ~Q(Exists(roles))
        return q

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # The roles edited inline bring their groups; the groups field of the form is overridden.
        sync_user_groups(form.instance)


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, UserWithRolesAdmin)


@admin.register(FailedSignIn)
class FailedSignInAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Read-only: the board sees who is failing to sign in, from where, and whether it is paused; deleting
    rows lifts the pauses they caused (a member's own pause is lifted from the member accounts page).
    Every column is a method, so that its heading is in the project's catalogue, not axes'."""

    list_display = ["account", "address", "failures", "last_failure", "paused_until"]
    search_fields = ["username", "ip_address"]
    ordering = ["-attempt_time"]
    fields = ["account", "address", "browser", "page", "failures", "last_failure", "paused_until"]
    readonly_fields = fields

    @admin.display(description=_("username"), ordering="username")
    def account(self, obj):
        return obj.username or "—"

    @admin.display(description=_("IP address"), ordering="ip_address")
    def address(self, obj):
        return obj.ip_address or "—"

    @admin.display(description=_("browser"))
    def browser(self, obj):
        return obj.user_agent

    @admin.display(description=_("page"))
    def page(self, obj):
        return obj.path_info

    @admin.display(description=_("failures"), ordering="failures_since_start")
    def failures(self, obj):
        return obj.failures_since_start

    @admin.display(description=_("last failure"), ordering="attempt_time")
    def last_failure(self, obj):
        return obj.attempt_time

    @admin.display(description=_("paused until"))
    def paused_until(self, obj):
        """When this row alone keeps its username paused from its address; else a dash."""
        limit = settings.SIGNIN_LIMITS.get("username+ip_address")
        until = obj.attempt_time + throttle.cool_off()
        if limit and obj.failures_since_start >= limit and until > timezone.now():
            return until
        return "—"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
