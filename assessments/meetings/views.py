"""The cell's meeting pages: the minutes with the ballot count (for those who lead the cell), their print
view and .docx. The online ballot's pages are in ballot_views.py."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from members.models import Transfer
from organizations.models import Organization
from vocabulary import Level

from ..core import transfers
from ..core.access import get_period_and_organization_for_manager
from ..core.errors import ConflictError, WorkflowError
from ..core.text import lang
from . import minutes
from . import sheet as reading
from .documents import minutes_document, turnout_lines_vi
from .forms import (
    BallotCountForm,
    TransferCommentForm,
    add_line_errors,
    field_errors,
    minutes_forms,
    missing_message,
)
from .models import BallotCount


def _cell_for_manager(user, period_id, code):
    """The period and the cell if the user leads the cell; 404 otherwise (committees have no meeting here)."""
    period, organization = get_period_and_organization_for_manager(user, period_id, code)
    if not organization.is_cell:
        raise Http404
    return period, organization


def _column_labels():
    labels = {name: reading.count_label(name) for name in reading.COUNT_FIELDS}
    return labels | {name: reading.share_label(name) for name in reading.SHARE_FIELDS}


def _problems(errors, sheet, labels):
    """The list at the top of refused minutes: each place to correct, its messages and a link to it.
    The date comes first and on its own, then the attendance, then each member's line in order."""
    problems = []
    attendance = {
        "held_on": _("Date of the meeting"),
        "members_total": _("Total members of the cell"),
        "present": _("Present at the meeting"),
        "absent": _("Absent from the meeting"),
        "absentees": _("Members ticked as absent"),
    }
    for name, label in attendance.items():
        if errors.get(name):
            anchor = "absentees" if name == "absentees" else f"id_{name}"
            problems.append({"label": label, "messages": errors[name], "anchor": anchor})
    missing = str(missing_message())
    for line in sheet.lines:
        public_id = str(line.assessment.public_id)
        found = []
        for name in (*reading.COUNT_FIELDS, "line", *reading.SHARE_FIELDS, "comments"):
            for message in errors.get(f"{public_id}:{name}", []):
                if message == missing:
                    continue  # the line's own message says which numbers are missing
                # A message that does not name its column ("Please enter a whole number.") gets its name.
                found.append(
                    f"{labels[name]}: {message}" if name in labels and labels[name] not in message else message
                )
        if found:
            problems.append({"label": line.member.full_name, "messages": found, "anchor": f"line-{public_id}"})
    return problems


def _stored_counts(line):
    return {name: getattr(line.count, name) if line.count else None for name in reading.COUNT_FIELDS}


def _stored_line(line):
    """A line as recorded: the counts, the task shares and the comments."""
    shares = {name: getattr(line.count, name) if line.count else None for name in reading.SHARE_FIELDS}
    return {**_stored_counts(line), **shares, "comments": line.count.comments if line.count else ""}


