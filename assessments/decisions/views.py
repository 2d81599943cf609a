"""The decision screens, built for a committee of any size.

A grassroots organisation decides its members' levels: the screen lists its cells with their counts,
and opens one cell (or a filtered selection, a page at a time) with the rows to decide. A grassroots
committee decides its cells and the board ranks the grassroots organisations on the ranking screen,
a page at a time in the suggested order.

Levels are saved a row at a time (htmx posts the row when its level or reason changes, and swaps in
the row and the quota box), a page at a time (the form's button, without JavaScript), or in bulk: the
suggestions of one cell or of the whole group. Every write goes through `services.record_levels`;
no request carries more than one page of rows.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponseNotAllowed, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from organizations import policy
from vocabulary import Level

from ..core import transfers
from ..core.access import get_assessment_for_user, get_period_and_organization_for_manager
from ..core.errors import WorkflowError
from ..core.models import Assessment, Period
from ..core.text import lang
from . import closing, ranking, selectors, services
from . import rechecks as recheck_services
from .forms import (
    SHOW_CHOICES,
    AcceptForm,
    ConfirmAgainForm,
    DecisionFormSet,
    ExceptionForm,
    FiltersForm,
    RecheckForm,
    RecheckResolveForm,
    ReopenForm,
    ScreenActionForm,
    row_form,
)
from .models import Recheck
from .screens import CollectiveScreen, RankingScreen, Screen

# --- Reading the filters ------------------------------------------------------------------------------------


def _filters(data):
    return FiltersForm(data).values()


def _narrow(queryset, show):
    """The filters the database can apply; "attention" needs the rulebook and is applied to rows."""
    if show == "undecided":
        # A level put back "to confirm" is not decided until it is decided again.
        return queryset.filter(Q(decided_level="") | Q(to_confirm=True), classified=True)
    if show == "decided":
        return queryset.exclude(decided_level="")
    if show == "reopened":
        return queryset.filter(reopened=True)
    if show == "attention":
        return queryset.filter(classified=True)
    return queryset


def _cells(organization):
    """The organisations under `organization` that hold members, each labelled with its section
    committee when it has one: one query."""
    if organization.is_cell:
        return [organization]
    subtree = list(organization.subtree().exclude(pk=organization.pk).order_by("path"))
    names = {org.path: org.name for org in subtree if not org.is_cell}
    cells = []
    for org in subtree:
        if not org.is_cell:
            continue
        sections = [
            names[org.path[:n]] for n in range(len(organization.path) + org.steplen, len(org.path), org.steplen)
        ]
        org.section_label = " › ".join(name for name in sections if name)
        cells.append(org)
    return cells


def _levels():
    language = lang()
    return [(level.value, level.label(language)) for level in Level.best_first()]


def _decorate(rows, editable_period, conflicts, *, formset=None, row_errors=None, saved=()):
    """Each row with its form (as posted, when the request carried it; as stored otherwise), the
    level it shows as chosen and the service's refusals. A row the user stands aside from (their own
    level...) is locked for them, with the reason."""
    row_errors = row_errors or {}
    posted = formset.by_key if formset is not None else {}
    levels = _levels()
    not_allowed = _("not allowed")
    for row in rows:
        pk = row.assessment.pk
        row.form = posted.get(str(pk)) or row_form(row.assessment)
        row.stand_aside = conflicts.refusal(row.assessment)
        errors = [*row.form.non_field_errors(), *row_errors.get(pk, [])]
        row.has_errors = bool(errors or row.form.errors)
        row.errors = [error for error in errors if error != row.stand_aside]  # the lock says it already
        row.chosen = row.form.chosen()
        row.editable = (
            row.assessment.classified and (editable_period or row.assessment.reopened) and not row.stand_aside
        )
        row.saved = pk in saved
        if row.editable:
            _plain_fields(row, levels, not_allowed)
    return rows


def _plain_fields(row, levels, not_allowed):
    """What the row's select and reason show, as plain values: the page renders a hundred rows, and
    reading them through the form's bound fields in the template was most of its time."""
    level, note = row.form["level"], row.form["note"]
    row.level_field = {
        "name": level.html_name,
        "id": level.auto_id,
        "label": level.label,
        "errors": list(level.errors),
    }
    row.note_field = {
        "name": note.html_name,
        "id": note.auto_id,
        "label": note.label,
        "errors": list(note.errors),
        "value": note.value() or "",
        "max_length": note.field.max_length,
    }
    options = []
    for value, label in levels:
        refused = row.evaluation is not None and value not in row.allowed
        text = f"{value} · {label} ({not_allowed})" if refused else f"{value} · {label}"
        options.append((value, text, value == row.chosen, refused and value != row.chosen))
    row.options = options
    row.accept_name = row.form["accept"].html_name


