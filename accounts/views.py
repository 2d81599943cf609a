from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse_lazy
from django.views.decorators.http import require_GET

from members.models import Member
from members.selectors import member_counts_for
from organizations.access import scope_for
from organizations.models import Organization, RoleAssignment

from .forms import ThrottledAuthenticationForm


class LoginView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


def _workspaces(scope):
    """One panel per organisation the user manages (the highest, when roles nest): what they look after."""
    panels = []
    seen_paths = set()
    for assignment in scope.assignments:
        org = assignment.organization
        if assignment.role not in RoleAssignment.MANAGING_ROLES or org.path not in scope.managed_paths:
            continue
        if org.path in seen_paths:
            continue
        seen_paths.add(org.path)
        panel = {"organization": org, "role": assignment.get_role_display()}
        if org.is_cell:
            panel["members"] = list(org.members.vietnamese_order())
        else:
            children = list(Organization.objects.get_children(org))
            counts = member_counts_for([org, *children])
            panel["member_count"] = counts.get(org.pk, 0)
            panel["children"] = [(child, counts.get(child.pk, 0)) for child in children]
        panels.append(panel)
    return panels


@require_GET
@login_required
def home(request):
    """What the user looks after, by role: the cell's members for a secretary, the committee's cells
    for an officer, the grassroots organisations for the board; their own record for everybody."""
    scope = scope_for(request.user)
    member = Member.objects.filter(user=request.user).select_related("cell").first()
    evaluated = [a.organization for a in scope.assignments if a.role == RoleAssignment.Role.EVALUATOR]
    return render(
        request,
        "accounts/home.html",
        {
            "member": member,
            "panels": _workspaces(scope),
            "evaluated": evaluated,
            "is_superuser_without_roles": scope.is_superuser and not scope.assignments,
        },
    )
