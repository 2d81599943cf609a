"""Accounts: members' accounts with their one-time codes, lifting a sign-in pause, and accounts with
a known password.

Sign-in limits are accounts.throttle's (django-axes); a secretary or the board lifts a member's pause
here (`member_signin_unlock`), and a new code lifts it too.

Member accounts: a secretary (for the cell), an officer or the board (for a subtree) creates in one
step an account for every current member who has none. The username is the party card number; the
password is a one-time code printed on a slip and handed over at the meeting. Whoever signs in with
a code must choose their own password before anything else (accounts.middleware). The codes exist in
plain text only in what these functions return: the database holds their hashes, as passwords. For a
whole organisation this is a background job (accounts.background), whose page of slips is the one plain
copy, removed once opened.

Accounts with a known password (accounts_create): the few that whoever runs the server makes, which
sign in at once.
"""

from __future__ import annotations

import datetime
import os
import re
import secrets
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeVar

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import get_hashers_by_algorithm, make_password
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from bulk import insert_rows, update_from_values
from members.models import Member
from members.selectors import CURRENT_STATUSES, current_members
from organizations import policy
from organizations.audit import announce
from organizations.models import Organization, RoleAssignment

from . import throttle
from .hashers import CODE_ALPHABET, CODE_LENGTH, InitialCodePasswordHasher
from .models import AccountState

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

_T = TypeVar("_T")
# progress(done, total, step): how far the work is (a background job's; jobs.registry). It may raise to
# stop the work: called only before the transaction or inside it, the work is then all undone.
Progress = Callable[..., None]


class SlipsWriter(Protocol):
    """Where a whole organisation's slips go as they are made (a background job's file), inside the
    transaction that makes them: the codes are kept (hashed) only once their slips are written."""

    def add(self, slips: Sequence[Slip]) -> None:
        """The slips of a chunk of members, in cell and name order, the next ones of the page."""

    def close(self, batch: SlipBatch) -> None:
        """Every slip is added (`batch` says how many were made, and holds the members skipped): just
        before the commit."""


# --- Member accounts and one-time codes --------------------------------------------------------

# Rows per INSERT/UPDATE: well under SQLite's limit on query parameters.
BATCH_SIZE = 500
# Keys per `IN` list when reading back, and rows per fetch.
BULK_READ = 2000
# Members taken at a time by a whole organisation's accounts or new codes: their codes made (`_Codes`),
# then the members read, written and handed to the slips' writer chunk by chunk inside the one
# transaction, so that what is held in memory is a chunk's, whatever the organisation's size.
CHUNK = 2000
# The slips' order: cell by cell, then as the cell's list is sorted.
SLIP_ORDER = ("cell__path", "sort_key", "pk")
# Batches smaller than this are hashed in the request's own thread.
THREADED_HASHING_FROM = 50
# Django's own rule for usernames (UnicodeUsernameValidator).
USERNAME_RE = re.compile(r"^[\w.@+-]+\Z")


class AccountError(Exception):
    """What was asked cannot be done; the message says why, for the user, in their language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Slip:
    """What is printed for one member: the code appears here and on the printed page, nowhere else."""

    member: Member | SlipMember
    username: str
    code: str


@dataclass(frozen=True)
class Skipped:
    member: Member | SlipMember
    reason: str


@dataclass
class SlipBatch:
    slips: list[Slip] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    # How many slips were made: those above (None), or, handed to a SlipsWriter as they came, those it was given.
    made: int | None = None

    def __post_init__(self) -> None:
        if self.made is None:
            self.made = len(self.slips)


@dataclass(frozen=True, slots=True)
class SlipCell:
    pk: int
    name: str


@dataclass(frozen=True, slots=True)
class SlipMember:
    """A member as a slip names them, read as plain values (`slip_members`): what the slips page shows
    of a Member (full_name, cell.name), and what an account is made from."""

    pk: int
    full_name: str
    card_number: str | None
    email: str
    cell: SlipCell


@dataclass(frozen=True, slots=True)
class _Account:
    """A member's account as new codes read it (plain values): what `_reset_refusal` asks of a user, and
    its state's key and count of codes issued."""

    pk: int
    username: str
    is_active: bool
    is_staff: bool
    is_superuser: bool
    state_pk: int
    codes_issued: int


# The fields of a member's account that `_Account` holds, in its order.
ACCOUNT_FIELDS = (
    "user_id",
    "user__username",
    "user__is_active",
    "user__is_staff",
    "user__is_superuser",
    "user__account_state__pk",
    "user__account_state__codes_issued",
)


