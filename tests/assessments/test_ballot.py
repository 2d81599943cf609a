"""The online secret ballot: the secretary opens it, the members of the cell vote once each in the
browser, closing it fills the minutes; and what is stored cannot link a voter to a vote."""

import datetime

import pytest
from django.db import connection, transaction
from django.db.models import DateField, DateTimeField, ForeignKey
from django.urls import reverse

from assessments import meetings, services
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
from members.models import Member
from tests.factories import UserFactory

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
    # The choices made are put back into the page for the voter to finish.
    assert "checked" in response.content.decode()


def test_a_closed_ballot_takes_no_vote(period, voters, subjects, personas, city, client_for):
    ballot = open_ballot_for(personas, city)
    meetings.ballot_close(ballot=ballot, user=personas.secretary_a1)
    response = client_for(voters["member"]).post(vote_url(ballot), post_choices(ballot_choices(subjects, personas)))
    assert response.status_code == 400
    assert not VoterMark.objects.exists()
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
