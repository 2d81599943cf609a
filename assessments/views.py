import itertools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from members.models import Level
from organizations.models import Organization, RoleAssignment

from . import formview, services
from .access import get_assessment_for_user, get_period_and_organization_for_manager
from .dashboards import Distribution
from .decisions import decision_url_for
from .models import Analysis, Assessment, AuditEntry, Period
from .rulebooks import Level as RuleLevel
from .rulebooks import validate_answers
from .selectors import analysis_summaries, cell_levels
from .workflow import ACTIONS, Actor, allowed_actions

MAX_TEXT = 20000  # characters in one answer: generous for a self-review, a guard against abuse


def _wants_json(request):
    return request.headers.get("X-Requested-With") == "fetch"


def _form_context(request, assessment, actors, *, answers=None, errors=(), conflict=""):
    template = formview.template_for(assessment)
    answers = assessment.answers if answers is None else answers
    actions = allowed_actions(assessment.state, actors)
    editable = "save" in actions and assessment.period.state == Period.State.OPEN and not assessment.period.is_locked
    show_result = assessment.period.state == Period.State.PUBLISHED or Actor.MANAGER in actors
    return {
        "assessment": assessment,
        "period": assessment.period,
        "template": template,
        "title": template.title_vi if formview.lang() == "vi" else template.title_en,
        "sections": formview.build_sections(template, assessment, answers, editable=editable, errors=errors),
        "editable": editable,
        "actions": actions,
        "action_labels": {name: ACTIONS[name].label for name in actions},
        "is_proxy": Actor.SELF not in actors and assessment.member_id is not None,
        "can_analyse": bool({Actor.MANAGER, Actor.EVALUATOR} & actors),
        "can_reopen": Actor.BOARD in actors
        and assessment.period.is_locked
        and assessment.subject_kind != Assessment.SubjectKind.COLLECTIVE
        and not assessment.reopened,
        "decision_url": decision_url_for(assessment, actors) if assessment.reopened else "",
        "show_result": show_result,
        "level_check": formview.level_check(assessment, answers) if assessment.member_id else None,
        "evaluations": (
            analysis_summaries([assessment])[assessment.pk]
            if assessment.member_id is None and Actor.MANAGER in actors
            else None
        ),
        "history": _history(assessment, show_levels=show_result),
        "conflict": conflict,
        "errors": errors,
    }


def person_name(user):
    """How a person is named on the pages: the full name of their member record, else the first and
    last name of their account, else the user name. `user.member` should be loaded with the user."""
    if user is None:
        return ""
    member = getattr(user, "member", None)
    if member is not None:
        return member.full_name
    return f"{user.last_name} {user.first_name}".strip() or user.get_username()


def _roles_above(organization, user_ids):
    """{user id: label of the role} that each user holds on `organization` or above it, the nearest
    role winning (one query). A member acting on their own form has no role here."""
    steplen = organization.steplen
    paths = [organization.path[:n] for n in range(steplen, len(organization.path) + 1, steplen)]
    roles = {}
    assignments = RoleAssignment.objects.filter(user_id__in=user_ids, organization__path__in=paths).order_by(
        "organization__depth", "pk"
    )
    for assignment in assignments:
        roles[assignment.user_id] = assignment.get_role_display()
    return roles


def _level_text(level):
    return f"{Level(level).label} ({level})" if level in Level.values else ""


def _history(assessment, *, show_levels):
    """The form's audit trail as the page shows it: who (by name and role), what, and for a proposal
    or a decision the level, unless the viewer may not see levels yet (a member before publication).
    Two queries: the entries with their people, and the roles of the people other than the member."""
    history = list(
        AuditEntry.objects.filter(assessment=assessment)
        .select_related("actor__member", "on_behalf_of")
        .order_by("at", "pk")
    )
    subject_user_id = assessment.member.user_id if assessment.member_id else None
    others = {entry.actor_id for entry in history if entry.actor_id and entry.actor_id != subject_user_id}
    roles = _roles_above(assessment.organization, others) if others else {}
    states = dict(Assessment.State.choices)
    for entry in history:
        entry.who = person_name(entry.actor)
        entry.role = roles.get(entry.actor_id, "")
        # Older entries may carry a member on a return or a decision: only a save or a submission
        # is ever done for the member.
        entry.for_member = entry.on_behalf_of if entry.action in AuditEntry.ON_BEHALF_ACTIONS else None
        entry.from_label = states.get(entry.from_state, entry.from_state)
        entry.to_label = states.get(entry.to_state, entry.to_state)
        entry.detail = ""
        if entry.action == AuditEntry.Action.CLASSIFICATION_OVERRIDE and "classified" in entry.data:
            entry.detail = _("to be classified") if entry.data["classified"] else _("not to be classified")
        elif entry.data.get("on_paper"):
            entry.detail = _("handed in on paper")
        elif show_levels:
            entry.detail = _level_text(entry.data.get("level") or entry.data.get("proposed_level") or "")
    return history


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