def slip_members(queryset: QuerySet[Member]) -> list[SlipMember]:
    """The members of `queryset`, in its order, as SlipMembers: one query of plain values, a cell shared
    by its members."""
    return [member for member, _extra in _slip_rows(queryset)]


def _slip_rows(queryset: QuerySet[Member], *extra: str) -> Iterator[tuple[SlipMember, tuple]]:
    """(SlipMember, the values of the `extra` fields) for each member of `queryset`, in its order: one
    query of plain values, a cell shared by its members."""
    cells: dict[int, SlipCell] = {}
    for pk, full_name, card_number, email, cell_id, cell_name, *values in queryset.values_list(
        "pk", "full_name", "card_number", "email", "cell_id", "cell__name", *extra
    ).iterator(chunk_size=BULK_READ):
        cell = cells.get(cell_id)
        if cell is None:
            cell = cells[cell_id] = SlipCell(cell_id, cell_name)
        yield SlipMember(pk, full_name, card_number, email, cell), tuple(values)


def new_code() -> str:
    """A one-time code such as "ABCD-EFGH-JK": 10 characters that cannot be misread, in groups for
    reading aloud (about 50 bits of randomness)."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def username_for_card(card_number: str | None) -> str:
    """A member's username: the party card number without spaces ("31 012 345" -> "31012345")."""
    return "".join((card_number or "").split())


def split_vietnamese_name(full_name: str | None) -> tuple[str, str]:
    """(first_name, last_name) for the user: the given name is the last word ("Nguyễn Văn An" ->
    "An", "Nguyễn Văn")."""
    words = (full_name or "").split()
    if not words:
        return "", ""
    return words[-1][:150], " ".join(words[:-1])[:150]


def _hash_codes(codes: Sequence[str], progress: Progress | None = None) -> list[str]:
    """The password hashes of the codes, with the cheap one-time-code hasher when it is configured
    (accounts.hashers explains why it is safe), else the default one. By batches of BATCH_SIZE, after
    each of which `progress(done, total, step)` is told (a background job: it may stop the work there)."""
    algorithm = InitialCodePasswordHasher.algorithm
    if algorithm not in get_hashers_by_algorithm():
        algorithm = "default"

    def hash_one(code: str) -> str:
        return make_password(code, hasher=algorithm)

    if len(codes) < THREADED_HASHING_FROM:
        hashes = [hash_one(code) for code in codes]
        if progress is not None:
            progress(len(codes), len(codes), _("Making the one-time codes"))
        return hashes
    hashes = []
    # hashlib's PBKDF2 releases the GIL: a few threads divide the wait by the number of cores.
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        for chunk in _chunks(codes, BATCH_SIZE):
            hashes.extend(pool.map(hash_one, chunk))
            if progress is not None:
                progress(len(hashes), len(codes), _("Making the one-time codes"))
    return hashes


def _check_manages(actor: User, organization: Organization) -> None:
    """Refuse (`policy.Refused`) unless `actor` manages the accounts under `organization`."""
    policy.require(actor, "accounts.manage", organization)


def _reset_refusal(actor: User, user: User | _Account, assignments: Iterable[RoleAssignment]) -> str | None:
    """Why `actor` may not give `user` a new code, or None.

    A new code lets whoever holds it sign in as the user, so it must open nothing the actor does not
    already manage: not an administrator's account, not a role on an organisation beyond the actor's.
    """
    if user.pk == actor.pk:
        return _("This is your own account: use “Change password” in the menu instead.")
    if not user.is_active:
        return _("This account is switched off. Please ask the administrator.")
    if (user.is_staff or user.is_superuser) and not policy.may(actor, "accounts.staff", None):
        return _("This account can open the administration: only an administrator can reset its password.")
    for assignment in assignments:
        if not policy.may(actor, "accounts.manage", assignment.organization):
            return _(
                "This account holds the role “%(role)s” in %(organization)s, beyond what you manage: "
                "please ask the organisation board."
            ) % {"role": assignment.get_role_display(), "organization": assignment.organization.name}
    return None


