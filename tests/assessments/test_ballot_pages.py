"""Ballot secrecy read from PostgreSQL's pages, as someone holding the database would read them: once a
ballot has ended, nothing stored links a voter's mark to what they voted (assessments/meetings/ballot.py,
"Secrecy").

The pages are read with the `pageinspect` extension, which only a superuser may use: the tests connect
as the role in PAGEINSPECT_DATABASE_URL (postgres://role:password@host:port/; the database name in it
is replaced by the test database's). Skipped off PostgreSQL, or when the variable is not set, except
in CI (CI=true), where a missing variable fails: .ci/run creates the role and sets it."""

import datetime
import os
import uuid
from collections import Counter

import dj_database_url
import psycopg2
import pytest
from django.db import connection
from django.urls import reverse
from django.utils import translation

from assessments import meetings
from assessments.core import services
from assessments.models import Assessment, AuditEntry, Ballot, BallotCount, BallotTally, Meeting, Period, VoterMark
from members.models import Member
from tests.factories import MemberFactory, OrganizationFactory, UserFactory

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the pages of the tables are read on PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]

URL_VARIABLE = "PAGEINSPECT_DATABASE_URL"
MARKS = VoterMark._meta.db_table
TALLIES = BallotTally._meta.db_table
LP_NORMAL = 1  # heap_page_items' lp_flags of a line pointer to a tuple (0 unused, 2 redirect, 3 dead)
XMAX_IS_MULTI = 0x1000  # t_infomask: t_xmax is a MultiXactId, whose members are the transactions
LEVELS = ("HTXSNV", "HTTNV", "HTNV", "KHTNV")


class Pages:
    """A superuser's connection to the test database, reading pages with pageinspect."""

    def __init__(self, conn):
        self.conn = conn

    def query(self, sql, params=()):
        with self.conn.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def blocks(self, relation):
        return range(
            self.query("SELECT pg_relation_size(%s::regclass) / current_setting('block_size')::int", [relation])[0][0]
        )

    def tuples(self, relation):
        """Every line pointer of the heap `relation`: (block, lp, lp_flags, xmin, xmax, infomask, ctid)."""
        rows = []
        for block in self.blocks(relation):
            rows += [
                (block, *row)
                for row in self.query(
                    "SELECT lp, lp_flags, t_xmin::text::bigint, t_xmax::text::bigint, t_infomask, t_ctid::text "
                    "FROM heap_page_items(get_raw_page(%s, %s)) ORDER BY lp",
                    [relation, block],
                )
            ]
        return rows

    def prune_xids(self, relation):
        """The page header's prune_xid of every page: the oldest transaction that left a prunable row."""
        return [
            self.query("SELECT prune_xid::text::bigint FROM page_header(get_raw_page(%s, %s))", [relation, block])[0][0]
            for block in self.blocks(relation)
        ]

    def stale_bytes(self, relation):
        """Bytes that are not zero in the free space of the pages of `relation` (between the line
        pointers and the tuples): what a plain VACUUM leaves of the rows it removed."""
        found = {}
        for block in self.blocks(relation):
            raw, lower, upper = self.query(
                "SELECT raw, (page_header(raw)).lower, (page_header(raw)).upper "
                "FROM (SELECT get_raw_page(%s, %s) AS raw) AS page",
                [relation, block],
            )[0]
            free = bytes(raw)[lower:upper]
            if any(free):
                found[block] = sum(1 for byte in free if byte)
        return found

    def with_indexes(self, table):
        return [table] + [
            row[0]
            for row in self.query(
                "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = %s::regclass", [table]
            )
        ]

    def heaps(self):
        """Every table of the application's schema and their TOAST tables."""
        return [
            row[0]
            for row in self.query(
                "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind IN ('r', 't', 'm') AND n.nspname IN ('public', 'pg_toast') "
                "AND (n.nspname = 'public' OR c.oid IN (SELECT reltoastrelid FROM pg_class "
                "JOIN pg_namespace s ON s.oid = relnamespace WHERE s.nspname = 'public')) ORDER BY 1"
            )
        ]

    def stamps(self, relation):
        """The transactions named in `relation`'s pages: each row's xmin and xmax (the members of a
        MultiXact), and each page's prune_xid; as {xid: [where]}."""
        found = {}
        for block, lp, _flags, xmin, xmax, infomask, _ctid in self.tuples(relation):
            if xmin is None:  # an unused or redirect line pointer
                continue
            xids = [xmin]
            if infomask & XMAX_IS_MULTI:
                xids += [
                    int(row[0])
                    for row in self.query("SELECT xid::text FROM pg_get_multixact_members(%s::text::xid)", [xmax])
                ]
            else:
                xids.append(xmax)
            for xid in xids:
                found.setdefault(xid, []).append(f"{relation} ({block},{lp})")
        for block, xid in enumerate(self.prune_xids(relation)):
            found.setdefault(xid, []).append(f"{relation} page {block} prune_xid")
        return found


