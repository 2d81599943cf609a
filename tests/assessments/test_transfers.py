"""A member transferred during the review (HD 21 tiết 6): the receiving organisation decides, with the
former cell's written comment when the member spent 6 months or more of the year there; both sides see
the member and where their review stands."""

import datetime

import pytest
from django.urls import reverse

from assessments.core import services, transfers
from assessments.core.facts import member_facts_for
from assessments.models import Assessment, AuditEntry, Period
from members.models import Member, Transfer
from organizations.models import Organization, RoleAssignment
from tests.factories import OrganizationFactory, UserFactory, grant
from tests.helpers import scored_2025

pytestmark = pytest.mark.django_db
S = Assessment.State


@pytest.fixture(autouse=True)
def retired(personas):
    """Retired members: no civil-service rating is needed before deciding them."""
    Member.objects.update(occupation=Member.Occupation.RETIRED)


@pytest.fixture
def officer_b(city):
    """The officer of grassroots committee B (cell B1), the receiving side below."""
    user = UserFactory(username="officer_b", first_name="Cán bộ B")
    grant(user, RoleAssignment.Role.COMMITTEE_OFFICER, city.committee_b)
    return user


def open_period(city, personas, regime="2018", year=2026):
    period = Period.objects.create(organization=city.city, year=year, regime=regime)
    services.period_open(period=period, user=personas.board)
    period.refresh_from_db()
    return period


def transfer(personas, member, to_cell, on, from_cell=None):
    return transfers.transfer_record(
        transfer=Transfer(member=member, from_cell=from_cell or member.cell, to_cell=to_cell, transferred_on=on),
        user=personas.board,
    )


def review_of(period, member):
    return Assessment.objects.select_related("organization", "former_organization").get(period=period, member=member)


def decide_url(period, organization, **params):
    address = reverse("assessments:decide", args=[period.public_id, organization.code])
    return address + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def meeting_url(period, cell):
    return reverse("assessments:meeting", args=[period.public_id, cell.code])


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- The review follows the member ----------------------------------------------------------------------------


def test_a_transfer_after_the_opening_moves_the_open_review_to_the_receiving_cell(city, personas):
    period = open_period(city, personas)
    mover = personas.member_a1_other
    recorded = transfer(personas, mover, city.cell_b1, datetime.date(2026, 3, 1))
    review = review_of(period, mover)
    assert [a.pk for a in recorded.moved] == [review.pk]
    assert review.organization == city.cell_b1 and review.former_organization == city.cell_a1
    mover.refresh_from_db()
    assert mover.cell == city.cell_b1
    entry = AuditEntry.objects.get(assessment=review, action=AuditEntry.Action.TRANSFER)
    assert entry.actor == personas.board
    assert entry.data == {
        "member": mover.card_number,
        "from": "chi-bo-a1",
        "to": "chi-bo-b1",
        "transferred_on": "2026-03-01",
        "outcome": "moved",
    }


def test_the_receiving_committee_decides_and_the_former_is_refused_with_the_reason(
    city, personas, officer_b, client_for, settings
):
    settings.LANGUAGE_CODE = "en"
    period = open_period(city, personas)
    mover = personas.member_a1_other
    transfer(personas, mover, city.cell_b1, datetime.date(2026, 3, 1))
    review = review_of(period, mover)

    client = client_for(personas.officer_a)
    refused = client.post(decide_url(period, city.committee_a), {f"level-{review.pk}": "HTTNV"}, follow=False)
    assert refused.status_code == 400
    assert any(
        "Phạm Đức Anh was transferred from Chi bộ A1 to Chi bộ B1 on 01/03/2026: the receiving organisation decides"
        in message
        for message in messages_of(refused)
    ), messages_of(refused)
    review.refresh_from_db()
    assert review.decided_level == ""

    client = client_for(officer_b)
    screen = client.get(decide_url(period, city.committee_b, cell=city.cell_b1.code))
    assert review.pk in [row.assessment.pk for row in screen.context["rows"]]
    assert "Transferred in from Chi bộ A1 on 01/03/2026" in screen.content.decode()
    decided = client.post(decide_url(period, city.committee_b), {f"level-{review.pk}": "HTTNV"})
    assert decided.status_code == 302, messages_of(decided)
    review.refresh_from_db()
    assert review.decided_level == "HTTNV" and review.state == S.DECIDED and review.decided_by == officer_b