def _chunks(items: Sequence[_T], size: int = BATCH_SIZE) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _assign_usernames(
    members: Iterable[SlipMember], claimed: set[str]
) -> tuple[list[tuple[SlipMember, str]], list[Skipped]]:
    """[(member, username)] for the members who can have an account now, and the skipped ones.
    `claimed`: the usernames given earlier in the same run (a chunk before), which these cannot have."""
    User = get_user_model()
    wanted = {}
    skipped = []
    for member in members:
        username = username_for_card(member.card_number)
        if not username or len(username) > 150 or not USERNAME_RE.match(username):
            reason = _("The party card number “%(card)s” cannot be used as a username.")
            skipped.append(Skipped(member, reason % {"card": member.card_number}))
        elif username in wanted or username in claimed:
            reason = _("Another member's party card number gives the same username %(username)s.")
            skipped.append(Skipped(member, reason % {"username": username}))
        else:
            wanted[username] = member
    taken = set()
    for chunk in _chunks(list(wanted)):
        taken.update(User.objects.filter(username__in=chunk).values_list("username", flat=True))
    for username in sorted(taken):
        reason = _("The username %(username)s is already used by another account: ask the administrator.")
        skipped.append(Skipped(wanted.pop(username), reason % {"username": username}))
    return [(member, username) for username, member in wanted.items()], skipped


def _in_order(queryset: QuerySet[Member]) -> array:
    """The pks of `queryset`, in its order, as machine integers: 8 bytes a member (4 MB for 500,000)."""
    return array("q", queryset.values_list("pk", flat=True).iterator(chunk_size=BULK_READ))


def _from(progress: Progress | None, done: int, total: int) -> Progress | None:
    """`progress` told of a chunk's own count (done of its own total) as that of the whole run: `done`
    before it, of `total`."""
    if progress is None:
        return None

    def told(chunk_done: int, _chunk_total: int, step: str = "") -> None:
        progress(done + chunk_done, total, step)

    return told


class _Codes:
    """`count` one-time codes with their hashes, made before the transaction that gives them (hashing is
    the slow part: it holds no lock, and a cancel is heard meanwhile), and kept in an unnamed temporary
    file (no other process can open it, and it goes with this one) rather than in memory. `take(n)`
    gives the next n (code, hash) pairs. Codes belong to no one until given: the skipped members' are
    left unused."""

    def __init__(self, count: int, progress: Progress | None) -> None:
        self.file = tempfile.TemporaryFile("w+", encoding="ascii")
        try:
            for start in range(0, count, CHUNK):
                codes = [new_code() for _ in range(min(CHUNK, count - start))]
                hashes = _hash_codes(codes, _from(progress, start, count))
                self.file.writelines(f"{code}\t{password}\n" for code, password in zip(codes, hashes, strict=True))
            self.file.seek(0)
        except BaseException:
            self.file.close()
            raise

    def take(self, n: int) -> list[tuple[str, str]]:
        return [tuple(self.file.readline().rstrip("\n").split("\t", 1)) for _ in range(n)]

    def __enter__(self) -> _Codes:
        return self

    def __exit__(self, *exc_info) -> None:
        self.file.close()


class _Kept:
    """The slips kept in a list, for the caller to show (a cell's, or a few members'): no SlipsWriter."""

    def __init__(self) -> None:
        self.slips: list[Slip] = []

    def add(self, slips: Sequence[Slip]) -> None:
        self.slips += slips

    def close(self, batch: SlipBatch) -> None:
        batch.slips = self.slips


def _insert_users(rows: Iterable[tuple[str, str, str, str, str]], joined: datetime.datetime) -> dict[str, int]:
    """Write new users, (username, password hash, first name, last name, email) each, joined at `joined`,
    in bulk (COPY on PostgreSQL), and return their ids by username. No User object is made, no signal sent."""
    User = get_user_model()
    usernames = []

    def values() -> Iterator[tuple]:
        for username, password, first_name, last_name, email in rows:
            usernames.append(username)
            yield (username, password, first_name, last_name, email, joined)

    insert_rows(User, ["username", "password", "first_name", "last_name", "email", "date_joined"], values())
    return _user_ids(usernames)


def _user_ids(usernames: Sequence[str]) -> dict[str, int]:
    """{username: id} of these users, read by chunks."""
    User = get_user_model()
    ids = {}
    for chunk in _chunks(usernames, BULK_READ):
        ids.update(User.objects.filter(username__in=chunk).values_list("username", "pk"))
    return ids


def _insert_user_objects(users: Sequence[User]) -> None:
    """Write these few new users in bulk, with their ids set even on a database that does not return them."""
    User = get_user_model()
    User.objects.bulk_create(users, batch_size=BATCH_SIZE)
    if any(user.pk is None for user in users):
        ids = _user_ids([user.username for user in users])
        for user in users:
            user.pk = ids[user.username]


