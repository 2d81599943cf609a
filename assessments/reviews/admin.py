"""The assessments in the admin, with their analysis forms and history, and the board's actions on them."""

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from organizations.admin_scope import ScopedAdminMixin
from organizations.selectors import words_start_with

from ..core import services
from ..core.forms import ActionReasonForm
from ..core.models import Assessment, AuditEntry
from ..decisions import closing
from ..decisions.selectors import grassroots_of
from . import services as review_services
from .models import Analysis


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
class AssessmentAdmin(ScopedAdminMixin, admin.ModelAdmin):
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
    list_filter = ["state", "subject_kind", "classified", ("period", admin.RelatedOnlyFieldListFilter)]
    scope_lookup = "organization__path"
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
        "exclusion_rule",
        "exclusion_message",
        "exclusion_note",
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

    @admin.display(description=_("why not classified"))
    def exclusion_message(self, obj):
        return obj.exclusion_text or "—"

    def _reason_page(
        self, request, queryset, *, action_name, title, intro, reason_label, submit_label, form=None, **extra
    ):
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
                "reason": (form["reason"].value() or "") if form is not None else "",
                "reason_label": reason_label,
                "submit_label": submit_label,
                "reason_required": True,
                **extra,
            },
        )

    def _with_reason(self, request, queryset, *, service, page, missing, done):
        """An action that needs a reason: its page until a reason is given, then `service` for each
        selected subject, each refusal said with the subject's name, and `done(count)` at the end."""
        applied = "apply" in request.POST  # the page's button; the action's first call has no reason yet
        form = ActionReasonForm(request.POST if applied else None, missing=missing)
        if not applied or not form.is_valid():
            errors = form.errors.get("reason", []) if applied else []
            return self._reason_page(request, queryset, errors=errors, form=form, **page)
        reason = form.cleaned_data["reason"]
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
            service=review_services.assessment_return,
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
            service=closing.assessment_reopen,
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
        check. A first page shows each organisation's quota as it would stand; the decisions are made
        when that page is sent. An exception to the quota is not recorded here: it needs the competent
        level's decision, recorded on the decision screen, and the service refuses an organisation whose
        decisions would exceed the quota without one."""
        from ..decisions.conflicts import Conflicts
        from ..decisions.selectors import quota_preview
        from ..decisions.services import DecisionError, decisions_record

        groups = {}
        conflicts = Conflicts(request.user)
        for assessment in queryset.filter(member__isnull=False).select_related("period", "organization", "member"):
            if refusal := conflicts.refusal(assessment):
                # Another member of the committee decides it (organizations.policy.stand_aside).
                self.message_user(
                    request,
                    _("%(name)s: not decided. %(reason)s") % {"name": assessment.subject_name, "reason": refusal},
                    messages.WARNING,
                )
                continue
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
        applied = "apply" in request.POST
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
            "reason_label": "",
            "reason_help": _(
                "Where the quota would be exceeded once everyone is decided (marked in red), the decisions are "
                "refused unless an exception decided by the competent level is recorded on the decision screen "
                "first, within what the rules allow."
            ),
            "submit_label": _("Decide"),
            "without_reason": True,
            "groups": previews,
        }
        if not applied:
            return self._reason_page(request, queryset, **page)
        errors = []
        for (period, grassroots), choices in groups.items():
            try:
                saved, _quota = decisions_record(
                    period=period, organization=grassroots, user=request.user, choices=choices
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
            # Back to the page, with what was refused.
            return self._reason_page(request, queryset, errors=errors, **page)
        return None
