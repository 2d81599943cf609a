"""The jobs in the admin, read-only, within the board's subtree; the task queue's own rows are not shown
(its admin is unregistered: a job's page says all that the queue knows, in the users' words)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from organizations.admin_scope import ScopedAdminMixin

from .models import Job

try:
    from django_tasks_db.models import DBTaskResult

    admin.site.unregister(DBTaskResult)
except (ImportError, admin.sites.NotRegistered):  # pragma: no cover - the backend not installed
    pass


@admin.register(Job)
class JobAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_lookup = "organization__path"
    list_display = ["created_at", "kind", "organization", "period", "state", "progress_display", "started_by"]
    list_filter = ["state", "kind"]
    list_select_related = ["organization", "period__organization", "started_by"]
    search_fields = ["organization__name", "organization__code"]
    date_hierarchy = "created_at"
    fields = [
        "public_id",
        "kind",
        "state",
        "organization",
        "period",
        "started_by",
        "by_system",
        "step",
        "done",
        "total",
        "created_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
        "attempts",
        "cancel_requested",
        "error",
        "result_name",
        "summary",
        "task_id",
    ]
    readonly_fields = fields

    @admin.display(description=_("progress"))
    def progress_display(self, job):
        return f"{job.percent}%"

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False
