"""Member search by an index at any size.

The folded name (`search_name`: lower case, no diacritics) already has a B-tree index; on PostgreSQL
Django adds a `varchar_pattern_ops` twin (`…_like`), which serves "some word starts with" on the first
word (`LIKE 'nguyen%'`) as the unique card number's twin serves `LIKE '0123%'`. A later word
(`LIKE '% van%'`) is served on PostgreSQL by a GIN trigram index (pg_trgm, a trusted extension: the
database owner may create it). SQLite has neither; it scans, which is fine at the sizes it is used for.

The folded names are computed again for every row, in chunks, so that rows written by bulk paths
that skipped `Member.fill_derived()` are found too.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

from organizations.vietnamese import fold

CHUNK = 2000
TRIGRAM_INDEX = "member_search_trgm"


def refill_folded_names(apps, schema_editor):
    Member = apps.get_model("members", "Member")
    rows = Member.objects.using(schema_editor.connection.alias).order_by("pk")
    last = 0
    while True:
        chunk = list(rows.filter(pk__gt=last).only("pk", "full_name", "search_name")[:CHUNK])
        if not chunk:
            return
        changed = []
        for member in chunk:
            folded = fold(member.full_name)
            if member.search_name != folded:
                member.search_name = folded
                changed.append(member)
        Member.objects.using(schema_editor.connection.alias).bulk_update(changed, ["search_name"])
        last = chunk[-1].pk


def create_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON members_member USING gin (search_name gin_trgm_ops)"
        )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0006_committee_suspension"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(refill_folded_names, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(create_trigram_index, drop_trigram_index),
    ]
