"""The pages of one form: the self-review (read, saved, submitted, returned, printed, as .docx), the
analysis form of a rater, and the member's list of their reviews."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from organizations import policy
from organizations.models import Organization

from ..core.access import get_assessment_for_user
from ..core.models import Assessment, Period
from ..core.selectors import cell_levels
from ..core.workflow import ASSESSMENT, Actor, available
from ..decisions.forms import ReopenForm
from . import formview, services
from .forms import AnalysisForm, ReturnForm, SelfReviewForm
from .history import _history
from .models import Analysis
from .selectors import analysis_summaries


def _wants_json(request):
    return request.headers.get("X-Requested-With") == "fetch"


def _form_context(request, assessment, actors, *, form=None, conflict=""):
    template = formview.template_for(assessment)
    answers = assessment.answers if form is None else form.typed_answers()
    errors = form.errors_by_item() if form is not None else {}
    actions = available(assessment, request.user, actors=actors)
    editable = "save" in actions
    show_result = assessment.period.state == Period.State.PUBLISHED or Actor.MANAGER in actors
    return {
        "assessment": assessment,
        "period": assessment.period,
        "template": template,
        "title": template.title_vi if formview.lang() == "vi" else template.title_en,
        "sections": formview.build_sections(template, assessment, answers, editable=editable, errors=errors),
        "editable": editable,
        "actions": actions,
        "action_labels": {name: ASSESSMENT[name].label for name in actions},
        "is_proxy": Actor.SELF not in actors and assessment.member_id is not None,
        "can_analyse": policy.may(request.user, "review.analysis", assessment.organization),
        "can_reopen": policy.may(request.user, "period.manage", assessment.period.organization)
        and assessment.period.is_locked
        and assessment.subject_kind != Assessment.SubjectKind.COLLECTIVE
        and not assessment.reopened,
        "decision_url": decision_url_for(assessment, actors) if assessment.reopened else "",
        "show_result": show_result,
        "level_check": formview.level_check(assessment, answers) if assessment.member_id else None,
        "level_reason": form["level_reason"].value() or "" if form is not None else "",
        "evaluations": (
            analysis_summaries([assessment])[assessment.pk]
            if assessment.member_id is None and Actor.MANAGER in actors
            else None
        ),
        "history": _history(assessment, show_levels=show_result),
        "conflict": conflict,
        "errors": errors,
        "form": form,
        "return_form": ReturnForm(),
        "reopen_form": ReopenForm(auto_id="id_reopen_%s"),
    }


@require_GET
@login_required
def my_reviews(request):
    assessments = list(
        Assessment.objects.filter(member__user=request.user)
        .select_related("period", "organization")
        .order_by("-period__year", "subject_kind")
    )
    # The member sees their level and their cell's only once the period is published.
    published = [a for a in assessments if a.period.state == Period.State.PUBLISHED]
    levels = cell_levels(published) if published else {}
    for assessment in assessments:
        assessment.published = assessment.period.state == Period.State.PUBLISHED
        assessment.cell_level = levels.get((assessment.period_id, assessment.organization_id))
    return render(request, "assessments/my_reviews.html", {"assessments": assessments})


@require_GET
@login_required
def assessment_form(request, public_id):
    assessment, actors = get_assessment_for_user(request.user, public_id)
    return render(request, "assessments/form.html", _form_context(request, assessment, actors))


def _bound_form(request, assessment, *, submit):
    return SelfReviewForm(
        request.POST, template=formview.template_for(assessment), assessment=assessment, submit=submit
    )


@require_POST
@login_required
def assessment_save(request, public_id):
    """Save the draft (the autosave posts here too); answer JSON to the page's script."""
    assessment, actors = get_assessment_for_user(request.user, public_id)
    form = _bound_form(request, assessment, submit=False)
    if not form.is_valid():
        message = _("Some answers are not valid; nothing was saved. See the marked items.")
        return _refuse(request, assessment, actors, form, message, status=400)
    try:
        saved = services.assessment_save(
            assessment=assessment,
            user=request.user,
            answers=form.cleaned_data["answers"],
            self_level=form.cleaned_data["level"],
            base_version=form.cleaned_data["version"],
        )
    except services.ConflictError as error:
        return _refuse(request, assessment, actors, form, error.message, status=409, conflict=True)
    except services.WorkflowError as error:
        return _refuse(request, assessment, actors, form, error.message, status=400)
    if _wants_json(request):
        check = formview.level_check(saved, saved.answers)
        return JsonResponse(
            {
                "version": saved.version,
                "saved_at": date_format(timezone.localtime(), "H:i"),
                "message": _("Saved at %(time)s.") % {"time": date_format(timezone.localtime(), "H:i")},
                "level_check": _level_check_json(check),
            }
        )
    messages.success(request, _("Your draft has been saved."))
    return redirect("assessments:form", public_id=saved.public_id)


