"""The year-end workbook, made by a background job, and the statistics page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from config.routers import reports_on_replica
from jobs import selectors as job_selectors
from jobs import services as job_services
from jobs.models import Job
from organizations.policy import Refused
from organizations.vietnamese import fold

from ..core.access import get_period_and_organization_for_manager
from . import statistics


def export_filename(period, organization):
    """An ASCII file name from the Vietnamese words: "xep-loai-2026-dang-bo-a.xlsx"."""
    prefix = _("classification")  # "xếp loại"
    words = f"{prefix} {period.year} {organization.name}"
    return f"{slugify(fold(words)) or organization.code}.xlsx"


@require_http_methods(["GET", "POST"])
@login_required
def export(request, period_id, code):
    """The year-end spreadsheets of the organisation's subtree, for anyone who manages it: a POST has them
    made by a background job (a province's take minutes) and shows its progress; the page lists the files
    made before. One export of a subtree at a time: a second POST shows the one running."""
    period, organization = get_period_and_organization_for_manager(request.user, period_id, code)
    if request.method == "POST":
        try:
            job, _created = job_services.job_start(
                kind=Job.Kind.EXPORT, user=request.user, organization=organization, period=period
            )
        except Refused as refused:
            messages.error(request, refused.message)
            return redirect("assessments:export", period_id=period.public_id, code=organization.code)
        return redirect("jobs:detail", public_id=job.public_id)
    context = {
        "period": period,
        "organization": organization,
        "jobs": job_selectors.recent_jobs(Job.Kind.EXPORT, organization, period),
    }
    return render(request, "assessments/export.html", context)


def _page_links(request, page, param):
    """The addresses of the pages before and after `page`, the other parameters of the request kept."""
    for name, number in (
        ("previous_url", page.has_previous() and page.number - 1),
        ("next_url", page.has_next() and page.number + 1),
    ):
        query = request.GET.copy()
        query[param] = number
        setattr(page, name, f"?{query.urlencode()}" if number else "")
    return page


@require_GET
@login_required
def stats(request, period_id, code):
    """Progress per organisation (a page of the children), the distribution of levels and the years
    before, and the award lists a page at a time, for a manager."""
    period, organization = get_period_and_organization_for_manager(request.user, period_id, code)
    # Read-only figures: on the replica when there is one (config/routers.py); the access check above
    # read the primary.
    with reports_on_replica():
        figures = statistics.stats_for(period, organization, request.GET.get("page"))
        awards = statistics.award_pages(period, organization, request.GET.get("awards"), request.GET.get("running"))
    _page_links(request, awards.this_year, "awards")
    _page_links(request, awards.years_running, "running")
    context = {
        "period": period,
        "organization": organization,
        "stats": figures,
        "page": figures.page,
        "level_headings": statistics.level_headings(),
        "chart_data": statistics.chart_data(figures),
        "awards": awards,
    }
    return render(request, "assessments/stats.html", context)
