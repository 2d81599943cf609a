"""The ranking in the admin: each organisation's own proposal, the evaluators' forms and its members' levels."""

from django.contrib import admin
from django.db.models import OuterRef
from django.utils.translation import gettext_lazy as _

from members.selectors import SubqueryCount

from ..core.models import Assessment
from ..reviews.models import Analysis
from .models import OrganizationReview


@admin.register(OrganizationReview)
class OrganizationReviewAdmin(admin.ModelAdmin):
    """The ranking in the admin: each organisation's own proposal, the evaluators' forms, its members'
    levels and the decision, each row's figures counted by subqueries of the one list query."""

    list_display = [
        "organization",
        "period",
        "self_level",
        "evaluations",
        "members_htxsnv",
        "members_httnv",
        "members_htnv",
        "members_khtnv",
        "decided_level",
        "state",
    ]
    list_filter = ["period", "organization__kind", "decided_level"]
    list_select_related = ["organization", "period"]
    search_fields = ["organization__search_name"]
    ordering = ["period", "organization__path"]
    fields = ["period", "organization", "self_level", "decided_level", "decision_note", "state"]
    readonly_fields = fields
    actions = None

    def get_queryset(self, request):

        members = Assessment.objects.filter(
            period=OuterRef("period"),
            member__isnull=False,
            classified=True,
            organization__path__startswith=OuterRef("organization__path"),
        )
        handed_in = Analysis.objects.filter(assessment=OuterRef("pk"), submitted_at__isnull=False)
        return (
            super()
            .get_queryset(request)
            .filter(subject_kind=Assessment.SubjectKind.ORGANIZATION)
            .annotate(
                evaluation_count=SubqueryCount(handed_in.values("pk")),
                **{
                    f"count_{level.lower()}": SubqueryCount(members.filter(decided_level=level).values("pk"))
                    for level in ("HTXSNV", "HTTNV", "HTNV", "KHTNV")
                },
            )
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("evaluators' forms"), ordering="evaluation_count")
    def evaluations(self, obj):
        return obj.evaluation_count

    @admin.display(description=_("members HTXSNV"), ordering="count_htxsnv")
    def members_htxsnv(self, obj):
        return obj.count_htxsnv

    @admin.display(description=_("members HTTNV"), ordering="count_httnv")
    def members_httnv(self, obj):
        return obj.count_httnv

    @admin.display(description=_("members HTNV"), ordering="count_htnv")
    def members_htnv(self, obj):
        return obj.count_htnv

    @admin.display(description=_("members KHTNV"), ordering="count_khtnv")
    def members_khtnv(self, obj):
        return obj.count_khtnv
