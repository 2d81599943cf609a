"""Sign-in limits: django-axes, with each attempt counted before its password is checked.

Three counters of failed sign-ins, each with its own limit (settings.SIGNIN_LIMITS), over the
cool-off (settings.AXES_COOLOFF_TIME, 15 minutes by default):

- one username from one address ("username+ip_address", 5): a member mistyping, or someone guessing
  one account from one machine. It pauses only that pair: the member can still sign in elsewhere;
- one username from any address ("username", 20): one account guessed from many addresses;
- one address, any username ("ip_address", 40): one password tried over many card numbers.

Whatever the form (the site's sign-in, the admin's), `django.contrib.auth.authenticate()` asks
axes' backend (`AxesStandaloneBackend`, first in AUTHENTICATION_BACKENDS) before any password is
checked, so every sign-in form is covered.

Why not axes as it comes: it reads the counters before the password check and counts the failure
after it, so attempts made at the same moment all pass the check (axes issue #592, closed "won't
fix"). Here each attempt is counted first, in its own committed transaction, and only then are the
counters read: of N attempts at once, the k-th to commit sees at least k, so no more than the limit
reach the password check. An attempt refused that way gives its count back: attempts made while
paused neither count nor lengthen the pause, so waiting out the cool-off is always enough. A
successful sign-in clears that username's failures from that address only: someone signing into
their own account wins no new guesses at other accounts from the same address.

The counters are axes' `AccessAttempt` rows, one per (username, address, browser), the username in
lower case (`normalise_username`). A row's failures expire together, a cool-off after its last one.

The client's address is REMOTE_ADDR, or behind a reverse proxy listed in settings.TRUSTED_PROXIES
the address the proxy saw (`client_ip`).
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

if TYPE_CHECKING:
    from django.http import HttpRequest

log = logging.getLogger(__name__)

USERNAME = "username"
ADDRESS = "ip_address"
# The counters, each the fields it groups the failures by; their limits are settings.SIGNIN_LIMITS.
COUNTERS = {
    "username+ip_address": (USERNAME, ADDRESS),
    "username": (USERNAME,),
    "ip_address": (ADDRESS,),
}


def normalise_username(username: str | None) -> str | None:
    """The username a counter is kept under: "AN " and "an" are one person's attempts."""
    return (username or "").strip().lower()[:150] or None


def username_key(request: HttpRequest | None, credentials: dict | None = None) -> str | None:
    """settings.AXES_USERNAME_CALLABLE: the username tried, from the credentials or the form."""
    if credentials:
        return normalise_username(credentials.get(USERNAME))
    data = getattr(request, "POST", None) or {}
    return normalise_username(data.get(USERNAME))


