from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jobs.models import Job
from jobs.services import job_start
from organizations import policy

from . import background, services, throttle
from .access import get_managed_member_for_user, get_managed_organization_for_user
from .forms import ConfirmForm, FirstPasswordForm, PasswordChangeForm, ResetForm, SignInForm
from .middleware import remember
from .selectors import (
    account_counts,
    account_status,
    members_with_accounts,
    members_without_account_exist,
    unused_codes_exist,
)


class LoginView(auth_views.LoginView):
    form_class = SignInForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


def signin_paused(request, original_response=None, credentials=None):
    """settings.AXES_LOCKOUT_CALLABLE: the answer to a sign-in refused, or failed for the last allowed
    time, on any sign-in form (the admin's included). A page of the site in the user's language that
    says when to try again and what else to do; 429 with Retry-After, for machines."""
    pause = getattr(request, "signin_pause", None) or throttle.Pause("username+ip_address", timezone.now())
    response = render(
        request,
        "accounts/signin_paused.html",
        {"minutes": pause.minutes, "until": pause.until, "by_address": pause.by_address},
        status=429,
    )
    response["Retry-After"] = str(pause.minutes * 60)
    add_never_cache_headers(response)
    return response


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
    """One member's printable slip, straight in the answer to the POST: the code is stored nowhere, so no
    address can show it again. Never cached, so the back button cannot bring it back either. (A whole
    organisation's slips are a background job's file, opened once: accounts.background.)"""
    response = render(
        request,
        "accounts/slips.html",
        {
            "organization": organization,
            "heading": heading,
            "slips": batch.slips,
            "slip_count": len(batch.slips),
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
    members = list(page.object_list)
    pauses = throttle.pauses_of(member.user.username for member in members if member.user)
    rows = []
    for member in members:
        state = getattr(member.user, "account_state", None) if member.user else None
        pause = pauses.get(throttle.normalise_username(member.user.username)) if member.user else None
        rows.append((member, account_status(member), state.codes_issued if state else 0, pause))
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


def _confirmed_job(request, code, *, confirm_template, action, has_work, nothing_done):
    """Ask first (a page that says what will happen); once confirmed, start the background job that does
    it (accounts.background) and send the user to its page, where the slips open once it is done. When
    there is nothing to do, say so at once, with no job."""
    organization = get_managed_organization_for_user(request.user, code)
    form = ConfirmForm(request.POST)
    if not (form.is_valid() and form.cleaned_data["confirmed"]):
        return render(request, confirm_template, {"organization": organization, "counts": account_counts(organization)})
    if not has_work(organization):
        messages.info(request, nothing_done)
        return redirect(_accounts_url(organization))
    try:
        # A second click while an accounts job of this organisation waits or runs gets that job (one at a
        # time, by a database constraint), not a second set of codes.
        job, _created = job_start(
            kind=Job.Kind.ACCOUNTS,
            user=request.user,
            organization=organization,
            # The address printed on the slips: the one this user reached the site by.
            arguments={"action": action, "site_address": request.build_absolute_uri("/")},
        )
    except policy.Refused as exc:
        raise Http404 from exc  # outside what the user manages: as if it were not there
    return redirect("jobs:detail", public_id=job.public_id)


@require_POST
@login_required
def organization_accounts_create(request, code):
    """Accounts for everyone under the organisation who has none (a background job)."""
    return _confirmed_job(
        request,
        code,
        confirm_template="accounts/confirm_create.html",
        action=background.CREATE,
        has_work=members_without_account_exist,
        nothing_done=_("Every member here already has an account: nothing was created."),
    )


@require_POST
@login_required
def organization_accounts_reissue(request, code):
    """New codes for the accounts whose code was never used (the slips were lost); the confirmation
    page says the old slips will stop working. A background job."""
    return _confirmed_job(
        request,
        code,
        confirm_template="accounts/confirm_reissue.html",
        action=background.REISSUE,
        has_work=unused_codes_exist,
        nothing_done=_("Every account here has been used already: no new code was needed."),
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
    except policy.Refused as exc:
        raise Http404 from exc
    except services.AccountError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    return _slips_response(request, member.cell, services.SlipBatch(slips=[slip]), _("New password code"))


@require_POST
@login_required
def member_signin_unlock(request, public_id):
    """Lift the pause on one member's sign-in (too many wrong passwords): one click, recorded in the
    trail. Their password stays as it is; a member who forgot it needs a new code instead."""
    member = get_managed_member_for_user(request.user, public_id)
    back = _back(request, _accounts_url(member.cell))
    try:
        cleared = services.member_signin_unlock(member=member, actor=request.user)
    except services.AccountError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    if cleared:
        messages.success(
            request,
            _("%(name)s can sign in again now, with the same password.") % {"name": member.full_name},
        )
    else:
        messages.info(request, _("%(name)s's sign-in was not paused: nothing to lift.") % {"name": member.full_name})
    return redirect(back)
