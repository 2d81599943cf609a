"""The year-end workbook to download, and the statistics page."""

import tempfile

from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import render
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from organizations.vietnamese import fold

from ..core.access import get_period_and_organization_for_manager
from . import statistics
from .workbook import write_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_filename(period, organization):
    """An ASCII file name from the Vietnamese words: "xep-loai-2026-dang-bo-a.xlsx"."""
    prefix = _("classification")  # "xếp loại"
    words = f"{prefix} {period.year} {organization.name}"
    return f"{slugify(fold(words)) or organization.code}.xlsx"


@require_GET
@login_required
def export(request, period_id, code):
    """The year-end spreadsheets of the organisation's subtree, for anyone who manages it."""
    period, organization = get_period_and_organization_for_manager(request.user, period_id, code)
    # The write-only workbook streams its rows to disk; the response streams the finished file.
    target = tempfile.TemporaryFile(suffix=".xlsx")
    write_workbook(period, organization, target)
    target.seek(0)
    return FileResponse(target, as_attachment=True, filename=export_filename(period, organization), content_type=XLSX)


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
