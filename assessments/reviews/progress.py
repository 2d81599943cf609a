"""The pages that follow the forms of a cell or a committee: its dashboard (who has submitted, the
levels as decided), the reminders and the call list, and the self-reviews handed in on paper."""

import itertools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from jobs.models import Job
from jobs.services import job_start
from organizations.models import Organization
from vocabulary import Level

from ..core.access import get_period_and_organization_for_manager
from ..core.models import Assessment, Period
from ..core.selectors import PENDING_STATES, Distribution, schedule_warnings
from ..core.text import lang
from ..rulebooks import get_rulebook
from . import background, services
from .forms import PaperFormSet


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
        "level_codes": Level.codes(),
    }
    if organization.pk == period.organization_id:
        # The period's own organisation (the board's page): the rulebook's warnings on the period's dates.
        context["schedule_warnings"] = schedule_warnings(period, lang())
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
            ).only("organization_id", "decided_level", "classified")
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


def _level_rows(distribution):
    """(the level in words, how many, % of those to be classified) per level, then the undecided if any."""
    language = lang()
    names = [f"{level.label(language)} ({level})" for level in Level.best_first()] + [_("Not yet decided")]
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
    # Many members (a committee, a province): sent by a background job, whose page says how far it is.
    # A few (a cell): sent now, and the answer is on the dashboard (assessments/reviews/background.py).
    running = background.active_reminders(period, organization)
    if running is None and background.reminders_by_job(period, organization):
        running, _created = job_start(
            kind=Job.Kind.REMINDERS, user=request.user, organization=organization, period=period
        )
    if running is not None:
        return redirect("jobs:detail", public_id=running.public_id)
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


@login_required
def paper_self_reviews(request, period_id, code):
    """For a cell's secretary: tick the members whose self-review came in on paper (with the level the
    paper proposes), and they are recorded as submitted, in one step for the whole cell."""

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
    formset, row_errors, status = None, {}, 200
    scored = bool(get_rulebook(period.regime).score_groups)
    if request.method == "POST":
        formset = PaperFormSet(request.POST, keys=[form.pk for form in forms], form_kwargs={"scored": scored})
        try:
            if not formset.is_valid():
                raise services.WorkflowError(
                    " ".join(formset.non_form_errors()) or _("Some rows were refused; nothing was saved.")
                )
            saved = services.paper_self_reviews_record(
                period=period,
                organization=organization,
                user=request.user,
                choices=formset.choices(),
                scores=formset.scores(),
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
    posted = formset.by_key if formset is not None else {}
    for form in forms:
        row = posted.get(str(form.pk))
        form.ticked = row is not None
        form.paper_level = row["level"].value() if row is not None else form.self_level
        form.paper_score = (row["score"].value() or "") if row is not None and scored else ""
        form.errors = [
            *(row.errors.get("level", []) if row is not None else []),
            *(row.errors.get("score", []) if row is not None else []),
            *row_errors.get(form.pk, []),
        ]
    context = {
        "period": period,
        "organization": organization,
        "forms": forms,
        "levels": _level_choices(),
        "scored": scored,
        "taking_forms": period.state == Period.State.OPEN,
    }
    return render(request, "assessments/paper.html", context, status=status)


def _level_choices():
    language = lang()
    return [(level.value, level.label(language)) for level in Level.best_first()]