def _too_long(answers):
    return any(isinstance(v, str) and len(v) > MAX_TEXT for v in answers.values())


def _too_long_message():
    return _("An answer is longer than %(max)d characters. Please shorten it.") % {"max": MAX_TEXT}


def _base_version(request):
    """The version of the form the page was loaded at (-1, which never matches, when it is missing)."""
    try:
        return int(request.POST.get("version", "-1"))
    except ValueError:
        return -1


def _posted(request, assessment):
    """The template, the answers as posted over the stored ones, and the version they were based on."""
    template = formview.template_for(assessment)
    answers = formview.parse_answers(template, request.POST, assessment.answers, assessment)
    return template, answers, _base_version(request)


@require_POST
@login_required
def assessment_save(request, public_id):
    """Save the draft (the autosave posts here too); answer JSON to the page's script."""
    assessment, actors = get_assessment_for_user(request.user, public_id)
    template, answers, base_version = _posted(request, assessment)
    errors = validate_answers(template, answers, submit=False)
    if _too_long(answers):
        return _refuse(request, assessment, actors, answers, _too_long_message(), status=400)
    if errors:
        message = _("Some answers are not valid; nothing was saved. See the marked items.")
        return _refuse(request, assessment, actors, answers, message, errors=errors, status=400)
    level_item = formview.self_level_item(template)
    try:
        saved = services.assessment_save(
            assessment=assessment,
            user=request.user,
            answers=answers,
            self_level=answers.get(level_item.id, "") if level_item else "",
            base_version=base_version,
        )
    except services.ConflictError as error:
        return _refuse(request, assessment, actors, answers, error.message, status=409, conflict=True)
    except services.WorkflowError as error:
        return _refuse(request, assessment, actors, answers, error.message, status=400)
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
    }


def _refuse(request, assessment, actors, answers, message, *, errors=(), status=400, conflict=False):
    if _wants_json(request):
        return JsonResponse(
            {"error": message, "conflict": conflict, "errors": [e.message(formview.lang()) for e in errors]},
            status=status,
        )
    context = _form_context(request, assessment, actors, answers=answers, errors=errors, conflict=message)
    return render(request, "assessments/form.html", context, status=status)


@require_POST
@login_required
def assessment_submit(request, public_id):
    assessment, actors = get_assessment_for_user(request.user, public_id)
    template, answers, base_version = _posted(request, assessment)
    if _too_long(answers):
        return _refuse(request, assessment, actors, answers, _too_long_message())
    errors = validate_answers(template, answers, submit=True)
    if errors:
        message = _("The form cannot be submitted yet: some required items are missing or not valid.")
        return _refuse(request, assessment, actors, answers, message, errors=errors)
    level_item = formview.self_level_item(template)
    try:
        if answers != assessment.answers:
            assessment = services.assessment_save(
                assessment=assessment,
                user=request.user,
                answers=answers,
                self_level=answers.get(level_item.id, "") if level_item else "",
                base_version=base_version,
            )
            base_version = assessment.version
        services.assessment_submit(assessment=assessment, user=request.user, base_version=base_version)
    except services.ConflictError as error:
        return _refuse(request, assessment, actors, answers, error.message, status=409, conflict=True)
    except services.WorkflowError as error:
        return _refuse(request, assessment, actors, answers, error.message)
    messages.success(request, _("The self-review has been submitted. It can now be read but not changed."))
    return redirect("assessments:form", public_id=assessment.public_id)


@require_POST
@login_required
def assessment_return(request, public_id):
    assessment, actors = get_assessment_for_user(request.user, public_id)
    try:
        services.assessment_return(assessment=assessment, user=request.user, reason=request.POST.get("reason", ""))
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