@pytest.fixture
def pages():
    url = os.environ.get(URL_VARIABLE)
    if not url:
        message = (
            f"{URL_VARIABLE} is not set: the ballot's pages cannot be read (pageinspect needs a superuser; "
            "postgres://role:password@host:port/, the database name is taken from the test database)"
        )
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message)
        pytest.skip(message)
    params = dj_database_url.parse(url)
    conn = psycopg2.connect(
        host=params["HOST"] or connection.settings_dict["HOST"],
        port=params["PORT"] or connection.settings_dict["PORT"] or None,
        user=params["USER"],
        password=params["PASSWORD"],
        dbname=connection.settings_dict["NAME"],
    )
    conn.autocommit = True
    Pages(conn).query("CREATE EXTENSION IF NOT EXISTS pageinspect; SELECT 1")
    yield Pages(conn)
    conn.close()


def current_xid():
    """A new transaction id (each call in autocommit is its own transaction), as pageinspect shows it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT txid_current() % 4294967296")
        return cursor.fetchone()[0]


def open_ballots(personas, city, sizes):
    """Cells of official members with accounts, one per size, an open period, and each cell's meeting
    (everyone present) with its online ballot open: [(cell, users, ballot)]."""
    cells = []
    for number, size in enumerate(sizes):
        cell = OrganizationFactory(code=f"chi-bo-kin-{number}", name=f"Chi bộ Kín {number}", parent=city.committee_a)
        users = [UserFactory(username=f"kin-{number}-{rank}") for rank in range(size)]
        for rank, user in enumerate(users):
            MemberFactory(cell=cell, full_name=f"Nguyễn Văn Kín{number}{rank:02d}", user=user)
        cells.append((cell, users))
    Member.objects.update(occupation=Member.Occupation.RETIRED)
    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=period, user=personas.board)
    period = Period.objects.get(pk=period.pk)
    Assessment.objects.filter(period=period, member__isnull=False).update(state=Assessment.State.SUBMITTED)
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    opened = []
    for cell, users in cells:
        size = len(users)
        Meeting.objects.create(
            period=period, organization=cell, held_on=yesterday, members_total=size, present=size, absent=0
        )
        ballot = meetings.ballot_open(period=period, organization=cell, user=personas.officer_a)
        opened.append((cell, users, ballot))
    return period, opened


def vote(ballot, user, number, client_for):
    """`user` votes through the page, a paper that depends on `number`; returns the transaction ids the
    request may have used (those taken between a number read before it and one read after)."""
    papers = {
        f"vote-{a.public_id}": LEVELS[(number + index) % 4] for index, a in enumerate(meetings.ballot_subjects(ballot))
    }
    client = client_for(user)
    before = current_xid()
    response = client.post(reverse("assessments:ballot_vote", args=[ballot.public_id]), papers)
    after = current_xid()
    assert response.status_code == 302, response.content.decode()[:500]
    return range(before + 1, after)


@pytest.mark.parametrize("end", ["close", "stop"])
def test_once_a_ballot_ends_its_pages_link_no_voter_to_a_vote(pages, city, personas, client_for, end):
    """Two cells vote at the same time, five members and three of four, each a different paper; then the first
    ballot is closed (or stopped unread) while the second stays open. Read from the pages: no transaction
    that a vote used is named anywhere in the database; the vote tables hold no dead row and no leftover
    bytes, in the tables or their indexes; every row left in them (the open ballot's) carries the stamp
    of the transaction that ended the first, and no two share another stamp; the marks stand in the
    order of their random keys, and no column of the marks draws from a sequence."""
    period, [(cell, users, ballot), (_other_cell, other_users, other)] = open_ballots(personas, city, (5, 4))
    windows = []
    for number, user in enumerate(users):
        windows.append(vote(ballot, user, number, client_for))
        if number < 3:  # three of the four vote in the other cell before the first ballot ends
            windows.append(vote(other, other_users[number], number + 1, client_for))
    url = reverse("assessments:ballot_close", args=[period.public_id, cell.code])
    response = client_for(personas.officer_a).post(url, {"discard": "1"} if end == "stop" else {})
    assert response.status_code == 302
    action = "ballot_discard" if end == "stop" else "ballot_close"
    ended = pages.query("SELECT xmin::text::bigint FROM assessments_auditentry WHERE action = %s", [action])[0][0]
    votes = {xid for window in windows for xid in window}
    assert ended not in votes

    # No page of any table names a transaction that a vote used: no row version, no lock, no prune hint.
    traces = {}
    for relation in pages.heaps():
        for xid, where in pages.stamps(relation).items():
            if xid in votes:
                traces.setdefault(xid, []).extend(where)
    assert traces == {}

    # The vote tables: only live rows, all written by the transaction that ended the ballot.
    mark_rows, tally_rows = pages.tuples(MARKS), pages.tuples(TALLIES)
    assert [row for row in mark_rows + tally_rows if row[2] != LP_NORMAL or row[4] != 0] == []
    assert {row[3] for row in mark_rows + tally_rows} == {ended}
    stamps = Counter(row[3] for row in mark_rows + tally_rows if row[3] != ended)
    assert [xid for xid, rows in stamps.items() if rows > 1] == []
    # ...and they are the open ballot's rows, none of the ended one's.
    assert len(mark_rows) == 3 == VoterMark.objects.filter(ballot=other).count()
    assert len(tally_rows) == BallotTally.objects.filter(ballot=other).count() == 4 * len(other_users)
    assert not VoterMark.objects.exclude(ballot=other).exists()
    assert not BallotTally.objects.exclude(ballot=other).exists()
    # No bytes of a removed row left in the free space of a page, in the tables or their indexes.
    for relation in pages.with_indexes(MARKS) + pages.with_indexes(TALLIES):
        assert pages.stale_bytes(relation) == {}, relation

    # The marks' place in the table follows their random keys, and no column takes numbers in turn.
    in_place = [row[0] for row in pages.query(f"SELECT id FROM {MARKS} ORDER BY ctid")]  # noqa: S608
    assert in_place == sorted(in_place)
    sequenced = pages.query(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
        "AND (attidentity <> '' OR pg_get_serial_sequence(%s, attname) IS NOT NULL)",
        [MARKS, MARKS],
    )
    assert sequenced == []

    if end == "close":
        # Who voted is kept with the closed ballot, written at once by the closing, in the members' order.
        recorded = pages.query(
            "SELECT xmin::text::bigint, member_id FROM assessments_ballot_recorded_voters WHERE ballot_id = %s "
            "ORDER BY id",
            [ballot.pk],
        )
        assert {row[0] for row in recorded} == {ended}
        assert [row[1] for row in recorded] == sorted(
            Member.objects.filter(user__in=users).values_list("pk", flat=True)
        )
        assert Ballot.objects.get(pk=ballot.pk).state == Ballot.State.CLOSED
    else:
        assert not Ballot.objects.filter(pk=ballot.pk).exists()

    # The ballot left open goes on: its last voter votes, and its count is right when it closes.
    vote(other, other_users[-1], 0, client_for)
    meetings.ballot_close(ballot=Ballot.objects.get(pk=other.pk), user=personas.officer_a)
    counts = BallotCount.objects.filter(meeting=other.meeting)
    assert {(c.received, c.htxsnv + c.httnv + c.htnv + c.khtnv) for c in counts} == {(4, 4)}


def test_while_a_ballot_is_open_its_live_rows_share_one_stamp_and_show_no_order(pages, city, personas, client_for):
    """What the application's own role can read while voting goes on (xmin, xmax, ctid): every live row
    of the ballot carries the last vote's stamp, so do the voters' member rows (the lock the foreign key
    check of each mark takes), and the marks stand in the order of their keys. (The old row versions are
    there until the ballot ends: the README's "Ballot secrecy" says so.)"""
    _period, [(_cell, users, ballot)] = open_ballots(personas, city, (4,))
    windows = [vote(ballot, user, number, client_for) for number, user in enumerate(users)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT xmin::text::bigint FROM {TALLIES} WHERE ballot_id = %s "  # noqa: S608
            f"UNION ALL SELECT xmin::text::bigint FROM {MARKS} WHERE ballot_id = %s",
            [ballot.pk, ballot.pk],
        )
        stamps = {row[0] for row in cursor.fetchall()}
        cursor.execute(f"SELECT id FROM {MARKS} WHERE ballot_id = %s ORDER BY ctid", [ballot.pk])  # noqa: S608
        keys = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT DISTINCT xmax::text::bigint FROM members_member WHERE user_id = ANY(%s)", [[u.pk for u in users]]
        )
        member_stamps = {row[0] for row in cursor.fetchall()}
    last_vote = stamps.pop()
    assert not stamps and last_vote in windows[-1]
    assert member_stamps == {last_vote}
    assert keys == sorted(keys) and len(keys) == len(users)
    # The old versions are still in the pages while the ballot is open: what the closing removes.
    assert [row for row in pages.tuples(MARKS) + pages.tuples(TALLIES) if row[4] != 0]


def test_a_role_without_truncate_cannot_end_a_ballot_and_nothing_changes(pages, city, personas):
    """Ending a ballot empties the vote tables (TRUNCATE): a database role without that privilege is
    refused with a message, and the ballot stays open with its votes, rather than closing with the old
    versions of its votes left in place."""
    _period, [(_cell, users, ballot)] = open_ballots(personas, city, (3,))
    subjects = meetings.ballot_subjects(ballot)
    for user in users[:2]:
        meetings.ballot_vote(ballot=ballot, user=user, choices={str(a.public_id): "HTTNV" for a in subjects})
    role = f"ballot_no_truncate_{uuid.uuid4().hex[:8]}"
    user = connection.settings_dict["USER"]
    pages.query(
        f'CREATE ROLE {role} NOLOGIN; GRANT {role} TO "{user}"; GRANT USAGE ON SCHEMA public TO {role}; '
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}; "
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}; SELECT 1"
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SET ROLE {role}")
        for end in (meetings.ballot_close, meetings.ballot_discard):
            with translation.override("en"), pytest.raises(services.WorkflowError, match="TRUNCATE privilege"):
                end(ballot=Ballot.objects.get(pk=ballot.pk), user=personas.officer_a)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
        pages.query(f"DROP OWNED BY {role}; DROP ROLE {role}; SELECT 1")
    assert Ballot.objects.get(pk=ballot.pk).state == Ballot.State.OPEN
    assert VoterMark.objects.filter(ballot=ballot).count() == 2
    assert sum(BallotTally.objects.filter(ballot=ballot).values_list("count", flat=True)) == 2 * len(subjects)
    assert not BallotCount.objects.filter(issued__isnull=False).exists()
    assert not AuditEntry.objects.filter(action__in=["ballot_close", "ballot_discard"]).exists()