# --- The client's address ------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _address(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """settings.AXES_CLIENT_IP_CALLABLE: the address the request came from.

    REMOTE_ADDR, unless it is one of settings.TRUSTED_PROXIES (addresses or networks): then the
    X-Forwarded-For header is read from the right, each trusted proxy having appended the address it
    received the request from, and the first address that is not a trusted proxy is the client's.
    What a client writes in the header itself stays on the left, never read, so it cannot pick an
    address to escape its counter or to pause somebody else's.
    """
    remote = _address(request.META.get("REMOTE_ADDR"))
    trusted = _networks(tuple(settings.TRUSTED_PROXIES))
    if remote is None or not any(remote in network for network in trusted):
        return str(remote) if remote is not None else None
    client = remote
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break
        client = address
        if not any(address in network for network in trusted):
            break
    return str(client)


# --- Pauses --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pause:
    """A counter over its limit: sign-ins it covers are refused until `until`."""

    counter: str
    until: datetime

    @property
    def minutes(self) -> int:
        """Whole minutes left, at least 1: what the page tells the user."""
        seconds = (self.until - timezone.now()).total_seconds()
        return max(1, math.ceil(seconds / 60))

    @property
    def by_address(self) -> bool:
        """Paused for every username from this address, not for one account."""
        return self.counter == "ip_address"


def cool_off() -> timedelta:
    return settings.AXES_COOLOFF_TIME


def _window_start(now: datetime) -> datetime:
    return now - cool_off()


def _counters(username: str | None, address: str | None) -> dict[str, dict[str, str]]:
    """{counter: its filter} for the counters this attempt falls under (none without a value)."""
    values = {USERNAME: username, ADDRESS: address}
    return {
        name: {field: values[field] for field in fields}
        for name, fields in COUNTERS.items()
        if all(values[field] is not None for field in fields) and settings.SIGNIN_LIMITS.get(name)
    }


def _pause_over(rows: list[tuple[str, str, int, datetime]], counter: str, where: dict, slack: int) -> Pause | None:
    """The pause of one counter if its failures (newest first in `rows`) reach its limit, counting
    `slack` more. It ends when the newest rows that reach the limit have all expired: a cool-off
    after the oldest of them."""
    limit = settings.SIGNIN_LIMITS[counter]
    total = 0
    for username, address, failures, at in rows:
        if (where.get(USERNAME, username), where.get(ADDRESS, address)) != (username, address):
            continue
        total += failures
        if total + slack >= limit:
            return Pause(counter, at + cool_off())
    return None


def _pause(username: str | None, address: str | None, *, slack: int = 0, now: datetime | None = None) -> Pause | None:
    """The longest pause this (username, address) is under, in one query; None when none."""
    counters = _counters(username, address)
    if not counters:
        return None
    now = now or timezone.now()
    either = Q(pk__in=[])
    if username is not None:
        either |= Q(username=username)
    if address is not None:
        either |= Q(ip_address=address)
    rows = list(
        AccessAttempt.objects.filter(either, attempt_time__gte=_window_start(now), failures_since_start__gt=0)
        .order_by("-attempt_time")
        .values_list("username", "ip_address", "failures_since_start", "attempt_time")
    )
    pauses = [pause for name, where in counters.items() if (pause := _pause_over(rows, name, where, slack))]
    return max(pauses, key=lambda pause: pause.until, default=None)


def pauses_of(usernames: Iterable[str]) -> dict[str, Pause]:
    """{username: pause} for those of these accounts paused from some address or from all: one query.
    A pause of an address (many usernames) is not an account's and is left out."""
    names = {normalise_username(name) for name in usernames} - {None}
    if not names:
        return {}
    now = timezone.now()
    rows = list(
        AccessAttempt.objects.filter(
            username__in=names, attempt_time__gte=_window_start(now), failures_since_start__gt=0
        )
        .order_by("-attempt_time")
        .values_list("username", "ip_address", "failures_since_start", "attempt_time")
    )
    found = {}
    for username in names:
        pauses = []
        if settings.SIGNIN_LIMITS.get("username"):
            pauses.append(_pause_over(rows, "username", {USERNAME: username}, 0))
        if settings.SIGNIN_LIMITS.get("username+ip_address"):
            for address in {address for name, address, _n, _at in rows if name == username and address}:
                pauses.append(_pause_over(rows, "username+ip_address", {USERNAME: username, ADDRESS: address}, 0))
        pauses = [pause for pause in pauses if pause is not None and pause.until > now]
        if pauses:
            found[username] = max(pauses, key=lambda pause: pause.until)
    return found


def unlock(usernames: Iterable[str]) -> int:
    """Forget the failed sign-ins of these accounts, from every address: their pauses end now.
    Returns how many counters were cleared. A pause of an address stays (axes_reset_ip lifts it)."""
    names = sorted({normalise_username(name) for name in usernames} - {None})
    cleared = 0
    for start in range(0, len(names), 500):
        cleared += AccessAttempt.objects.filter(username__in=names[start : start + 500]).delete()[0]
    return cleared


# --- The axes handler ----------------------------------------------------------------------------


