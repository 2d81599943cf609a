"""`manage.py scrub_ballots`: rewrite the vote tables of the online ballots without the old versions of
their rows, as closing a ballot does (after the migration to random voter keys, for instance)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils.translation import gettext as _

from assessments.core.errors import WorkflowError
from assessments.meetings.ballot import purge_vote_tables


class Command(BaseCommand):
    help = (
        "Rewrite the vote tables of the online ballots so that no old version of a counter or a voter mark "
        "stays in the database's files (PostgreSQL: TRUNCATE, then the rows of the open ballots written "
        "back). Closing or stopping a ballot does it; run this once after migrating to 0018_ballot_secrecy."
    )

    def handle(self, *args, **options):
        try:
            kept = purge_vote_tables()
        except WorkflowError as error:
            raise CommandError(error.message) from error
        if connection.vendor == "postgresql":
            self.stdout.write(
                _("The vote tables have been rewritten; %(rows)d rows of the open ballots were kept.") % {"rows": kept}
            )
        else:
            self.stdout.write(_("Nothing to rewrite: this database erases deleted rows as it writes."))