# --- The page -------------------------------------------------------------------------------------------------


def _page(screen, *, status=200, formset=None, row_errors=None, exception_form=None, filters=None):
    request, period, group = screen.request, screen.period, screen.group
    filters = filters or _filters(request.GET)
    if screen.subject_kind == "member":
        # The cells' tallies are shown beside them; the whole's is their sum.
        tallies = selectors.tallies_by_organization(screen.base, screen.subject_kind)
        total = selectors.total_tally(tallies)
    else:
        # The whole, the clusters and the areas of the ranking counted by one grouped query.
        summary = ranking.ranking_summary(screen.base, screen.subject_kind, parent=group)
        total = summary.total
    box = selectors.quota_box(period, group, total, screen.subject_kind)
    editable_period = not period.is_locked
    context = {
        "period": period,
        "organization": group,
        "box": box,
        "filters": filters,
        "show_choices": SHOW_CHOICES,
        "levels": _levels(),
        "locked": period.is_locked,
        "exception_form": _exception_form(exception_form, box, period),
        "post_url": screen.url(),
        "subjects": screen.subject_kind,
    }
    if screen.subject_kind == "member":
        cells = _cells(group)
        for cell in cells:
            cell.tally = tallies.get(cell.pk) or selectors.Tally()
        context["cells"] = cells
        context["single_cell"] = group.is_cell
        selected = next((cell for cell in cells if cell.code == filters["cell"]), None)
        if group.is_cell:
            selected = group
        context["selected_cell"] = selected
        if selected is not None:
            index = cells.index(selected)
            context["previous_cell"] = cells[index - 1] if index > 0 else None
            context["next_cell"] = cells[index + 1] if index + 1 < len(cells) else None
        showing_rows = selected is not None or bool(filters["show"])
        queryset = screen.base.filter(organization=selected) if selected is not None else screen.base
        # Members transferred during the year: those who left (shown, not decided here) and those who
        # came in after the former organisation had decided them.
        context["transfers"] = transfers.transfers_of(period, selected or group)
    else:
        # The ranking grouped by cluster (cụm thi đua): a summary row a cluster, and the ranking of one
        # cluster when it is chosen; every organisation, in the suggested order, otherwise.
        showing_rows = True
        clusters = summary.clusters
        selected_cluster = next((cluster for cluster in clusters if cluster.code == filters["cluster"]), None)
        if selected_cluster is None:
            filters["cluster"] = ""  # an unknown cluster is left out, as any filter that does not fit
        context["clusters"] = clusters
        context["selected_cluster"] = selected_cluster
        queryset = ranking.in_cluster(screen.base, selected_cluster.code) if selected_cluster else screen.base
        # Too many to rank at once (a country's grassroots organisations): one area at a time, chosen
        # from a summary of the areas (the organisations directly under the one that ranks).
        subjects = selected_cluster.subjects if selected_cluster else sum(c.subjects for c in clusters)
        areas, selected_area = [], None
        if subjects > ranking.RANKING_ROWS_MAX:
            areas = summary.areas(selected_cluster.code if selected_cluster else "")
            selected_area = next((area for area in areas if area.code == filters["area"]), None)
            if selected_area is not None:
                queryset = ranking.in_area(queryset, selected_area)
            else:
                showing_rows = False
        if selected_area is None:
            filters["area"] = ""
        context["areas"] = areas
        context["selected_area"] = selected_area
        context["subjects_count"] = subjects
    context["showing_rows"] = showing_rows
    if showing_rows:
        queryset = _narrow(queryset, filters["show"])
        if filters["show"] == "attention" or screen.subject_kind != "member":
            # The rulebook's reading is needed to filter (or, for the ranking, to order): all rows.
            rows = screen.rows(queryset)
            if filters["show"] == "attention":
                rows = [row for row in rows if row.needs_attention]
            page = Paginator(rows, screen.per_page).get_page(filters["page"])
            page_rows = list(page.object_list)
        else:
            ordered = queryset.select_related("member", "organization").order_by(
                "organization__path", "member__sort_key", "pk"
            )
            page = Paginator(ordered, screen.per_page).get_page(filters["page"])
            page_rows = selectors.build_rows(period, list(page.object_list))
        context["page"] = page
        context["rows"] = _decorate(
            page_rows, editable_period, screen.conflicts, formset=formset, row_errors=row_errors
        )
        moves = context.get("transfers")
        for row in context["rows"]:
            row.transfer = moves.here.get(row.assessment.pk) if moves else None
        context["offset"] = page.start_index() - 1 if page_rows else 0
        context["any_unchecked"] = any(row.unchecked for row in page_rows)
        context["any_editable"] = any(row.editable for row in page_rows)
    return render(request, screen.template, context, status=status)


