"""The database keeps the audit trail against the application itself (PostgreSQL).

Connected as the application's role (APP_ROLE_DATABASE_URL, tests/db_roles.py), with the rights `migrate`
grants it: the audit trail cannot be emptied, changed, deleted from, nor its trigger disabled; no table can
be emptied or altered; while the application's own writes, the audit entries included, go through.
`migrate` with DATABASE_OWNER_URL migrates as the owner and grants those rights again.
"""

import psycopg2
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import ProgrammingError, connection, connections
from django.test import Client
from django.urls import reverse

from assessments.core import services
from assessments.core.privileges import append_only_tables, connected_as, grant_app_privileges
from assessments.models import AuditEntry, Period
from tests.conftest import PASSWORD
from tests.db_roles import require_app_role

pytestmark = pytest.mark.django_db(transaction=True)

AUDIT = "assessments_auditentry"

# What the application's role must never do: each refused with "permission denied" (42501).
REFUSED = {
    "empty the audit trail": f"TRUNCATE {AUDIT}",
    "empty it with the tables that refer to it": f"TRUNCATE {AUDIT} CASCADE",
    "disable the trail's triggers": f"ALTER TABLE {AUDIT} DISABLE TRIGGER ALL",
    "disable its append-only trigger": f"ALTER TABLE {AUDIT} DISABLE TRIGGER assessments_auditentry_no_change",
    "drop its append-only trigger": f"DROP TRIGGER assessments_auditentry_no_change ON {AUDIT}",
    "replace the trigger's function": (
        "CREATE OR REPLACE FUNCTION assessments_auditentry_append_only() RETURNS trigger AS $$ "
        "BEGIN RETURN NULL; END; $$ LANGUAGE plpgsql"
    ),
    "delete an entry": f"DELETE FROM {AUDIT}",
    "change an entry": f"UPDATE {AUDIT} SET reason = 'rewritten'",
    "drop the trail": f"DROP TABLE {AUDIT}",
    "rename the trail": f"ALTER TABLE {AUDIT} RENAME TO gone",
    "skip every trigger for the session": "SET session_replication_role = replica",
    "empty another table": "TRUNCATE members_member CASCADE",
    "alter another table": "ALTER TABLE members_member ADD COLUMN extra integer",
    "create a table": "CREATE TABLE scratch (id integer)",
    "record a migration": "INSERT INTO django_migrations (app, name, applied) VALUES ('x', 'y', now())",
}


def connect_as(role):
    """A plain connection as `role` to the test database (autocommit: each statement on its own)."""
    settings = connection.settings_dict
    raw = psycopg2.connect(
        dbname=settings["NAME"],
        user=role["USER"],
        password=role.get("PASSWORD"),
        host=role.get("HOST") or settings["HOST"],
        port=role.get("PORT") or settings["PORT"],
    )
    raw.autocommit = True
    return raw


def refused(cursor, statement):
    """The SQLSTATE that refuses `statement`, or None when it ran."""
    try:
        cursor.execute(statement)
    except psycopg2.Error as error:
        return error.pgcode
    return None


@pytest.fixture
def app_role(db):
    role = require_app_role()
    grant_app_privileges(app_role=role["USER"])
    return role


@pytest.fixture
def trail(personas, city):
    """An audit trail with entries: a period opened by the board."""
    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=period, user=personas.board)
    assert AuditEntry.objects.exists()
    return period


def test_the_application_role_is_refused(app_role, trail):
    before = AuditEntry.objects.count()
    raw = connect_as(app_role)
    try:
        with raw.cursor() as cursor:
            outcomes = {what: refused(cursor, statement) for what, statement in REFUSED.items()}
    finally:
        raw.close()
    # 42501: insufficient privilege, for every one of them.
    assert {what: code for what, code in outcomes.items() if code != "42501"} == {}
    assert AuditEntry.objects.count() == before


def test_the_owner_could_do_what_the_application_role_cannot(app_role, trail):
    """The refusals come from the roles, not from the statements: the tables' owner (the tests' role, as
    `migrate` in production) may disable the trigger and empty the trail."""
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {AUDIT} DISABLE TRIGGER assessments_auditentry_no_change")
        cursor.execute(f"ALTER TABLE {AUDIT} ENABLE TRIGGER assessments_auditentry_no_change")
        cursor.execute(f"TRUNCATE {AUDIT}")
    assert not AuditEntry.objects.exists()


def test_the_application_role_reads_and_adds_to_the_trail_and_writes_other_tables(app_role, trail, personas):
    raw = connect_as(app_role)
    try:
        with raw.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {AUDIT}")
            count = cursor.fetchone()[0]
            cursor.execute(
                f"INSERT INTO {AUDIT} (period_id, actor_id, at, action, reason, data, from_state, to_state) "
                f"SELECT period_id, actor_id, now(), 'open', 'added', '{{}}', '', '' FROM {AUDIT} LIMIT 1"
            )
            cursor.execute(f"SELECT count(*) FROM {AUDIT}")
            assert cursor.fetchone()[0] == count + 1
            # Rows of the other tables: written, changed and deleted.
            cursor.execute("UPDATE members_member SET phone = '0900000000' WHERE id = %s", [personas.member_record.pk])
            assert cursor.rowcount == 1
            cursor.execute("DELETE FROM django_session")
            cursor.execute("SELECT count(*) FROM django_migrations")
            assert cursor.fetchone()[0] > 0
    finally:
        raw.close()


