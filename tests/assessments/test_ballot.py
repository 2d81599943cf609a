"""The online secret ballot: the secretary opens it, the members of the cell vote once each in the
browser, closing it fills the minutes; and what is stored cannot link a voter to a vote."""

import datetime
import io
import re
import uuid
from decimal import Decimal

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import DateField, DateTimeField, ForeignKey, UUIDField
from django.urls import reverse
from django.utils import translation
from docx import Document

from assessments import meetings
from assessments.core import services
from assessments.core.admin import PeriodForm
from assessments.models import (
    Assessment,
    AuditEntry,
    Ballot,
    BallotCount,
    BallotTally,
    Meeting,
    Period,
    VoterMark,
)
from assessments.rulebooks import get_rulebook
from members.models import Member
from tests.factories import MemberFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

S = Assessment.State
YESTERDAY = datetime.date.today() - datetime.timedelta(days=1)


def open_ballot_for(personas, city, *, period=None, absentees=()):
    """A meeting of cell A1 (everyone present unless named) and its online ballot, opened by the secretary."""
    period = Period.objects.get(pk=(period or city.period).pk)
    size = Assessment.objects.filter(period=period, organization=city.cell_a1, member__isnull=False).count()
    meeting = Meeting.objects.create(
        period=period,
        organization=city.cell_a1,
        held_on=YESTERDAY,
        members_total=size,
        present=size - len(absentees),
        absent=len(absentees),
    )
    meeting.absentees.set(absentees)
    return meetings.ballot_open(period=period, organization=city.cell_a1, user=personas.secretary_a1)


@pytest.fixture
def period(city, personas):
    Member.objects.update(occupation=Member.Occupation.RETIRED)
    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=period, user=personas.board)
    period.refresh_from_db()
    city.period = period
    return period


@pytest.fixture
def voters(period, personas):
    """The three members of cell A1 with accounts: the secretary, the member and a third one."""
    third = UserFactory(username="pham_duc_anh")
    Member.objects.filter(pk=personas.member_a1_other.pk).update(user=third)
    Assessment.objects.filter(period=period, member__isnull=False).update(state=S.SUBMITTED)
    return {"secretary": personas.secretary_a1, "member": personas.member, "third": third}


@pytest.fixture
def subjects(period, city):
    """The assessments on the ballot, keyed by the member's record."""
    return {
        a.member_id: a
        for a in Assessment.objects.filter(period=period, organization=city.cell_a1, member__isnull=False)
    }


def ballot_choices(subjects, personas, *, secretary="HTTNV", member="HTTNV", other="HTTNV"):
    levels = {
        personas.secretary_a1_record.pk: secretary,
        personas.member_record.pk: member,
        personas.member_a1_other.pk: other,
    }
    return {str(a.public_id): levels[member_id] for member_id, a in subjects.items()}


def vote_url(ballot):
    return reverse("assessments:ballot_vote", args=[ballot.public_id])


def post_choices(choices):
    return {f"vote-{public_id}": level for public_id, level in choices.items()}