def _exception_form(form, box, period):
    """The form of the competent level's decision on an exception, as posted or empty (the box shows the
    one on record); None where the rules allow no exception (2018 by default) or nothing can change."""
    if not box.exception_allowed or period.is_locked:
        return None
    if form is not None and form.is_bound and not form.optional:
        return form
    return ExceptionForm(year=period.year, use_required_attribute=False)


# --- Saving ---------------------------------------------------------------------------------------------------


def _accept(screen, queryset):
    """The suggestions for every undecided subject of `queryset` that has one and needs no reason and
    that the user does not stand aside from (their own level...: another member decides it)."""
    rows = screen.rows(queryset.filter(classified=True, decided_level=""), shown=False)
    choices, need_reason, without, aside = {}, 0, 0, 0
    for row in rows:
        if screen.conflicts.refusal(row.assessment):
            aside += 1
        elif row.suggested is None:
            without += 1
        elif [f for f in row.evaluation.warnings(row.suggested) if not f.unchecked]:
            need_reason += 1
        else:
            choices[row.assessment.pk] = (row.suggested.value, "")
    return choices, rows, need_reason, without, aside


def _saved_message(request, saved, need_reason=0, without=0, aside=0, meanwhile=0):
    messages.success(
        request, ngettext("%(count)d decision recorded.", "%(count)d decisions recorded.", saved) % {"count": saved}
    )
    if meanwhile:
        messages.warning(
            request,
            ngettext(
                "%(count)d subject was decided by another member meanwhile: their decision is kept.",
                "%(count)d subjects were decided by another member meanwhile: their decisions are kept.",
                meanwhile,
            )
            % {"count": meanwhile},
        )
    if need_reason:
        messages.warning(
            request,
            ngettext(
                "%(count)d suggestion carries a warning of the rules: decide it on its row, with the reason.",
                "%(count)d suggestions carry a warning of the rules: decide them on their rows, with the reason.",
                need_reason,
            )
            % {"count": need_reason},
        )
    if without:
        messages.info(
            request,
            ngettext(
                "%(count)d subject has no proposal yet, so no suggestion: decide on the row.",
                "%(count)d subjects have no proposal yet, so no suggestion: decide on their rows.",
                without,
            )
            % {"count": without},
        )
    if aside:
        messages.warning(
            request,
            ngettext(
                "%(count)d subject is yours, or one you stand aside from: another member of the committee decides it.",
                "%(count)d subjects are yours, or ones you stand aside from: another member of the committee "
                "decides them.",
                aside,
            )
            % {"count": aside},
        )


