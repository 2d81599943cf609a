# Ballot secrecy with the database in the threat model (assessments/meetings/ballot.py, "Secrecy"):
# voter marks get random keys instead of numbers from a sequence, written in the order of the keys;
# the vote tables keep only the open ballots: who voted in a closed ballot moves to
# Ballot.recorded_voters, and its counters, copied into its minutes when it closed, are deleted.
#
# The old versions of rows that the ballots closed before this migration left in PostgreSQL's files
# go at the next closing of a ballot, or at once with `manage.py scrub_ballots`.

import uuid

from django.db import migrations, models


def closed_ballots_out_of_the_vote_tables(apps, schema_editor):
    """Who voted in each closed ballot goes to its `recorded_voters`; its marks and counters go."""
    db = schema_editor.connection.alias
    Ballot = apps.get_model("assessments", "Ballot")
    VoterMark = apps.get_model("assessments", "VoterMark")
    BallotTally = apps.get_model("assessments", "BallotTally")
    closed = VoterMark.objects.using(db).filter(ballot__state="closed")
    pairs = sorted(closed.values_list("ballot_id", "voter_id"))
    Through = Ballot.recorded_voters.through
    Through.objects.using(db).bulk_create(Through(ballot_id=ballot, member_id=voter) for ballot, voter in pairs)
    closed.delete()
    BallotTally.objects.using(db).filter(ballot__state="closed").delete()


def closed_ballots_back_in_the_marks(apps, schema_editor):
    """Backwards: the marks of the closed ballots again (their counters are in their minutes only)."""
    db = schema_editor.connection.alias
    Ballot = apps.get_model("assessments", "Ballot")
    VoterMark = apps.get_model("assessments", "VoterMark")
    pairs = Ballot.recorded_voters.through.objects.using(db).values_list("ballot_id", "member_id")
    start = (VoterMark.objects.using(db).aggregate(last=models.Max("id"))["last"] or 0) + 1
    VoterMark.objects.using(db).bulk_create(
        VoterMark(id=number, ballot_id=ballot, voter_id=voter) for number, (ballot, voter) in enumerate(pairs, start)
    )
    if schema_editor.connection.vendor == "postgresql":  # the identity column starts again at 1
        schema_editor.execute(
            "SELECT setval(pg_get_serial_sequence('assessments_votermark', 'id'), "
            "(SELECT coalesce(max(id), 0) + 1 FROM assessments_votermark), false)"
        )


def random_keys_on_postgresql(apps, schema_editor):
    """PostgreSQL cannot cast the old numbers to UUIDs (AlterField's `USING "id"::uuid`): the column is
    turned into UUIDs first, each row a random one, so that AlterField has nothing left to convert."""
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name("assessments_votermark")
    schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN id DROP IDENTITY IF EXISTS")
    schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN id TYPE uuid USING gen_random_uuid()")


def marks_with_random_keys_in_their_order(apps, schema_editor):
    """Every mark gets a new random key (SQLite copied the old numbers into the new column), and the
    marks are written again in the order of their keys: the table's order was the order of voting."""
    VoterMark = apps.get_model("assessments", "VoterMark")
    marks = VoterMark.objects.using(schema_editor.connection.alias)
    pairs = list(marks.values_list("ballot_id", "voter_id"))
    marks.all().delete()
    rows = [VoterMark(id=uuid.uuid4(), ballot_id=ballot_id, voter_id=voter_id) for ballot_id, voter_id in pairs]
    marks.bulk_create(sorted(rows, key=lambda mark: mark.id))


def numbered_marks(apps, schema_editor):
    """Backwards: numbers again for the keys, which the old integer column can take."""
    table = schema_editor.quote_name("assessments_votermark")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE TEMPORARY SEQUENCE votermark_renumber")
        schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN id TYPE bigint USING nextval('votermark_renumber')")
        schema_editor.execute("DROP SEQUENCE votermark_renumber")
        return
    VoterMark = apps.get_model("assessments", "VoterMark")
    keys = VoterMark.objects.using(schema_editor.connection.alias).values_list("id", flat=True)
    for number, key in enumerate(list(keys), start=1):
        schema_editor.execute(f"UPDATE {table} SET id = %s WHERE id = %s", [str(number), key.hex])



class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0017_to_confirm"),
        ("members", "0004_leader_year_and_temporary_attachment"),
    ]

    operations = [
        migrations.AddField(
            model_name="ballot",
            name="recorded_voters",
            field=models.ManyToManyField(
                blank=True, related_name="+", to="members.member", verbose_name="members who voted"
            ),
        ),
        migrations.RunPython(closed_ballots_out_of_the_vote_tables, closed_ballots_back_in_the_marks),
        migrations.RunPython(random_keys_on_postgresql, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="votermark",
            name="id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False),
        ),
        migrations.RunPython(marks_with_random_keys_in_their_order, numbered_marks),
    ]
