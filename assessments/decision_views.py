"""The decision screens: a grassroots organisation decides its members' levels (and a grassroots
committee its cells' levels); the board ranks the grassroots organisations. Both under the rules and
the quota."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import ngettext

from . import decisions, ranking
from .access import get_period_and_organization_for_manager
from .formview import lang
from .rulebooks import Level
from .services import WorkflowError


def _levels_page(request, *, period, group, rows_for, record, template, url_name, subject_kind):
    """GET shows the rows; POST records the chosen levels (all or nothing) and shows what was refused."""
    posted, row_errors, exception_reason, status = {}, {}, "", 200
    if request.method == "POST":
        rows, _rulebook, _params = rows_for(period, group)
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
            saved, _quota = record(
                period=period, group=group, user=request.user, choices=choices, exception_reason=exception_reason
            )
        except decisions.DecisionError as error:
            messages.error(request, error.message)
            row_errors = error.row_errors
            status = 400
        except WorkflowError as error:
            messages.error(request, error.message)
            status = 400
        else:
            messages.success(
                request,
                ngettext("%(count)d decision recorded.", "%(count)d decisions recorded.", saved) % {"count": saved},
            )
            return redirect(url_name, period_id=period.public_id, code=group.code)
    rows, rulebook, params = rows_for(period, group)
    for row in rows:
        row.errors = row_errors.get(row.assessment.pk, [])
        row.chosen, row.note = posted.get(
            row.assessment.pk, (row.assessment.decided_level, row.assessment.decision_note)
        )
    quota = decisions.quota_for(
        rulebook, params, [row.chosen or "" for row in rows if row.assessment.classified], subject_kind
    )
    language = lang()
    context = {
        "period": period,
        "organization": group,
        "rows": rows,
        "any_unchecked": any(row.unchecked for row in rows),
        "quota": quota,
        "quota_message": quota.message(language),
        "levels": [(level.value, level.label(language)) for level in Level.best_first()],
        "exception_reason": exception_reason,
        "locked": period.is_locked,
    }
    return render(request, template, context, status=status)


def _decision_screen(*, check, rows_for, record, template, url_name, subject_kind):
    """A decision screen: who may decide is `check`'s business (404 otherwise); the rest is shared."""

    @login_required
    def view(request, period_id, code):
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        period, organization = get_period_and_organization_for_manager(request.user, period_id, code)
        try:
            check(request.user, organization)
        except WorkflowError as error:
            raise Http404 from error
        return _levels_page(
            request,
            period=period,
            group=organization,
            rows_for=rows_for,
            record=record,
            template=template,
            url_name=url_name,
            subject_kind=subject_kind,
        )

    return view


def _record_members(*, period, group, user, choices, exception_reason):
    return decisions.decisions_record(
        period=period, organization=group, user=user, choices=choices, exception_reason=exception_reason
    )


def _record_organizations(*, period, group, user, choices, exception_reason):
    return ranking.ranking_record(
        period=period, parent=group, user=user, choices=choices, exception_reason=exception_reason
    )


# A grassroots organisation decides its members' levels.
decide = _decision_screen(
    check=decisions.check_decider,
    rows_for=decisions.decision_rows,
    record=_record_members,
    template="assessments/decide.html",
    url_name="assessments:decide",
    subject_kind="member",
)

# A grassroots committee decides its cells; the board ranks the grassroots organisations.
rank = _decision_screen(
    check=ranking.check_ranker,
    rows_for=ranking.ranking_rows,
    record=_record_organizations,
    template="assessments/ranking.html",
    url_name="assessments:rank",
    subject_kind="organization",
)
