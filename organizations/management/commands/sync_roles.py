"""manage.py sync_roles: give each role's group exactly its permissions, and every user the groups of
the roles they hold. `migrate` does the first part by itself; run this after changing roles by hand in
the database."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from organizations.models import RoleAssignment
from organizations.roles import sync_role_groups, sync_user_groups


class Command(BaseCommand):
    help = "Give each role's group exactly its permissions, and each user the groups of the roles they hold."

    def handle(self, *args, **options):
        groups = sync_role_groups()
        users = get_user_model().objects.filter(
            pk__in=RoleAssignment.objects.values("user_id")
        ) | get_user_model().objects.filter(groups__in=groups.values())
        count = 0
        for user in users.distinct():
            sync_user_groups(user)
            count += 1
        self.stdout.write(
            _("%(groups)d role groups up to date; %(users)d users checked.") % {"groups": len(groups), "users": count}
        )