def _lock_members_without_account(pks: Sequence[int]) -> set[int]:
    """Of these members, the pks of those still without an account, locked until the transaction ends."""
    free = set()
    for chunk in _chunks(pks, BULK_READ):
        rows = Member.objects.filter(pk__in=chunk, user__isnull=True).select_for_update(of=("self",))
        free.update(rows.values_list("pk", flat=True))
    return free


def member_accounts_create(
    *,
    organization: Organization,
    actor: User,
    progress: Progress | None = None,
    on_slips: SlipsWriter | None = None,
) -> SlipBatch:
    """Create an account for every current member under `organization` who has none; all or nothing.

    Returns the slips (member, username, one-time code) in cell and name order, and the members
    skipped with the reason. A second run creates nothing for those who now have an account.
    `progress` is told after each batch of codes (made first, outside the transaction) and once more
    inside the transaction (where stopping undoes everything). `on_slips` (a whole organisation's, in a
    background job) is given the slips chunk by chunk inside the transaction, and closed before the
    commit; the batch returned then holds the count and the skipped, not the slips.
    """
    _check_manages(actor, organization)
    candidates = current_members().under(organization).filter(user__isnull=True)
    # Plain values, chunk by chunk (CHUNK): a province's 100,000 members as Member objects made ~800 MB,
    # and even as plain values, all at once, 1.2 KB each.
    pks = _in_order(candidates.order_by(*SLIP_ORDER))
    total = len(pks)
    writer = on_slips or _Kept()
    claimed: set[str] = set()
    skipped: list[Skipped] = []
    made = 0
    issued_by = policy.actor_user(actor)
    try:
        with _Codes(total, progress) as codes, transaction.atomic():
            now = timezone.now()
            for chunk in _chunks(pks, CHUNK):
                # Read again: someone may have made accounts for some of these members since.
                members = slip_members(candidates.filter(pk__in=chunk).order_by(*SLIP_ORDER))
                pairs, refused = _assign_usernames(members, claimed)
                skipped += refused
                # Someone may have made accounts for some of these members meanwhile: they are left out.
                free = _lock_members_without_account([member.pk for member, _username in pairs])
                rows = [
                    (member, username, code, password)
                    for (member, username), (code, password) in zip(pairs, codes.take(len(pairs)), strict=True)
                    if member.pk in free
                ]
                user_ids = _insert_users(
                    (
                        (username, password, *split_vietnamese_name(member.full_name), member.email)
                        for member, username, _code, password in rows
                    ),
                    joined=now,
                )
                # One UPDATE … FROM (VALUES …) per batch, where bulk_update's CASE/WHEN took a minute at 100,000.
                update_from_values(
                    Member,
                    ["user_id"],
                    ((member.pk, user_ids[username]) for member, username, _code, _password in rows),
                    set_values={"updated_at": now},
                )
                insert_rows(
                    AccountState,
                    ["user_id", "must_change_password", "code_issued_at", "code_issued_by_id", "codes_issued"],
                    (
                        (user_ids[username], True, now, issued_by.pk if issued_by else None, 1)
                        for _member, username, _code, _password in rows
                    ),
                )
                claimed.update(user_ids)
                writer.add([Slip(member, username, code) for member, username, code, _password in rows])
                made += len(rows)
            announce(
                "accounts_create",
                actor=actor,
                data={"organization": organization.code, "created": made, "skipped": len(skipped)},
            )
            if progress is not None:
                progress(total, total, _("Saving the accounts"))
            batch = SlipBatch(skipped=skipped, made=made)
            writer.close(batch)
    except IntegrityError as exc:
        # Someone took one of these usernames meanwhile.
        raise AccountError(
            _("Someone else changed these accounts at the same moment. Nothing was changed: please try again.")
        ) from exc
    return batch