def tally_rows(ballot):
    """The tally table as stored, read with plain SQL: every column of every row, in the table's order."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM assessments_ballottally WHERE ballot_id = %s ORDER BY id", [ballot.pk])
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# --- The path: open, vote, close ---------------------------------------------------------------------------


def test_members_vote_and_closing_fills_the_minutes_and_the_proposals(
    period, voters, subjects, personas, city, client_for
):
    ballot = open_ballot_for(personas, city)
    assert ballot.eligible_voters.count() == 3
    assert BallotTally.objects.filter(ballot=ballot).count() == 3 * 4
    votes = {
        "secretary": ballot_choices(subjects, personas, member="HTXSNV", other="HTNV"),
        "member": ballot_choices(subjects, personas, member="HTXSNV", other="KHTNV"),
        "third": ballot_choices(subjects, personas, member="HTTNV", other="HTNV", secretary="HTXSNV"),
    }
    for name, choices in votes.items():
        response = client_for(voters[name]).post(vote_url(ballot), post_choices(choices))
        assert response.status_code == 302, name
    assert VoterMark.objects.filter(ballot=ballot).count() == 3
    # While the ballot is open the secretary sees who has voted, and no count.
    page = client_for(personas.secretary_a1).get(reverse("assessments:meeting", args=[period.public_id, "chi-bo-a1"]))
    assert not any(line.counted for line in page.context["sheet"].lines)
    assert not BallotCount.objects.filter(issued__isnull=False).exists()

    response = client_for(personas.secretary_a1).post(
        reverse("assessments:ballot_close", args=[period.public_id, "chi-bo-a1"])
    )
    assert response.status_code == 302
    ballot.refresh_from_db()
    assert ballot.state == Ballot.State.CLOSED and ballot.closed_by == personas.secretary_a1
    rows = {c.assessment.member_id: c for c in BallotCount.objects.select_related("assessment")}
    member_row = rows[personas.member_record.pk]
    assert (member_row.issued, member_row.received, member_row.valid) == (3, 3, 3)
    assert (member_row.htxsnv, member_row.httnv, member_row.htnv, member_row.khtnv) == (2, 1, 0, 0)
    assert member_row.source == BallotCount.Source.ONLINE
    other_row = rows[personas.member_a1_other.pk]
    assert (other_row.htxsnv, other_row.httnv, other_row.htnv, other_row.khtnv) == (0, 0, 2, 1)
    levels = dict(
        Assessment.objects.filter(pk__in=[a.pk for a in subjects.values()]).values_list(
            "member_id", "cell_proposed_level"
        )
    )
    assert levels == {
        personas.member_record.pk: "HTXSNV",
        personas.member_a1_other.pk: "HTNV",
        personas.secretary_a1_record.pk: "HTTNV",
    }
    assert set(Assessment.objects.filter(pk__in=[a.pk for a in subjects.values()]).values_list("state", flat=True)) == {
        S.CELL_REVIEWED
    }
    assert AuditEntry.objects.filter(action="ballot_close", data__voted=3).exists()
    # The counts are now in the minutes, read-only: the page has no input for them.
    page = client_for(personas.secretary_a1).get(reverse("assessments:meeting", args=[period.public_id, "chi-bo-a1"]))
    assert f'name="row-{subjects[personas.member_record.pk].public_id}-issued"' not in page.content.decode()


def test_a_member_who_did_not_vote_is_counted_as_a_ballot_not_received(period, voters, subjects, personas, city):
    ballot = open_ballot_for(personas, city)
    meetings.ballot_vote(ballot=ballot, user=voters["member"], choices=ballot_choices(subjects, personas))
    meetings.ballot_vote(ballot=ballot, user=voters["third"], choices=ballot_choices(subjects, personas))
    meetings.ballot_close(ballot=ballot, user=personas.secretary_a1)
    row = BallotCount.objects.get(assessment=subjects[personas.member_record.pk])
    assert (row.issued, row.received, row.valid, row.httnv) == (3, 2, 2, 2)


def test_voting_twice_is_refused_and_changes_nothing(period, voters, subjects, personas, city, client_for):
    ballot = open_ballot_for(personas, city)
    client = client_for(voters["member"])
    assert client.post(vote_url(ballot), post_choices(ballot_choices(subjects, personas))).status_code == 302
    before = tally_rows(ballot)
    response = client.post(vote_url(ballot), post_choices(ballot_choices(subjects, personas, member="HTXSNV")))
    assert response.status_code == 400
    assert "đã bỏ phiếu" in response.content.decode()
    assert tally_rows(ballot) == before
    assert VoterMark.objects.filter(ballot=ballot).count() == 1
    with pytest.raises(services.WorkflowError):
        meetings.ballot_vote(ballot=ballot, user=voters["member"], choices=ballot_choices(subjects, personas))
    assert tally_rows(ballot) == before


def test_a_ballot_missing_a_member_records_nothing(period, voters, subjects, personas, city, client_for):
    ballot = open_ballot_for(personas, city)
    choices = ballot_choices(subjects, personas)
    choices.pop(str(subjects[personas.member_record.pk].public_id))
    response = client_for(voters["third"]).post(vote_url(ballot), post_choices(choices))
    assert response.status_code == 400
    assert not VoterMark.objects.exists()
    assert set(BallotTally.objects.values_list("count", flat=True)) == {0}
    # The choices made are put back into the page for the voter to finish; the missing one is marked.
    page = response.content.decode()
    assert "checked" in page
    missing = subjects[personas.member_record.pk]
    assert response.context["paper"].errors == {
        f"vote-{missing.public_id}": ["Xin chọn một mức xếp loại cho đảng viên này."]
    }
    assert "Xin chọn một mức xếp loại cho đảng viên này." in page


@pytest.mark.parametrize(
    "extra",
    [{"vote-4e1b7c3a-0000-4000-8000-000000000000": "HTTNV"}, {}],
    ids=["a stranger on the paper", "an unknown level"],
)
def test_a_ballot_paper_with_a_wrong_value_records_nothing(period, voters, subjects, personas, city, client_for, extra):
    ballot = open_ballot_for(personas, city)
    data = post_choices(ballot_choices(subjects, personas)) | extra
    if not extra:
        data[f"vote-{subjects[personas.member_record.pk].public_id}"] = "XUATSAC"
    response = client_for(voters["third"]).post(vote_url(ballot), data)
    assert response.status_code == 400
    assert not VoterMark.objects.exists()
    assert set(BallotTally.objects.values_list("count", flat=True)) == {0}
    page = response.content.decode()
    if extra:
        assert "Có đảng viên trong phiếu không thuộc chi bộ này." in page
    else:
        assert "Xin chọn một mức xếp loại cho đảng viên này." in page


def test_a_closed_ballot_takes_no_vote(period, voters, subjects, personas, city, client_for):
    ballot = open_ballot_for(personas, city)
    for name in ("secretary", "third"):
        meetings.ballot_vote(ballot=ballot, user=voters[name], choices=ballot_choices(subjects, personas))
    meetings.ballot_close(ballot=ballot, user=personas.secretary_a1)
    response = client_for(voters["member"]).post(vote_url(ballot), post_choices(ballot_choices(subjects, personas)))
    assert response.status_code == 400
    assert not VoterMark.objects.filter(voter=personas.member_record).exists()
    assert client_for(voters["member"]).get(vote_url(ballot)).context["subjects"] == []


# --- Who may vote, open and close ------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["secretary_b1", "officer_a", "board", "evaluator", "outsider"])
def test_only_the_members_of_the_cell_see_its_ballot(period, voters, subjects, personas, city, client_for, persona):
    ballot = open_ballot_for(personas, city)
    client = client_for(getattr(personas, persona))
    assert client.get(vote_url(ballot)).status_code == 404
    assert client.post(vote_url(ballot), post_choices(ballot_choices(subjects, personas))).status_code == 404
    assert not VoterMark.objects.exists()
    assert client_for(personas.member).get(vote_url(ballot)).status_code == 200


def test_absent_and_probationary_members_and_those_without_an_account_do_not_vote(
    period, voters, subjects, personas, city, client_for
):
    Member.objects.filter(pk=personas.secretary_a1_record.pk).update(official_date=None)
    # One voter of two official members: the quorum of more than half would refuse to open the ballot.
    Period.objects.filter(pk=period.pk).update(parameters={"ballot_quorum": "0"})
    ballot = open_ballot_for(personas, city, absentees=[personas.member_a1_other])
    assert list(ballot.eligible_voters.all()) == [personas.member_record]
    assert client_for(voters["third"]).get(vote_url(ballot)).status_code == 404
    assert client_for(voters["secretary"]).get(vote_url(ballot)).status_code == 404
    # Every member to be classified is still on the ballot paper.
    page = client_for(voters["member"]).get(vote_url(ballot))
    assert len(page.context["subjects"]) == 3
    assert client_for(voters["member"]).get(reverse("assessments:my_ballots")).context["rows"] == [(ballot, False)]


def test_only_those_who_lead_the_cell_open_and_close_the_ballot(period, voters, personas, city, client_for):
    Meeting.objects.create(
        period=period, organization=city.cell_a1, held_on=YESTERDAY, members_total=3, present=3, absent=0
    )
    open_url = reverse("assessments:ballot_open", args=[period.public_id, "chi-bo-a1"])
    close_url = reverse("assessments:ballot_close", args=[period.public_id, "chi-bo-a1"])
    for persona in ("member", "secretary_b1", "evaluator", "outsider"):
        assert client_for(getattr(personas, persona)).post(open_url).status_code == 404
    assert not Ballot.objects.exists()
    assert client_for(personas.secretary_a1).post(open_url).status_code == 302
    assert Ballot.objects.count() == 1
    assert client_for(personas.member).post(close_url).status_code == 404
    assert Ballot.objects.get().state == Ballot.State.OPEN


def test_a_ballot_needs_the_attendance_first_and_no_paper_count(period, voters, subjects, personas, city):
    with pytest.raises(services.WorkflowError):
        meetings.ballot_open(period=period, organization=city.cell_a1, user=personas.secretary_a1)
    meeting = Meeting.objects.create(
        period=period, organization=city.cell_a1, held_on=YESTERDAY, members_total=3, present=3, absent=0
    )
    BallotCount.objects.create(
        meeting=meeting,
        assessment=subjects[personas.member_record.pk],
        issued=3,
        received=3,
        valid=3,
        httnv=3,
        htxsnv=0,
        htnv=0,
        khtnv=0,
    )
    with pytest.raises(services.WorkflowError):
        meetings.ballot_open(period=period, organization=city.cell_a1, user=personas.secretary_a1)
    assert not Ballot.objects.exists()


def test_a_finalised_period_takes_no_ballot_and_no_vote(period, voters, subjects, personas, city):
    ballot = open_ballot_for(personas, city)
    Period.objects.filter(pk=period.pk).update(state=Period.State.FINALISED)
    with pytest.raises(services.WorkflowError):
        meetings.ballot_vote(ballot=ballot, user=voters["member"], choices=ballot_choices(subjects, personas))
    ballot.refresh_from_db()
    with pytest.raises(services.WorkflowError):
        meetings.ballot_close(
            ballot=Ballot.objects.select_related("meeting__period").get(pk=ballot.pk), user=personas.secretary_a1
        )
    assert not VoterMark.objects.exists()


# --- Secrecy, read from the tables themselves ---------------------------------------------------------------


def test_the_vote_tables_have_no_column_that_could_name_or_date_a_voter():
    tally_fields = {f.name for f in BallotTally._meta.get_fields()}
    assert tally_fields == {"id", "ballot", "subject_assessment", "level", "count"}
    mark_fields = {f.name for f in VoterMark._meta.get_fields()}
    assert mark_fields == {"id", "ballot", "voter"}
    # A mark's key is random: a number from a sequence would give the order of voting.
    assert isinstance(VoterMark._meta.pk, UUIDField)
    for model in (BallotTally, VoterMark):
        assert not [f for f in model._meta.get_fields() if isinstance(f, DateField | DateTimeField)], model
    # The tally refers to the ballot and the subject's assessment, never to a member or an account.
    targets = {f.related_model for f in BallotTally._meta.get_fields() if isinstance(f, ForeignKey)}
    assert targets == {Ballot, Assessment}
    # The same, asked of the database rather than of the models.
    with connection.cursor() as cursor:
        columns = {c.name for c in connection.introspection.get_table_description(cursor, "assessments_ballottally")}
        relations = connection.introspection.get_relations(cursor, "assessments_ballottally")
    assert columns == {"id", "ballot_id", "subject_assessment_id", "level", "count"}
    assert {table for _column, table in relations.values()} == {"assessments_ballot", "assessments_assessment"}


def test_voting_adds_no_row_to_the_tally_it_only_counts(period, voters, subjects, personas, city):
    ballot = open_ballot_for(personas, city)
    ids_before = [row["id"] for row in tally_rows(ballot)]
    meetings.ballot_vote(ballot=ballot, user=voters["member"], choices=ballot_choices(subjects, personas))
    assert [row["id"] for row in tally_rows(ballot)] == ids_before
    assert sum(BallotTally.objects.filter(ballot=ballot).values_list("count", flat=True)) == 3


def test_two_voters_in_either_order_leave_the_same_tally(period, voters, subjects, personas, city):
    """Vote A then B, note the tables, undo; vote B then A: the vote table is identical, row for row and
    column for column, so its contents say nothing of the order, and the order of the marks says
    nothing of the votes."""
    ballot = open_ballot_for(personas, city)
    a = ballot_choices(subjects, personas, member="HTXSNV", other="HTNV", secretary="HTTNV")
    b = ballot_choices(subjects, personas, member="HTNV", other="KHTNV", secretary="HTXSNV")

    class Undo(Exception):
        pass

    snapshots = []
    for order in ([("member", a), ("third", b)], [("third", b), ("member", a)]):
        try:
            with transaction.atomic():
                for voter, choices in order:
                    meetings.ballot_vote(ballot=ballot, user=voters[voter], choices=choices)
                marks = set(VoterMark.objects.filter(ballot=ballot).values_list("ballot_id", "voter_id"))
                snapshots.append((tally_rows(ballot), marks))
                raise Undo
        except Undo:
            pass
    (tally_ab, marks_ab), (tally_ba, marks_ba) = snapshots
    assert tally_ab == tally_ba
    assert marks_ab == marks_ba
    assert sum(row["count"] for row in tally_ab) == 6  # the two ballots are in it


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_every_row_carries_the_same_transaction_stamp_after_each_vote(city, personas):
    """PostgreSQL stamps each row version with the transaction that wrote it (xmin): if a vote wrote only
    its own counters, the stamps would link the voter's mark to them. Every vote rewrites every counter
    and mark of the ballot, so after it all the rows share one stamp."""
    if connection.vendor != "postgresql":
        pytest.skip("transaction stamps (xmin) are a PostgreSQL matter")
    Member.objects.update(occupation=Member.Occupation.RETIRED)
    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=period, user=personas.board)
    period.refresh_from_db()
    third = UserFactory(username="pham_duc_anh")
    Member.objects.filter(pk=personas.member_a1_other.pk).update(user=third)
    subjects = {
        a.member_id: a
        for a in Assessment.objects.filter(period=period, organization=city.cell_a1, member__isnull=False)
    }
    ballot = open_ballot_for(personas, city, period=period)
    for user, level in ((personas.member, "HTXSNV"), (third, "HTNV")):
        choices = {str(a.public_id): level for a in subjects.values()}
        meetings.ballot_vote(ballot=ballot, user=user, choices=choices)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT xmin::text FROM assessments_ballottally WHERE ballot_id = %s "
                "UNION SELECT xmin::text FROM assessments_votermark WHERE ballot_id = %s",
                [ballot.pk, ballot.pk],
            )
            stamps = {row[0] for row in cursor.fetchall()}
        assert len(stamps) == 1


def marks_in_table_order(ballot):
    """The keys of the ballot's marks in the order the rows stand in the table (ctid on PostgreSQL,
    rowid on SQLite), which is what an insertion order would show through."""
    place = "ctid" if connection.vendor == "postgresql" else "rowid"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM assessments_votermark WHERE ballot_id = %s ORDER BY {place}", [ballot.pk])
        return [uuid.UUID(str(row[0])) for row in cursor.fetchall()]


def test_the_marks_stand_in_the_order_of_their_random_keys_not_the_order_of_voting(
    period, voters, subjects, personas, city
):
    ballot = open_ballot_for(personas, city)
    for name in ("third", "member", "secretary"):
        meetings.ballot_vote(ballot=ballot, user=voters[name], choices=ballot_choices(subjects, personas))
        keys = marks_in_table_order(ballot)
        assert keys == sorted(keys)
    assert len(set(keys)) == 3 and all(key.version == 4 for key in keys)


def test_closing_keeps_who_voted_with_the_ballot_and_empties_the_vote_tables(
    period, voters, subjects, personas, city, client_for
):
    """The counts go into the minutes and who voted into the ballot's record; the counters and marks,
    which held the votes while the ballot was open, are deleted, and nothing of a vote is read again."""
    ballot = open_ballot_for(personas, city)
    for name in ("third", "member"):
        meetings.ballot_vote(ballot=ballot, user=voters[name], choices=ballot_choices(subjects, personas))
    close(ballot, personas.secretary_a1)
    assert not BallotTally.objects.exists() and not VoterMark.objects.exists()
    ballot.refresh_from_db()
    assert set(ballot.recorded_voters.all()) == {personas.member_record, personas.member_a1_other}
    assert {c.received for c in BallotCount.objects.filter(meeting=ballot.meeting)} == {2}
    # The page lists them, and tells each voter of the closed ballot that they voted.
    page = client_for(personas.secretary_a1).get(reverse("assessments:meeting", args=[period.public_id, "chi-bo-a1"]))
    assert [m.full_name for m in page.context["sheet"].voters] == ["Phạm Đức Anh", "Lê Thị Hoa"]
    assert client_for(voters["member"]).get(vote_url(ballot)).context["has_voted"] is True
    assert client_for(voters["secretary"]).get(vote_url(ballot)).context["has_voted"] is False


def test_the_other_ballots_open_keep_their_votes_when_one_closes(city, personas):
    other_cell = OrganizationFactory(code="chi-bo-r", name="Chi bộ R", parent=city.committee_a)
    for number in range(3):
        MemberFactory(cell=other_cell, full_name=f"Trần Văn Rõ{number:02d}", user=UserFactory(username=f"r-{number}"))
    period, cell = cell_of(city, personas, 3)
    ballot = open_cell_ballot(period, cell, personas.officer_a)
    other = open_cell_ballot(period, other_cell, personas.officer_a)
    cast(ballot, 2)
    cast(other, 2, level="HTXSNV")
    tallies = sorted(
        BallotTally.objects.filter(ballot=other).values_list("id", "subject_assessment_id", "level", "count")
    )
    marks = sorted(VoterMark.objects.filter(ballot=other).values_list("id", "voter_id"))
    close(ballot, personas.officer_a)
    assert sorted(BallotTally.objects.values_list("id", "subject_assessment_id", "level", "count")) == tallies
    assert sorted(VoterMark.objects.values_list("id", "voter_id")) == marks
    cast(other, 1, level="HTXSNV")
    close(other, personas.officer_a)
    counts = BallotCount.objects.filter(meeting=other.meeting)
    assert {(c.received, c.htxsnv) for c in counts} == {(3, 3)}


def test_sqlite_erases_what_it_deletes_and_a_ballot_does_not_end_if_it_would_not(
    period, voters, subjects, personas, city
):
    """On SQLite the deleted counters and marks are overwritten with zeros in the file (secure_delete, set
    for every connection): with it off, ending a ballot is refused and nothing changes."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL: tests/assessments/test_ballot_pages.py reads its pages")
    assert "secure_delete" in connection.settings_dict["OPTIONS"]["init_command"]
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA secure_delete")
        assert cursor.fetchone()[0] == 1
    ballot = open_ballot_for(personas, city)
    cast(ballot, 2)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA secure_delete = OFF")
    try:
        for end in (meetings.ballot_close, meetings.ballot_discard):
            with translation.override("en"), pytest.raises(services.WorkflowError, match="secure_delete is off"):
                end(ballot=Ballot.objects.get(pk=ballot.pk), user=personas.secretary_a1)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA secure_delete = ON")
    assert Ballot.objects.get().state == Ballot.State.OPEN
    assert VoterMark.objects.count() == 2 and sum(BallotTally.objects.values_list("count", flat=True)) == 6
    close(ballot, personas.secretary_a1)
    assert Ballot.objects.get().state == Ballot.State.CLOSED


