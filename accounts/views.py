from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from members.models import Member
from members.selectors import member_counts_for
from organizations.access import scope_for
from organizations.models import Organization, RoleAssignment

from . import services
from .access import get_managed_member_for_user, get_managed_organization_for_user
from .forms import ConfirmForm, FirstPasswordForm, PasswordChangeForm, ResetForm, ThrottledAuthenticationForm
from .middleware import remember
from .selectors import account_counts, account_status, members_with_accounts


class LoginView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change_done")

    def dispatch(self, request, *args, **kwargs):
        # The database, not the session, says whether this is the first password after a code.
        self.first_password = services.must_change_password(request.user)
        return super().dispatch(request, *args, **kwargs)

    def get_form_class(self):
        return FirstPasswordForm if self.first_password else PasswordChangeForm

    def get_context_data(self, **kwargs):
        return super().get_context_data(first_password=self.first_password, **kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)  # saves the password and keeps this session signed in
        services.password_chosen(user=form.user)
        remember(self.request, False)
        if self.first_password:
            messages.success(self.request, _("Your new password is saved. Use it from now on when you sign in."))
            return redirect("home")
        return response


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
    from assessments.core.selectors import cell_levels
    from assessments.models import Assessment, Period

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
        from assessments.models import Ballot, VoterMark

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
        "accounts/home.html",
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


# --- Member accounts: the list, creating accounts, new codes, the printed slips ---------------------

ACCOUNTS_PAGE_SIZE = 100


def _accounts_url(organization):
    return reverse("accounts:organization_accounts", args=[organization.code])


def _back(request, default):
    """Where to go back to after a button: the page the button was on, if it is one of ours."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


def _slips_response(request, organization, batch, heading):
    """The printable slips, straight in the answer to the POST: the codes are stored nowhere, so no
    address can show them again. Never cached, so the back button cannot bring them back either."""
    response = render(
        request,
        "accounts/slips.html",
        {
            "organization": organization,
            "heading": heading,
            "slips": batch.slips,
            "skipped": batch.skipped,
            "site_address": request.build_absolute_uri("/"),
        },
    )
    add_never_cache_headers(response)
    return response


@require_GET
@login_required
def organization_accounts(request, code):
    """The members under an organisation and where each one's account stands, with the buttons that
    create accounts, hand out new codes and reset one member's password."""
    organization = get_managed_organization_for_user(request.user, code)
    query = request.GET.get("q", "").strip()[:100]
    page = Paginator(members_with_accounts(organization, query), ACCOUNTS_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for member in page.object_list:
        state = getattr(member.user, "account_state", None) if member.user else None
        rows.append((member, account_status(member), state.codes_issued if state else 0))
    return render(
        request,
        "accounts/organization_accounts.html",
        {
            "organization": organization,
            "page": page,
            "rows": rows,
            "counts": account_counts(organization),
            "query": query,
            "show_cell": not organization.is_cell,
        },
    )


def _confirmed_batch(request, code, *, confirm_template, service, nothing_done, title):
    """Ask first (a page that says what will happen); once confirmed, run `service` over the
    organisation and show the slips to print."""
    organization = get_managed_organization_for_user(request.user, code)
    form = ConfirmForm(request.POST)
    if not (form.is_valid() and form.cleaned_data["confirmed"]):
        return render(request, confirm_template, {"organization": organization, "counts": account_counts(organization)})
    try:
        batch = service(organization=organization, actor=request.user)
    except services.AccountError as exc:
        messages.error(request, exc.message)
        return redirect(_accounts_url(organization))
    if not batch.slips and not batch.skipped:
        messages.info(request, nothing_done)
        return redirect(_accounts_url(organization))
    return _slips_response(request, organization, batch, title)


@require_POST
@login_required
def organization_accounts_create(request, code):
    """Accounts for everyone under the organisation who has none."""
    return _confirmed_batch(
        request,
        code,
        confirm_template="accounts/confirm_create.html",
        service=services.member_accounts_create,
        nothing_done=_("Every member here already has an account: nothing was created."),
        title=_("New accounts"),
    )


@require_POST
@login_required
def organization_accounts_reissue(request, code):
    """New codes for the accounts whose code was never used (the slips were lost); the confirmation
    page says the old slips will stop working."""
    return _confirmed_batch(
        request,
        code,
        confirm_template="accounts/confirm_reissue.html",
        service=services.member_codes_reissue,
        nothing_done=_("Every account here has been used already: no new code was needed."),
        title=_("New codes"),
    )


@require_POST
@login_required
def member_password_reset(request, public_id):
    """A new one-time code for one member who forgot the password: a page that asks first, then the slip."""
    member = get_managed_member_for_user(request.user, public_id)
    back = _back(request, _accounts_url(member.cell))
    form = ResetForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("This page was out of date. Please look at the list again, then try again."))
        return redirect(back)
    if not form.cleaned_data["confirmed"]:
        return render(
            request,
            "accounts/confirm_reset.html",
            {"member": member, "codes_issued": form.cleaned_data["codes_issued"], "next": back},
        )
    try:
        slip = services.member_password_reset(
            member=member, actor=request.user, expected_codes_issued=form.cleaned_data["codes_issued"]
        )
    except services.AccountError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    return _slips_response(request, member.cell, services.SlipBatch(slips=[slip]), _("New password code"))
