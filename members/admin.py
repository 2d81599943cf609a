from django.contrib import admin
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from organizations.admin import OrganizationAdmin as OrganizationTreeAdmin
from organizations.admin_scope import ScopedAdminMixin, ScopedInlineMixin
from organizations.models import Organization
from organizations.selectors import words_start_with

from .models import (
    CivilServiceRating,
    CommitteeSuspension,
    DegradationConclusion,
    DisciplineDecision,
    LeaderYear,
    LeavePeriod,
    Member,
    TemporaryAttachment,
    Transfer,
)
from .selectors import member_counts_for


class DisciplineDecisionInline(ScopedInlineMixin, admin.TabularInline):
    model = DisciplineDecision
    extra = 0
    fields = [
        "decided_on",
        "form",
        "in_official_duties",
        "reason",
        "violation_reference",
        "violation_year",
        "counted_in_earlier_year",
    ]


class TransferInline(ScopedInlineMixin, admin.TabularInline):
    model = Transfer
    extra = 0
    fields = ["transferred_on", "from_cell", "to_cell", "former_cell_comment", "note"]
    autocomplete_fields = ["from_cell", "to_cell"]


class LeavePeriodInline(ScopedInlineMixin, admin.TabularInline):
    model = LeavePeriod
    extra = 0
    fields = ["kind", "starts_on", "ends_on", "note"]


class CivilServiceRatingInline(ScopedInlineMixin, admin.TabularInline):
    model = CivilServiceRating
    extra = 0
    fields = ["year", "level", "note"]


class LeaderYearInline(ScopedInlineMixin, admin.TabularInline):
    model = LeaderYear
    extra = 0
    fields = [
        "year",
        "unit_plan_share",
        "basic_targets_missed",
        "units_led",
        "units_led_khtnv",
        "low_confidence_share",
        "remit_corruption_disciplined",
    ]


class TemporaryAttachmentInline(ScopedInlineMixin, admin.TabularInline):
    model = TemporaryAttachment
    extra = 0
    fields = ["temporary_cell", "starts_on", "ends_on", "comment"]
    autocomplete_fields = ["temporary_cell"]


class CommitteeSuspensionInline(ScopedInlineMixin, admin.TabularInline):
    """Suspended from the committee's activities only; a suspension from party activities is the status."""

    model = CommitteeSuspension
    extra = 0
    fields = ["year", "suspended_on", "body", "note"]


class DegradationConclusionInline(ScopedInlineMixin, admin.TabularInline):
    model = DegradationConclusion
    extra = 0
    fields = ["kind", "concluded_on", "body", "summary"]


class ProbationaryFilter(admin.SimpleListFilter):
    title = _("probationary or official")
    parameter_name = "probationary"

    def lookups(self, request, model_admin):
        return [("yes", _("Probationary")), ("no", _("Official"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(official_date__isnull=True)
        if self.value() == "no":
            return queryset.filter(official_date__isnull=False)
        return queryset


@admin.register(Member)
class MemberAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["full_name", "card_number", "cell", "date_of_birth", "occupation", "party_post", "status"]
    list_display_links = ["full_name"]
    list_filter = [
        "status",
        "occupation",
        ("cell__sector", admin.ChoicesFieldListFilter),
        ProbationaryFilter,
        "is_leader",
        "party_post",
        "gender",
    ]
    list_select_related = ["cell"]
    list_per_page = 50
    search_fields = ["search_name", "card_number", "cell__search_name"]
    search_help_text = _("Name with or without diacritics, party card number, or cell name.")
    ordering = ["sort_key", "pk"]
    autocomplete_fields = ["cell", "user", "headed_committee"]
    scope_lookup = "cell__path"
    readonly_fields = ["public_id", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["full_name", "gender", "date_of_birth", "card_number", "cell", "status", "status_since"]}),
        (_("Party"), {"fields": ["admission_date", "official_date", "party_post", "headed_committee"]}),
        (_("Work"), {"fields": ["occupation", "work_unit", "government_post", "is_leader"]}),
        (_("Contact and account"), {"fields": ["email", "phone", "user"]}),
        (_("Record"), {"classes": ["collapse"], "fields": ["public_id", "created_at", "updated_at"]}),
    ]
    inlines = [
        DisciplineDecisionInline,
        TransferInline,
        LeavePeriodInline,
        CivilServiceRatingInline,
        DegradationConclusionInline,
        LeaderYearInline,
        TemporaryAttachmentInline,
        CommitteeSuspensionInline,
    ]

    def get_search_results(self, request, queryset, search_term):
        """Names match with or without diacritics: both sides are folded ("Nguyen Van" finds "Nguyễn Văn")."""
        term = search_term.strip()
        by_name = words_start_with("search_name", term)
        if by_name is None:
            return queryset, False
        condition = by_name | words_start_with("cell__search_name", term)
        condition |= Q(card_number__startswith=term.replace(" ", ""))
        return queryset.filter(condition), False


# The organisations' list counts their members. The organizations app knows no people, so the column is
# added here, by the app that does: the same admin, registered again with it.
class OrganizationAdmin(OrganizationTreeAdmin):
    list_display = ["name", "code", "kind", "sector", "cluster", "member_count", "founded_on"]

    def decorate_rows(self, rows):
        # One grouped count for the rows of the page, not a correlated count per row.
        super().decorate_rows(rows)
        counts = member_counts_for(rows)
        for row in rows:
            row.member_total = counts.get(row.pk, 0)

    @admin.display(description=_("members"))
    def member_count(self, obj):
        return obj.member_total


admin.site.unregister(Organization)
admin.site.register(Organization, OrganizationAdmin)
