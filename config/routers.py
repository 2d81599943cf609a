"""Read-only reports on a PostgreSQL replica, when there is one.

Statistics and exports read a great deal and write nothing. With DATABASE_REPLICA_URL set (a streaming
replica of the primary), the code that builds them runs inside `reports_on_replica()`, and this router
sends its reads to the `replica` alias; every write, and every read outside such a block, goes to the
primary. Without a replica the block changes nothing.

What is read on the replica may be a moment behind the primary (replication lag, usually well under a
second): fine for a statistics page or a workbook, and the reason nothing that decides, checks a version or
takes a lock runs inside the block.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

REPLICA = "replica"

_on_replica: ContextVar[bool] = ContextVar("reports_on_replica", default=False)

F = TypeVar("F", bound=Callable[..., Any])


def replica_in_use() -> bool:
    """Whether reports go to a replica: one is configured and reports are sent to it."""
    return REPLICA in settings.DATABASES and getattr(settings, "REPORTS_ON_REPLICA", False)


@contextmanager
def reports_on_replica() -> Iterator[None]:
    """The reads inside this block go to the replica (when one is in use)."""
    token = _on_replica.set(True)
    try:
        yield
    finally:
        _on_replica.reset(token)


def on_replica(function: F) -> F:
    """A view or function whose reads go to the replica (when one is in use)."""

    @wraps(function)
    def wrapper(*args, **kwargs):
        with reports_on_replica():
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


class ReplicaRouter:
    """Reads inside `reports_on_replica()` on the replica; everything else on the primary."""

    def db_for_read(self, model, **hints):
        if _on_replica.get() and replica_in_use():
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # The replica holds the same rows as the primary: an object read there may point at one read here.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica follows the primary's schema by replication; nothing is migrated on it.
        return db == DEFAULT_DB_ALIAS