def member_password_reset(*, member: Member, actor: User, expected_codes_issued: int | None = None) -> Slip:
    """A new one-time code for the member's account; the old password or code stops working.

    `expected_codes_issued` is the count of codes the actor's page showed: if someone issued a code
    since, nothing changes and the actor is told (the slip they would print would already be void).
    """
    with transaction.atomic():
        member = (
            Member.objects.select_for_update(of=("self",)).select_related("cell", "user").filter(pk=member.pk).first()
        )
        if member is None:
            raise AccountError(_("This party member no longer exists."))
        _check_manages(actor, member.cell)
        if member.status not in CURRENT_STATUSES:
            raise AccountError(
                _("%(name)s is no longer a current member (%(status)s): the account cannot be reset.")
                % {"name": member.full_name, "status": member.get_status_display()}
            )
        user = member.user
        if user is None:
            raise AccountError(
                _("%(name)s has no account yet. Use “Create accounts” first.") % {"name": member.full_name}
            )
        refusal = _reset_refusal(actor, user, list(user.role_assignments.select_related("organization")))
        if refusal:
            raise AccountError(refusal)
        state, _created = AccountState.objects.get_or_create(user=user)
        seen = state.codes_issued if expected_codes_issued is None else expected_codes_issued
        code = new_code()
        user.password = _hash_codes([code])[0]
        user.save(update_fields=["password"])
        # Compare and set in one statement: of two resets made from the same page, one wins.
        updated = AccountState.objects.filter(pk=state.pk, codes_issued=seen).update(
            must_change_password=True,
            code_issued_at=timezone.now(),
            code_issued_by=policy.actor_user(actor),
            codes_issued=F("codes_issued") + 1,
        )
        if not updated:
            raise AccountError(
                _(
                    "Someone else has just given %(name)s a new code, so yours was not made. "
                    "Look at the list again before printing anything."
                )
                % {"name": member.full_name}
            )
        announce(
            "code_reissue",
            actor=actor,
            data={"organization": member.cell.code, "member": str(member.public_id), "codes": 1},
        )
    # A member paused by wrong guesses can use the new code at once.
    throttle.unlock([user.username])
    return Slip(member, user.username, code)


def member_signin_unlock(*, member: Member, actor: User) -> int:
    """Lift the pause on a member's sign-in: the failed attempts of their account are forgotten, from
    every address, and they may sign in at once with the password they have. Returns the counters
    cleared; 0 when the account was not paused (then nothing is recorded).

    Lifting a pause opens nothing by itself, but it gives whoever is guessing the password new tries:
    so it is refused for the same accounts as a new code (an administrator's, a role beyond the actor's).
    A pause of a whole address (many usernames failing from one network) is not lifted here.
    """
    _check_manages(actor, member.cell)
    user = member.user
    if user is None:
        raise AccountError(_("%(name)s has no account yet. Use “Create accounts” first.") % {"name": member.full_name})
    if user.pk != actor.pk:
        refusal = _reset_refusal(actor, user, list(user.role_assignments.select_related("organization")))
        if refusal:
            raise AccountError(refusal)
    with transaction.atomic():
        cleared = throttle.unlock([user.username])
        if cleared:
            announce(
                "signin_unlock",
                actor=actor,
                data={"organization": member.cell.code, "member": str(member.public_id), "cleared": cleared},
            )
    return cleared


def member_codes_reissue(
    *,
    organization: Organization,
    actor: User,
    progress: Progress | None = None,
    on_slips: SlipsWriter | None = None,
) -> SlipBatch:
    """New codes for the accounts under `organization` whose code was never used: the slips were
    lost before anyone signed in. The old codes stop working. All or nothing, chunk by chunk in one
    transaction; `progress` and `on_slips` as in member_accounts_create."""
    _check_manages(actor, organization)
    members = (
        current_members()
        .under(organization)
        .filter(user__account_state__must_change_password=True, user__last_login__isnull=True)
    )
    pks = _in_order(members.order_by(*SLIP_ORDER))
    total = len(pks)
    roles = {}
    for assignment in RoleAssignment.objects.filter(
        user__member__cell__path__startswith=organization.path, user__last_login__isnull=True
    ).select_related("organization"):
        roles.setdefault(assignment.user_id, []).append(assignment)
    writer = on_slips or _Kept()
    skipped: list[Skipped] = []
    made = 0
    issued_by = policy.actor_user(actor)
    # The codes made before the transaction, as in member_accounts_create.
    with _Codes(total, progress) as codes, transaction.atomic():
        now = timezone.now()
        for chunk in _chunks(pks, CHUNK):
            eligible = []
            # Each member with their account, read by the same query (plain values, as in
            # member_accounts_create: a province's accounts make no ORM object).
            for member, values in _slip_rows(members.filter(pk__in=chunk).order_by(*SLIP_ORDER), *ACCOUNT_FIELDS):
                account = _Account(*values)
                refusal = _reset_refusal(actor, account, roles.get(account.pk, []))
                if refusal:
                    skipped.append(Skipped(member, refusal))
                else:
                    eligible.append((member, account))
            # Locked, and kept only if unchanged since read: no new code, no sign-in meanwhile.
            locked = AccountState.objects.filter(
                pk__in=[account.state_pk for _member, account in eligible]
            ).select_for_update(of=("self",))
            seen = {pk: (n, login) for pk, n, login in locked.values_list("pk", "codes_issued", "user__last_login")}
            rows = [
                (member, account, code, password)
                for (member, account), (code, password) in zip(eligible, codes.take(len(eligible)), strict=True)
                if seen.get(account.state_pk) == (account.codes_issued, None)
            ]
            # One UPDATE … FROM (VALUES …) per batch for each table (bulk_update's CASE/WHEN is slow at size).
            update_from_values(get_user_model(), ["password"], ((a.pk, password) for _m, a, _code, password in rows))
            update_from_values(
                AccountState,
                [],
                ((account.state_pk,) for _member, account, _code, _password in rows),
                set_values={"code_issued_at": now, "code_issued_by_id": issued_by.pk if issued_by else None},
                increment=["codes_issued"],
            )
            throttle.unlock(account.username for _member, account, _code, _password in rows)
            writer.add([Slip(member, account.username, code) for member, account, code, _password in rows])
            made += len(rows)
        announce(
            "code_reissue",
            actor=actor,
            data={"organization": organization.code, "codes": made, "skipped": len(skipped)},
        )
        if progress is not None:
            progress(total, total, _("Saving the new codes"))
        batch = SlipBatch(skipped=skipped, made=made)
        writer.close(batch)
    return batch


