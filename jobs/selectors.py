"""Reading jobs: one job for the user who may see it, the user's own jobs, a subject's latest ones."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import Http404
from django.shortcuts import get_object_or_404

from .models import Job
from .services import may_see

if TYPE_CHECKING:
    from uuid import UUID

    from django.contrib.auth.models import User
    from django.db.models import QuerySet

MY_JOBS_PER_PAGE = 50


def get_job_for_user(user: User, public_id: UUID | str) -> Job:
    """The job if the user manages its organisation; else 404 (as any object out of scope)."""
    job = get_object_or_404(
        Job.objects.select_related("organization", "period__organization", "started_by"), public_id=public_id
    )
    if not may_see(user, job):
        raise Http404
    return job


def jobs_started_by(user: User) -> QuerySet[Job]:
    """All the user's jobs, newest first (index jobs_by_starter): "my jobs" shows them a page at a time."""
    return (
        Job.objects.filter(started_by=user)
        .select_related("organization", "period__organization")
        .order_by("-created_at", "-pk")
    )


def recent_jobs(kind: str, organization, period, limit: int = 5) -> QuerySet[Job]:
    """The latest jobs of one kind on one subject (the export page lists the files made before)."""
    return (
        Job.objects.filter(kind=kind, organization=organization, period=period)
        .select_related("started_by")
        .order_by("-created_at", "-pk")[:limit]
    )