@require_GET
@login_required
def dashboard(request, period_id, code):
    """A cell's forms (for its secretary), or a committee's cells with their progress (for its officer);
    the levels as they are decided, marked as not yet published until the board publishes them."""
    period, organization = get_period_and_organization_for_manager(request.user, period_id, code)
    own_reviews = list(
        Assessment.objects.filter(period=period, organization=organization, member__isnull=True).order_by(
            "subject_kind"
        )
    )
    context = {
        "period": period,
        "organization": organization,
        "own_reviews": own_reviews,
        "published": period.state == Period.State.PUBLISHED,
        "taking_forms": period.state == Period.State.OPEN,
        "level_codes": Level.values,
    }
    if organization.is_cell:
        forms = list(
            Assessment.objects.filter(period=period, organization=organization, member__isnull=False)
            .select_related("member__user", "filled_by")
            .order_by("member__sort_key", "pk")
        )
        members_levels = Distribution(organization.name)
        for form in forms:
            if form.classified:
                members_levels.add(form.decided_level, 1)
        context["forms"] = forms
        context["counts"] = _state_counts(forms)
        context["pending"] = [a for a in forms if a.state in PENDING_STATES and a.classified]
        context["members_levels"] = members_levels
        context["any_proposal"] = any(a.cell_proposed_level for a in forms)
    else:
        children = list(Organization.objects.get_children(organization))
        rows = (
            Assessment.objects.filter(period=period, organization__path__startswith=organization.path)
            .filter(member__isnull=False)
            .values("organization__path", "decided_level")
            .annotate(
                total=Count("pk"),
                submitted=Count("pk", filter=~Q(state__in=PENDING_STATES)),
                returned=Count("pk", filter=Q(state=Assessment.State.RETURNED)),
                pending=Count("pk", filter=Q(classified=True, state__in=PENDING_STATES)),
                n_classified=Count("pk", filter=Q(classified=True)),
            )
            .order_by()
        )
        totals = {child.pk: dict.fromkeys(("total", "submitted", "returned", "pending"), 0) for child in children}
        levels = {child.pk: Distribution(child.name) for child in children}
        members_levels = Distribution(organization.name)
        by_path = {child.path: child.pk for child in children}
        depth_length = len(organization.path) + organization.steplen
        for row in rows:
            pk = by_path.get(row["organization__path"][:depth_length])
            if pk is not None:
                for key in ("total", "submitted", "returned", "pending"):
                    totals[pk][key] += row[key]
                levels[pk].add(row["decided_level"], row["n_classified"])
                members_levels.add(row["decided_level"], row["n_classified"])
        # Each child organisation's own level, decided by the committee (or by the board for the
        # grassroots organisations): one query.
        own_levels = {
            review.organization_id: review
            for review in Assessment.objects.filter(
                period=period, organization__in=children, subject_kind=Assessment.SubjectKind.ORGANIZATION
            ).only("organization_id", "decided_level", "classified", "exclusion_reason")
        }
        context["children"] = [
            (child, totals[child.pk], levels[child.pk], own_levels.get(child.pk)) for child in children
        ]
        context["pending_total"] = sum(t["pending"] for t in totals.values())
        context["members_levels"] = members_levels
        context["any_organization_level"] = any(r.decided_level for r in own_levels.values())
    context["members_level_rows"] = _level_rows(members_levels)
    # The levels once the first are decided (or the period is past taking forms), not before.
    decided_any = members_levels.decided or any(r.decided_level for r in own_reviews)
    context["show_levels"] = bool(
        period.state != Period.State.OPEN or decided_any or context.get("any_organization_level")
    )
    return render(request, "assessments/dashboard.html", context)


PENDING_STATES = (Assessment.State.NOT_STARTED, Assessment.State.DRAFT, Assessment.State.RETURNED)


def _level_rows(distribution):
    """(the level in words, how many, % of those to be classified) per level, then the undecided if any."""
    names = [f"{name} ({code})" for code, name in Level.choices] + [_("Not yet decided")]
    rows = [(name, count, percent) for name, (count, percent) in zip(names, distribution.cells, strict=True)]
    return rows if distribution.undecided else rows[:-1]


def _state_counts(forms):
    counts = {}
    for form in forms:
        counts[form.state] = counts.get(form.state, 0) + 1
    return [(state, label, counts.get(state, 0)) for state, label in Assessment.State.choices if counts.get(state)]