# --- Accounts with a password known beforehand ---------------------------------------------------


@dataclass(frozen=True)
class NewAccount:
    """An account to make with a password chosen beforehand. A member's account is named after the
    member and becomes theirs; `full_name` names an account that belongs to no member."""

    username: str
    member: Member | None = None
    full_name: str = ""
    superuser: bool = False


def accounts_create(
    new_accounts: Sequence[NewAccount], *, password: str, actor: User | policy.SystemActor
) -> list[User]:
    """Create accounts that sign in with `password` at once: no one-time code, nothing to change first.

    For the accounts that whoever runs the server makes (a first administrator, the shared accounts of
    a training or demo database); members get theirs from their secretary (member_accounts_create),
    and roles come through organizations.roles.grant_role. All or nothing; returns the users in the
    order asked. The password is hashed once for all of them: hashing is slow on purpose, and they
    share the password anyway. Whoever administers the server only (`policy.SYSTEM` from a command).
    """
    policy.require(actor, "accounts.known_password", None)
    User = get_user_model()
    usernames = [account.username for account in new_accounts]
    invalid = [name for name in usernames if len(name) > 150 or not USERNAME_RE.match(name)]
    if invalid or len(set(usernames)) != len(usernames):
        raise ValueError(f"usernames must be valid and distinct: {usernames}")
    password = make_password(password)
    now = timezone.now()
    with transaction.atomic():
        taken = sorted(User.objects.filter(username__in=usernames).values_list("username", flat=True))
        if taken:
            raise AccountError(
                _("The username %(username)s is already used by another account: ask the administrator.")
                % {"username": ", ".join(taken)}
            )
        members = [account.member for account in new_accounts if account.member is not None]
        free = _lock_members_without_account([member.pk for member in members])
        for member in members:
            if member.pk not in free:
                raise AccountError(_("%(name)s already has an account.") % {"name": member.full_name})
        users = []
        for account in new_accounts:
            member = account.member
            first_name, last_name = split_vietnamese_name(member.full_name if member else account.full_name)
            users.append(
                User(
                    username=account.username,
                    password=password,
                    first_name=first_name,
                    last_name=last_name,
                    email=member.email if member else "",
                    is_staff=account.superuser,
                    is_superuser=account.superuser,
                    date_joined=now,
                )
            )
        _insert_user_objects(users)
        for account, user in zip(new_accounts, users, strict=True):
            if account.member is not None:
                account.member.user = user
                account.member.updated_at = now
        Member.objects.bulk_update(members, ["user", "updated_at"], batch_size=BATCH_SIZE)
    return users


def must_change_password(user: User | AnonymousUser) -> bool:
    """Whether the user still signs in with a one-time code and must choose a password first."""
    if not user.is_authenticated:
        return False
    return AccountState.objects.filter(user=user, must_change_password=True).exists()


def password_chosen(*, user: User) -> None:
    """The user has set their own password: the one-time code is gone, every page opens again."""
    AccountState.objects.filter(user=user).update(must_change_password=False, password_changed_at=timezone.now())
