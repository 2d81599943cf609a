"""The period in the admin (with its parameters, and the actions that open, close, finalise and
publish it), the read-only audit trail, and the member's page again, whose transfers move the review."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from jobs import services as job_services
from jobs.models import Job
from members.admin import MemberAdmin as BaseMemberAdmin
from members.models import Member, Transfer
from organizations.access import scope_for
from organizations.admin_scope import ScopedAdminMixin

from ..decisions import closing
from ..rulebooks import available_rulebooks, get_rulebook
from . import services, transfers
from .models import Assessment, AuditEntry, Period, label_for_action
from .text import lang


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
class PeriodAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = PeriodForm
    scope_lookup = "organization__path"
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
        self._run(request, queryset, closing.period_finalise, _("%(period)s finalised."))

    @admin.action(description=_("Publish the selected periods (members see their level)"), permissions=["change"])
    def publish_periods(self, request, queryset):
        self._run(request, queryset, closing.period_publish, _("%(period)s published."))

    @admin.action(description=_("Close the selected periods (no more changes to the forms)"), permissions=["change"])
    def close_periods(self, request, queryset):
        self._run(request, queryset, services.period_close, _("%(period)s closed."))

    @admin.action(description=_("Open the selected periods (take the roster)"), permissions=["change"])
    def open_periods(self, request, queryset):
        """Each opening is a background job (a province's takes minutes): one selected period goes to its
        job's progress page; several, each reported with a link to its job."""
        started = []
        for period in queryset.select_related("organization"):
            try:
                job, created = job_services.job_start(
                    kind=Job.Kind.OPEN_PERIOD, user=request.user, organization=period.organization, period=period
                )
            except services.WorkflowError as error:
                self._refused(request, period, error)
                continue
            started.append(job)
            message = (
                _("%(period)s: the opening has started in the background.")
                if created
                else _("%(period)s: its opening is already under way.")
            )
            self.message_user(
                request,
                format_html(
                    '{} <a href="{}">{}</a>', message % {"period": period}, job_url(job), _("See its progress")
                ),
                messages.SUCCESS if created else messages.WARNING,
            )
        if len(started) == 1 and queryset.count() == 1:
            return HttpResponseRedirect(job_url(started[0]))
        return None


def job_url(job: Job) -> str:
    return reverse("jobs:detail", args=[job.public_id])


class AuditActionFilter(admin.SimpleListFilter):
    """The actions found in the trail (one query), by their labels."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        entries = model_admin.get_queryset(request)
        actions = entries.order_by("action").values_list("action", flat=True).distinct()
        return sorted(((action, label_for_action(action)) for action in actions), key=lambda pair: str(pair[1]))

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


# The states an entry moves between: an assessment's, or for the period's own steps the period's.
STATE_LABELS = {**dict(Period.State.choices), **dict(Assessment.State.choices)}


@admin.register(AuditEntry)
class AuditEntryAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Read-only for everybody, the superuser included: the trail is append-only."""

    list_display = ["at", "actor", "on_behalf_of", "action_display", "change_display", "assessment"]
    list_filter = [AuditActionFilter, ("period", admin.RelatedOnlyFieldListFilter)]
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

    def scope_q(self, request):
        """An entry about a subject is where the subject is; one about a period, where the period is; one
        of neither (accounts, imports) belongs to no organisation."""
        scope = scope_for(request.user)
        if scope.is_superuser:
            return Q()
        about_period = Q(assessment__isnull=True, period__isnull=False) & scope.path_q("period__organization__path")
        q = scope.path_q("assessment__organization__path") | about_period
        if scope.manages_a_root:
            q |= Q(assessment__isnull=True, period__isnull=True)
        return q

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# A transfer is entered on the member's page of the members' admin; the review of the open period follows
# it (the receiving cell classifies). The members app knows no reviews, so this app, which does, registers
# that page again with the step that hands the review over (as members/admin.py adds the member count).
class MemberAdmin(BaseMemberAdmin):
    def save_formset(self, request, form, formset, change):
        if formset.model is not Transfer:
            return super().save_formset(request, form, formset, change)
        instances = formset.save(commit=False)
        for deleted in formset.deleted_objects:
            deleted.delete()
        for transfer in instances:
            if transfer.pk is not None:
                transfer.save()
                continue
            recorded = transfers.transfer_record(transfer=transfer, user=request.user)
            self._report(request, recorded)
        formset.save_m2m()
        return None

    def _report(self, request, recorded):
        transfer = recorded.transfer
        values = {"to": transfer.to_cell.name, "from": transfer.from_cell.name}
        if recorded.moved:
            self.message_user(
                request,
                _("The open review moved to %(to)s, which classifies the member with the comment of %(from)s.")
                % values,
                messages.SUCCESS,
            )
        if recorded.decided:
            self.message_user(
                request,
                _("The level was already decided: it stays as decided by %(from)s.") % values,
                messages.WARNING,
            )
        if recorded.outside:
            self.message_user(
                request,
                _("%(to)s is outside the organisation under review: the member is not classified by it.") % values,
                messages.WARNING,
            )


admin.site.unregister(Member)
admin.site.register(Member, MemberAdmin)
