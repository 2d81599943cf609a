"""The audit trail is append-only in the database too, not only in the application.

Both databases refuse an UPDATE of an audit row. PostgreSQL also refuses a row DELETE; its TRUNCATE
(used only to empty a test database) is not a row delete. On SQLite a DELETE trigger would also stop
the test framework from emptying tables, so there the application's refusal must do.
"""

from django.db import migrations

SQLITE_FORWARD = """
CREATE TRIGGER assessments_auditentry_no_update BEFORE UPDATE ON assessments_auditentry
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS assessments_auditentry_no_update;"

POSTGRES_FORWARD = """
CREATE OR REPLACE FUNCTION assessments_auditentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER assessments_auditentry_no_change BEFORE UPDATE OR DELETE ON assessments_auditentry
FOR EACH ROW EXECUTE FUNCTION assessments_auditentry_append_only();
"""
POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS assessments_auditentry_no_change ON assessments_auditentry;
DROP FUNCTION IF EXISTS assessments_auditentry_append_only();
"""


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_BACKWARD)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("assessments", "0001_periods_assessments_audit")]

    operations = [migrations.RunPython(forward, backward)]
