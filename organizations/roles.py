"""What each role may do, defined once.

A role is held on an organisation (`RoleAssignment`) and gives two things:
- its **scope** (the organisation's subtree; see `access.Scope`), which every screen and service checks;
- for the roles that work in the Django admin, a **group** of model permissions, below. The group is
  named after the role and holds exactly these permissions; `sync_role_groups` makes it so, and runs
  after every `migrate` (so a new installation and every upgrade get it) and as `manage.py sync_roles`.
  A user is in the group of a role exactly while they hold that role somewhere (`sync_user_groups`,
  called whenever roles change), and a role that works in the admin makes the user staff.

The workflow's own permissions (who may decide, finalise, publish, reopen...) are not model
permissions: the services check the role and the scope, whatever the admin shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from . import policy
from .models import Organization, RoleAssignment

if TYPE_CHECKING:
    from django.apps import AppConfig
    from django.contrib.auth.models import User

Role = RoleAssignment.Role


def _crud(app_model: str, *actions: str) -> list[str]:
    app, model = app_model.split(".")
    return [f"{app}.{action}_{model}" for action in actions]


# The city organisation board runs the year from the admin: periods and their parameters (open, close,
# finalise, publish are admin actions on the period), the tree, the members and their year records,
# who holds which role (evaluators included), and it reads every review, the ranking and the audit trail.
BOARD_PERMISSIONS = [
    *_crud("assessments.period", "view", "add", "change"),
    *_crud("assessments.assessment", "view"),
    # The evaluators' analysis forms, shown inline on each review in the admin (AnalysisInline): without
    # this permission Django leaves the inline out and the board reads only the aggregate on the form page.
    *_crud("assessments.analysis", "view"),
    *_crud("assessments.organizationreview", "view"),
    *_crud("assessments.auditentry", "view"),
    # The background jobs (openings, exports), read-only.
    *_crud("jobs.job", "view"),
    # The matters to re-check before the round closes (also on the board's own page of the period).
    *_crud("assessments.recheck", "view", "add", "change"),
    # The conflicts of interest that make a decider stand aside from a member or an organisation.
    *_crud("assessments.decisionconflict", "view", "add", "change", "delete"),
    *_crud("organizations.organization", "view", "add", "change"),
    # The decisions and conclusions on an organisation itself (disciplined, disunity...), inline on its page.
    *_crud("organizations.organizationrecord", "view", "add", "change", "delete"),
    # What the year says of an organisation (same-level bodies' levels, the unit's plan), inline on its page.
    *_crud("organizations.organizationyear", "view", "add", "change", "delete"),
    *_crud("organizations.cluster", "view", "add", "change"),
    *_crud("organizations.roleassignment", "view", "add", "change", "delete"),
    *_crud("members.member", "view", "add", "change"),
    *_crud("members.disciplinedecision", "view", "add", "change", "delete"),
    *_crud("members.transfer", "view", "add", "change", "delete"),
    *_crud("members.leaveperiod", "view", "add", "change", "delete"),
    *_crud("members.civilservicerating", "view", "add", "change", "delete"),
    *_crud("members.degradationconclusion", "view", "add", "change", "delete"),
    *_crud("members.leaderyear", "view", "add", "change", "delete"),
    *_crud("members.temporaryattachment", "view", "add", "change", "delete"),
    *_crud("members.committeesuspension", "view", "add", "change", "delete"),
    # To choose the person a role is given to (the admin's user search); never to change accounts:
    # whoever may change users may make themselves superuser.
    *_crud("auth.user", "view"),
    *_crud("accounts.failedsignin", "view", "delete"),
]

# (group name, permissions, works in the admin) of each role. The group names are what the admin
# shows; they are in Vietnamese because that is what the board reads.
ROLE_GROUPS: dict[str, tuple[str, list[str], bool]] = {
    Role.BOARD: ("Ban Tổ chức", BOARD_PERMISSIONS, True),
    # Committee officers, cell secretaries and evaluators work in the application's own screens.
    Role.COMMITTEE_OFFICER: ("Cán bộ đảng ủy cơ sở", [], False),
    Role.CELL_SECRETARY: ("Bí thư chi bộ", [], False),
    Role.EVALUATOR: ("Người đánh giá", [], False),
}


def _permissions(names: Iterable[str]) -> list[Permission]:
    wanted = {tuple(name.split(".")) for name in names}
    found = {
        (app, codename): permission
        for permission in Permission.objects.filter(codename__in=[c for _a, c in wanted]).select_related("content_type")
        for app, codename in [(permission.content_type.app_label, permission.codename)]
        if (app, codename) in wanted
    }
    missing = wanted - set(found)
    if missing:
        raise LookupError(f"permissions not found: {sorted('.'.join(m) for m in missing)}")
    return list(found.values())


def sync_role_groups_after_migrate(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """post_migrate: the permissions of every app first (Django makes them app by app, and this app is
    not the last), then the groups."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    sync_role_groups()


def sync_role_groups() -> dict[str, Group]:
    """Create or update one group per role with exactly its permissions. Idempotent."""
    groups = {}
    with transaction.atomic():
        for role, (name, permissions, _staff) in ROLE_GROUPS.items():
            group, _created = Group.objects.get_or_create(name=name)
            group.permissions.set(_permissions(permissions))
            groups[role] = group
    return groups


def sync_user_groups(user: User) -> None:
    """Put `user` in the groups of the roles they hold, take them out of the others, and make them
    staff while they hold a role that works in the admin (never unstaff a superuser)."""
    held = set(RoleAssignment.objects.filter(user=user).values_list("role", flat=True))
    names = {role: name for role, (name, _perms, _staff) in ROLE_GROUPS.items()}
    role_groups = {group.name: group for group in Group.objects.filter(name__in=names.values())}
    wanted = [role_groups[names[role]] for role in held if names.get(role) in role_groups]
    others = [group for name, group in role_groups.items() if group not in wanted]
    user.groups.remove(*others)
    user.groups.add(*wanted)
    staff = user.is_superuser or any(ROLE_GROUPS[role][2] for role in held if role in ROLE_GROUPS)
    if user.is_staff != staff:
        user.is_staff = staff
        user.save(update_fields=["is_staff"])


def grant_role(
    *, user: User, organization: Organization, role: str, actor: User | policy.SystemActor
) -> RoleAssignment:
    """Give `user` the role on `organization` (validated like the admin form) with its group: the
    board of the organisation (or above) only, `policy.SYSTEM` from a command."""
    policy.require(actor, "roles.manage", organization)
    with transaction.atomic():
        assignment = RoleAssignment.objects.filter(user=user, organization=organization, role=role).first()
        if assignment is None:
            assignment = RoleAssignment(user=user, organization=organization, role=role)
            assignment.full_clean()
            assignment.save()
        sync_user_groups(user)
    return assignment


def revoke_role(assignment: RoleAssignment, *, actor: User | policy.SystemActor) -> None:
    """Take the role away, and its group (and the admin, for the board's): as `grant_role`, the board."""
    policy.require(actor, "roles.manage", assignment.organization)
    with transaction.atomic():
        user = assignment.user
        assignment.delete()
        sync_user_groups(user)
