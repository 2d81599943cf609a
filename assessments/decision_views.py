"""The grassroots decision screen: levels for every member, under the rules and the quota."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from . import decisions
from .access import get_period_and_organization_for_manager
from .formview import lang
from .rulebooks import Level
from .services import WorkflowError


@login_required
def decide(request, period_id, code):
    if request.method not in ("GET", "POST"):
        from django.http import HttpResponseNotAllowed

        return HttpResponseNotAllowed(["GET", "POST"])
    period, organization = get_period_and_organization_for_manager(request.user, period_id, code)
    try:
        decisions.check_decider(request.user, organization)
    except WorkflowError as error:
        raise Http404 from error
    posted, row_errors, exception_reason, status = {}, {}, "", 200
    if request.method == "POST":
        rows, _rulebook, _params = decisions.decision_rows(period, organization)
        accept = "accept" in request.POST
        choices = {}
        for row in rows:
            pk = row.assessment.pk
            level = request.POST.get(f"level-{pk}", "")
            if accept and not level and not row.assessment.decided_level and row.suggested:
                level = row.suggested.value
            note = request.POST.get(f"note-{pk}", "")[:2000]
            if level:
                choices[pk] = (level, note)
                posted[pk] = (level, note)
        exception_reason = request.POST.get("exception_reason", "")[:2000]
        try:
            saved, _quota = decisions.decisions_record(
                period=period,
                organization=organization,
                user=request.user,
                choices=choices,
                exception_reason=exception_reason,
            )
        except decisions.DecisionError as error:
            messages.error(request, error.message)
            row_errors = error.row_errors
            status = 400
        except WorkflowError as error:
            messages.error(request, error.message)
            status = 400
        else:
            messages.success(request, _("%(count)d decisions recorded.") % {"count": saved})
            return redirect("assessments:decide", period_id=period.public_id, code=organization.code)
    rows, rulebook, params = decisions.decision_rows(period, organization)
    for row in rows:
        row.errors = row_errors.get(row.assessment.pk, [])
        level, note = posted.get(row.assessment.pk, (row.assessment.decided_level, row.assessment.decision_note))
        row.chosen, row.note = level, note
    quota = decisions.quota_for(rulebook, params, [row.chosen or "" for row in rows if row.assessment.classified])
    language = lang()
    context = {
        "period": period,
        "organization": organization,
        "rows": rows,
        "any_unchecked": any(row.unchecked for row in rows),
        "quota": quota,
        "quota_message": quota.message(language),
        "levels": [(level.value, level.label(language)) for level in Level.best_first()],
        "exception_reason": exception_reason,
        "locked": period.is_locked,
    }
    return render(request, "assessments/decide.html", context, status=status)
