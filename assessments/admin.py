from django import forms
from django.contrib import admin, messages
from django.db.models import OuterRef
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from organizations.selectors import words_start_with

from . import services
from .formview import lang
from .models import Analysis, Assessment, AuditEntry, OrganizationReview, Period, label_for_action
from .rulebooks import available_rulebooks, get_rulebook


def grassroots_of(organization):
    """The grassroots organisation at or above `organization` (one query)."""
    steplen = organization.steplen
    paths = [organization.path[:n] for n in range(steplen, len(organization.path) + 1, steplen)]
    from organizations.models import Organization

    return (
        Organization.objects.filter(path__in=paths, kind__in=Organization.GRASSROOTS_KINDS).order_by("-depth").first()
    )


class PeriodForm(forms.ModelForm):
    """The period, with the rulebook's parameters checked before anything is saved."""

    regime = forms.ChoiceField(label=_("regulation regime"))

    class Meta:
        model = Period
        fields = [
            "organization",
            "year",
            "quarter",
            "regime",
            "self_review_due",
            "cell_meeting_due",
            "grassroots_decision_due",
            "city_decision_due",
            "parameters",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        language = lang()
        self.fields["regime"].choices = [
            (r.code, r.title_vi if language == "vi" else r.title_en) for r in available_rulebooks()
        ]
        if self.instance.pk and self.instance.state != Period.State.PREPARING:
            # Once opened, the roster is taken: the organisation and the regime stay as they were.
            for name in ("organization", "year", "quarter", "regime"):
                self.fields[name].disabled = True

    def clean(self):
        cleaned = super().clean()
        regime = cleaned.get("regime")
        if regime:
            issues = get_rulebook(regime).validate_parameters(cleaned.get("parameters") or {})
            for issue in issues:
                self.add_error("parameters", f"{issue.field}: {issue.message(lang())}")
        if self.instance.pk and self.instance.is_locked:
            raise forms.ValidationError(_("This review period is finalised: nothing can be changed."))
        return cleaned


@admin.register(Period)
class PeriodAdmin(admin.ModelAdmin):
    form = PeriodForm
    actions = ["open_periods", "close_periods", "finalise_periods", "publish_periods"]
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

    def _refused(self, request, period, error):
        self.message_user(request, f"{period}: {error.message}", messages.ERROR)
        for detail in error.errors:
            self.message_user(request, detail if isinstance(detail, str) else detail.message(lang()), messages.ERROR)

    def _run(self, request, queryset, service, done):
        for period in queryset:
            try:
                service(period=period, user=request.user)
            except services.WorkflowError as error:
                self._refused(request, period, error)
            else:
                self.message_user(request, done % {"period": period}, messages.SUCCESS)

    @admin.action(description=_("Finalise the selected periods (lock every level)"), permissions=["change"])
    def finalise_periods(self, request, queryset):
        self._run(request, queryset, services.period_finalise, _("%(period)s finalised."))

    @admin.action(description=_("Publish the selected periods (members see their level)"), permissions=["change"])
    def publish_periods(self, request, queryset):
        self._run(request, queryset, services.period_publish, _("%(period)s published."))

    @admin.action(description=_("Close the selected periods (no more changes to the forms)"), permissions=["change"])
    def close_periods(self, request, queryset):
        self._run(request, queryset, services.period_close, _("%(period)s closed."))

    @admin.action(description=_("Open the selected periods (take the roster)"), permissions=["change"])
    def open_periods(self, request, queryset):
        for period in queryset:
            try:
                opened = services.period_open(period=period, user=request.user)
            except services.WorkflowError as error:
                self._refused(request, period, error)
                continue
            self.message_user(
                request,
                ngettext(
                    "%(period)s opened: %(count)d assessment, %(excluded)d not to be classified.",
                    "%(period)s opened: %(count)d assessments, %(excluded)d not to be classified.",
                    opened.members + opened.leaders + opened.organizations + opened.collectives,
                )
                % {
                    "period": period,
                    "count": opened.members + opened.leaders + opened.organizations + opened.collectives,
                    "excluded": len(opened.excluded),
                },
                messages.SUCCESS,
            )


class AuditEntryInline(admin.TabularInline):
    model = AuditEntry
    extra = 0
    can_delete = False
    fields = ["at", "actor", "on_behalf_of", "action_display", "from_state", "to_state", "reason"]
    readonly_fields = fields

    @admin.display(description=_("action"))
    def action_display(self, entry):
        return entry.action_label

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AnalysisInline(admin.TabularInline):
    model = Analysis
    extra = 0
    can_delete = False
    fields = ["rater", "proposed_level", "submitted_at", "answers"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = [
        "subject",
        "subject_kind",
        "organization",
        "period",
        "state",
        "classified",
        "self_level",
        "cell_proposed_level",
        "decided_level",
    ]
    actions = ["return_forms", "decide_as_proposed", "reopen_subjects"]
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
    inlines = [AnalysisInline, AuditEntryInline]

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

    def _reason_page(self, request, queryset, *, action_name, title, intro, reason_label, submit_label, **extra):
        """The intermediate page of an action that needs a reason: what will be done, and the reason."""
        return TemplateResponse(
            request,
            "admin/assessments/reason_action.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "intro": intro,
                "queryset": queryset,
                "action": action_name,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                "opts": self.model._meta,
                "reason": request.POST.get("reason", ""),
                "reason_label": reason_label,
                "submit_label": submit_label,
                "reason_required": True,
                **extra,
            },
        )

    def _with_reason(self, request, queryset, *, service, page, missing, done):
        """An action that needs a reason: its page until a reason is given, then `service` for each
        selected subject, each refusal said with the subject's name, and `done(count)` at the end."""
        reason = request.POST.get("reason", "").strip()
        if "apply" not in request.POST or not reason:
            return self._reason_page(request, queryset, errors=[missing] if "apply" in request.POST else [], **page)
        count = 0
        for assessment in queryset.select_related("period__organization", "member", "organization"):
            try:
                service(assessment=assessment, user=request.user, reason=reason)
            except services.WorkflowError as error:
                self.message_user(request, f"{assessment.subject_name}: {error.message}", messages.ERROR)
            else:
                count += 1
        self.message_user(request, done(count), messages.SUCCESS)
        return None

    @admin.action(description=_("Return the selected forms for revision (asks for the reason)"))
    def return_forms(self, request, queryset):
        """Two steps: the reason first (an intermediate page), then the service for each form."""
        return self._with_reason(
            request,
            queryset,
            service=services.assessment_return,
            page={
                "action_name": "return_forms",
                "title": _("Return for revision"),
                "intro": _("These forms will be returned to their members, with the reason below:"),
                "reason_label": _("Reason (the member will see it)"),
                "submit_label": _("Return the forms"),
            },
            missing=_("Please write the reason for returning the forms."),
            done=lambda n: ngettext("%(count)d form returned.", "%(count)d forms returned.", n) % {"count": n},
        )

    @admin.action(description=_("Reopen the selected subjects for a new decision (asks for the reason)"))
    def reopen_subjects(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            service=services.assessment_reopen,
            page={
                "action_name": "reopen_subjects",
                "title": _("Reopen for a new decision"),
                "intro": _(
                    "The levels of these subjects will be decided again; the reason is recorded in each history:"
                ),
                "reason_label": _("Reason (recorded in the history)"),
                "submit_label": _("Reopen"),
            },
            missing=_("Please write the reason for reopening."),
            done=lambda n: ngettext("%(count)d subject reopened.", "%(count)d subjects reopened.", n) % {"count": n},
        )

    @admin.action(description=_("Decide the selected members at the cell's proposal"))
    def decide_as_proposed(self, request, queryset):
        """Through the grassroots decision service, one grassroots organisation at a time, with every
        check. A first page shows each organisation's quota as it would stand and asks for the reason of
        an exception where one is needed; the decisions are made when that page is sent."""
        from .decisions import DecisionError, decisions_record, quota_preview

        groups = {}
        for assessment in queryset.filter(member__isnull=False).select_related("period", "organization"):
            if not assessment.cell_proposed_level:
                self.message_user(
                    request,
                    _("%(name)s: the cell has proposed no level.") % {"name": assessment.subject_name},
                    messages.WARNING,
                )
                continue
            grassroots = grassroots_of(assessment.organization)
            key = (assessment.period, grassroots)
            groups.setdefault(key, {})[assessment.pk] = (assessment.cell_proposed_level, "")
        if not groups:
            return None
        reason = request.POST.get("reason", "").strip()
        previews = []
        for (period, grassroots), choices in groups.items():
            box = quota_preview(period, grassroots, choices)
            previews.append(
                {
                    "organization": grassroots,
                    "count": len(choices),
                    "message": box.message(),
                    "over": box.binding and not box.quota.within and not box.covered,
                }
            )
        page = {
            "action_name": "decide_as_proposed",
            "title": _("Decide at the cell's proposal"),
            "intro": _("The selected members will be decided at their cell's proposal, organisation by organisation:"),
            "reason_label": _("Reason for an exception to the quota (only when the decisions exceed it)"),
            "reason_help": _("Needed only where the quota is exceeded once everyone is decided (marked in red)."),
            "submit_label": _("Decide"),
            "reason_required": False,
            "groups": previews,
        }
        if "apply" not in request.POST:
            return self._reason_page(request, queryset, **page)
        errors = []
        for (period, grassroots), choices in groups.items():
            try:
                saved, _quota = decisions_record(
                    period=period, organization=grassroots, user=request.user, choices=choices, exception_reason=reason
                )
            except DecisionError as error:
                details = "; ".join(" ".join(str(m) for m in messages_) for messages_ in error.row_errors.values())
                errors.append(f"{grassroots}: {error.message} {details}".strip())
            except services.WorkflowError as error:
                errors.append(f"{grassroots}: {error.message}")
            else:
                self.message_user(
                    request,
                    ngettext("%(org)s: %(count)d decision recorded.", "%(org)s: %(count)d decisions recorded.", saved)
                    % {"org": grassroots, "count": saved},
                    messages.SUCCESS,
                )
        if errors:
            # Back to the page, with what was refused and the reason as typed.
            return self._reason_page(request, queryset, errors=errors, **page)
        return None


class AuditActionFilter(admin.SimpleListFilter):
    """The actions found in the trail (one query), by their labels."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        actions = AuditEntry.objects.order_by("action").values_list("action", flat=True).distinct()
        return sorted(((action, label_for_action(action)) for action in actions), key=lambda pair: str(pair[1]))

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


# The states an entry moves between: an assessment's, or for the period's own steps the period's.
STATE_LABELS = {**dict(Period.State.choices), **dict(Assessment.State.choices)}


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only for everybody, the superuser included: the trail is append-only."""

    list_display = ["at", "actor", "on_behalf_of", "action_display", "change_display", "assessment"]
    list_filter = [AuditActionFilter, "period"]
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
        "action_display",
        "from_state",
        "to_state",
        "reason",
        "data",
    ]
    readonly_fields = fields

    @admin.display(description=_("action"), ordering="action")
    def action_display(self, entry):
        return entry.action_label

    @admin.display(description=_("change of state"))
    def change_display(self, entry):
        if not entry.to_state:
            return ""
        before = STATE_LABELS.get(entry.from_state, entry.from_state) or "—"
        return f"{before} → {STATE_LABELS.get(entry.to_state, entry.to_state)}"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
        from members.selectors import SubqueryCount

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
