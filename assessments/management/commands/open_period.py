"""`manage.py open_period`: open a prepared period from the command line and list who is not classified."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from assessments.core.errors import WorkflowError
from assessments.core.services import period_open
from assessments.core.text import lang
from assessments.models import Period
from assessments.rulebooks import available_rulebooks
from organizations.models import Organization
from organizations.policy import SYSTEM


class Command(BaseCommand):
    help = (
        "Open the review period of a year: one assessment for every member and organisation under the "
        "organisation (the first root by default), with those not to be classified and why."
    )

    def add_arguments(self, parser):
        parser.add_argument("year", type=int)
        parser.add_argument("--regime", required=True, choices=[r.code for r in available_rulebooks()])
        parser.add_argument("--org", help="code of the organisation whose subtree is reviewed")
        parser.add_argument("--show", type=int, default=20, help="how many not-classified subjects to list")

    def handle(self, *args, year, regime, org, show, **options):
        started = time.monotonic()
        if org:
            root = Organization.objects.filter(code=org).first()
            if root is None:
                raise CommandError(_("No organisation has the code %(code)s.") % {"code": org})
        else:
            root = Organization.objects.get_root_nodes().first()
            if root is None:
                raise CommandError(_("There is no organisation yet: load or import the organisations first."))
        period, _created = Period.objects.get_or_create(
            organization=root, year=year, quarter=None, defaults={"regime": regime}
        )
        if period.regime != regime:
            raise CommandError(
                _("The %(year)s period of %(org)s uses the %(regime)s regime.")
                % {"year": year, "org": root.name, "regime": period.regime}
            )
        try:
            opened = period_open(period=period, user=SYSTEM)
        except WorkflowError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            _(
                "Opened the %(year)s review of %(org)s under the %(regime)s regime: %(members)d members, "
                "%(leaders)d leaders, %(orgs)d organisations, %(collectives)d leadership collectives."
            )
            % {
                "year": year,
                "org": root.name,
                "regime": regime,
                "members": opened.members,
                "leaders": opened.leaders,
                "orgs": opened.organizations,
                "collectives": opened.collectives,
            }
        )
        self.stdout.write(_("Not to be classified: %(count)d.") % {"count": len(opened.excluded)})
        language = lang()
        for name, exclusion in opened.excluded[:show]:
            self.stdout.write(f"  - {name}: {exclusion.message(language)}")
        if len(opened.excluded) > show:
            self.stdout.write(_("  … and %(count)d more.") % {"count": len(opened.excluded) - show})
        self.stdout.write(_("Done in %(seconds).1f s.") % {"seconds": time.monotonic() - started})