def test_scrub_ballots_rewrites_the_vote_tables_and_keeps_the_open_ballots(period, voters, subjects, personas, city):
    ballot = open_ballot_for(personas, city)
    cast(ballot, 2)
    marks = sorted(VoterMark.objects.values_list("id", "voter_id"))
    tallies = sorted(BallotTally.objects.values_list("id", "count"))
    out = io.StringIO()
    with translation.override("en"):
        call_command("scrub_ballots", stdout=out)
    if connection.vendor == "postgresql":
        assert out.getvalue().strip() == "The vote tables have been rewritten; 14 rows of the open ballots were kept."
    else:
        assert out.getvalue().strip() == "Nothing to rewrite: this database erases deleted rows as it writes."
    assert sorted(VoterMark.objects.values_list("id", "voter_id")) == marks
    assert sorted(BallotTally.objects.values_list("id", "count")) == tallies


# --- The quorum: more than half of the cell's official members ---------------------------------------------


def cell_of(city, personas, official, *, probationary=0, excused=0, without_account=0, quorum=None):
    """A new cell under committee A with `official` official members (the first `without_account` of
    them without an account), probationary and excused members with accounts, and an open period."""
    cell = OrganizationFactory(code=f"chi-bo-q{official}", name=f"Chi bộ Q{official}", parent=city.committee_a)
    for number in range(official):
        user = None if number < without_account else UserFactory(username=f"q{official}-{number}")
        MemberFactory(cell=cell, full_name=f"Nguyễn Văn Chính{number:02d}", user=user)
    for number in range(probationary):
        MemberFactory(cell=cell, full_name=f"Lê Văn Dự{number:02d}", official_date=None, user=UserFactory())
    for number in range(excused):
        MemberFactory(cell=cell, full_name=f"Đỗ Văn Miễn{number:02d}", status=Member.Status.EXCUSED, user=UserFactory())
    Member.objects.update(occupation=Member.Occupation.RETIRED)
    period = Period.objects.create(
        organization=city.city, year=2026, regime="2018", parameters={"ballot_quorum": quorum} if quorum else {}
    )
    services.period_open(period=period, user=personas.board)
    period.refresh_from_db()
    Assessment.objects.filter(period=period, member__isnull=False).update(state=S.SUBMITTED)
    return period, cell


