"""The ranking in the admin: each organisation's own proposal, the evaluators' forms and its members' levels;
the matters to re-check before the round closes; the conflicts of interest the board records."""

from django import forms
from django.contrib import admin
from django.db.models import OuterRef, Q
from django.utils.translation import gettext_lazy as _

from members.selectors import SubqueryCount
from organizations.access import scope_for
from organizations.admin_scope import ScopedAdminMixin

from ..core.models import Assessment
from ..reviews.models import Analysis
from . import rechecks
from .models import DecisionConflict, OrganizationReview, Recheck


@admin.register(OrganizationReview)
class OrganizationReviewAdmin(ScopedAdminMixin, admin.ModelAdmin):
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
    list_filter = [("period", admin.RelatedOnlyFieldListFilter), "organization__kind", "decided_level"]
    scope_lookup = "organization__path"
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


class RecheckAdminForm(forms.ModelForm):
    """Refuses before saving what the services would refuse."""

    class Meta:
        model = Recheck
        fields = ["period", "assessment", "kind", "summary", "opened_on", "resolved_on", "resolution"]

    def clean(self):
        cleaned = super().clean()
        period, assessment = cleaned.get("period"), cleaned.get("assessment")
        if self.instance.pk is None and period and assessment:
            if assessment.period_id != period.pk:
                raise forms.ValidationError(_("This subject is not reviewed in this period."))
            if period.state == period.State.PUBLISHED:
                raise forms.ValidationError(
                    _("The results are published: a matter found now leads to re-grading the subject.")
                )
        return cleaned


@admin.register(Recheck)
class RecheckAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The matters to re-check: recorded and resolved through the services (policy, history), never
    deleted; once resolved, read-only."""

    list_display = ["assessment", "kind", "period", "opened_on", "resolved_on"]
    list_filter = [("period", admin.RelatedOnlyFieldListFilter), "kind", ("resolved_on", admin.EmptyFieldListFilter)]
    # The matters to re-check are the business of the period's board (policy "recheck.manage").
    scope_lookup = "period__organization__path"
    list_select_related = ["period", "assessment__member", "assessment__organization", "assessment__period"]
    search_fields = ["assessment__member__search_name", "assessment__organization__search_name", "summary"]
    raw_id_fields = ["assessment"]
    actions = None
    form = RecheckAdminForm

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["period", "assessment", "kind", "summary", "opened_on"]
        return ["period", "assessment", "kind", "summary", "opened_on", "opened_by", "resolved_on", "resolution"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        fixed = ["period", "assessment", "kind", "summary", "opened_on", "opened_by"]
        return fixed if obj.is_open else [*fixed, "resolved_on", "resolution"]

    def save_model(self, request, obj, form, change):
        if not change:
            saved = rechecks.recheck_open(
                period=obj.period,
                assessment=obj.assessment,
                kind=obj.kind,
                summary=obj.summary,
                opened_on=obj.opened_on,
                user=request.user,
            )
            obj.pk = saved.pk
        elif obj.resolution.strip() and Recheck.objects.filter(pk=obj.pk, resolved_on__isnull=True).exists():
            rechecks.recheck_resolve(
                recheck=obj, resolution=obj.resolution, resolved_on=obj.resolved_on, user=request.user
            )

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DecisionConflict)
class DecisionConflictAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The conflicts of interest the board records: the decider stands aside from the member or the
    organisation (its row is locked for them on the decision and ranking screens, the services refuse
    it). One's own level and the organisations one leads need no record."""

    list_display = ["user", "member", "organization", "reason", "recorded_by", "recorded_at"]
    list_select_related = ["user", "member", "organization", "recorded_by"]
    search_fields = [
        "user__username",
        "user__first_name",
        "user__last_name",
        "member__search_name",
        "organization__search_name",
    ]
    autocomplete_fields = ["user", "member", "organization"]
    fields = ["user", "member", "organization", "reason"]

    def scope_q(self, request):
        """A conflict is where its subject is: the member's cell, or the organisation."""
        scope = scope_for(request.user)
        if scope.is_superuser:
            return Q()
        return scope.path_q("member__cell__path") | scope.path_q("organization__path")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)
