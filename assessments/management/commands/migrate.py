"""`manage.py migrate`, Django's, run as the role that owns the tables when DATABASE_OWNER_URL is set.

The application connects with DATABASE_URL, a role that may only read and write rows. Changing the tables
needs their owner: with DATABASE_OWNER_URL in its environment (never in the application's), `migrate`
connects as that role to the same database, migrates, and grants the application's role its rights again
(assessments/core/privileges.py), so that a table a migration added is covered at once. Without
DATABASE_OWNER_URL (development, SQLite, the tests' own database) it is Django's `migrate` unchanged.
"""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.management.commands import migrate
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.translation import gettext as _

from assessments.core.privileges import PrivilegeError, connected_as, grant_app_privileges


class Command(migrate.Command):
    help = migrate.Command.help + (
        " With DATABASE_OWNER_URL set, connects as that role (the tables' owner) and then grants the role of "
        "DATABASE_URL the rights of the application."
    )

    def handle(self, *args, **options):
        owner = getattr(settings, "DATABASE_OWNER", None)
        database = options["database"]
        if not owner or database != DEFAULT_DB_ALIAS:
            super().handle(*args, **options)
            self._cache_table(database, options)
            return
        current = connections[database].settings_dict
        if connections[database].vendor != "postgresql":
            raise CommandError(_("DATABASE_OWNER_URL is for PostgreSQL only."))
        if owner.get("NAME") != current.get("NAME"):
            raise CommandError(
                _("DATABASE_OWNER_URL names the database %(owner)s, DATABASE_URL %(app)s: they must name the same one.")
                % {"owner": owner.get("NAME"), "app": current.get("NAME")}
            )
        app_role = current["USER"]
        with connected_as(owner, database):
            super().handle(*args, **options)
            self._cache_table(database, options)
            if options["plan"] or options["check_unapplied"] or owner.get("USER") == app_role:
                return
            try:
                grant_app_privileges(app_role=app_role, using=database)
            except PrivilegeError as error:
                raise CommandError(str(error)) from error
        if options["verbosity"] >= 1:
            self.stdout.write(
                _("The role %(role)s may read and write rows, and only add to the audit trail.") % {"role": app_role}
            )

    def _cache_table(self, database, options):
        """The cache's table when the cache is in the database (DJANGO_CACHE=database), so that one command
        prepares a new server; nothing otherwise."""
        if options["plan"] or options["check_unapplied"]:
            return
        call_command("createcachetable", database=database, verbosity=options["verbosity"])