def test_the_former_committee_sees_the_member_transferred_out_with_the_state(city, personas, client_for, settings):
    settings.LANGUAGE_CODE = "en"
    period = open_period(city, personas)
    mover = personas.member_a1_other
    transfer(personas, mover, city.cell_b1, datetime.date(2026, 3, 1))
    Assessment.objects.filter(period=period, member=mover).update(state=S.SUBMITTED)

    page = client_for(personas.officer_a).get(decide_url(period, city.committee_a))
    lines = page.context["transfers"].out
    assert [(line.member, line.transfer.to_cell, line.assessment.state) for line in lines] == [
        (mover, city.cell_b1, S.SUBMITTED)
    ]
    html = page.content.decode()
    assert 'id="transferred-out"' in html and "Phạm Đức Anh" in html and "Submitted" in html
    # Not among the rows to decide, and not counted in the cells' figures.
    cell_page = client_for(personas.officer_a).get(decide_url(period, city.committee_a, cell=city.cell_a1.code))
    assert mover not in [row.assessment.member for row in cell_page.context["rows"]]
    assert [line.member for line in cell_page.context["transfers"].out] == [mover]


def test_a_transfer_inside_one_committee_moves_the_member_between_its_cells(city, personas, client_for):
    period = open_period(city, personas)
    mover = personas.member_a1_other
    transfer(personas, mover, city.cell_a2, datetime.date(2026, 3, 1))
    client = client_for(personas.officer_a)
    a1 = client.get(decide_url(period, city.committee_a, cell=city.cell_a1.code))
    a2 = client.get(decide_url(period, city.committee_a, cell=city.cell_a2.code))
    assert mover not in [row.assessment.member for row in a1.context["rows"]]
    assert [line.member for line in a1.context["transfers"].out] == [mover]
    assert mover in [row.assessment.member for row in a2.context["rows"]]
    # On the whole committee's page the member is simply one of its own.
    assert client.get(decide_url(period, city.committee_a)).context["transfers"].out == []


def test_a_transfer_after_the_decision_leaves_the_level_where_it_was_decided(
    city, personas, officer_b, client_for, settings
):
    settings.LANGUAGE_CODE = "en"
    period = open_period(city, personas)
    mover = personas.member_a1_other
    review = review_of(period, mover)
    assert (
        client_for(personas.officer_a)
        .post(decide_url(period, city.committee_a), {f"level-{review.pk}": "HTTNV"})
        .status_code
        == 302
    )

    recorded = transfer(personas, mover, city.cell_b1, datetime.date(2026, 11, 20))
    assert [a.pk for a in recorded.decided] == [review.pk] and not recorded.moved
    review.refresh_from_db()
    assert review.organization == city.cell_a1 and review.former_organization is None
    assert review.decided_level == "HTTNV" and review.state == S.DECIDED
    assert AuditEntry.objects.get(assessment=review, action="transfer").data["outcome"] == "decided"

    # The former side keeps the row, decided, and says why it is still there.
    former = client_for(personas.officer_a).get(decide_url(period, city.committee_a, cell=city.cell_a1.code))
    assert review.pk in [row.assessment.pk for row in former.context["rows"]]
    assert "Transferred to Chi bộ B1 on 20/11/2026: decided here before the transfer" in former.content.decode()

    # The receiving side sees the member, decided by the former organisation, and cannot decide again.
    client = client_for(officer_b)
    receiving = client.get(decide_url(period, city.committee_b))
    assert [(line.member, line.assessment.state) for line in receiving.context["transfers"].into] == [
        (mover, S.DECIDED)
    ]
    assert 'id="transferred-in"' in receiving.content.decode()
    refused = client.post(decide_url(period, city.committee_b), {f"level-{review.pk}": "HTXSNV"})
    assert refused.status_code == 400
    assert any("it stays as decided by Chi bộ A1" in message for message in messages_of(refused))
    review.refresh_from_db()
    assert review.decided_level == "HTTNV"


def test_a_transfer_before_the_opening_needs_nothing_moved(city, personas):
    mover = personas.member_a1_other
    recorded = transfer(personas, mover, city.cell_b1, datetime.date(2026, 2, 1))
    assert not (recorded.moved or recorded.decided or recorded.outside)
    assert AuditEntry.objects.get(action="transfer").data["outcome"] == "no_open_review"
    period = open_period(city, personas)
    assert review_of(period, mover).organization == city.cell_b1


def test_only_the_board_records_a_transfer(city, personas):
    open_period(city, personas)
    with pytest.raises(services.WorkflowError):
        transfers.transfer_record(
            transfer=Transfer(
                member=personas.member_a1_other,
                from_cell=city.cell_a1,
                to_cell=city.cell_b1,
                transferred_on=datetime.date(2026, 3, 1),
            ),
            user=personas.officer_a,
        )
    assert not Transfer.objects.exists()


