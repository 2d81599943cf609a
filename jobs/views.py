"""A job's progress page (polled by htmx while it runs), its cancel button, its file, and "my jobs"."""

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_POST

from organizations.policy import Refused

from . import selectors, services
from .models import Job

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@require_GET
@login_required
def detail(request, public_id):
    job = selectors.get_job_for_user(request.user, public_id)
    return render(request, "jobs/detail.html", {"job": job})


@require_GET
@login_required
def progress(request, public_id):
    """The progress fragment: the page polls it every 2 s while the job is queued or running. Opened
    by itself (a bookmark, a reloaded address), it is the job's whole page instead."""
    job = selectors.get_job_for_user(request.user, public_id)
    if not request.htmx:
        return redirect("jobs:detail", public_id=job.public_id)
    return render(request, "jobs/_progress.html", {"job": job})


@require_POST
@login_required
def cancel(request, public_id):
    job = selectors.get_job_for_user(request.user, public_id)
    try:
        services.job_cancel(job=job, user=request.user)
    except Refused as refused:
        messages.error(request, refused.message)
    return redirect("jobs:detail", public_id=job.public_id)


@require_GET
@login_required
def download(request, public_id):
    """The job's file, to those who may see the job; 404 while there is none."""
    job = selectors.get_job_for_user(request.user, public_id)
    if not job.has_result:
        raise Http404
    directory = Path(settings.JOBS_RESULTS_DIR).resolve()
    path = (directory / job.result_path).resolve()
    if path.parent != directory or not path.is_file():
        raise Http404
    handle = path.open("rb")
    content_type = job.result_content_type or XLSX
    # A page (the slips to print) opens in the browser; a spreadsheet is saved.
    response = FileResponse(
        handle,
        as_attachment=not content_type.startswith("text/html"),
        filename=job.result_name,
        content_type=content_type,
    )
    if job.result_once:
        # Handed out once (one-time codes): the open handle still reads the file; the name is gone, and
        # the job no longer offers it.
        path.unlink(missing_ok=True)
        Job.objects.filter(pk=job.pk).update(result_path="")
        add_never_cache_headers(response)
    return response


@require_GET
@login_required
def mine(request: HttpRequest) -> HttpResponse:
    """The user's background jobs, newest first, a page of 50 at a time."""
    page = Paginator(selectors.jobs_started_by(request.user), selectors.MY_JOBS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "jobs/mine.html", {"jobs": page.object_list, "page": page})
