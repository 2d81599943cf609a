"""manage.py seed_reviews: the demo city's review periods (seed_demo runs it), or --delete of all reviews."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _

from demo import reviews
from members.models import Member


class Command(BaseCommand):
    help = (
        "Demo reviews: open the current year's period for the demo city and fill its forms in a mix of "
        "states (seed_demo runs it). --delete removes every period, form and audit entry: demo databases only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--delete", action="store_true", help="remove all periods, forms and audit entries")
        parser.add_argument("--regime", default="2025")
        parser.add_argument(
            "--previous-only",
            action="store_true",
            help="only last year's period, published: the current year is left for someone to open",
        )

    def handle(self, *args, delete, regime, previous_only=False, **options):
        if delete:
            reviews.delete_reviews()
            return
        secretary = Member.objects.filter(user__username="bithu").select_related("user", "cell").first()
        year = timezone.localdate().year
        reviews.seed_previous_year(year=year - 1, regime=regime)
        if previous_only:
            self.stdout.write(_("Last year's review period is published; this year's is not opened."))
            return
        opened = reviews.seed_reviews(year=year, regime=regime, secretary=secretary)
        if opened is not None:
            officer = get_user_model().objects.filter(username="canbo").first()
            reviews.seed_meeting_and_decisions(period=opened.period, secretary=secretary, officer_user=officer)
        if opened is None:
            self.stdout.write(_("The demo review period is already there: nothing to do."))
            return
        self.stdout.write(
            _("Opened the demo review period %(period)s: %(count)d forms, %(excluded)d not to be classified.")
            % {
                "period": opened.period,
                "count": opened.members + opened.leaders + opened.organizations + opened.collectives,
                "excluded": len(opened.excluded),
            }
        )