def open_cell_ballot(period, cell, user, *, absent=()):
    size = Assessment.objects.filter(period=period, organization=cell, member__isnull=False).count()
    meeting = Meeting.objects.create(
        period=period,
        organization=cell,
        held_on=YESTERDAY,
        members_total=size,
        present=size - len(absent),
        absent=len(absent),
    )
    meeting.absentees.set(absent)
    return meetings.ballot_open(period=period, organization=cell, user=user)


def cast(ballot, how_many, level="HTTNV"):
    """`how_many` more voters of the list vote, every subject at `level`."""
    subjects = meetings.ballot_subjects(ballot)
    voted = set(VoterMark.objects.filter(ballot=ballot).values_list("voter_id", flat=True))
    waiting = [m for m in ballot.eligible_voters.order_by("pk") if m.pk not in voted]
    for member in waiting[:how_many]:
        meetings.ballot_vote(ballot=ballot, user=member.user, choices={str(a.public_id): level for a in subjects})


def close(ballot, user):
    return meetings.ballot_close(
        ballot=Ballot.objects.select_related("meeting__period", "meeting__organization").get(pk=ballot.pk), user=user
    )


@pytest.mark.parametrize(
    ("official", "refused", "accepted"),
    [(1, 0, 1), (2, 1, 2), (3, 1, 2), (4, 2, 3), (5, 2, 3)],
    ids=["cell of 1", "cell of 2", "cell of 3", "cell of 4: exactly half is not enough", "cell of 5"],
)
def test_the_ballot_closes_only_when_more_than_half_of_the_official_members_have_voted(
    city, personas, official, refused, accepted
):
    period, cell = cell_of(city, personas, official)
    ballot = open_cell_ballot(period, cell, personas.officer_a)
    cast(ballot, refused)
    with pytest.raises(services.WorkflowError):
        close(ballot, personas.officer_a)
    ballot.refresh_from_db()
    assert ballot.state == Ballot.State.OPEN
    assert not BallotCount.objects.filter(issued__isnull=False).exists()
    assert not Assessment.objects.exclude(cell_proposed_level="").exists()
    cast(ballot, accepted - refused)
    close(ballot, personas.officer_a)
    ballot.refresh_from_db()
    assert ballot.state == Ballot.State.CLOSED
    assert (ballot.official_members, ballot.quorum_needed) == (official, accepted)
    assert BallotCount.objects.filter(issued__isnull=False).count() == official


