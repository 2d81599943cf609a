from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from treebeard.admin import TreeAdmin, TreeChangeList
from treebeard.forms import MoveNodeForm, movenodeform_factory

from . import policy
from .access import scope_for
from .admin_scope import ScopedAdminMixin, ScopedInlineMixin
from .models import Cluster, Organization, OrganizationRecord, OrganizationYear, RoleAssignment
from .roles import revoke_role, sync_user_groups
from .selectors import words_start_with

CHILD_POSITIONS = ("sorted-child", "first-child", "last-child")


class OrganizationMoveForm(MoveNodeForm):
    """The tree form, with a plain message when someone tries to put an organisation under itself, and
    within the user's scope (`scope`, set by the admin): an organisation goes under one the user
    manages, or stays under the parent it has."""

    scope = None  # the user's organizations.access.Scope; None: no limit (outside the admin)

    def _current_parent(self):
        instance = self.instance
        if instance.pk is None or instance.is_root():
            return None
        return Organization.objects.get_parent(instance)

    def _set_ref_model_queryset(self, opts, instance):
        # Offer every organisation in scope, and refuse the impossible ones in clean() with a clear
        # message, rather than hiding them and answering "not a valid choice".
        queryset = opts.model.objects.get_tree()
        if self.scope is not None and not self.scope.is_superuser:
            parent = self._current_parent()
            kept = self.scope.managed_organization_q() | (Q(pk=parent.pk) if parent is not None else Q(pk__in=[]))
            queryset = queryset.filter(kept)
        self.fields["treebeard_ref_node"].queryset = queryset

    def clean(self):
        cleaned = super().clean()
        ref = cleaned.get("treebeard_ref_node")
        if ref is not None and self.instance.pk and ref.path.startswith(self.instance.path):
            self.add_error(
                "treebeard_ref_node",
                _("An organisation cannot be moved under itself or one of its own subordinates."),
            )
        elif self.scope is not None and not self.scope.is_superuser and "treebeard_position" in cleaned:
            if ref is None:
                parent = None
            elif cleaned["treebeard_position"] in CHILD_POSITIONS:
                parent = ref
            else:
                parent = Organization.objects.get_parent(ref)
            current = self._current_parent()
            stays = self.instance.pk is not None and getattr(parent, "pk", None) == getattr(current, "pk", None)
            if not stays and (parent is None or not self.scope.manages_organization(parent)):
                self.add_error(
                    "treebeard_ref_node",
                    _("Place the organisation under one of the organisations you manage."),
                )
        return cleaned


class OrganizationRecordInline(ScopedInlineMixin, admin.TabularInline):
    """The decisions and conclusions on the organisation itself that the review of their year reads."""

    model = OrganizationRecord
    extra = 0
    fields = ["kind", "decided_on", "body", "summary", "note"]


class OrganizationYearInline(ScopedInlineMixin, admin.TabularInline):
    """What the year says of the organisation beside its review: the same-level bodies' levels (2018), the
    plan share and basic targets of the unit its leadership collective leads (2025)."""

    model = OrganizationYear
    extra = 0
    fields = [
        "year",
        "government_level",
        "front_level",
        "mass_organizations_level",
        "unit_plan_share",
        "basic_targets_missed",
        "note",
    ]


class _ListedRows(list):
    """The rows of one page of the tree, read once. Treebeard's tree context asks the result list again,
    annotated with whether each row has children (a second run of the list query): the rows answer
    from what they already hold."""

    def annotate(self, **annotations):
        return self


class OrganizationChangeList(TreeChangeList):
    def get_results(self, request):
        super().get_results(request)
        rows = _ListedRows(self.result_list)
        for row in rows:
            row.treebeard_has_children = row.numchild > 0
        self.model_admin.decorate_rows(rows)
        self.result_list = rows


