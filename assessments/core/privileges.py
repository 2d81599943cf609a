"""Two PostgreSQL roles: the owner of the tables, who migrates, and the application's role, which may only
read and write rows.

The application's role gets SELECT, INSERT, UPDATE and DELETE on every table and the use of every sequence, and
nothing else: no TRUNCATE (but on the two vote tables, which a ballot's end empties), no TRIGGER, no REFERENCES, and
as it owns nothing it can alter, disable a trigger of or drop nothing. The append-only tables (the audit trail) are
further limited to SELECT and INSERT, so the application's role can neither change nor delete an entry, even with its
own password. The migration history is read-only to it. Default privileges give the same rights on the tables a later
migration creates; `migrate` also grants again after every run (assessments/management/commands/migrate.py).
"""

from __future__ import annotations

from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.translation import gettext as _

from ..meetings.models import BallotTally, VoterMark
from .models import AuditEntry

# Tables the application may read and add to, never change: the trail of who did what.
APPEND_ONLY_MODELS = [AuditEntry]
# Tables the application empties with TRUNCATE: the two vote tables, emptied when a ballot ends so that no
# old row version links a voter to a vote (assessments/meetings/ballot.py, README "Ballot secrecy").
TRUNCATE_MODELS = [VoterMark, BallotTally]
# Read only: the application has no business recording a migration.
READ_ONLY_TABLES = ["django_migrations"]

# The connection settings that say who connects where.
_WHO = ("NAME", "USER", "PASSWORD", "HOST", "PORT", "OPTIONS")


def append_only_tables() -> list[str]:
    return [model._meta.db_table for model in APPEND_ONLY_MODELS]


def grant_statements(*, app_role: str, owner_role: str, schema: str = "public") -> list[str]:
    """The statements, run by the owner, that leave the application's role exactly its rights (they first
    take back every right the owner had given it, so a right given by hand does not survive)."""

    def q(name):
        return '"' + name.replace('"', '""') + '"'

    app, owner, schema_q = q(app_role), q(owner_role), q(schema)
    statements = [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema_q} FROM {app}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema_q} FROM {app}",
        f"GRANT USAGE ON SCHEMA {schema_q} TO {app}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema_q} TO {app}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema_q} TO {app}",
    ]
    statements += [f"REVOKE UPDATE, DELETE ON {q(table)} FROM {app}" for table in append_only_tables()]
    statements += [f"REVOKE INSERT, UPDATE, DELETE ON {q(table)} FROM {app}" for table in READ_ONLY_TABLES]
    statements += [f"GRANT TRUNCATE ON {q(model._meta.db_table)} TO {app}" for model in TRUNCATE_MODELS]
    statements += [
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema_q} "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema_q} GRANT USAGE, SELECT ON SEQUENCES TO {app}",
    ]
    return statements


class PrivilegeError(Exception):
    pass


def grant_app_privileges(*, app_role: str, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Runs grant_statements on the connection `using`, as the role it is connected as (the owner), in one
    transaction. Returns the statements run."""
    from django.db import transaction

    connection = connections[using]
    if connection.vendor != "postgresql":
        raise PrivilegeError(
            _("Database roles are PostgreSQL's: nothing to grant on %(vendor)s.") % {"vendor": connection.vendor}
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, current_schema(), EXISTS (SELECT FROM pg_roles WHERE rolname = %s)", [app_role]
        )
        owner_role, schema, exists = cursor.fetchone()
    if not exists:
        raise PrivilegeError(_("There is no role %(role)s in the database cluster.") % {"role": app_role})
    if owner_role == app_role:
        raise PrivilegeError(
            _("The role %(role)s is the one connected, which owns the tables: it cannot be limited.")
            % {"role": app_role}
        )
    statements = grant_statements(app_role=app_role, owner_role=owner_role, schema=schema)
    with transaction.atomic(using=using), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    return statements


@contextmanager
def connected_as(settings_dict: dict, using: str = DEFAULT_DB_ALIAS):
    """Within the block, the connection `using` connects with the role (and password, host, port) of
    `settings_dict`; afterwards as before. The connection is closed on the way in and out, so no transaction
    may be open on it. The database name stays the connection's own: a test database stays the test's."""
    connection = connections[using]
    if connection.in_atomic_block:
        raise PrivilegeError(_("A transaction is open on the connection: its role cannot change."))
    saved = {key: connection.settings_dict.get(key) for key in _WHO}
    connection.close()
    for key in ("USER", "PASSWORD", "HOST", "PORT"):
        if settings_dict.get(key):
            connection.settings_dict[key] = settings_dict[key]
    try:
        yield connection
    finally:
        connection.close()
        connection.settings_dict.update(saved)