def _row_response(screen, rows, *, status=200, box=None, formset=None, row_errors=None, error="", saved=()):
    """The rows posted by htmx (already read, and updated in memory when saved) and, when something
    was saved, the quota box out of band."""
    _decorate(rows, not screen.period.is_locked, screen.conflicts, formset=formset, row_errors=row_errors, saved=saved)
    if error:
        for row in rows:
            if not row.has_errors:
                row.errors, row.has_errors = [error], True
    context = {
        "period": screen.period,
        "organization": screen.group,
        "rows": rows,
        "box": box,
        "levels": _levels(),
        "post_url": screen.url(),
        "subjects": screen.subject_kind,
        "locked": screen.period.is_locked,
        # Rows posted from one cell's page do not repeat the cell's name, and keep saying which cell.
        "selected_cell": {"code": cell} if (cell := _filters(screen.request.POST)["cell"]) else None,
    }
    template = (
        "assessments/_decision_rows.html" if screen.subject_kind == "member" else "assessments/_ranking_rows.html"
    )
    return render(screen.request, template, context, status=status)


def _changed_meanwhile(rows: list, post: QueryDict, wanted: dict) -> dict[int, str]:
    """{pk: its level now} of the rows of a page posted whole (each with the `version-<pk>` it was drawn
    at) that another save changed since, where the page would now write something else: those are
    left as the other member saved them. A row whose level and reason the page posts unchanged writes
    nothing and is not among them; nor are the rows posted by htmx, one at a time, without a version."""
    stale = {}
    for row in rows:
        assessment = row.assessment
        posted = post.get(f"version-{assessment.pk}", "")
        if assessment.pk not in wanted or not posted.isdigit() or int(posted) == assessment.version:
            continue
        level, note = wanted[assessment.pk]
        if (str(level), note.strip()) != (assessment.decided_level, assessment.decision_note):
            stale[assessment.pk] = assessment.decided_level
    return stale


def _mark_decided(rows, chosen, period):
    """The rows as the save left them, without reading them again."""
    state = Assessment.State.PUBLISHED if period.state == Period.State.PUBLISHED else Assessment.State.DECIDED
    for row in rows:
        level, note = chosen.get(row.assessment.pk, (None, None))
        if level:
            row.assessment.decided_level = level
            row.assessment.decision_note = note.strip()
            row.assessment.state = state
            row.assessment.reopened = False
            row.assessment.version += 1


def _post_exception(screen, filters):
    request = screen.request
    kind = screen.subject_kind
    box = selectors.quota_box(screen.period, screen.group, selectors.total_of(screen.base, kind), kind)
    if not box.exception_allowed:
        # The form is not offered: say why, whatever was posted.
        messages.error(
            request,
            _("The rules of this period allow no exception to the quota (%(rule)s).") % {"rule": box.quota.rule_id},
        )
        return _page(screen, status=400, filters=filters)
    form = ExceptionForm(request.POST, year=screen.period.year, use_required_attribute=False)
    if form.is_valid():
        try:
            services.exception_record(
                period=screen.period,
                group=screen.group,
                group_queryset=screen.base,
                user=request.user,
                subject_kind=screen.subject_kind,
                decision=form.decision,
            )
        except WorkflowError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("The competent level's decision on the exception to the quota is recorded."))
            return redirect(screen.url(**filters))
    else:
        for message in form.messages():
            messages.error(request, message)
    return _page(screen, status=400, exception_form=form, filters=filters)


def _post_accept(screen, filters, reason_form):
    request = screen.request
    form = AcceptForm(request.POST)
    if not form.is_valid() or not reason_form.is_valid():
        for message in [*form.non_field_errors(), *reason_form.messages()]:
            messages.error(request, message)
        return _page(screen, status=400, exception_form=reason_form, filters=filters)
    queryset = screen.base
    if form.cleaned_data["action"] == "accept_cell":
        queryset = queryset.filter(organization__code=form.cleaned_data["cell"])
    choices, rows, need_reason, without, aside = _accept(screen, queryset)
    try:
        # Read as undecided before their rows are locked: one another member decides meanwhile is left
        # as they decided it.
        saved, _box = screen.record(choices, reason_form.decision, rows=rows, undecided_only=True)
    except services.DecisionError as error:
        messages.error(request, error.message)
        return _page(screen, status=400, row_errors=error.row_errors, exception_form=reason_form, filters=filters)
    except WorkflowError as error:
        messages.error(request, error.message)
        return _page(screen, status=400, exception_form=reason_form, filters=filters)
    _saved_message(request, saved, need_reason, without, aside, meanwhile=len(choices) - saved)
    return redirect(screen.url(**filters))


