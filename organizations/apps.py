from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class OrganizationsConfig(AppConfig):
    name = "organizations"
    verbose_name = _("Organisations")

    def ready(self):
        from .roles import sync_role_groups_after_migrate

        # Every installation gets the roles' groups and permissions from `migrate` (see roles.py).
        post_migrate.connect(sync_role_groups_after_migrate, sender=self, dispatch_uid="organizations.sync_roles")