def test_the_refusal_says_how_many_voted_how_many_are_needed_and_what_to_do(city, personas, client_for):
    period, cell = cell_of(city, personas, 25)
    ballot = open_cell_ballot(period, cell, personas.officer_a)
    cast(ballot, 12)
    with translation.override("en"), pytest.raises(services.WorkflowError) as refused:
        close(ballot, personas.officer_a)
    message = refused.value.message
    assert "12 of the 25 official members of the cell have voted; at least 13 votes are needed" in message
    assert "more than half of the official members" in message
    assert "1 more are needed" in message and "count paper ballots instead" in message
    # Through the page, in Vietnamese, and the page states the need plainly.
    client = client_for(personas.officer_a)
    response = client.post(reverse("assessments:ballot_close", args=[period.public_id, cell.code]), follow=True)
    page = response.content.decode()
    assert "12 trên 25 đảng viên chính thức" in page and "cần ít nhất 13" in page
    assert "phiếu giấy" in page
    assert Ballot.objects.get().state == Ballot.State.OPEN
    cast(ballot, 1)
    client.post(reverse("assessments:ballot_close", args=[period.public_id, cell.code]))
    assert Ballot.objects.get().state == Ballot.State.CLOSED


def test_the_page_shows_the_votes_against_the_official_members_and_the_need(city, personas, client_for):
    period, cell = cell_of(city, personas, 25)
    ballot = open_cell_ballot(period, cell, personas.officer_a)
    cast(ballot, 12)
    page = client_for(personas.officer_a).get(reverse("assessments:meeting", args=[period.public_id, cell.code]))
    with translation.override("en"):
        assert page.context["sheet"].turnout == meetings.Turnout(official=25, eligible=25, voted=12, needed=13)
    text = page.content.decode()
    assert "12 trên 25 đảng viên chính thức đã bỏ phiếu; cần ít nhất 13 phiếu mới kết thúc được." in text