def _post_rows(screen, filters, reason_form):
    """The rows posted: one through htmx (the row and the quota box come back), or a page of them."""
    request = screen.request
    formset = DecisionFormSet(request.POST)
    rows = screen.rows(screen.base.filter(pk__in=[int(key) for key in formset.keys]))

    def refused(message, row_errors=None):
        if request.htmx:
            return _row_response(screen, rows, status=422, formset=formset, row_errors=row_errors, error=message)
        messages.error(request, message)
        return _page(
            screen, status=400, formset=formset, row_errors=row_errors, exception_form=reason_form, filters=filters
        )

    if not formset.is_valid() or not reason_form.is_valid():
        reason_errors = reason_form.messages()
        return refused(" ".join(reason_errors) if reason_errors else _("Some levels were refused; nothing was saved."))
    choices = formset.choices()
    wanted = {pk: value for pk, value in choices.items() if value[0]}
    # A page saved whole must not put back what another member saved meanwhile on one of its rows.
    stale = _changed_meanwhile(rows, request.POST, wanted)
    if stale:
        wanted = {pk: value for pk, value in wanted.items() if pk not in stale}
    # The rows the user stands aside from are refused, with the reason; the rest of the batch is saved.
    aside = screen.conflicts.refused((row.assessment for row in rows), wanted)
    if aside:
        wanted = {pk: value for pk, value in wanted.items() if pk not in aside}
        if not wanted:
            return refused(next(iter(aside.values()))[0], aside)
    try:
        saved, box = screen.record(wanted, reason_form.decision, rows=rows)
    except services.DecisionError as error:
        return refused(error.message, {**error.row_errors, **aside})
    except WorkflowError as error:
        return refused(error.message, aside)
    if request.htmx:
        _mark_decided(rows, wanted, screen.period)
        return _row_response(screen, rows, box=box, row_errors=aside, saved=set(wanted))
    _saved_message(request, saved)
    names = {row.assessment.pk: row.assessment.subject_name for row in rows}
    for pk, level in stale.items():
        messages.error(
            request,
            _(
                "%(name)s: not saved. Another member decided it (%(level)s) after this page was opened: check "
                "its level below and save it again if it should change."
            )
            % {"name": names[pk], "level": level or _("not decided")},
        )
    for pk, errors in aside.items():
        messages.error(request, _("%(name)s: not decided. %(reason)s") % {"name": names[pk], "reason": errors[0]})
    return redirect(screen.url(**filters))


def _post(screen):
    post = screen.request.POST
    action = ScreenActionForm(post).chosen()
    filters = _filters(post)
    if action == "exception":
        return _post_exception(screen, filters)
    # A save or an acceptance may carry the competent level's decision on exceeding the quota.
    reason_form = ExceptionForm(post, year=screen.period.year, required=False, use_required_attribute=False)
    if action in ("accept_cell", "accept_all"):
        return _post_accept(screen, filters, reason_form)
    return _post_rows(screen, filters, reason_form)


def _decision_screen(screen_class):
    @login_required
    def view(request, period_id, code):
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        period, organization = get_period_and_organization_for_manager(request.user, period_id, code)
        screen = screen_class(request, period, organization)
        try:
            screen.check(request.user)
        except WorkflowError as error:
            raise Http404 from error
        if request.method == "POST":
            return _post(screen)
        return _page(screen)

    return view


# A grassroots organisation decides its members' levels.
decide = _decision_screen(Screen)
# A grassroots committee decides its cells; the board ranks the grassroots organisations.
rank = _decision_screen(RankingScreen)
# The same deciders decide the leadership collectives of those organisations.
rank_collectives = _decision_screen(CollectiveScreen)


@require_POST
@login_required
def assessment_reopen(request, public_id):
    assessment, _actors = get_assessment_for_user(request.user, public_id)
    form = ReopenForm(request.POST)
    if not form.is_valid():
        for message in form.errors["reason"]:
            messages.error(request, message)
        return redirect("assessments:form", public_id=assessment.public_id)
    try:
        closing.assessment_reopen(
            assessment=assessment,
            user=request.user,
            reason=form.cleaned_data["reason"],
            reference=form.cleaned_data["reference"],
        )
    except WorkflowError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Reopened: the level can be decided again on the decision screen."))
    return redirect("assessments:form", public_id=assessment.public_id)


