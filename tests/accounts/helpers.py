"""Steps the account tests share: sign in, create accounts, read the slips."""

import re

from django.urls import reverse

LOGIN = reverse("accounts:login")
PASSWORD_CHANGE = reverse("accounts:password_change")
CODE_RE = re.compile(r"[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{2}")
NEW_PASSWORD = "Hoa sen nở 2025"


def sign_in(client, username, password):
    """Sign in through the sign-in form, as a person does (not force_login)."""
    client.logout()
    return client.post(LOGIN, {"username": username, "password": password})


def choose_password(client, password=NEW_PASSWORD):
    return client.post(PASSWORD_CHANGE, {"new_password1": password, "new_password2": password})


def post_create(client, code, confirmed=True):
    url = reverse("accounts:organization_accounts_create", args=[code])
    return client.post(url, {"confirmed": "1"} if confirmed else {})


def post_reset(client, member, codes_issued, confirmed=True, **extra):
    url = reverse("accounts:member_password_reset", args=[member.public_id])
    data = {"codes_issued": codes_issued, **extra}
    if confirmed:
        data["confirmed"] = "1"
    return client.post(url, data)


def slips_of(response):
    """{username: code} of the slips on a slips page rendered in the request (one member's new code)."""
    return {slip.username: slip.code for slip in response.context["slips"]}


def slips_in(html):
    """{username: code} of the slips on a page of slips (the job's file)."""
    usernames = re.findall(r"data-username>([^<]*)<", html)
    codes = re.findall(r"data-code>([^<]*)<", html)
    assert len(usernames) == len(codes)
    return dict(zip(usernames, codes, strict=True))


def open_slips(client, response):
    """The confirmed POST sent the user to its job's page: run the job, open its slips (once). Returns
    the download's HTML."""
    from tests.jobs.helpers import follow_job

    download = follow_job(client, response)
    assert download.status_code == 200, download.status_code
    assert download["Content-Type"].startswith("text/html")
    return b"".join(download.streaming_content).decode()


def create_through_job(client, code):
    """Create the accounts from the page, as a secretary does, and return {username: code} of the slips."""
    return slips_in(open_slips(client, post_create(client, code)))


def fresh(organization):
    """The organisation as stored now. The `city` fixture's cells keep the tree path they had when
    created, and adding a sibling that sorts before them (Chi bộ C before Đảng bộ A) moves them."""
    from organizations.models import Organization

    return Organization.objects.get(pk=organization.pk)


def fail(username, address, failures=1, *, minutes_ago=0, browser="test browser"):
    """`failures` failed sign-ins of `username` from `address`, the last `minutes_ago` minutes ago, as
    accounts.throttle counts them (axes' AccessAttempt)."""
    from datetime import timedelta

    from axes.models import AccessAttempt
    from django.utils import timezone

    attempt = AccessAttempt.objects.create(
        username=username,
        ip_address=address,
        user_agent=browser,
        http_accept="",
        path_info=LOGIN,
        get_data="",
        post_data="",
        failures_since_start=failures,
    )
    if minutes_ago:
        at = timezone.now() - timedelta(minutes=minutes_ago)
        AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=at)
    return attempt
