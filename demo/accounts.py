"""The demo accounts, one per role, made through accounts.services and organizations.roles; and their table.

The accounts and their roles are made as on any installation: the accounts by
accounts.services.accounts_create (one password for all, hashed once), the roles by
organizations.roles.grant_role, which brings each role's group and, for the board, the admin.
"""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from accounts.services import NewAccount, accounts_create
from members.models import Member
from organizations.models import Organization, RoleAssignment
from organizations.policy import SYSTEM
from organizations.roles import grant_role

from .catalogue import CITY_CODE
from .people import saved

Kind = Organization.Kind
Role = RoleAssignment.Role

DEMO_PASSWORD = "demo12345"
# One account per role (see create_accounts); this is the order of the printed table.
DEMO_USERNAMES = ("admin", "bantochuc", "canbo", "bithu", "bithu2", "dangvien", "danhgia")


def create_accounts(population):
    """The demo's accounts and roles in the population's city; returns how many accounts."""
    plan, orgs, rng, names = population.plan, population.orgs, population.rng, population.names
    cell_a, cell_b = population.demo_cells
    crowd_a = population.by_cell[cell_a.code]
    plain_member = saved(next(p.member for p in crowd_a if p.can_hold_post and not p.member.party_post))
    evaluated = next(org for org in plan.root.children if org.kind == Kind.GRASSROOTS_CELL)

    def someone():
        return names.full_name(rng.choice(list(Member.Gender)), 1975)

    # (account, role, organisation code); the generated names are drawn in this order.
    wanted = [
        (NewAccount("admin", superuser=True), None, None),
        (NewAccount("bantochuc", full_name=someone()), Role.BOARD, CITY_CODE),
        (NewAccount("canbo", full_name=someone()), Role.COMMITTEE_OFFICER, plan.committee_a),
        (NewAccount("bithu", member=population.secretary(cell_a)), Role.CELL_SECRETARY, cell_a.code),
        (NewAccount("bithu2", member=population.secretary(cell_b)), Role.CELL_SECRETARY, cell_b.code),
        (NewAccount("danhgia", full_name=someone()), Role.EVALUATOR, evaluated.code),
        (NewAccount("dangvien", member=plain_member), None, None),
    ]
    users = accounts_create([account for account, _role, _code in wanted], password=DEMO_PASSWORD, actor=SYSTEM)
    for user, (_account, role, code) in zip(users, wanted, strict=True):
        if role is not None:
            grant_role(user=user, organization=orgs[code], role=role, actor=SYSTEM)
    return len(users)


# --- The accounts table ----------------------------------------------------------------------------


def _org_label(org):
    """A cell's name is not unique ("Chi bộ Tổ dân phố số 1"): name its grassroots organisation too."""
    if org.kind == Kind.SUBORDINATE_CELL:
        ancestors = [org.path[:end] for end in range(Organization.steplen, len(org.path), Organization.steplen)]
        grassroots = (
            Organization.objects.filter(kind=Kind.GRASSROOTS_COMMITTEE, path__in=ancestors)
            .values_list("name", flat=True)
            .first()
        )
        if grassroots:
            return f"{org.name} ({grassroots})"
    return org.name


def account_rows():
    """(username, password, role, organisation) of each demo account that exists, in a fixed order."""
    users = get_user_model().objects.filter(username__in=DEMO_USERNAMES)
    roles = {
        role.user_id: role
        for role in RoleAssignment.objects.filter(user__in=users).select_related("organization").order_by("-pk")
    }
    members = {member.user_id: member for member in Member.objects.filter(user__in=users).select_related("cell")}
    rows = {}
    for user in users:
        if user.is_superuser:
            role, org = _("Administrator (superuser)"), _("everything")
        elif user.pk in roles:
            role, org = roles[user.pk].get_role_display(), _org_label(roles[user.pk].organization)
        elif user.pk in members:
            role, org = _("Party member"), _org_label(members[user.pk].cell)
        else:
            role, org = _("no role"), "—"
        rows[user.username] = (user.username, DEMO_PASSWORD, str(role), org)
    return [rows[username] for username in DEMO_USERNAMES if username in rows]