# --- The board's re-checks before the round closes -----------------------------------------------------------


def _recheck_period(user, period_id):
    period = get_object_or_404(Period.objects.select_related("organization"), public_id=period_id)
    if not policy.may(user, "recheck.manage", period.organization):
        raise Http404
    return period


def _rechecks_page(request, period, *, form=None, status=200):
    context = {
        "period": period,
        "rechecks": recheck_services.rechecks_of(period),
        "form": form or RecheckForm(),
        "resolve_form": RecheckResolveForm(),
        "blockers": closing.finalise_blockers(period) if not period.is_locked else [],
        # After finalising, what a re-grading below put back "to confirm" is settled here by the board.
        "to_confirm": closing.decisions_to_confirm(period) if period.is_locked else [],
    }
    return render(request, "assessments/rechecks.html", context, status=status)


@login_required
def rechecks(request, period_id):
    """The matters the board re-checks before the final decision, a form to record one, and what still
    stands in the way of finalising."""
    period = _recheck_period(request.user, period_id)
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if request.method == "GET":
        return _rechecks_page(request, period)
    form = RecheckForm(request.POST)
    if not form.is_valid():
        return _rechecks_page(request, period, form=form, status=400)
    try:
        subject = recheck_services.find_subject(period, form.cleaned_data["subject"])
        recheck_services.recheck_open(
            period=period,
            assessment=subject,
            kind=form.cleaned_data["kind"],
            summary=form.cleaned_data["summary"],
            opened_on=form.cleaned_data["opened_on"],
            user=request.user,
        )
    except WorkflowError as error:
        form.add_error(None, error.message)
        return _rechecks_page(request, period, form=form, status=400)
    messages.success(request, _("The matter to re-check has been recorded."))
    return redirect("assessments:rechecks", period_id=period.public_id)


@require_POST
@login_required
def recheck_resolve(request, period_id, pk):
    period = _recheck_period(request.user, period_id)
    recheck = get_object_or_404(Recheck.objects.select_related("period"), period=period, pk=pk)
    form = RecheckResolveForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect("assessments:rechecks", period_id=period.public_id)
    try:
        recheck_services.recheck_resolve(
            recheck=recheck,
            resolution=form.cleaned_data["resolution"],
            resolved_on=form.cleaned_data["resolved_on"],
            user=request.user,
        )
    except WorkflowError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The outcome of the re-check has been recorded."))
    return redirect("assessments:rechecks", period_id=period.public_id)


@require_POST
@login_required
def confirm_again(request, period_id, public_id):
    """The board confirms again, or lowers to what the rules allow, one decision of a finalised period
    that a change below put back "to confirm": one button on the page closing the round."""
    period = get_object_or_404(Period.objects.select_related("organization"), public_id=period_id)
    if not policy.may(request.user, "decision.confirm_again", period.organization):
        raise Http404
    assessment = get_object_or_404(
        Assessment.objects.select_related("period", "member", "organization"), period=period, public_id=public_id
    )
    address = reverse("assessments:rechecks", args=[period.public_id]) + "#to-confirm"
    form = ConfirmAgainForm(request.POST)
    if not form.is_valid():
        for message in form.messages():
            messages.error(request, message)
        return redirect(address)
    try:
        decided = closing.decision_confirm_again(
            assessment=assessment,
            user=request.user,
            action=form.cleaned_data["action"],
            reference=form.cleaned_data["reference"],
            reason=form.cleaned_data["reason"],
        )
    except WorkflowError as error:
        messages.error(request, " ".join([error.message, *(str(e) for e in error.errors)]))
        return redirect(address)
    values = {"subject": decided.subject_name, "level": decided.decided_level}
    if form.cleaned_data["action"] == closing.CONFIRM:
        messages.success(request, _("%(subject)s: %(level)s confirmed again.") % values)
    else:
        messages.success(
            request,
            _("%(subject)s: lowered to %(level)s, the level the rules allow, beside the level it had.") % values,
        )
    return redirect(address)
