"""The import screens: a form, a dry run that lists every bad row, and an all-or-nothing commit.

Stateless on purpose: the commit re-reads a fresh upload of the file and checks it again, so nothing
is kept in the session between the dry run and the commit (the user selects the file again).

The commit checks the file in the request, as the dry run does (bounded by the upload limits), and shows
its errors at once; a correct file is then written by a background job (members/background.py), whose
page the user is sent to.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from organizations import policy

from .background import import_commit_start, import_organization
from .forms import ImportUploadForm
from .importing import (
    MEMBERS,
    ORGANIZATIONS,
    ImportRejected,
    importable_kinds,
    max_bytes,
    run_import,
    template_workbook,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Enough to fix a file in one go without a page of many megabytes.
MAX_ERRORS_SHOWN = 1000


def _importable_kinds(user):
    """The kinds this user may import (`importing.importable_kinds`); 404 for one who may import
    nothing, like any page outside one's organisations."""
    kinds = importable_kinds(user)
    if MEMBERS not in kinds:
        raise Http404
    return kinds


@require_http_methods(["GET", "POST"])
@login_required
def import_upload(request):
    kinds = _importable_kinds(request.user)
    context = {"kinds": kinds, "kind": MEMBERS, "max_mb": max_bytes() / (1024 * 1024)}
    form = ImportUploadForm(kinds=kinds, max_mb=context["max_mb"], initial={"kind": MEMBERS})
    if request.method == "POST":
        kind = request.POST.get("kind", MEMBERS)
        if kind not in kinds:
            raise Http404
        form = ImportUploadForm(request.POST, request.FILES, kinds=kinds, max_mb=context["max_mb"])
        valid = form.is_valid()
        context.update(kind=kind, commit=form.commit)
        if not valid:
            context["rejected"] = " ".join(message for messages in form.errors.values() for message in messages)
        else:
            upload = form.cleaned_data["file"]
            context["filename"] = upload.name
            # An administrator's first organisations, into an empty tree, have no organisation to file a
            # job under: that commit (hundreds of rows at most) is written in the request.
            organization = import_organization(request.user) if form.commit else None
            in_request = form.commit and organization is None
            try:
                result = run_import(kind, upload, request.user, commit=in_request)
            except policy.Refused as exc:
                raise Http404 from exc
            except ImportRejected as exc:
                context["rejected"] = str(exc)
            else:
                if form.commit and not in_request and result.ok:
                    try:
                        job = import_commit_start(kind, upload, request.user, organization)
                    except policy.Refused as exc:
                        raise Http404 from exc
                    return redirect("jobs:detail", public_id=job.public_id)
                context.update(result=result, errors=result.errors[:MAX_ERRORS_SHOWN])
    context["form"] = form
    return render(request, "members/import.html", context)


@require_GET
@login_required
def import_template(request, kind):
    # Outside what the user may import, the template is not there either (404, not 403).
    if kind not in _importable_kinds(request.user):
        raise Http404
    filename = {MEMBERS: "mau-nhap-dang-vien.xlsx", ORGANIZATIONS: "mau-nhap-to-chuc.xlsx"}[kind]
    response = HttpResponse(template_workbook(kind), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
