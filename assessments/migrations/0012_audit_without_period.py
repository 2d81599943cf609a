"""Audit entries may have no period: the acts that belong to no year (accounts, codes, imports).

SQLite alters a column by rebuilding the table, which drops the append-only trigger of
0002_audit_append_only: it is created again here. PostgreSQL keeps its trigger through the change.
"""

import django.db.models.deletion
from django.db import migrations, models

SQLITE_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS assessments_auditentry_no_update BEFORE UPDATE ON assessments_auditentry
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"""


def restore_sqlite_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER)


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0011_exclusion_reason_code"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditentry",
            name="period",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="audit",
                to="assessments.period",
                verbose_name="period",
            ),
        ),
        migrations.RunPython(restore_sqlite_trigger, migrations.RunPython.noop),
    ]