@require_POST
@login_required
def remind(request, period_id, code):
    period, organization = get_period_and_organization_for_manager(request.user, period_id, code)
    result = services.reminders_send(period=period, organization=organization, user=request.user)
    emailed = ngettext(
        "A reminder was e-mailed to %(count)d member.", "A reminder was e-mailed to %(count)d members.", result.sent
    ) % {"count": result.sent}
    if result.in_person:
        rest = len(result.in_person)
        calls = reverse("assessments:call_list", args=[period.public_id, organization.code]) + "?without_email=1"
        message = format_html(
            '{} {} <a href="{}" class="alert-link">{}</a>',
            emailed,
            ngettext(
                "%(count)d member has no e-mail address: please call or visit them.",
                "%(count)d members have no e-mail address: please call or visit them.",
                rest,
            )
            % {"count": rest},
            calls,
            _("Print the list to call them"),
        )
    else:
        message = emailed
    messages.success(request, message)
    return redirect(reverse("assessments:dashboard", args=[period.public_id, organization.code]))


@require_GET
@login_required
def call_list(request, period_id, code):
    """A printable list of the members who have not submitted their self-review, with their phone
    numbers and the state of their form, to call them one by one; for a committee, cell by cell.
    With ?without_email=1 only those whom no e-mail reached."""
    period, organization = get_period_and_organization_for_manager(request.user, period_id, code)
    without_email = request.GET.get("without_email") == "1"
    pending = services.reminders_pending(period, organization)
    if without_email:
        pending = pending.filter(member__email="")
    pending = pending.select_related("member", "organization").order_by("organization__path", "member__sort_key")
    groups = [(cell, list(forms)) for cell, forms in itertools.groupby(pending, key=lambda form: form.organization)]
    return render(
        request,
        "assessments/call_list.html",
        {
            "period": period,
            "organization": organization,
            "groups": groups,
            "count": sum(len(forms) for _cell, forms in groups),
            "without_email": without_email,
            "today": timezone.localdate(),
        },
    )


def _board_period(user, period_id):
    from django.http import Http404
    from django.shortcuts import get_object_or_404

    from organizations.access import scope_for

    period = get_object_or_404(Period.objects.select_related("organization"), public_id=period_id)
    scope = scope_for(user)
    if not (scope.is_board and scope.manages_organization(period.organization)):
        raise Http404
    return period


@require_GET
@login_required
def roster(request, period_id):
    """The board's view of the roster: who is not classified and why, and the board's own decisions."""
    period = _board_period(request.user, period_id)
    rows = list(
        Assessment.objects.filter(period=period)
        .filter(Q(classified=False) | Q(exclusion_overridden=True))
        .select_related("member", "organization")
        .order_by("subject_kind", "organization__path", "member__sort_key")
    )
    return render(request, "assessments/roster.html", {"period": period, "rows": rows})


@require_POST
@login_required
def roster_override(request, period_id, public_id):
    from django.shortcuts import get_object_or_404

    period = _board_period(request.user, period_id)
    assessment = get_object_or_404(Assessment.objects.select_related("period"), period=period, public_id=public_id)
    classified = request.POST.get("classified") == "1"
    try:
        services.assessment_classification_override(
            assessment=assessment, user=request.user, classified=classified, reason=request.POST.get("reason", "")
        )
    except services.WorkflowError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The board's decision has been recorded."))
    return redirect("assessments:roster", period_id=period.public_id)


