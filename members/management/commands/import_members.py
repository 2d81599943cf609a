"""manage.py import_members: check or import a spreadsheet of members or organisations."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from members.importing import KINDS, MEMBERS, ImportRejected, run_import


class Command(BaseCommand):
    help = (
        "Check an .xlsx or .csv file of members or organisations (the web import's template) as the "
        "given user, within that user's scope; with --commit, import every row or, on any error, none."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the .xlsx or .csv file")
        parser.add_argument("--user", required=True, help="username of the importer: their scope applies")
        parser.add_argument("--kind", choices=KINDS, default=MEMBERS)
        parser.add_argument("--commit", action="store_true", help="write the rows (default: a dry run)")

    def handle(self, *args, path, user, kind, commit, **options):
        importer = get_user_model().objects.filter(username=user).first()
        if importer is None:
            raise CommandError(_("No user is named “%(name)s”.") % {"name": user})
        file = Path(path)
        if not file.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        # Opened, not read: the import reads it within the upload limits.
        with file.open("rb") as handle:
            try:
                result = run_import(kind, File(handle, name=file.name), importer, commit=commit)
            except ImportRejected as exc:
                raise CommandError(str(exc)) from exc
        for error in result.errors:
            self.stdout.write(f"{error.row}\t{error.column}\t{error.message}")
        if result.errors:
            raise CommandError(_("%(count)s errors; nothing was imported.") % {"count": len(result.errors)})
        if commit:
            self.stdout.write(_("%(count)s rows imported.") % {"count": result.created})
        else:
            self.stdout.write(_("%(count)s rows ready to import.") % {"count": result.rows})