def _level_check_json(check):
    if not check:
        return None
    return {
        "cap": str(check["cap"] or ""),
        "cap_label": check["cap_label"],
        "blocking": check["blocking"],
        "warnings": check["warnings"],
        "needs_reason": check["needs_reason"],
    }


def _refuse(request, assessment, actors, form, message, *, status=400, conflict=False):
    if _wants_json(request):
        errors = form.error_messages_list() if form.is_bound and form.errors else []
        return JsonResponse({"error": message, "conflict": conflict, "errors": errors}, status=status)
    context = _form_context(request, assessment, actors, form=form, conflict=message)
    return render(request, "assessments/form.html", context, status=status)


@require_POST
@login_required
def assessment_submit(request, public_id):
    assessment, actors = get_assessment_for_user(request.user, public_id)
    form = _bound_form(request, assessment, submit=True)
    if not form.is_valid():
        message = _("The form cannot be submitted yet: some required items are missing or not valid.")
        return _refuse(request, assessment, actors, form, message)
    answers, base_version = form.cleaned_data["answers"], form.cleaned_data["version"]
    # The same check as the rule box beside the form, on the answers handed in.
    reason = form.cleaned_data["level_reason"].strip()
    refusal = formview.proposal_refusal(formview.level_check(assessment, answers), reason)
    if refusal:
        return _refuse(request, assessment, actors, form, refusal)
    try:
        if answers != assessment.answers:
            assessment = services.assessment_save(
                assessment=assessment,
                user=request.user,
                answers=answers,
                self_level=form.cleaned_data["level"],
                base_version=base_version,
            )
            base_version = assessment.version
        services.assessment_submit(
            assessment=assessment, user=request.user, base_version=base_version, level_reason=reason
        )
    except services.ConflictError as error:
        return _refuse(request, assessment, actors, form, error.message, status=409, conflict=True)
    except services.WorkflowError as error:
        return _refuse(request, assessment, actors, form, error.message)
    messages.success(request, _("The self-review has been submitted. It can now be read but not changed."))
    return redirect("assessments:form", public_id=assessment.public_id)


@require_POST
@login_required
def assessment_return(request, public_id):
    assessment, actors = get_assessment_for_user(request.user, public_id)
    form = ReturnForm(request.POST)
    try:
        if not form.is_valid():
            raise services.WorkflowError(" ".join(form.errors["reason"]))
        services.assessment_return(assessment=assessment, user=request.user, reason=form.cleaned_data["reason"])
    except services.WorkflowError as error:
        messages.error(request, error.message)
        return redirect("assessments:form", public_id=assessment.public_id)
    messages.success(request, _("The form has been returned to the member with your reason."))
    return redirect("assessments:dashboard", period_id=assessment.period.public_id, code=assessment.organization.code)


@require_GET
@login_required
def assessment_print(request, public_id):
    assessment, actors = get_assessment_for_user(request.user, public_id)
    context = _form_context(request, assessment, actors)
    context["editable"] = False
    context["sections"] = formview.build_sections(context["template"], assessment, assessment.answers, editable=False)
    return render(request, "assessments/print.html", context)


