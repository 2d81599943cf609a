"""Sign-in throttling: repeated failures for one username lock it for a while."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .models import FailedLogin


def _normalise(username):
    return (username or "").strip().lower()[:150]


def _window_start():
    return timezone.now() - timedelta(minutes=settings.LOGIN_LOCK_MINUTES)


def login_locked_minutes(username):
    """Minutes left before `username` may try again, or 0 when it is not locked."""
    recent = FailedLogin.objects.filter(username=_normalise(username), attempted_at__gte=_window_start())
    times = list(recent.order_by("-attempted_at").values_list("attempted_at", flat=True)[: settings.LOGIN_MAX_FAILURES])
    if len(times) < settings.LOGIN_MAX_FAILURES:
        return 0
    unlock_at = times[0] + timedelta(minutes=settings.LOGIN_LOCK_MINUTES)
    remaining = (unlock_at - timezone.now()).total_seconds()
    return max(1, int(remaining // 60) + (1 if remaining % 60 else 0))


def login_failed(username, ip_address):
    FailedLogin.objects.create(username=_normalise(username), ip_address=ip_address or None)
    # Old rows are of no use to the lock; prune them as we go.
    FailedLogin.objects.filter(attempted_at__lt=timezone.now() - timedelta(days=1)).delete()


def login_succeeded(username):
    FailedLogin.objects.filter(username=_normalise(username)).delete()
