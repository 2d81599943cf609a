"""Who may do what: the one table of every action a user can take and the standing it needs.

Read `RULES` top to bottom: an action, the relations to the object's organisation any one of which
allows it, and the kinds of organisation it applies to. `may()` answers yes or no; `require()` refuses
with the table's message. Services call `require()` before they write; views and the admin ask
`may()` (or the workflow's `available()`, which asks it) to show only the buttons that would work.

This module decides authority only. Whether the object's state allows the step (a submitted form, an
open period, a running ballot) is the business of the transition tables: the assessment's in
`assessments.core.workflow`, the period's and the ballot's beside their models. What a user may *see*
(404 outside one's organisations) is `organizations.access`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .access import scope_for
from .models import Organization, RoleAssignment

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

# A message for the user: a string, or a lazy translation of one (the table's messages are lazy).
Message = str | Promise


class Explained(Protocol):
    """A detail of a refusal that writes its own message in the page's language (a parameter's issue)."""

    def message(self, lang: str) -> str: ...


class Refused(Exception):
    """A step refused by the policy or by a transition table; the message is meant for the user."""

    def __init__(self, message: str, *, errors: Sequence[str | Explained] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []


class Relation(StrEnum):
    """How a user stands to an object, through the object's organisation."""

    SELF = "self"  # the object is the user's own: their self-review, their ballot paper
    MANAGER = "manager"  # a managing role (secretary, committee officer, board) on the organisation or above
    BOARD = "board"  # the board role on the organisation or above
    EVALUATOR = "evaluator"  # assigned by the board to evaluate this very organisation
    SUPERUSER = "superuser"  # administers the server: every relation but SELF


K = Organization.Kind
ANY_KIND = None


@dataclass(frozen=True)
class Rule:
    relations: frozenset[Relation]
    refusal: Message  # the message when the user lacks every relation
    kinds: tuple[str, ...] | None = ANY_KIND  # the organisation kinds the action exists for
    wrong_kind: Message = ""  # the message when the organisation is of another kind


def rule(
    relations: Iterable[Relation], refusal: Message, kinds: Iterable[str] | None = ANY_KIND, wrong_kind: Message = ""
) -> Rule:
    return Rule(frozenset(relations), refusal, tuple(kinds) if kinds else None, wrong_kind)


S, M, B, E, SU = Relation.SELF, Relation.MANAGER, Relation.BOARD, Relation.EVALUATOR, Relation.SUPERUSER
CELLS = Organization.CELL_KINDS
GRASSROOTS = Organization.GRASSROOTS_KINDS

RULES: dict[str, Rule] = {
    # Self-reviews: the member writes their own; a secretary may write it for them (on paper, absent).
    "review.read": rule({S, M, E}, _("You have no business with this review.")),
    "review.write": rule(
        {S, M}, _("Only the member or those who lead the member's organisation may write this review.")
    ),
    "review.return": rule({M}, _("Only those who lead the organisation may return a review.")),
    "review.paper": rule({M}, _("Only those who lead the organisation may record reviews handed in on paper.")),
    "review.remind": rule({M}, _("Only those who lead the organisation may send reminders.")),
    "review.analysis": rule({M, E}, _("Only those who lead this organisation may fill in its analysis forms.")),
    # The cell's meeting and its online secret ballot.
    "meeting.record": rule(
        {M}, _("Only those who lead this cell may record its meeting."), CELLS, _("Meetings are recorded for cells.")
    ),
    "ballot.run": rule(
        {M}, _("Only those who lead this cell may run its ballot."), CELLS, _("Meetings are recorded for cells.")
    ),
    "ballot.vote": rule({S}, _("This ballot paper is not yours.")),
    # Decisions: the grassroots organisation decides its members; ranking decides organisations.
    "decision.record": rule(
        {M},
        _("Only the grassroots committee or the board may decide these levels."),
        GRASSROOTS,
        _("Levels are decided by grassroots organisations."),
    ),
    "ranking.grassroots": rule(
        {B},
        _("The grassroots organisations are ranked by the organisation board."),
        (K.CITY_COMMITTEE,),
        _("Only those who lead this organisation may decide the levels below it."),
    ),
    "ranking.cells": rule(
        {M},
        _("Only those who lead this organisation may decide the levels below it."),
        (K.GRASSROOTS_COMMITTEE,),
        _("Cells are decided by their grassroots committee."),
    ),
    # The period: opened, closed, finalised, published and reopened by the board of its organisation.
    "period.manage": rule({B}, _("Only the organisation board can do this.")),
    "classification.override": rule({B}, _("Only the organisation board can do this.")),
    # Transfers during the period: the board records them (on the former or the receiving side); those
    # who lead the former cell write its comment on the member for the receiving cell.
    "transfer.record": rule({B}, _("Only the organisation board records transfers.")),
    "transfer.comment": rule(
        {M},
        _("Only those who lead the former cell may write its comment on the member."),
        CELLS,
        _("The comment on a transferred member is written by the former cell."),
    ),
    "recheck.manage": rule({B}, _("Only the organisation board records and resolves the matters to re-check.")),
    # After finalising: a decision a change below put back "to confirm", confirmed again or lowered.
    "decision.confirm_again": rule({B}, _("Only the organisation board confirms a decision again after finalising.")),
    # People and accounts.
    "import.members": rule({M}, _("The cell is outside your organisations.")),
    "import.organizations": rule({B}, _("Only the organisation board imports organisations.")),
    "import.roots": rule({SU}, _("Only an administrator creates an organisation without a parent.")),
    "accounts.manage": rule({M}, _("Only those who lead the member's organisation may manage this account.")),
    "accounts.staff": rule({SU}, _("This account can open the administration: only an administrator can reset it.")),
    "accounts.known_password": rule(
        {SU}, _("Only an administrator creates accounts whose password is known beforehand.")
    ),
    "roles.manage": rule({B}, _("Only the organisation board gives and takes away roles in this organisation.")),
    # The year-end spreadsheets, made by a background job (assessments/background.py).
    "report.export": rule({M}, _("Only those who lead the organisation may have its spreadsheets made.")),
}


