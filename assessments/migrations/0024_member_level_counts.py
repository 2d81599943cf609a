"""The members' forms counted by period, organisation and decided level (MemberLevelCount), kept by the
database: triggers on the forms' table, so that every write counts, whatever makes it (the ORM, an
UPDATE … FROM (VALUES …), COPY). Counted: the forms of a member (member_id set) to be classified.

PostgreSQL: one trigger for each statement, reading the rows it wrote (transition tables), the changes
summed into one INSERT … ON CONFLICT in key order (two transactions lock the counts they share in the same
order: no deadlock between them). SQLite: a trigger for each row. The triggers are made first, then the
counts of what is there: on PostgreSQL, making a trigger locks the table against writes until the
migration commits, so nothing written meanwhile is missed or counted twice.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "assessments_assessment"
COUNTS = "assessments_memberlevelcount"
KEY = "period_id, organization_id, decided_level"
UPSERT = f"ON CONFLICT ({KEY}) DO UPDATE SET n = {COUNTS}.n + EXCLUDED.n"


def _function(name, body):
    """A PL/pgSQL trigger function that runs `body` (one statement) and returns."""
    return f"""
    CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {body};
        RETURN NULL;
    END $$
    """


def _counted(rows, sign):
    """The rows of the transition table `rows` counted by key, with `sign`, into the counts."""
    return f"""INSERT INTO {COUNTS} ({KEY}, n)
        SELECT {KEY}, {sign}COUNT(*) FROM {rows} WHERE member_id IS NOT NULL AND classified
        GROUP BY {KEY} ORDER BY {KEY}
        {UPSERT}"""


POSTGRESQL = [
    _function("assessment_level_counts_added", _counted("added", "")),
    _function("assessment_level_counts_removed", _counted("removed", "-")),
    # The rows as they were, counted down, and as they are, counted up: a row whose key did not change
    # cancels out (HAVING), with no join of the two tables (a join of thousands of rows on both sides,
    # planned without statistics, tripled the time of recording a committee's 3,000 decisions).
    _function(
        "assessment_level_counts_changed",
        f"""INSERT INTO {COUNTS} ({KEY}, n)
        SELECT {KEY}, SUM(change) FROM (
            SELECT {KEY}, 1 AS change FROM added WHERE member_id IS NOT NULL AND classified
            UNION ALL
            SELECT {KEY}, -1 AS change FROM removed WHERE member_id IS NOT NULL AND classified
        ) changes
        GROUP BY {KEY} HAVING SUM(change) <> 0 ORDER BY {KEY}
        {UPSERT}""",
    ),
    f"""CREATE TRIGGER assessment_level_counts_insert AFTER INSERT ON {TABLE}
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION assessment_level_counts_added()""",
    f"""CREATE TRIGGER assessment_level_counts_delete AFTER DELETE ON {TABLE}
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION assessment_level_counts_removed()""",
    f"""CREATE TRIGGER assessment_level_counts_update AFTER UPDATE ON {TABLE}
    REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION assessment_level_counts_changed()""",
]
POSTGRESQL_UNDONE = [
    f"DROP TRIGGER IF EXISTS assessment_level_counts_insert ON {TABLE}",
    f"DROP TRIGGER IF EXISTS assessment_level_counts_delete ON {TABLE}",
    f"DROP TRIGGER IF EXISTS assessment_level_counts_update ON {TABLE}",
    "DROP FUNCTION IF EXISTS assessment_level_counts_added()",
    "DROP FUNCTION IF EXISTS assessment_level_counts_removed()",
    "DROP FUNCTION IF EXISTS assessment_level_counts_changed()",
]

# SQLite: a row's count goes down where it was counted and up where it is now (an UPDATE that changes none
# of the key's columns does nothing). A count lowered is only ever updated, never inserted.
_DOWN = f"""UPDATE {COUNTS} SET n = n - 1
    WHERE period_id = OLD.period_id AND organization_id = OLD.organization_id AND decided_level = OLD.decided_level"""
_UP = f"""INSERT INTO {COUNTS} ({KEY}, n) VALUES (NEW.period_id, NEW.organization_id, NEW.decided_level, 1)
    ON CONFLICT ({KEY}) DO UPDATE SET n = n + 1"""


def _sqlite_moved(name, this, other, body):
    """An update trigger that runs `body` when the row is counted as `this` (OLD or NEW) and not under the
    same key as `other`."""
    return f"""CREATE TRIGGER assessment_level_counts_update_{name}
    AFTER UPDATE OF period_id, organization_id, decided_level, classified, member_id ON {TABLE}
    WHEN {this}.member_id IS NOT NULL AND {this}.classified AND (
        {other}.member_id IS NULL OR NOT {other}.classified OR OLD.period_id IS NOT NEW.period_id
        OR OLD.organization_id IS NOT NEW.organization_id OR OLD.decided_level IS NOT NEW.decided_level)
    BEGIN {body}; END"""


SQLITE = [
    f"""CREATE TRIGGER assessment_level_counts_insert AFTER INSERT ON {TABLE}
    WHEN NEW.member_id IS NOT NULL AND NEW.classified
    BEGIN {_UP}; END""",
    f"""CREATE TRIGGER assessment_level_counts_delete AFTER DELETE ON {TABLE}
    WHEN OLD.member_id IS NOT NULL AND OLD.classified
    BEGIN {_DOWN}; END""",
    # Down where it was counted (OLD), up where it is counted now (NEW), when the other side differs.
    _sqlite_moved("old", "OLD", "NEW", _DOWN),
    _sqlite_moved("new", "NEW", "OLD", _UP),
]
SQLITE_UNDONE = [
    "DROP TRIGGER IF EXISTS assessment_level_counts_insert",
    "DROP TRIGGER IF EXISTS assessment_level_counts_delete",
    "DROP TRIGGER IF EXISTS assessment_level_counts_update_old",
    "DROP TRIGGER IF EXISTS assessment_level_counts_update_new",
]

COUNTED_NOW = f"""INSERT INTO {COUNTS} ({KEY}, n)
    SELECT {KEY}, COUNT(*) FROM {TABLE} WHERE member_id IS NOT NULL AND classified GROUP BY {KEY}"""


def install(apps, schema_editor):
    statements = {"postgresql": POSTGRESQL, "sqlite": SQLITE}.get(schema_editor.connection.vendor)
    if statements is None:
        raise RuntimeError(f"no triggers for {schema_editor.connection.vendor}: the counts would be wrong")
    for statement in statements:
        schema_editor.execute(statement)
    schema_editor.execute(COUNTED_NOW)


def uninstall(apps, schema_editor):
    for statement in {"postgresql": POSTGRESQL_UNDONE, "sqlite": SQLITE_UNDONE}[schema_editor.connection.vendor]:
        schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('assessments', '0023_member_progress_index'),
        ('organizations', '0004_grassroots_index_only'),
    ]

    operations = [
        migrations.CreateModel(
            name='MemberLevelCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('decided_level', models.CharField(blank=True, max_length=8)),
                ('n', models.IntegerField(default=0)),
                ('organization', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='organizations.organization')),
                ('period', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='assessments.period')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('period', 'organization', 'decided_level'), name='member_level_count_key')],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
