from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from members.selectors import member_counts_for

from .access import get_organization_for_user, scope_for
from .models import Organization

PAGE_SIZE = 200


@require_GET
@login_required
def organization_list(request):
    """Every organisation in the user's scope, as an indented tree in path order."""
    scope = scope_for(request.user)
    if not (scope.manages_anything or scope.evaluated_ids):
        raise Http404
    queryset = scope.organizations().select_related("cluster").order_by("path")
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    organizations = list(page.object_list)
    counts = member_counts_for(org for org in organizations if scope.manages_organization(org))
    top_depth = min((org.depth for org in organizations), default=1)
    rows = [(org, org.depth - top_depth, counts.get(org.pk)) for org in organizations]
    return render(request, "organizations/organization_list.html", {"page": page, "rows": rows})


@require_GET
@login_required
def organization_detail(request, code):
    scope = scope_for(request.user)
    organization = get_organization_for_user(request.user, code)
    manages = scope.manages_organization(organization)
    # Ancestors the user may see, for the breadcrumb: one query.
    ancestor_paths = [
        organization.path[:n] for n in range(organization.steplen, len(organization.path), organization.steplen)
    ]
    ancestors = [
        org
        for org in Organization.objects.filter(path__in=ancestor_paths).order_by("path")
        if scope.can_see_organization(org)
    ]
    children = list(Organization.objects.get_children(organization).select_related("cluster")) if manages else []
    counts = member_counts_for([organization, *children]) if manages else {}
    members = None
    if manages and organization.is_cell:
        members = list(organization.members.vietnamese_order())
    from assessments.core.selectors import level_history

    return render(
        request,
        "organizations/organization_detail.html",
        {
            "history": level_history(request.user, organization=organization) if manages else [],
            "organization": organization,
            "ancestors": ancestors,
            "children": [(child, counts.get(child.pk, 0)) for child in children],
            "member_count": counts.get(organization.pk),
            "members": members,
            "manages": manages,
        },
    )