class SignInHandler(AxesDatabaseHandler):
    """settings.AXES_HANDLER: axes' database handler, with the attempt counted before the password
    check (`is_allowed`), tiered limits, and a success that clears only its own (username, address)."""

    def is_allowed(self, request, credentials=None):
        if self.is_blacklisted(request, credentials):
            return False
        if self.is_whitelisted(request, credentials):
            return True
        username = username_key(request, credentials)
        address = request.axes_ip_address
        if not _counters(username, address):
            return True
        attempt = self._count(request, username, address)
        if _pause(username, address, slack=-1) is None:  # this attempt included: within every limit
            request.signin_attempt = attempt
            return True
        self._give_back(attempt)
        # Told to the page by AxesMiddleware, which calls settings.AXES_LOCKOUT_CALLABLE.
        request.signin_pause = _pause(username, address) or Pause("username+ip_address", timezone.now())
        request.axes_locked_out = True
        log.warning("Sign-in refused before the password check (%s).", request.signin_pause.counter)
        return False

    def _count(self, request, username: str, address: str | None) -> int:
        """Count the attempt as a failure now, committed before any counter is read; its row's pk."""
        now = timezone.now()
        key = {"username": username, "ip_address": address, "user_agent": request.axes_user_agent}
        # Not get_or_create: without an address (NULL) the unique key does not hold, and two rows of
        # one key must not turn the next attempt into an error.
        mine = AccessAttempt.objects.select_for_update().filter(**key).order_by("pk")
        with transaction.atomic():
            attempt = mine.first()
            if attempt is None:
                try:
                    with transaction.atomic():
                        return AccessAttempt.objects.create(
                            **key,
                            get_data="",
                            post_data="",
                            http_accept=request.axes_http_accept,
                            path_info=request.axes_path_info,
                            failures_since_start=1,
                        ).pk
                except IntegrityError:  # made by an attempt at the same moment, committed since
                    attempt = mine.first()
            row = AccessAttempt.objects.filter(pk=attempt.pk)
            if attempt.attempt_time < _window_start(now):  # its failures have expired: start again
                row.update(failures_since_start=1, attempt_time=now)
            else:
                row.update(failures_since_start=F("failures_since_start") + 1)
        return attempt.pk

    @staticmethod
    def _give_back(attempt: int) -> None:
        AccessAttempt.objects.filter(pk=attempt).update(failures_since_start=F("failures_since_start") - 1)
        AccessAttempt.objects.filter(pk=attempt, failures_since_start__lte=0).delete()

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        if request is None:
            return
        username = username_key(request, credentials)
        if getattr(request, "signin_pause", None) is not None:  # refused before the password: not counted
            self._paused(request, credentials, username)
            return
        attempt = getattr(request, "signin_attempt", None)
        if attempt is None:  # not counted by is_allowed (a whitelisted client): nothing to record
            return
        request.signin_attempt = None
        # The failure was counted in is_allowed; its time starts the row's cool-off again.
        AccessAttempt.objects.filter(pk=attempt).update(
            attempt_time=request.axes_attempt_time, path_info=request.axes_path_info
        )
        self.clean_expired_user_attempts(request, credentials)
        log.info("Sign-in failed from %s.", request.axes_ip_address)
        pause = _pause(username, request.axes_ip_address)
        if pause is not None:  # this failure reached a limit: say so now, rather than at the next try
            request.signin_pause = pause
            request.axes_locked_out = True
            self._paused(request, credentials, username)

    @staticmethod
    def _paused(request, credentials, username):
        request.axes_credentials = credentials
        user_locked_out.send("axes", request=request, username=username, ip_address=request.axes_ip_address)

    def user_logged_in(self, sender, request, user, **kwargs):
        if request is None:
            return
        request.signin_attempt = None
        self.clean_expired_user_attempts(request, None)
        # This person's failures from this address: they knew the password after all.
        AccessAttempt.objects.filter(
            username=normalise_username(user.get_username()), ip_address=request.axes_ip_address
        ).delete()

    def user_logged_out(self, sender, request, user, **kwargs):
        """Nothing: sign-ins and sign-outs are not logged (AXES_DISABLE_ACCESS_LOG)."""

    def reset_attempts(self, *, ip_address=None, username=None, ip_or_username=False):
        """axes_reset_username and friends: the username as the counters keep it."""
        return super().reset_attempts(
            ip_address=ip_address, username=normalise_username(username), ip_or_username=ip_or_username
        )
