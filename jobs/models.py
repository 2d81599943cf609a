"""One record per piece of long work: what it is, who started it, how far it is, how it ended."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Job(models.Model):
    class Kind(models.TextChoices):
        OPEN_PERIOD = "open_period", _("Opening a review period")
        EXPORT = "export", _("Year-end spreadsheets")
        # Room for the kinds still done in the request (see the README, "Background jobs").
        IMPORT_COMMIT = "import_commit", _("Import")
        ACCOUNTS = "accounts", _("Member accounts")
        REMINDERS = "reminders", _("Reminders")
        NATIONAL_SUMMARY = "national_summary", _("National summary")

    class State(models.TextChoices):
        QUEUED = "queued", _("Waiting for a worker")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    # A second one of these for the same period and organisation waits for the first to finish.
    EXCLUSIVE_KINDS = (Kind.OPEN_PERIOD, Kind.EXPORT, Kind.REMINDERS, Kind.ACCOUNTS)
    ACTIVE_STATES = (State.QUEUED, State.RUNNING)
    FINISHED_STATES = (State.SUCCEEDED, State.FAILED, State.CANCELLED)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind of work"), max_length=24, choices=Kind.choices)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.QUEUED)
    organization = models.ForeignKey(
        "organizations.Organization", verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="+"
    )
    # By its label, not an import: the reviews sit above this app.
    period = models.ForeignKey(
        "assessments.Period",
        verbose_name=_("period"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Started by the command line (policy.SYSTEM), not by a user.
    by_system = models.BooleanField(_("started by the system"), default=False)
    # The starter's language: the worker writes the job's step and error in it.
    language = models.CharField(_("language"), max_length=8, default="vi")
    done = models.PositiveIntegerField(_("done"), default=0)
    total = models.PositiveIntegerField(_("total"), default=0)
    step = models.CharField(_("step"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    # What the user reads when it failed: a sentence in their language, never a traceback (that goes
    # to the worker's log).
    error = models.TextField(_("error"), blank=True)
    # The export's file, relative to settings.JOBS_RESULTS_DIR, and the name it is downloaded under.
    result_path = models.CharField(_("result file"), max_length=200, blank=True)
    result_name = models.CharField(_("file name"), max_length=200, blank=True)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    # What the work needs besides its organisation and period (plain JSON values): an import's kind
    # and whether to commit, say. The uploaded file an import reads lies in settings.JOBS_RESULTS_DIR
    # under `input_path`, removed when the job ends.
    arguments = models.JSONField(_("arguments"), default=dict, blank=True)
    input_path = models.CharField(_("input file"), max_length=200, blank=True)
    # The content type the result is downloaded with (the export's spreadsheet when empty), and whether
    # the file is removed once downloaded (the slips of one-time codes are handed out once).
    result_content_type = models.CharField(_("result type"), max_length=100, blank=True)
    result_once = models.BooleanField(_("downloaded once"), default=False)
    # The id of the task that runs it (django_tasks_db's DBTaskResult), the last one when retried.
    task_id = models.CharField(_("task"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # A second click on "open" or "export" finds the running job instead of starting another
            # (services.job_start catches the IntegrityError of a race).
            models.UniqueConstraint(
                fields=["kind", "organization", "period"],
                condition=Q(state__in=["queued", "running"], kind__in=["open_period", "export", "reminders"]),
                name="jobs_one_active_per_subject",
            ),
            # The accounts have no period: one job making accounts or codes at a time per organisation.
            models.UniqueConstraint(
                fields=["kind", "organization"],
                condition=Q(state__in=["queued", "running"], kind="accounts"),
                name="jobs_one_active_accounts",
            ),
            models.CheckConstraint(
                condition=Q(done__lte=models.F("total")) | Q(total=0), name="jobs_done_within_total"
            ),
        ]
        indexes = [
            # "My jobs" (selectors.jobs_started_by).
            models.Index(fields=["started_by", "-created_at"], name="jobs_by_starter"),
            # jobs_recover: the running jobs whose heartbeat is old.
            models.Index(fields=["state", "heartbeat_at"], name="jobs_state_heartbeat"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} – {self.organization_id and self.organization.name}"

    @property
    def is_finished(self) -> bool:
        return self.state in self.FINISHED_STATES

    @property
    def percent(self) -> int:
        if self.state == self.State.SUCCEEDED:
            return 100
        if not self.total:
            return 0
        return min(100, int(self.done * 100 / self.total))

    @property
    def has_result(self) -> bool:
        return self.state == self.State.SUCCEEDED and bool(self.result_path)