@login_required
def analysis(request, public_id):
    """The signed-in rater's analysis form on a subject, with the rulebook's reading of the ratings."""
    from django.http import Http404, HttpResponseNotAllowed

    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    assessment, actors = get_assessment_for_user(request.user, public_id)
    if not {Actor.MANAGER, Actor.EVALUATOR} & actors:
        raise Http404
    template = formview.template_for(assessment, "analysis")
    current = Analysis.objects.filter(assessment=assessment, rater=request.user).first()
    answers = current.answers if current else {}
    if current is None:
        # Who rates: the signed-in person, unless they write the name of a body instead.
        user = request.user
        answers = {"rater": f"{user.last_name} {user.first_name}".strip() or user.get_username()}
    errors, status = (), 200
    if request.method == "POST":
        answers = formview.parse_answers(template, request.POST, answers, assessment, author=template.filled_by)
        submit = "submit" in request.POST
        errors = validate_answers(template, answers, submit=submit, filled_by=template.filled_by)
        level_item = formview.level_item(template, template.filled_by)
        base_version = _base_version(request)
        if _too_long(answers):
            messages.error(request, _too_long_message())
            status = 400
        elif errors:
            messages.error(
                request, _("Some answers are missing or not valid; nothing was saved. See the marked items.")
            )
            status = 400
        else:
            try:
                current = services.analysis_save(
                    assessment=assessment,
                    user=request.user,
                    answers=answers,
                    proposed_level=answers.get(level_item.id, "") if level_item else "",
                    base_version=base_version,
                    submit=submit,
                )
            except services.ConflictError as error:
                messages.error(request, error.message)
                status = 409
            except services.WorkflowError as error:
                messages.error(request, error.message)
                status = 400
            else:
                messages.success(
                    request,
                    _("The analysis form has been handed in.") if submit else _("The analysis form has been saved."),
                )
                return redirect("assessments:analysis", public_id=assessment.public_id)
    editable = assessment.period.state == Period.State.OPEN and not (current and current.submitted_at)
    evaluation = formview.evaluate(assessment, answers, template)
    language = formview.lang()
    suggested = evaluation.suggested_level() if evaluation.not_classified is None else None
    context = {
        "assessment": assessment,
        "period": assessment.period,
        "analysis": current,
        "title": template.title_vi if language == "vi" else template.title_en,
        "sections": formview.build_sections(
            template, assessment, answers, editable=editable, errors=errors, author=template.filled_by
        ),
        "editable": editable,
        "version": current.version if current else 0,
        "suggested": suggested.label(language) if suggested else "",
        "findings": [
            (finding.severity, finding.message(language))
            for finding in evaluation.findings
            if finding.severity != "info"
        ],
    }
    return render(request, "assessments/analysis.html", context, status=status)


@require_POST
@login_required
def assessment_reopen(request, public_id):
    assessment, _actors = get_assessment_for_user(request.user, public_id)
    try:
        services.assessment_reopen(assessment=assessment, user=request.user, reason=request.POST.get("reason", ""))
    except services.WorkflowError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Reopened: the level can be decided again on the decision screen."))
    return redirect("assessments:form", public_id=assessment.public_id)


@login_required
def paper_self_reviews(request, period_id, code):
    """For a cell's secretary: tick the members whose self-review came in on paper (with the level the
    paper proposes), and they are recorded as submitted, in one step for the whole cell."""
    from django.http import Http404, HttpResponseNotAllowed

    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    period, organization = get_period_and_organization_for_manager(request.user, period_id, code)
    if not organization.is_cell:
        raise Http404
    forms = list(
        Assessment.objects.filter(
            period=period, organization=organization, member__isnull=False, classified=True, state__in=PENDING_STATES
        )
        .select_related("member")
        .order_by("member__sort_key", "pk")
    )
    ticked, levels, row_errors, status = set(), {}, {}, 200
    if request.method == "POST":
        for form in forms:
            if request.POST.get(f"received-{form.pk}"):
                ticked.add(form.pk)
                levels[form.pk] = request.POST.get(f"level-{form.pk}", "")[:8]
        unknown = {
            int(key.partition("-")[2])
            for key in request.POST
            if key.startswith("received-") and key.partition("-")[2].isdigit()
        } - {form.pk for form in forms}
        try:
            if unknown:
                raise services.WorkflowError(_("A member in this list does not belong to this cell, or has submitted."))
            saved = services.paper_self_reviews_record(
                period=period, organization=organization, user=request.user, choices=levels
            )
        except services.PaperError as error:
            messages.error(request, error.message)
            row_errors, status = error.row_errors, 400
        except services.WorkflowError as error:
            messages.error(request, error.message)
            status = 400
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)d paper self-review recorded as submitted.",
                    "%(count)d paper self-reviews recorded as submitted.",
                    saved,
                )
                % {"count": saved},
            )
            return redirect("assessments:dashboard", period_id=period.public_id, code=organization.code)
    for form in forms:
        form.ticked = form.pk in ticked
        form.paper_level = levels.get(form.pk, form.self_level)
        form.errors = row_errors.get(form.pk, [])
    context = {
        "period": period,
        "organization": organization,
        "forms": forms,
        "levels": _level_choices(),
        "taking_forms": period.state == Period.State.OPEN,
    }
    return render(request, "assessments/paper.html", context, status=status)


def _level_choices():
    language = formview.lang()
    return [(level.value, level.label(language)) for level in RuleLevel.best_first()]
