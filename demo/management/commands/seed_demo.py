"""manage.py seed_demo: load the demo city, its members and one account per role."""

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from demo.accounts import DEMO_PASSWORD, account_rows
from demo.loader import DemoConflict, DemoInUse, DemoLoader, delete_demo, demo_loaded
from demo.plan import DEFAULT_MEMBERS, DEFAULT_SEED, MIN_MEMBERS


class Command(BaseCommand):
    help = (
        "Load demo data shaped like Thành ủy Vĩnh Yên: a city party committee with 20 grassroots "
        "committees and 19 grassroots cells, about 7,300 generated members with their year records, "
        f"and one account per role (password {DEMO_PASSWORD}). Does nothing if the demo city "
        "is already there. --reset deletes ALL organisations, clusters, members and roles, and the "
        "demo accounts, then loads again. For a local demo only: never run it on a production database."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--members",
            type=int,
            default=DEFAULT_MEMBERS,
            help=f"number of members (default {DEFAULT_MEMBERS}); the number of organisations "
            "follows, e.g. 100000 for a province",
        )
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help="random seed: the same seed gives the same data"
        )
        parser.add_argument(
            "--without-current-year",
            action="store_true",
            help="load last year's published review only, and leave this year's period for the board to "
            "create and open (the acceptance test starts so)",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="delete all organisations, clusters, members, roles and the demo accounts first",
        )

    def handle(self, *args, members, seed, reset, without_current_year=False, **options):
        if members < MIN_MEMBERS:
            raise CommandError(_("The demo needs at least %(minimum)d members.") % {"minimum": MIN_MEMBERS})
        started = time.perf_counter()
        with transaction.atomic():
            if demo_loaded() and not reset:
                self.stdout.write(_("The demo data are already loaded: nothing to do."))
                self._print_accounts()
                return
            if reset:
                call_command("seed_reviews", "--delete", stdout=self.stdout)
                try:
                    delete_demo()
                except DemoInUse as exc:
                    raise CommandError(
                        _("Cannot delete the demo data, other records still refer to them: %(error)s") % {"error": exc}
                    ) from exc
                self.stdout.write(_("Deleted the previous demo data."))
            try:
                counts = DemoLoader(total=members, seed=seed).load()
            except DemoConflict as exc:
                raise CommandError(
                    _("Some demo data already exist (%(what)s). Run with --reset to replace them.")
                    % {"what": ", ".join([*exc.codes, *exc.usernames])}
                ) from exc
            call_command("seed_reviews", *(["--previous-only"] if without_current_year else []), stdout=self.stdout)
        _analyze()
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Loaded %(organizations)d organisations in %(clusters)d clusters, %(members)d members, "
                    "%(records)d year records and %(accounts)d accounts."
                )
                % counts
            )
        )
        self._print_accounts()
        self.stdout.write(_("Done in %(seconds).1f s.") % {"seconds": time.perf_counter() - started})

    def _print_accounts(self):
        header = (_("Username"), _("Password"), _("Role"), _("Organisation"))
        rows = [header, *account_rows()]
        widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
        self.stdout.write("")
        self.stdout.write(_("Demo accounts:"))
        for number, row in enumerate(rows):
            self.stdout.write(
                "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            )
            if number == 0:
                self.stdout.write("  ".join("-" * width for width in widths))
        self.stdout.write("")


def _analyze() -> None:
    """The database's statistics of the tables just filled: the planner otherwise plans the first pages
    with those of the tables before (a province's pages then chose plans made for an empty city, until
    PostgreSQL's autovacuum came by; SQLite keeps none until asked). On PostgreSQL, tables the
    connecting role does not own are skipped (a warning, not an error)."""
    if connection.vendor in ("postgresql", "sqlite"):
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
