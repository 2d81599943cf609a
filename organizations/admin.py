from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from treebeard.admin import TreeAdmin
from treebeard.forms import MoveNodeForm, movenodeform_factory

from .models import Cluster, Organization, OrganizationRecord, OrganizationYear, RoleAssignment
from .roles import revoke_role, sync_user_groups
from .selectors import words_start_with


class OrganizationMoveForm(MoveNodeForm):
    """The tree form, with a plain message when someone tries to put an organisation under itself."""

    def _set_ref_model_queryset(self, opts, instance):
        # Offer every organisation, and refuse the impossible ones in clean() with a clear message,
        # rather than hiding them and answering "not a valid choice".
        self.fields["treebeard_ref_node"].queryset = opts.model.objects.get_tree()

    def clean(self):
        cleaned = super().clean()
        ref = cleaned.get("treebeard_ref_node")
        if ref is not None and self.instance.pk and ref.path.startswith(self.instance.path):
            self.add_error(
                "treebeard_ref_node",
                _("An organisation cannot be moved under itself or one of its own subordinates."),
            )
        return cleaned


class OrganizationRecordInline(admin.TabularInline):
    """The decisions and conclusions on the organisation itself that the review of their year reads."""

    model = OrganizationRecord
    extra = 0
    fields = ["kind", "decided_on", "body", "summary", "note"]


class OrganizationYearInline(admin.TabularInline):
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


class OrganizationAdmin(TreeAdmin):
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
class ClusterAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]
    fields = ["name", "code"]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "organization", "created_at"]
    list_filter = ["role"]
    list_select_related = ["user", "organization"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "organization__search_name"]
    autocomplete_fields = ["user", "organization"]
    fields = ["user", "role", "organization"]

    # A role brings its group (and, for the board, the admin): kept in step with every change here.
    def save_model(self, request, obj, form, change):
        previous = RoleAssignment.objects.filter(pk=obj.pk).values_list("user_id", flat=True).first()
        super().save_model(request, obj, form, change)
        sync_user_groups(obj.user)
        if previous and previous != obj.user_id:
            sync_user_groups(get_user_model().objects.get(pk=previous))

    def delete_model(self, request, obj):
        revoke_role(obj)

    def delete_queryset(self, request, queryset):
        for assignment in queryset.select_related("user"):
            revoke_role(assignment)


admin.site.register(Organization, OrganizationAdmin)