def test_the_quorum_counts_every_official_member_of_the_cell_not_only_those_who_can_vote(city, personas):
    """Five official members, two absent and one without an account: two can vote, but three votes are
    needed, so the ballot is not opened. Probationary and excused members are not in the count."""
    period, cell = cell_of(city, personas, 5, probationary=2, excused=1, without_account=1)
    official = list(Member.objects.filter(cell=cell, status=Member.Status.ACTIVE, official_date__isnull=False))
    absent = [m for m in official if m.user_id][:2]
    with translation.override("en"), pytest.raises(services.WorkflowError) as refused:
        open_cell_ballot(period, cell, personas.officer_a, absent=absent)
    assert "Only 2 members present can vote online" in refused.value.message
    assert "at least 3 votes of the 5 official members" in refused.value.message
    assert not Ballot.objects.exists()
    # With a quorum of "more than 20%", two votes of five are enough.
    Period.objects.filter(pk=period.pk).update(parameters={"ballot_quorum": "0.2"})
    Meeting.objects.all().delete()
    ballot = open_cell_ballot(Period.objects.get(pk=period.pk), cell, personas.officer_a, absent=absent)
    assert ballot.eligible_voters.count() == 2
    cast(ballot, 2)
    close(ballot, personas.officer_a)
    ballot.refresh_from_db()
    assert (ballot.official_members, ballot.quorum_needed) == (5, 2)


def test_a_changed_quorum_parameter_is_honoured_at_the_closing(city, personas, client_for):
    period, cell = cell_of(city, personas, 4)
    ballot = open_cell_ballot(period, cell, personas.officer_a)
    assert ballot.quorum_needed == 3
    cast(ballot, 3)
    for share in ("0.75", "1"):  # more than three quarters, then everyone: four of four
        Period.objects.filter(pk=period.pk).update(parameters={"ballot_quorum": share})
        with pytest.raises(services.WorkflowError):
            close(ballot, personas.officer_a)
    page = client_for(personas.officer_a).get(reverse("assessments:meeting", args=[period.public_id, cell.code]))
    assert page.context["sheet"].turnout.needed == 4
    Period.objects.filter(pk=period.pk).update(parameters={"ballot_quorum": "0.6"})  # more than 2.4: three
    close(ballot, personas.officer_a)
    ballot.refresh_from_db()
    assert (ballot.state, ballot.quorum_needed) == (Ballot.State.CLOSED, 3)