def relations(
    user: User | AnonymousUser, organization: Organization | None, *, owner_id: int | None = None
) -> frozenset[Relation]:
    """How `user` stands to an object of `organization` whose own user (subject, voter) is `owner_id`."""
    scope = scope_for(user)
    if not scope.is_authenticated:
        return frozenset()
    found = set()
    if owner_id is not None and owner_id == user.pk:
        found.add(S)
    if scope.is_superuser:
        found |= {M, B, E, SU}
    elif organization is not None:
        if scope.manages_organization(organization):
            found.add(M)
            if any(
                a.role == RoleAssignment.Role.BOARD and organization.path.startswith(a.organization.path)
                for a in scope.assignments
            ):
                found.add(B)
        if organization.pk in scope.evaluated_ids:
            found.add(E)
    return frozenset(found)


def refusal(
    user: User | AnonymousUser, action: str, organization: Organization | None, *, owner_id: int | None = None
) -> Message | None:
    """Why `user` may not take `action` on an object of `organization`, or None when they may."""
    entry = RULES[action]
    if entry.kinds is not None and (organization is None or organization.kind not in entry.kinds):
        return entry.wrong_kind or entry.refusal
    if entry.relations & relations(user, organization, owner_id=owner_id):
        return None
    return entry.refusal


def may(
    user: User | AnonymousUser, action: str, organization: Organization | None, *, owner_id: int | None = None
) -> bool:
    return refusal(user, action, organization, owner_id=owner_id) is None


def may_somewhere(user: User | AnonymousUser, action: str) -> bool:
    """Whether `user` may take `action` on some organisation: on one they hold a role on (the menus)."""
    scope = scope_for(user)
    if not scope.is_authenticated:
        return False
    if scope.is_superuser:
        return True
    return any(may(user, action, assignment.organization) for assignment in scope.assignments)


def require(
    user: User | AnonymousUser | SystemActor | None,
    action: str,
    organization: Organization | None,
    *,
    owner_id: int | None = None,
) -> None:
    """Refuse (`Refused`, with the table's message) unless `user` may take `action`.

    Every service that changes something calls this itself, whoever calls the service (a view, the
    admin, a command). The command line passes `SYSTEM`; `None` is no one and is refused."""
    message = refusal(user, action, organization, owner_id=owner_id)
    if message is not None:
        raise Refused(str(message))


# Standing aside. Whatever role allows a decision, nobody decides their own level, nor that of an
# organisation they lead (a managing role held on it) or whose committee they sit on (a post in its
# cell: the committee writes the organisation's review and is the collective reviewed), nor that of a
# subject with which the board recorded a conflict of interest: another member of the deciding body
# decides it. Nor may one record the exception to the quota that one's own HTXSNV (or one stood aside
# from) needs. The services refuse with these messages (`stand_aside()` says which); the screens lock
# the rows with them.
STAND_ASIDE: dict[str, Message] = {
    "own": _("You cannot decide your own level; another member of the committee decides it."),
    "leads": _(
        "You cannot decide the level of an organisation you lead or of a committee you sit on; another member "
        "of the committee decides it."
    ),
    "conflict": _(
        "You cannot decide this level: a conflict of interest with this subject is on record. Another member "
        "of the committee decides it."
    ),
    "exception": _(
        "Your own level, or one you stand aside from, is among the HTXSNV this exception would allow; another "
        "member of the committee records the exception."
    ),
}


def stand_aside(
    user: User | AnonymousUser | None,
    organization: Organization | None = None,
    *,
    owner_id: int | None = None,
    seated: bool = False,
    recorded: bool = False,
) -> Message | None:
    """Why `user` stands aside from deciding one subject's level, or None when nothing bars them.

    The subject is theirs (`owner_id`: the account of the member reviewed), an organisation they lead
    (a managing role held on `organization` itself; pass it for an organisation's or a collective's
    review only) or whose committee they sit on (`seated`, from their member record), or a conflict is on
    record (`recorded`). It bars administrators too; the command line (`user` None) is not barred."""
    scope = scope_for(user)
    if not scope.is_authenticated:
        return None
    if owner_id is not None and owner_id == user.pk:
        return STAND_ASIDE["own"]
    if seated or (
        organization is not None
        and any(
            a.organization_id == organization.pk and a.role in RoleAssignment.MANAGING_ROLES for a in scope.assignments
        )
    ):
        return STAND_ASIDE["leads"]
    if recorded:
        return STAND_ASIDE["conflict"]
    return None


class SystemActor:
    """The actor of the command line and of the demo loader (`open_period`, `seed_demo`): whoever runs
    the server, with an administrator's standing. Passed explicitly, as `SYSTEM`, never implied by a
    missing user; the audit trail records its acts with no actor (`actor_user`)."""

    is_authenticated = True
    is_active = True
    is_superuser = True
    is_staff = False
    pk = None

    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM = SystemActor()


def actor_user(user: User | AnonymousUser | SystemActor | None) -> User | None:
    """The user to record as the actor of an act: None for the command line (`SYSTEM`)."""
    if user is None or isinstance(user, SystemActor) or not user.is_authenticated:
        return None
    return user