class OrganizationAdmin(ScopedAdminMixin, TreeAdmin):
    form = movenodeform_factory(
        Organization,
        form=OrganizationMoveForm,
        fields=["name", "code", "kind", "sector", "cluster", "founded_on", "dissolved_on"],
    )
    # members/admin.py adds the count of members, between the cluster and the founding date.
    list_display = ["name", "code", "kind", "sector", "cluster", "founded_on"]
    list_filter = ["kind", "sector", "cluster"]
    list_select_related = ["cluster"]
    search_fields = ["search_name", "code"]
    inlines = [OrganizationRecordInline, OrganizationYearInline]
    scope_lookup = "path"
    # One level of the tree at a time, and within it a page: a province's root has hundreds of children.
    list_per_page = 50
    show_full_result_count = False  # the same count again: the tree's queryset is already one level

    def get_changelist(self, request, **kwargs):
        return OrganizationChangeList

    def decorate_rows(self, rows):
        """Add what a column shows to the rows of one page, in a fixed number of queries (a hook for
        the apps that know more of an organisation: members/admin.py adds the member counts)."""

    def get_queryset(self, request):
        scope = scope_for(request.user)
        at_the_top = (
            hasattr(request, "_treebeard_parent_id")
            and not request._treebeard_parent_id
            and not getattr(request, "_ignore_treebeard_filters", False)
            and not self.is_filtered(request)
        )
        if at_the_top and not scope.is_superuser:
            # The tree starts at the top of each subtree the user manages, not at the roots above them.
            request._treebeard_parent = None
            return super(TreeAdmin, self).get_queryset(request).filter(path__in=scope.managed_paths)
        return super().get_queryset(request)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"scope": scope_for(request.user)})

    def children_view(self, request, parent_id):
        """One level of the tree, below an organisation in scope (404 outside it)."""
        if not str(parent_id).isdigit() or not self.get_queryset(request).filter(pk=parent_id).exists():
            raise Http404
        return super().children_view(request, parent_id)

    def move_node(self, request):
        """Drag and drop in the tree: the organisation moved and its new parent both in scope (404 if not)."""
        scope = scope_for(request.user)
        if not scope.is_superuser:
            in_scope = self.get_queryset(request)
            ids = [request.POST.get("node", ""), request.POST.get("target", "")]
            if not all(value.isdigit() for value in ids):
                raise Http404
            node = in_scope.filter(pk=ids[0]).first()
            target = in_scope.filter(pk=ids[1]).first()
            if node is None or target is None:
                raise Http404
            parent = target if request.POST.get("relation") == "child" else Organization.objects.get_parent(target)
            if parent is None or not scope.manages_organization(parent):
                raise Http404
        return super().move_node(request)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        moved = {"treebeard_ref_node", "treebeard_position"} & set(form.changed_data)
        if change and "name" in form.changed_data and not moved:
            # Siblings are kept in name order; a new name may belong elsewhere among them.
            manager = Organization.objects
            parent = manager.get_parent(obj, update=True)
            if parent is not None:
                manager.move(obj, parent, pos="sorted-child")
            else:
                manager.move(obj, manager.get_first_root_node(), pos="sorted-sibling")
            obj.refresh_from_db()

    def get_search_results(self, request, queryset, search_term):
        by_name = words_start_with("search_name", search_term)
        if by_name is None:
            return queryset, False
        return queryset.filter(by_name | Q(code__startswith=search_term.strip())), False


@admin.register(Cluster)
class ClusterAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The clusters are the city's: its board's and the administrator's (they belong to no organisation)."""

    list_display = ["name", "code"]
    search_fields = ["name", "code"]
    fields = ["name", "code"]


class RoleForm(forms.ModelForm):
    """A role given on an organisation where the user may give it (policy "roles.manage")."""

    user_acting = None  # set by the admin

    def clean(self):
        cleaned = super().clean()
        organization = cleaned.get("organization")
        if organization is not None and self.user_acting is not None:
            refusal = policy.refusal(self.user_acting, "roles.manage", organization)
            if refusal is not None:
                self.add_error("organization", str(refusal))
        return cleaned


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["user", "role", "organization", "created_at"]
    list_filter = ["role"]
    list_select_related = ["user", "organization"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "organization__search_name"]
    autocomplete_fields = ["user", "organization"]
    fields = ["user", "role", "organization"]
    form = RoleForm
    scope_lookup = "organization__path"

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"user_acting": request.user})

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_manage(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_manage(request, obj)

    def _may_manage(self, request, obj):
        return obj is None or policy.may(request.user, "roles.manage", obj.organization)

    # A role brings its group (and, for the board, the admin): kept in step with every change here.
    def save_model(self, request, obj, form, change):
        previous = RoleAssignment.objects.filter(pk=obj.pk).values_list("user_id", flat=True).first()
        super().save_model(request, obj, form, change)
        sync_user_groups(obj.user)
        if previous and previous != obj.user_id:
            sync_user_groups(get_user_model().objects.get(pk=previous))

    def delete_model(self, request, obj):
        revoke_role(obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for assignment in queryset.select_related("user", "organization"):
            try:
                revoke_role(assignment, actor=request.user)
            except policy.Refused as refused:
                self.message_user(request, f"{assignment}: {refused.message}", messages.ERROR)


admin.site.register(Organization, OrganizationAdmin)