@pytest.mark.parametrize(("official", "share", "needed"), [
    (25, "0.5", 13), (24, "0.5", 13), (4, "0.5", 3), (1, "0.5", 1), (3, "0.5", 2), (2, "0.5", 2),
    (9, "0.6667", 7), (10, "0", 1), (10, "1", 10), (0, "0.5", 1),
])  # fmt: skip
def test_the_votes_needed_are_more_than_the_share_of_the_official_members(official, share, needed):
    assert meetings.quorum_needed(official, Decimal(share)) == needed


@pytest.mark.parametrize("code", ["2018", "2025"])
def test_the_quorum_is_a_parameter_of_both_regimes_more_than_half_by_default(code):
    rulebook = get_rulebook(code)
    assert rulebook.default_parameters().ballot_quorum == Decimal("0.5")
    assert rulebook.parameters({"ballot_quorum": "0.6667"}).ballot_quorum == Decimal("0.6667")
    described = {row["name"]: row for row in rulebook.parameters_class.describe()}
    assert described["ballot_quorum"]["kind"] == "share"
    assert "quá nửa" in described["ballot_quorum"]["label_vi"]
    assert "more than half" in described["ballot_quorum"]["label_en"]


@pytest.mark.parametrize(
    ("value", "problem_en"),
    [
        ("1.5", "must be between 0 and 1"),
        ("-0.1", "must be between 0 and 1"),
        ("half", "must be a number"),
        (0.5, "write decimals as strings"),
        (True, "must be a number"),
    ],
)
@pytest.mark.parametrize("code", ["2018", "2025"])
def test_a_bad_quorum_is_refused_with_a_message_in_both_languages(code, value, problem_en):
    issues = get_rulebook(code).validate_parameters({"ballot_quorum": value})
    assert [issue.field for issue in issues] == ["ballot_quorum"]
    assert problem_en in issues[0].message_en and issues[0].message_en.startswith("Online ballot")
    assert issues[0].message_vi.startswith("Bỏ phiếu trực tuyến")


def test_the_board_cannot_save_a_period_with_a_bad_quorum(city, personas):
    form = PeriodForm(
        data={"organization": city.city.pk, "year": 2027, "regime": "2018", "parameters": '{"ballot_quorum": "2"}'}
    )
    assert not form.is_valid()
    assert "ballot_quorum" in " ".join(form.errors["parameters"])


# --- Nothing of the tally before the closing ----------------------------------------------------------------


def count_cells_of_print_view(page):
    """{name: the count columns (issued … KHTNV, proposal)} of every member's row of the printed minutes."""
    rows = re.findall(r'<tr><td>\d+</td><td class="name">([^<]*)</td>(.*?)</tr>', page)
    return {name: re.findall(r"<td>(.*?)</td>", cells) for name, cells in rows}


def test_no_count_and_no_proposal_shows_anywhere_while_the_ballot_is_open(
    period, voters, subjects, personas, city, client_for
):
    ballot = open_ballot_for(personas, city)
    votes = [
        ballot_choices(subjects, personas, member="HTXSNV", other="KHTNV", secretary="HTNV"),
        ballot_choices(subjects, personas, member="HTXSNV", other="KHTNV", secretary="HTXSNV"),
    ]
    for name, choices in zip(("member", "third"), votes, strict=True):
        meetings.ballot_vote(ballot=ballot, user=voters[name], choices=choices)
    client = client_for(personas.secretary_a1)
    page = client.get(reverse("assessments:meeting", args=[period.public_id, "chi-bo-a1"])).content.decode()
    # The count cells are empty (no value, no input) and no proposal is shown.
    assert re.findall(r'data-value="([^"]*)"', page) == [""] * (3 * 7)
    assert re.findall(r'<div class="live-proposal[^>]*>([^<]*)</div>', page) == [""] * 3
    for code in ("HTXSNV", "HTTNV", "HTNV", "KHTNV"):
        assert f"({code})" not in page
    assert "Khi cuộc bỏ phiếu còn mở, không ai xem được số phiếu" in page  # said plainly
    printed = client.get(reverse("assessments:meeting_print", args=[period.public_id, "chi-bo-a1"]))
    assert list(count_cells_of_print_view(printed.content.decode()).values()) == [[""] * 8] * 3
    docx = client.get(reverse("assessments:meeting_docx", args=[period.public_id, "chi-bo-a1"]))
    table = Document(io.BytesIO(docx.content)).tables[1]
    assert [[cell.text for cell in row.cells[2:]] for row in table.rows[1:]] == [[""] * 8] * 3
    # Not on the forms, not in the audit trail, not on the voter's own pages.
    assert not Assessment.objects.exclude(cell_proposed_level="").exists()
    assert not AuditEntry.objects.filter(action__in=["record_proposal", "ballot_close"]).exists()
    assert set(AuditEntry.objects.get(action="ballot_open").data) == {
        "organization", "voters", "subjects", "official_members", "quorum_needed"
    }  # fmt: skip
    assert client_for(voters["member"]).get(vote_url(ballot)).context["subjects"] == []
    # After the closing the same views show the counts.
    close(ballot, personas.secretary_a1)
    client = client_for(personas.secretary_a1)
    printed = client.get(reverse("assessments:meeting_print", args=[period.public_id, "chi-bo-a1"]))
    cells = count_cells_of_print_view(printed.content.decode())
    assert cells["Lê Thị Hoa"] == ["3", "2", "2", "2", "0", "0", "0", "HTXSNV"]