# --- The former cell's comment ---------------------------------------------------------------------------------


def test_six_months_in_the_former_cell_without_its_comment_blocks_the_receiving_decision(
    city, personas, officer_b, client_for, settings
):
    settings.LANGUAGE_CODE = "en"
    period = open_period(city, personas)
    mover = personas.member_a1_other
    transfer(personas, mover, city.cell_b1, datetime.date(2026, 7, 1))  # 1 January to 1 July: 6 months
    review = review_of(period, mover)

    client = client_for(officer_b)
    screen = client.get(decide_url(period, city.committee_b, cell=city.cell_b1.code))
    row = next(row for row in screen.context["rows"] if row.assessment.pk == review.pk)
    assert any("6 months in Chi bộ A1: the written comment of Chi bộ A1 is required" in m for m in row.blocking)
    refused = client.post(
        decide_url(period, city.committee_b), {f"level-{review.pk}": "HTTNV", "cell": city.cell_b1.code}
    )
    assert refused.status_code == 400
    assert "The rules do not allow HTTNV" in refused.content.decode()
    assert "the written comment of Chi bộ A1 is required" in refused.content.decode()
    review.refresh_from_db()
    assert review.decided_level == ""

    # The former cell's secretary sends the comment from the meeting page; the finding goes quiet.
    meeting = client_for(personas.secretary_a1).get(meeting_url(period, city.cell_a1))
    assert [line.member for line in meeting.context["transferred_out"]] == [mover]
    moved = Transfer.objects.get(member=mover)
    sent = client_for(personas.secretary_a1).post(
        reverse("assessments:transfer_comment", args=[period.public_id, city.cell_a1.code, moved.pk]),
        {"comment": "Đồng chí hoàn thành tốt nhiệm vụ trong 6 tháng đầu năm."},
    )
    assert sent.status_code == 302
    moved.refresh_from_db()
    assert moved.former_cell_comment.startswith("Đồng chí hoàn thành tốt")
    entry = AuditEntry.objects.get(action=AuditEntry.Action.TRANSFER_COMMENT)
    assert entry.actor == personas.secretary_a1 and entry.assessment == review and entry.period == period

    screen = client_for(officer_b).get(decide_url(period, city.committee_b, cell=city.cell_b1.code))
    row = next(row for row in screen.context["rows"] if row.assessment.pk == review.pk)
    assert not any("Chi bộ A1" in m for m in row.blocking + row.warnings)
    decided = client_for(officer_b).post(decide_url(period, city.committee_b), {f"level-{review.pk}": "HTTNV"})
    assert decided.status_code == 302
    review.refresh_from_db()
    assert review.decided_level == "HTTNV"


def test_under_six_calendar_months_no_comment_is_needed(city, personas):
    period = open_period(city, personas)
    mover = personas.member_a1_other
    transfer(personas, mover, city.cell_b1, datetime.date(2026, 6, 30))  # 5 months and 29 days
    facts = member_facts_for([mover], 2026)[mover.pk]
    assert [(t.months_in_former_cell, t.former_cell, t.former_cell_comment_received) for t in facts.transfers] == [
        (5, "Chi bộ A1", False)
    ]
    from assessments.decisions.selectors import decision_rows

    rows, _rulebook, _params = decision_rows(period, city.committee_b)
    row = next(row for row in rows if row.assessment.member == mover)
    assert not any("R2018-M-TRANSFER" == f.rule_id for f in row.evaluation.findings)


def test_the_months_count_from_the_previous_transfer_in_calendar_months(city, personas):
    mover = personas.member_a1_other
    transfer(personas, mover, city.cell_a2, datetime.date(2026, 2, 15), from_cell=city.cell_a1)
    transfer(personas, mover, city.cell_b1, datetime.date(2026, 8, 14), from_cell=city.cell_a2)
    facts = member_facts_for([mover], 2026)[mover.pk]
    # 1 Jan to 15 Feb: 1 month in A1; 15 Feb to 14 Aug: 5 whole calendar months in A2 (not 180 days / 30).
    assert [(t.former_cell, t.months_in_former_cell) for t in facts.transfers] == [("Chi bộ A1", 1), ("Chi bộ A2", 5)]


def test_a_transfer_after_the_year_that_moved_its_review_counts_the_whole_year(city, personas):
    period = open_period(city, personas)
    mover = personas.member_a1_other
    transfer(personas, mover, city.cell_b1, datetime.date(2027, 1, 10))
    assert review_of(period, mover).organization == city.cell_b1
    facts = member_facts_for([mover], 2026)[mover.pk]
    assert [(t.months_in_former_cell, t.former_cell) for t in facts.transfers] == [(12, "Chi bộ A1")]