@require_GET
@login_required
def assessment_docx(request, public_id):
    from .documents import assessment_document

    assessment, _actors = get_assessment_for_user(request.user, public_id)
    content, filename = assessment_document(assessment)
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def analysis(request, public_id):
    """The signed-in rater's analysis form on a subject, with the rulebook's reading of the ratings."""

    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    assessment, actors = get_assessment_for_user(request.user, public_id)
    if not policy.may(request.user, "review.analysis", assessment.organization):
        raise Http404
    template = formview.template_for(assessment, "analysis")
    current = Analysis.objects.filter(assessment=assessment, rater=request.user).first()
    answers = current.answers if current else {}
    if current is None:
        # Who rates: the signed-in person, unless they write the name of a body instead.
        user = request.user
        answers = {"rater": f"{user.last_name} {user.first_name}".strip() or user.get_username()}
    form_kwargs = {
        "template": template,
        "assessment": assessment,
        "existing": answers,
        "author": template.filled_by,
        "filled_by": template.filled_by,
    }
    status = 200
    if request.method == "POST":
        form = AnalysisForm(request.POST, **form_kwargs)
        status = _analysis_post(request, assessment, template, form)
        if status is None:
            return redirect("assessments:analysis", public_id=assessment.public_id)
    else:
        form = AnalysisForm(**form_kwargs)
    answers = form.typed_answers()
    editable = services.analysis_editable(assessment, current)
    check = formview.proposal_check(assessment, answers, template, template.filled_by)
    evaluation = check["evaluation"]
    language = formview.lang()
    suggested = evaluation.suggested_level() if evaluation.not_classified is None else None
    context = {
        "assessment": assessment,
        "period": assessment.period,
        "analysis": current,
        "title": template.title_vi if language == "vi" else template.title_en,
        "form": form,
        "sections": formview.build_sections(
            template, assessment, answers, editable=editable, errors=form.errors_by_item(), author=template.filled_by
        ),
        "editable": editable,
        "version": current.version if current else 0,
        "suggested": suggested.label(language) if suggested else "",
        "level_check": check,
        "level_reason": (form["level_reason"].value() or "") if form.is_bound else "",
        "findings": [
            (finding.severity, finding.message(language))
            for finding in evaluation.findings
            if finding.severity != "info"
        ],
    }
    return render(request, "assessments/analysis.html", context, status=status)


def _analysis_post(request, assessment, template, form):
    """Save or hand in the rater's analysis form: None when done, else the status of the refusal."""
    if not form.is_valid():
        messages.error(request, _("Some answers are missing or not valid; nothing was saved. See the marked items."))
        return 400
    submit = form.cleaned_data["submit"]
    reason = form.cleaned_data["level_reason"].strip()
    if submit:
        # Handing in: the same check as the rule box beside the form, on the answers handed in.
        check = formview.proposal_check(assessment, form.cleaned_data["answers"], template, template.filled_by)
        refusal = formview.proposal_refusal(check, reason)
        if refusal:
            messages.error(request, refusal)
            return 400
    try:
        services.analysis_save(
            assessment=assessment,
            user=request.user,
            answers=form.cleaned_data["answers"],
            proposed_level=form.cleaned_data["level"],
            base_version=form.cleaned_data["version"],
            submit=submit,
            level_reason=reason,
        )
    except services.ConflictError as error:
        messages.error(request, error.message)
        return 409
    except services.WorkflowError as error:
        messages.error(request, error.message)
        return 400
    messages.success(
        request, _("The analysis form has been handed in.") if submit else _("The analysis form has been saved.")
    )
    return None


def decision_url_for(assessment, actors):
    """The decision screen on which a reopened subject is decided again, for one who may decide it."""

    if Actor.MANAGER not in actors:
        return ""
    organization = assessment.organization
    steplen = organization.steplen
    ancestors = [organization.path[:n] for n in range(steplen, len(organization.path) + 1, steplen)]
    if assessment.member_id is not None:
        group = (
            Organization.objects.filter(path__in=ancestors, kind__in=Organization.GRASSROOTS_KINDS)
            .order_by("-depth")
            .first()
        )
        name, params = "assessments:decide", f"?cell={organization.code}&show=reopened"
    else:
        parents = ancestors[:-1]
        group = Organization.objects.filter(path__in=parents).order_by("-depth").first()
        if group is not None and group.depth > 1 and group.kind != Organization.Kind.GRASSROOTS_COMMITTEE:
            group = (
                Organization.objects.filter(path__in=parents, kind=Organization.Kind.GRASSROOTS_COMMITTEE)
                .order_by("-depth")
                .first()
            )
        name, params = "assessments:rank", "?show=reopened"
    if group is None:
        return ""
    return reverse(name, args=[assessment.period.public_id, group.code]) + params