def test_the_admin_shows_no_ballot_table_at_all():
    for model in (Ballot, BallotTally, VoterMark, BallotCount, Meeting):
        assert model not in admin.site._registry, model


def test_those_who_voted_are_listed_by_name_not_in_the_order_of_voting(
    period, voters, subjects, personas, city, client_for
):
    ballot = open_ballot_for(personas, city)
    for name in ("member", "third", "secretary"):  # Hoa, Anh, Bình: neither name nor record order
        meetings.ballot_vote(ballot=ballot, user=voters[name], choices=ballot_choices(subjects, personas))
    page = client_for(personas.secretary_a1).get(reverse("assessments:meeting", args=[period.public_id, "chi-bo-a1"]))
    assert [m.full_name for m in page.context["sheet"].voters] == ["Phạm Đức Anh", "Trần Văn Bình", "Lê Thị Hoa"]
    listed = re.search(r'id="ballot-voters">(.*?)</p>', page.content.decode()).group(1)
    assert listed.index("Phạm Đức Anh") < listed.index("Trần Văn Bình") < listed.index("Lê Thị Hoa")


# --- The turnout in the minutes ------------------------------------------------------------------------------


def test_the_minutes_record_the_turnout_and_keep_it_when_the_roster_changes(
    period, voters, subjects, personas, city, client_for
):
    Member.objects.filter(pk=personas.member_a1_other.pk).update(user=None)  # two can vote, three official
    ballot = open_ballot_for(personas, city)
    for name in ("member", "secretary"):
        meetings.ballot_vote(ballot=ballot, user=voters[name], choices=ballot_choices(subjects, personas))
    close(ballot, personas.secretary_a1)
    # A member dies after the meeting: the minutes still say what the meeting had.
    Member.objects.filter(pk=personas.member_a1_other.pk).update(status=Member.Status.DECEASED)
    client = client_for(personas.secretary_a1)
    page = client.get(reverse("assessments:meeting", args=[period.public_id, "chi-bo-a1"]))
    assert page.context["sheet"].turnout == meetings.Turnout(official=3, eligible=2, voted=2, needed=2)
    turnout_table = re.search(r'id="ballot-turnout">(.*?)</table>', page.content.decode(), re.S).group(1)
    assert re.findall(r'<td class="text-end fw-semibold">(\d+)</td>', turnout_table) == ["3", "2", "2", "2"]
    expected = (
        "Số đảng viên chính thức của chi bộ: 3. "
        "Số đảng viên có quyền bỏ phiếu trực tuyến (có mặt, có tài khoản): 2. "
        "Số đảng viên đã bỏ phiếu: 2. "
        "Số phiếu tối thiểu để kết thúc bỏ phiếu: 2 (trên 3 đảng viên chính thức)."
    )
    printed = client.get(reverse("assessments:meeting_print", args=[period.public_id, "chi-bo-a1"]))
    assert expected in printed.content.decode()
    docx = client.get(reverse("assessments:meeting_docx", args=[period.public_id, "chi-bo-a1"]))
    text = "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    assert "Hình thức: bỏ phiếu kín trực tuyến." in text and expected in text


# --- Stopping a ballot that cannot reach the quorum ----------------------------------------------------------


def test_a_ballot_stopped_unread_leaves_no_trace_of_the_votes_and_paper_ballots_can_follow(
    period, voters, subjects, personas, city, client_for
):
    ballot = open_ballot_for(personas, city)
    meetings.ballot_vote(ballot=ballot, user=voters["member"], choices=ballot_choices(subjects, personas))
    close_url = reverse("assessments:ballot_close", args=[period.public_id, "chi-bo-a1"])
    assert client_for(personas.member).post(close_url, {"discard": "1"}).status_code == 404
    response = client_for(personas.secretary_a1).post(close_url, {"discard": "1"}, follow=True)
    assert "không ai xem" in response.content.decode()
    assert not Ballot.objects.exists() and not BallotTally.objects.exists() and not VoterMark.objects.exists()
    assert not BallotCount.objects.filter(issued__isnull=False).exists()
    entry = AuditEntry.objects.get(action="ballot_discard")
    assert (entry.actor, entry.data["voted"], entry.data["voters"]) == (personas.secretary_a1, 1, 3)
    meeting = Meeting.objects.get()
    lines = {
        str(a.public_id): dict(zip(meetings.COUNT_FIELDS, (3, 3, 3, 0, 3, 0, 0), strict=True))
        for a in subjects.values()
    }
    held = {"held_on": YESTERDAY, "members_total": 3, "present": 3, "absent": 0, "absentees": []}
    meetings.meeting_record(
        period=period,
        organization=city.cell_a1,
        user=personas.secretary_a1,
        minutes=held,
        lines=lines,
        base_version=meeting.version,
    )
    assert set(
        Assessment.objects.filter(pk__in=[a.pk for a in subjects.values()]).values_list(
            "cell_proposed_level", flat=True
        )
    ) == {"HTTNV"}
    # A ballot already stopped cannot be stopped again.
    with pytest.raises(services.WorkflowError):
        meetings.ballot_discard(ballot=ballot, user=personas.secretary_a1)


def test_a_closed_ballot_cannot_be_stopped(period, voters, subjects, personas, city):
    ballot = open_ballot_for(personas, city)
    cast(ballot, 2)
    close(ballot, personas.secretary_a1)
    with pytest.raises(services.WorkflowError):
        meetings.ballot_discard(ballot=ballot, user=personas.secretary_a1)
    assert Ballot.objects.get().state == Ballot.State.CLOSED
