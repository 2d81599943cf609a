"""The statistics page of a period and an organisation subtree: tables, with charts drawn from the
same figures by the vendored Chart.js."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import dashboards
from .access import get_period_and_organization_for_manager


@require_GET
@login_required
def stats(request, period_id, code):
    """Progress per organisation, the distribution of levels and the years before, for a manager."""
    period, organization = get_period_and_organization_for_manager(request.user, period_id, code)
    figures = dashboards.stats_for(period, organization)
    context = {
        "period": period,
        "organization": organization,
        "stats": figures,
        "level_headings": dashboards.level_headings(),
        "chart_data": dashboards.chart_data(figures),
    }
    return render(request, "assessments/stats.html", context)
