"""The board's pages of a period that are not a stage's: the roster (who is not classified, and why)
and the board's decisions on it, under the rulebook's warnings on the period's dates."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from organizations import policy
from organizations.selectors import words_start_with

from . import services
from .forms import ClassificationForm
from .models import Assessment, Period
from .selectors import schedule_warnings
from .text import lang

ROSTER_PAGE_SIZE = 50


def _board_period(user, period_id):
    from django.shortcuts import get_object_or_404

    period = get_object_or_404(Period.objects.select_related("organization"), public_id=period_id)
    if not policy.may(user, "period.manage", period.organization):
        raise Http404
    return period


@require_GET
@login_required
def roster(request, period_id):
    """The board's view of the roster: who is not classified and why, and the board's own decisions; above
    it, the rulebook's warnings on the period's dates and its cell meetings' dates."""
    period = _board_period(request.user, period_id)
    chosen = Assessment.objects.filter(period=period).filter(Q(classified=False) | Q(exclusion_overridden=True))
    query = request.GET.get("q", "").strip()[:100]
    by_name = words_start_with("member__search_name", query)
    if by_name is not None:
        chosen = chosen.filter(by_name | words_start_with("organization__search_name", query))
    # A province leaves thousands out (the sick, the exempt): a page at a time, in the tree's order.
    page = Paginator(
        chosen.select_related("member", "organization").order_by(
            "subject_kind", "organization__path", "member__sort_key", "pk"
        ),
        ROSTER_PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    context = {
        "period": period,
        "rows": page.object_list,
        "page": page,
        "query": query,
        "schedule_warnings": schedule_warnings(period, lang()),
    }
    return render(request, "assessments/roster.html", context)


@require_POST
@login_required
def roster_override(request, period_id, public_id):

    period = _board_period(request.user, period_id)
    assessment = get_object_or_404(Assessment.objects.select_related("period"), period=period, public_id=public_id)
    form = ClassificationForm(request.POST)
    try:
        if not form.is_valid():
            raise services.WorkflowError(" ".join(message for errors in form.errors.values() for message in errors))
        services.assessment_classification_override(
            assessment=assessment,
            user=request.user,
            classified=form.cleaned_data["classified"],
            reason=form.cleaned_data["reason"],
        )
    except services.WorkflowError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The board's decision has been recorded."))
    # Back to the page and search the decision was made on.
    target = reverse("assessments:roster", args=[period.public_id])
    back = {key: request.POST[key] for key in ("page", "q") if request.POST.get(key)}
    return redirect(f"{target}?{urlencode(back)}" if back else target)
