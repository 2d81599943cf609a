"""The board's pages of a period that are not a stage's: the roster (who is not classified, and why)
and the board's decisions on it, under the rulebook's warnings on the period's dates."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from organizations import policy

from . import services
from .forms import ClassificationForm
from .models import Assessment, Period
from .selectors import schedule_warnings
from .text import lang


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
    rows = list(
        Assessment.objects.filter(period=period)
        .filter(Q(classified=False) | Q(exclusion_overridden=True))
        .select_related("member", "organization")
        .order_by("subject_kind", "organization__path", "member__sort_key")
    )
    context = {"period": period, "rows": rows, "schedule_warnings": schedule_warnings(period, lang())}
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
    return redirect("assessments:roster", period_id=period.public_id)
