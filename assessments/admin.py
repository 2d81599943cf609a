from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from organizations.selectors import words_start_with

from .models import Assessment, AuditEntry, Period


@admin.register(Period)
class PeriodAdmin(admin.ModelAdmin):
    list_display = ["__str__", "organization", "regime", "state", "self_review_due", "opened_at"]
    list_filter = ["state", "regime", "year"]
    list_select_related = ["organization"]
    autocomplete_fields = ["organization"]
    readonly_fields = ["public_id", "state", "opened_at", "opened_by", "created_at"]
    fieldsets = [
        (None, {"fields": ["organization", "year", "quarter", "regime", "state"]}),
        (
            _("Deadlines"),
            {"fields": ["self_review_due", "cell_meeting_due", "grassroots_decision_due", "city_decision_due"]},
        ),
        (_("Parameters of the rulebook"), {"fields": ["parameters"]}),
        (_("Record"), {"classes": ["collapse"], "fields": ["public_id", "opened_at", "opened_by", "created_at"]}),
    ]


class AuditEntryInline(admin.TabularInline):
    model = AuditEntry
    extra = 0
    can_delete = False
    fields = ["at", "actor", "on_behalf_of", "action", "from_state", "to_state", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = ["subject", "subject_kind", "organization", "period", "state", "classified", "self_level"]
    list_filter = ["state", "subject_kind", "classified", "period"]
    list_select_related = ["member", "organization", "period__organization"]
    search_fields = ["member__search_name", "member__card_number", "organization__search_name"]
    readonly_fields = [
        "public_id",
        "period",
        "subject_kind",
        "member",
        "organization",
        "state",
        "answers",
        "self_level",
        "submitted_at",
        "filled_by",
        "version",
        "return_reason",
        "classified",
        "exclusion_reason",
        "exclusion_overridden",
    ]
    fields = readonly_fields
    inlines = [AuditEntryInline]

    def has_add_permission(self, request):
        # Assessments come from opening a period; changes go through the workflow's services.
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_search_results(self, request, queryset, search_term):
        by_name = words_start_with("member__search_name", search_term)
        if by_name is None:
            return queryset, False
        by_org = words_start_with("organization__search_name", search_term)
        return queryset.filter(by_name | by_org), False

    @admin.display(description=_("subject"))
    def subject(self, obj):
        return obj.subject_name


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only for everybody, the superuser included: the trail is append-only."""

    list_display = ["at", "actor", "on_behalf_of", "action", "from_state", "to_state", "assessment"]
    list_filter = ["action", "period"]
    list_select_related = [
        "actor",
        "on_behalf_of",
        "assessment__member",
        "assessment__organization",
        "assessment__period",
    ]
    fields = [
        "period",
        "assessment",
        "actor",
        "on_behalf_of",
        "at",
        "action",
        "from_state",
        "to_state",
        "reason",
        "data",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
