"""The pages that combine the apps: each role's home page, the organisation pages and the member page.

Each shows the tree, the people and their reviews together, so each lives here, above the apps that
own those (see the layers in README.md): organizations knows no people, members no reviews."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from assessments.core.selectors import cell_levels, level_history
from assessments.models import Assessment, Ballot, Period, VoterMark
from members.access import get_member_for_user
from members.models import Member
from members.selectors import member_counts_for
from organizations.access import get_organization_for_user, scope_for
from organizations.models import Organization, RoleAssignment

ORGANIZATIONS_PAGE_SIZE = 200


# --- The home page of each role ----------------------------------------------------------------------


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
        panel = {
            "organization": org,
            "role": assignment.get_role_display(),
            "is_board": assignment.role == RoleAssignment.Role.BOARD,
        }
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
    panels = _workspaces(scope)
    evaluations = []
    if evaluated:
        evaluations = list(
            Assessment.objects.filter(
                organization__in=evaluated,
                member__isnull=True,
                subject_kind=Assessment.SubjectKind.ORGANIZATION,
                period__state=Period.State.OPEN,
            ).select_related("period", "organization")
        )
    # The reviews under way: the user's own forms, and for each panel the period that covers it.
    own_reviews, open_ballots = [], []
    if member is not None:
        # Ballots open for this member that they have not voted in yet: one query.
        open_ballots = list(
            Ballot.objects.filter(eligible_voters=member, state=Ballot.State.OPEN)
            .exclude(pk__in=VoterMark.objects.filter(voter=member).values("ballot_id"))
            .select_related("meeting__organization")
        )
        own_reviews = list(
            Assessment.objects.filter(member=member, period__state__in=(Period.State.OPEN, Period.State.PUBLISHED))
            .select_related("period", "organization")
            .order_by("-period__year", "-period__quarter", "subject_kind")
        )
        # Once a period is published, the member's level and their cell's (one query, only then).
        published = [review for review in own_reviews if review.period.state == Period.State.PUBLISHED]
        levels = cell_levels(published) if published else {}
        for review in own_reviews:
            review.published = review.period.state == Period.State.PUBLISHED
            review.cell_level = levels.get((review.period_id, review.organization_id))
    if panels:
        # The periods under way and the latest finished ones (their statistics and spreadsheets).
        open_periods = list(
            Period.objects.exclude(state=Period.State.PREPARING)
            .select_related("organization")
            .order_by("-year", "-quarter")
        )
        for panel in panels:
            path = panel["organization"].path
            panel["periods"] = [p for p in open_periods if path.startswith(p.organization.path)][:3]
    return render(
        request,
        "portal/home.html",
        {
            "member": member,
            "own_reviews": own_reviews,
            "open_ballots": open_ballots,
            "panels": panels,
            "evaluated": evaluated,
            "evaluations": evaluations,
            "is_superuser_without_roles": scope.is_superuser and not scope.assignments,
        },
    )


# --- The organisation pages ----------------------------------------------------------------------------


@require_GET
@login_required
def organization_list(request):
    """Every organisation in the user's scope, as an indented tree in path order."""
    scope = scope_for(request.user)
    if not (scope.manages_anything or scope.evaluated_ids):
        raise Http404
    queryset = scope.organizations().select_related("cluster").order_by("path")
    page = Paginator(queryset, ORGANIZATIONS_PAGE_SIZE).get_page(request.GET.get("page"))
    organizations = list(page.object_list)
    counts = member_counts_for(org for org in organizations if scope.manages_organization(org))
    top_depth = min((org.depth for org in organizations), default=1)
    rows = [(org, org.depth - top_depth, counts.get(org.pk)) for org in organizations]
    return render(request, "portal/organization_list.html", {"page": page, "rows": rows})


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
    return render(
        request,
        "portal/organization_detail.html",
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


# --- The member page -----------------------------------------------------------------------------------


@require_GET
@login_required
def member_detail(request, public_id):
    member = get_member_for_user(request.user, public_id)
    history = level_history(request.user, member=member)
    # Beside each year's level, the level of the cell the member was reviewed in: visible whenever the
    # member's own level is (the history already holds back unpublished years from the member).
    levels = cell_levels(history)
    for assessment in history:
        assessment.cell_level = levels.get((assessment.period_id, assessment.organization_id))
    context = {
        "history": history,
        "member": member,
        "is_self": member.user_id == request.user.pk,
        "discipline_decisions": list(member.discipline_decisions.all()),
        "transfers": list(member.transfers.select_related("from_cell", "to_cell")),
        "leave_periods": list(member.leave_periods.all()),
        "civil_service_ratings": list(member.civil_service_ratings.all()),
        "degradation_conclusions": list(member.degradation_conclusions.all()),
    }
    return render(request, "portal/member_detail.html", context)