def test_the_application_runs_as_its_role(as_app_role, personas, city):
    """The application itself, connected as its role: a service that writes the trail, then pages and a
    form through the client, and the trail's append-only refusal still holds (now from the rights)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == as_app_role["USER"]
    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=period, user=personas.board)
    assert AuditEntry.objects.filter(period=period, action=AuditEntry.Action.OPEN).exists()

    client = Client()
    response = client.post(reverse("accounts:login"), {"username": "secretary_a1", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("assessments:dashboard", args=[period.public_id, city.cell_a1.code])).status_code == 200

    with pytest.raises(ProgrammingError, match="permission denied"), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AUDIT}")


def test_tables_created_later_are_covered(app_role):
    """Default privileges: a table the owner creates after the grant is open to the application's rows,
    and still not to TRUNCATE."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE later_table (id integer)")
    raw = connect_as(app_role)
    try:
        with raw.cursor() as cursor:
            cursor.execute("INSERT INTO later_table VALUES (1)")
            cursor.execute("SELECT count(*) FROM later_table")
            assert cursor.fetchone()[0] == 1
            assert refused(cursor, "TRUNCATE later_table") == "42501"
    finally:
        raw.close()
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE later_table")


def test_the_append_only_tables_are_the_audit_trail():
    assert append_only_tables() == [AUDIT]


def privileges(role, table):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT privilege_type FROM information_schema.role_table_grants WHERE grantee = %s AND table_name = %s",
            [role, table],
        )
        return {row[0] for row in cursor.fetchall()}


def test_migrate_runs_as_the_owner_and_grants_the_application_role(settings):
    """DATABASE_URL is the application's role, DATABASE_OWNER_URL the owner (here the tests' role): migrate
    connects as the owner, and afterwards the application's role has its rights, which only the owner could
    have given it; the connection is the application's again."""
    role = require_app_role()
    owner = {key: connection.settings_dict[key] for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT")}
    with connection.cursor() as cursor:
        cursor.execute(f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{role["USER"]}"')
    assert privileges(role["USER"], AUDIT) == set()

    settings.DATABASE_OWNER = owner
    with connected_as(role):
        call_command("migrate", verbosity=0, interactive=False)
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone()[0] == role["USER"]
    assert privileges(role["USER"], AUDIT) == {"SELECT", "INSERT"}
    assert privileges(role["USER"], "members_member") == {"SELECT", "INSERT", "UPDATE", "DELETE"}
    assert privileges(role["USER"], "django_migrations") == {"SELECT"}


def test_migrate_refuses_an_owner_of_another_database(settings):
    require_app_role()
    settings.DATABASE_OWNER = {**connection.settings_dict, "NAME": "another_database"}
    with pytest.raises(CommandError, match="another_database"):
        call_command("migrate", verbosity=0, interactive=False)


def test_migrate_without_an_owner_is_djangos(settings):
    """Without DATABASE_OWNER_URL nothing is granted: the role connected migrates, as before."""
    role = require_app_role()
    with connection.cursor() as cursor:
        cursor.execute(f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{role["USER"]}"')
    settings.DATABASE_OWNER = None
    call_command("migrate", verbosity=0, interactive=False)
    assert privileges(role["USER"], AUDIT) == set()


def test_grant_command_refuses_the_owner_itself(vietnamese):
    require_app_role()
    with pytest.raises(CommandError, match="sở hữu các bảng: không thể giới hạn"):
        call_command("grant_app_privileges", role=connection.settings_dict["USER"], verbosity=0)


def test_grant_command_refuses_a_role_that_does_not_exist(vietnamese):
    require_app_role()
    with pytest.raises(CommandError, match="Không có vai trò no_such_role"):
        call_command("grant_app_privileges", role="no_such_role", verbosity=0)


def test_grant_command_prints_the_statements(capsys):
    role = require_app_role()
    call_command("grant_app_privileges", role=role["USER"], print_only=True)
    printed = capsys.readouterr().out
    assert f'REVOKE UPDATE, DELETE ON "{AUDIT}" FROM "{role["USER"]}";' in printed
    truncates = [line for line in printed.splitlines() if "TRUNCATE" in line]
    # Only the two vote tables, which a ballot's end empties (README, "Ballot secrecy").
    assert sorted(truncates) == sorted(
        f'GRANT TRUNCATE ON "{table}" TO "{role["USER"]}";'
        for table in ("assessments_votermark", "assessments_ballottally")
    )