def _share_value(value):
    """A stored share as the page shows it: 92.50 as "92.5", 100.00 as "100"."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _unbound_forms(sheet):
    """The minutes and the lines as recorded (or, before the first save, the cell's size only)."""
    meeting = sheet.meeting
    if meeting is not None:
        initial = {
            "held_on": reading.show_date(meeting.held_on),
            "members_total": meeting.members_total,
            "present": meeting.present,
            "absent": meeting.absent,
            "absentees": [str(a.public_id) for a in sheet.roster if a.member_id in sheet.absentee_ids],
        }
    else:
        initial = {"held_on": "", "members_total": len(sheet.roster), "present": "", "absent": ""}
    line_initial = {str(line.assessment.public_id): _stored_line(line) for line in sheet.lines}
    return minutes_forms(
        sheet_roster=sheet.roster,
        lines=list(line_initial),
        year=sheet.period.year,
        initial=initial,
        line_initial=line_initial,
    )


def _line_form(formset, line):
    """The line's form in the formset; for a line the refused request did not carry, its form as stored."""
    key = str(line.assessment.public_id)
    form = formset.by_key.get(key)
    if form is None:
        stored = _stored_line(line)
        form = BallotCountForm(prefix=formset.form_prefix(key), auto_id="%s", initial=stored)
        form.key = key
    return form


def _page_context(sheet, form=None, formset=None, *, refusal=""):
    """The sheet, the minutes form, each member's line with its form, the values to show (as posted
    after a refusal: everything typed comes back) and errors, and the list of the places to correct."""
    if form is None:
        form, formset = _unbound_forms(sheet)
    errors = field_errors(form, formset) if form.is_bound else {}
    meeting = sheet.meeting
    language = lang()
    labels = _column_labels()
    hints = {name: level.label(language) for name, level in reading.LEVEL_FIELDS}
    for line in sheet.lines:
        line.form = line_form = _line_form(formset, line)
        online = line.count is not None and line.count.source == BallotCount.Source.ONLINE
        line.counts_editable = sheet.counts_editable and not line.frozen and not online
        stored = _stored_counts(line)
        line.comments = line_form["comments"].value() or ""
        line.cells = []
        for name in reading.COUNT_FIELDS:
            field = line_form[name]
            # Numbers that are not typed on this page (decided, or from the online ballot) stay as stored.
            value = field.value() if line.counts_editable else stored[name]
            line.cells.append(
                {
                    "field": field,
                    "name": name,
                    "label": labels[name],
                    "value": "" if value is None else value,
                    "errors": field.errors,
                }
            )
        line.share_cells = [
            {
                "field": line_form[name],
                "label": reading.share_label(name),
                "value": _share_value(line_form[name].value()),
            }
            for name in reading.SHARE_FIELDS
            if name == "tasks_completed" or sheet.period.regime != "2018"  # 2018 reads the share completed only
        ]
        line.level_errors = line_form.non_field_errors()
        line.comment_errors = line_form["comments"].errors
        line.has_errors = bool(line_form.errors)
        line.cap_label = line.cap.label(language) if line.cap else ""
        line.majority_label = line.majority.label(language) if line.majority else ""
        line.proposal_label = line.proposal.label(language) if line.proposal else ""
    moves = transfers.transfers_of(sheet.period, sheet.organization)
    for line in sheet.lines:
        line.transfer = moves.here.get(line.assessment.pk)
    absentees = {str(value) for value in form["absentees"].value() or ()}
    roster = [(a, str(a.public_id) in absentees) for a in sheet.roster]
    attendance = {name: form[name].value() for name in ("held_on", "members_total", "present", "absent")}
    return {
        "sheet": sheet,
        "period": sheet.period,
        "organization": sheet.organization,
        "meeting": meeting,
        "form": form,
        "formset": formset,
        "attendance": {name: "" if value is None else value for name, value in attendance.items()},
        "attendance_errors": {
            name: form[name].errors for name in ("held_on", "members_total", "present", "absent", "absentees")
        },
        "roster": roster,
        "columns": [(name, labels[name], hints.get(name, "")) for name in reading.COUNT_FIELDS],
        "level_labels": {level.value: level.label(language) for level in Level.best_first()},
        "editable": minutes.takes_minutes(sheet.period),
        "threshold": reading.PROPOSAL_THRESHOLD,
        "refusal": refusal,
        "problems": _problems(errors, sheet, labels) if errors else [],
        "today": timezone.localdate(),
        "quorum_rule": reading.quorum_rule(sheet.quorum_share),
        "turnout_lines_vi": turnout_lines_vi(sheet),
        # The members this cell transferred away during the year, with its comment on each: written by
        # those who lead the cell (the only ones who reach this page) until the period is finalised.
        "transferred_out": moves.from_here,
        "comments_editable": not sheet.period.is_locked,
    }


def _recorded_messages(request, recorded):
    messages.success(
        request,
        _("The minutes have been saved. Proposals recorded on %(count)d forms.") % {"count": recorded.proposed},
    )
    if recorded.waiting:
        messages.warning(
            request,
            _(
                "These members' self-reviews have not been submitted, so the proposal is not on their "
                "form yet: %(names)s. Save the minutes again once they have submitted."
            )
            % {"names": ", ".join(m.full_name for m in recorded.waiting)},
        )
    if recorded.pending:
        messages.warning(
            request,
            ngettext(
                "%(count)d member is not counted yet: %(names)s. Their line has ballots issued or "
                "received but no level counts, so its numbers were not saved. When the ballots for "
                "them are counted, type the four level counts and save again.",
                "%(count)d members are not counted yet: %(names)s. Their lines have ballots issued or "
                "received but no level counts, so their numbers were not saved. When the ballots for "
                "them are counted, type the four level counts and save again.",
                len(recorded.pending),
            )
            % {
                "count": len(recorded.pending),
                "names": reading.name_list(m.full_name for m in recorded.pending),
            },
        )


@login_required
def meeting(request, period_id, code):
    """The minutes of the cell's meeting: attendance, comments and the ballot count of each member."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    period, organization = _cell_for_manager(request.user, period_id, code)
    if request.method == "GET":
        sheet = reading.meeting_sheet(period, organization)
        return render(request, "assessments/meeting/meeting.html", _page_context(sheet))
    roster = reading.roster_of(period, organization)
    form, formset = minutes_forms(
        request.POST,
        sheet_roster=roster,
        lines=[str(a.public_id) for a in roster if a.classified],
        year=period.year,
    )
    refusal, status = "", 400
    if form.is_valid() and formset.is_valid():
        try:
            recorded = minutes.meeting_record(
                period=period,
                organization=organization,
                user=request.user,
                minutes=form.cleaned_data,
                lines=formset.cleaned_by_key(),
                base_version=form.cleaned_data["version"],
            )
        except reading.MeetingError as error:
            # Shown at the top of the page with the list of the places to correct.
            add_line_errors(formset, error.field_errors)
            refusal = error.message
        except ConflictError as error:
            messages.error(request, error.message)
            # Show the newer record as it stands: the stale copy is not put back into the page.
            sheet = reading.meeting_sheet(period, organization)
            return render(request, "assessments/meeting/meeting.html", _page_context(sheet), status=409)
        except WorkflowError as error:
            messages.error(request, error.message)
        else:
            _recorded_messages(request, recorded)
            return redirect("assessments:meeting", period_id=period.public_id, code=organization.code)
    else:
        for message in formset.non_form_errors():
            messages.error(request, message)
        errors = field_errors(form, formset)
        if errors:
            refusal = minutes.refusal_message(errors, roster)
    sheet = reading.meeting_sheet(period, organization)
    context = _page_context(sheet, form, formset, refusal=refusal)
    return render(request, "assessments/meeting/meeting.html", context, status=status)


@require_GET
@login_required
def meeting_print(request, period_id, code):
    """The ballot minutes as an A4 page; before the meeting is recorded, a blank one to fill by hand."""
    period, organization = _cell_for_manager(request.user, period_id, code)
    sheet = reading.meeting_sheet(period, organization)
    context = _page_context(sheet)
    context["parent"] = Organization.objects.get_parent(organization)
    context["absent_names"] = [a.member.full_name for a, absent in context["roster"] if absent]
    return render(request, "assessments/meeting/print.html", context)


@require_GET
@login_required
def meeting_docx(request, period_id, code):
    period, organization = _cell_for_manager(request.user, period_id, code)
    sheet = reading.meeting_sheet(period, organization)
    content, filename = minutes_document(sheet, parent=Organization.objects.get_parent(organization))
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_POST
@login_required
def transfer_comment(request, period_id, code, transfer_id):
    """The cell's written comment on a member it transferred away, for the receiving cell (HD 21 tiết 6)."""
    period, organization = _cell_for_manager(request.user, period_id, code)
    transfer = get_object_or_404(
        Transfer.objects.select_related("member", "from_cell", "to_cell"), pk=transfer_id, from_cell=organization
    )
    form = TransferCommentForm(request.POST)
    if form.is_valid():
        try:
            transfers.transfer_comment_record(
                transfer=transfer, period=period, user=request.user, comment=form.cleaned_data["comment"]
            )
        except WorkflowError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("The comment on %(name)s has been sent to %(to)s.")
                % {"name": transfer.member.full_name, "to": transfer.to_cell.name},
            )
    else:
        for message in form.errors["comment"]:
            messages.error(request, message)
    address = reverse("assessments:meeting", args=[period.public_id, organization.code])
    return redirect(f"{address}#transfer-{transfer.pk}")
