"""`manage.py grant_app_privileges [--role NAME]`: give the application's PostgreSQL role its rights again.

`migrate` does this by itself when DATABASE_OWNER_URL is set; this command is for a database migrated
otherwise, or after a restore. It connects as DATABASE_OWNER_URL's role when set (as DATABASE_URL's
otherwise, which must then own the tables) and grants the role named by --role (by default DATABASE_URL's)
SELECT, INSERT, UPDATE and DELETE on the tables, SELECT and INSERT only on the audit trail, the use of the
sequences, and the same on tables created later (assessments/core/privileges.py).
"""

from contextlib import nullcontext

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.translation import gettext as _

from assessments.core.privileges import PrivilegeError, connected_as, grant_app_privileges


class Command(BaseCommand):
    help = (
        "Grant the application's PostgreSQL role the rights it needs and no more: rows of every table, only "
        "reading and adding to the audit trail, no TRUNCATE and no change of a table."
    )

    def add_arguments(self, parser):
        parser.add_argument("--role", help="the application's role (default: the user of DATABASE_URL)")
        parser.add_argument(
            "--print", action="store_true", dest="print_only", help="print the statements instead of running them"
        )

    def handle(self, *args, role, print_only, **options):
        connection = connections[DEFAULT_DB_ALIAS]
        app_role = role or connection.settings_dict.get("USER")
        owner = getattr(settings, "DATABASE_OWNER", None)
        if connection.vendor != "postgresql":
            raise CommandError(
                _("Database roles are PostgreSQL's: nothing to grant on %(vendor)s.") % {"vendor": connection.vendor}
            )
        if not app_role:
            raise CommandError(_("Name the application's role with --role."))
        with connected_as(owner) if owner else nullcontext():
            try:
                if print_only:
                    from assessments.core.privileges import grant_statements

                    with connection.cursor() as cursor:
                        cursor.execute("SELECT current_user, current_schema()")
                        owner_role, schema = cursor.fetchone()
                    for statement in grant_statements(app_role=app_role, owner_role=owner_role, schema=schema):
                        self.stdout.write(statement + ";")
                    return
                grant_app_privileges(app_role=app_role)
            except PrivilegeError as error:
                raise CommandError(str(error)) from error
        if options["verbosity"] >= 1:
            self.stdout.write(
                _("The role %(role)s may read and write rows, and only add to the audit trail.") % {"role": app_role}
            )
