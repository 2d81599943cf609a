"""`manage.py export_year_end`: the year-end workbook of a period written to a file, timed."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from assessments.models import Period
from assessments.outputs.workbook import write_workbook
from organizations.models import Organization


class Command(BaseCommand):
    help = (
        "Write the year-end spreadsheets (.xlsx) of a year's review period: the whole tree of the root, "
        "or with --org the subtree of that organisation. The same workbook as the download on the dashboard."
    )

    def add_arguments(self, parser):
        parser.add_argument("year", type=int)
        parser.add_argument("--org", help="code of the organisation whose subtree is exported (default: the root)")
        parser.add_argument("--out", required=True, help="the .xlsx file to write")

    def handle(self, *args, year, org, out, **options):
        with translation.override(settings.LANGUAGE_CODE):
            self._export(year, org, out)

    def _export(self, year, org, out):
        started = time.monotonic()
        if org:
            organization = Organization.objects.filter(code=org).first()
            if organization is None:
                raise CommandError(_("No organisation has the code %(code)s.") % {"code": org})
            roots = Organization.objects.filter(path=organization.path[: organization.steplen])
        else:
            organization = None
            roots = Organization.objects.get_root_nodes()
        period = (
            Period.objects.filter(organization__in=roots, year=year, quarter__isnull=True)
            .select_related("organization")
            .first()
        )
        if period is None:
            raise CommandError(_("There is no review period for %(year)s.") % {"year": year})
        organization = organization or period.organization
        written = write_workbook(period, organization, out)
        self.stdout.write(
            _("Wrote %(file)s: %(org)s, %(period)s, in %(seconds).1f s.")
            % {"file": out, "org": organization.name, "period": period, "seconds": time.monotonic() - started}
        )
        for title, rows in written.items():
            self.stdout.write(f"  {title}: {rows}")
