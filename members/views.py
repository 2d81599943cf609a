"""The members app's pages: the member list and the link to one's own record. The member page shows the
member's reviews, so it is in portal/views.py."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from organizations.access import get_organization_for_user, scope_for

from .models import Member
from .selectors import members_visible_to, search_members

PAGE_SIZE = 50


@require_GET
@login_required
def member_list(request):
    """Members in the user's scope, searchable by name (with or without diacritics) and card number."""
    scope = scope_for(request.user)
    if not scope.manages_anything:
        raise Http404
    queryset = members_visible_to(request.user).select_related("cell")
    organization = None
    if request.GET.get("org"):
        organization = get_organization_for_user(request.user, request.GET["org"])
        queryset = queryset.under(organization)
    status = request.GET.get("status", "")
    if status in Member.Status.values:
        queryset = queryset.filter(status=status)
    else:
        status = ""
    query = request.GET.get("q", "").strip()[:100]
    queryset = search_members(queryset, query).vietnamese_order()
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "members/member_list.html",
        {
            "page": page,
            "organization": organization,
            "query": query,
            "status": status,
            "statuses": Member.Status.choices,
        },
    )


@require_GET
@login_required
def my_profile(request):
    """The signed-in user's own member record, or a note that the account is not linked to one."""
    member = Member.objects.filter(user=request.user).only("public_id").first()
    if member is not None:
        return redirect("members:detail", public_id=member.public_id)
    return render(request, "members/no_profile.html")