def test_under_the_2025_rules_the_missing_comment_is_a_warning_that_asks_for_a_reason(
    city, personas, officer_b, client_for, settings
):
    settings.LANGUAGE_CODE = "en"
    period = open_period(city, personas, regime="2025")
    mover = personas.member_a1_other
    transfer(personas, mover, city.cell_b1, datetime.date(2026, 9, 1))
    review = review_of(period, mover)
    scored_2025([review])  # a score and the task shares: nothing else blocks the row
    client = client_for(officer_b)
    screen = client.get(decide_url(period, city.committee_b, cell=city.cell_b1.code))
    row = next(row for row in screen.context["rows"] if row.assessment.pk == review.pk)
    assert any("the written comment of Chi bộ A1 should come before classification" in m for m in row.warnings)
    assert not row.blocking


def test_only_those_who_lead_the_former_cell_write_its_comment(city, personas, client_for, settings):
    settings.LANGUAGE_CODE = "en"
    period = open_period(city, personas)
    mover = personas.member_a1_other
    transfer(personas, mover, city.cell_b1, datetime.date(2026, 8, 1))
    moved = Transfer.objects.get(member=mover)
    address = reverse("assessments:transfer_comment", args=[period.public_id, city.cell_a1.code, moved.pk])
    assert client_for(personas.secretary_b1).post(address, {"comment": "x"}).status_code == 404
    # Through the receiving cell's page the transfer is not found either.
    other = reverse("assessments:transfer_comment", args=[period.public_id, city.cell_b1.code, moved.pk])
    assert client_for(personas.secretary_b1).post(other, {"comment": "x"}).status_code == 404
    moved.refresh_from_db()
    assert moved.former_cell_comment == ""
    empty = client_for(personas.secretary_a1).post(address, {"comment": "  "}, follow=True)
    assert "Please write the former cell&#x27;s comment." in empty.content.decode()
    assert not AuditEntry.objects.filter(action="transfer_comment").exists()


# --- Both cells' meeting pages --------------------------------------------------------------------------------


def test_the_receiving_cell_meets_on_the_member_and_the_former_one_shows_where_they_went(
    city, personas, client_for, settings
):
    settings.LANGUAGE_CODE = "en"
    period = open_period(city, personas)
    mover = personas.member_a1_other
    transfer(personas, mover, city.cell_b1, datetime.date(2026, 8, 1))
    receiving = client_for(personas.secretary_b1).get(meeting_url(period, city.cell_b1))
    line = next(line for line in receiving.context["sheet"].lines if line.member == mover)
    assert any("the written comment of Chi bộ A1 is required" in message for message in line.blocking)
    assert "Transferred in from Chi bộ A1 on 01/08/2026" in receiving.content.decode()
    former = client_for(personas.secretary_a1).get(meeting_url(period, city.cell_a1))
    assert mover not in [line.member for line in former.context["sheet"].lines]
    html = former.content.decode()
    assert 'id="transferred-out"' in html and "transferred to Chi bộ B1 on 01/08/2026" in html
    assert "Not started" in html and "reviewed by Chi bộ B1" in html


# --- Out of the organisation under review -----------------------------------------------------------------------


def test_a_member_transferred_out_of_the_city_is_not_classified_by_it(city, personas, client_for, settings):
    settings.LANGUAGE_CODE = "en"
    period = open_period(city, personas)
    province = OrganizationFactory(code="tinh-khac", name="Đảng bộ tỉnh khác", kind=Organization.Kind.CITY_COMMITTEE)
    far_cell = OrganizationFactory(parent=province, code="chi-bo-xa", name="Chi bộ Xa")
    mover = personas.member_a1_other
    recorded = transfer(personas, mover, far_cell, datetime.date(2026, 9, 1))
    review = review_of(period, mover)
    assert [a.pk for a in recorded.outside] == [review.pk]
    assert review.organization == city.cell_a1 and not review.classified
    assert review.exclusion_rule == "R2018-M-TRANSFER" and review.exclusion_reason == "transferred_out"
    assert review.exclusion_text_in("en").startswith(
        "Transferred on 01/09/2026 to Chi bộ Xa, outside the organisation: the receiving organisation classifies"
    )
    page = client_for(personas.officer_a).get(decide_url(period, city.committee_a, cell=city.cell_a1.code))
    row = next(row for row in page.context["rows"] if row.assessment.pk == review.pk)
    assert not row.editable
    assert "Transferred to Chi bộ Xa on 01/09/2026, outside the organisation" in page.content.decode()
