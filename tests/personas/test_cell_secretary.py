"""The secretary (bí thư) of cell A1: follows the cell's forms, writes a member's self-review with her,
reminds those who have not submitted and prints the call list, returns a form with a reason, records
the self-reviews handed in on paper, writes the cell's own review, and holds the meeting: paper minutes
(2018) or the online secret ballot (2025). A secretary decides no level and finalises nothing.

The others' steps (the members' own submissions and votes, the officer's decisions, the board's
opening, finalising and publishing) are done through the services."""

import pytest
from django.urls import reverse

from assessments import meetings
from assessments.core import services
from assessments.decisions import closing
from assessments.models import Assessment, Ballot, Meeting, Period
from organizations.models import RoleAssignment
from organizations.policy import SYSTEM
from organizations.roles import grant_role
from tests.factories import UserFactory

from .steps import (
    classified_forms,
    decide_members,
    form_post,
    member_form,
    messages_of,
    minutes_post,
    open_period,
    own_review,
    period_trail,
    rank_below,
    submit_self_review,
    trail,
)

pytestmark = pytest.mark.django_db

S = Assessment.State


def cell_url(name, period, organization):
    return reverse(f"assessments:{name}", args=[period.public_id, organization.code])


def form_url(name, assessment):
    return reverse(f"assessments:{name}", args=[assessment.public_id])


@pytest.mark.parametrize(("regime", "meeting_kind"), [("2018", "minutes"), ("2025", "ballot")])
def test_the_secretary_carries_the_cell_from_the_forms_to_the_meetings_proposals(
    roles, client, regime, meeting_kind, mailoutbox, django_capture_on_commit_callbacks
):
    town = roles
    period = open_period(town, regime)
    secretary = town.user("bi_thu_a1")
    client.force_login(secretary)

    # 1. Home and the cell's dashboard: every member of the cell and the state of their form.
    home = client.get(reverse("home"))
    [panel] = home.context["panels"]
    assert panel["organization"] == town.cell_a1 and len(panel["members"]) == 6
    dashboard = client.get(cell_url("dashboard", period, town.cell_a1))
    assert dashboard.status_code == 200 and len(dashboard.context["forms"]) == 6

    # 2. It writes Mai's self-review with her (she has no computer): a draft, then submitted, for her.
    mai = member_form(period, town.member("helped"))
    page = client.get(form_url("form", mai))
    assert page.status_code == 200 and page.context["is_proxy"] and page.context["editable"]
    response = client.post(form_url("save", mai), form_post(mai, "HTTNV"))
    assert response.status_code == 302
    mai.refresh_from_db()
    assert (mai.state, mai.filled_by) == (S.DRAFT, secretary)
    response = client.post(form_url("submit", mai), form_post(mai, "HTTNV"))
    assert response.status_code == 302
    mai.refresh_from_db()
    assert (mai.state, mai.self_level) == (S.SUBMITTED, "HTTNV")
    for action in ("save", "submit"):
        [entry] = trail(mai, action)
        assert (entry.actor, entry.on_behalf_of) == (secretary, town.member("helped"))

    # 3. It reminds those who have not submitted: by e-mail where there is an address, else the call list.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(cell_url("remind", period, town.cell_a1))
    assert response.status_code == 302
    assert sorted(m.to[0] for m in mailoutbox) == ["binh@example.vn", "hoa@example.vn"]
    [reminded] = period_trail(period, "remind")
    assert reminded.actor == secretary and (reminded.data["emailed"], reminded.data["in_person"]) == (2, 2)
    calls = client.get(cell_url("call_list", period, town.cell_a1), {"without_email": "1"})
    assert calls.status_code == 200
    assert {form.member for _cell, forms in calls.context["groups"] for form in forms} == {
        town.member("third"),
        town.member("paper"),
    }

    # 4. Hoa submits; the secretary returns her form with a reason (a reason is required), she submits again.
    hoa = member_form(period, town.member("member"))
    submit_self_review(hoa, town.user("dang_vien"))
    client.post(form_url("return", hoa), {"reason": ""})
    hoa.refresh_from_db()
    assert hoa.state == S.SUBMITTED
    response = client.post(form_url("return", hoa), {"reason": "Bổ sung kết quả thực hiện cam kết"})
    assert response.status_code == 302
    hoa.refresh_from_db()
    assert (hoa.state, hoa.return_reason) == (S.RETURNED, "Bổ sung kết quả thực hiện cam kết")
    [returned] = trail(hoa, "return")
    assert (returned.actor, returned.on_behalf_of, returned.reason) == (secretary, None, hoa.return_reason)
    submit_self_review(hoa, town.user("dang_vien"))

    # 5. Cường handed his self-review in on paper: ticked with the level it proposes, submitted for him.
    cuong = member_form(period, town.member("paper"))
    page = client.get(cell_url("paper", period, town.cell_a1))
    assert cuong in page.context["forms"] and hoa not in page.context["forms"]
    response = client.post(
        cell_url("paper", period, town.cell_a1),
        # The total score the paper gives is asked where the regime scores (2025); 2018 asks none.
        {f"received-{cuong.pk}": "1", f"level-{cuong.pk}": "HTTNV", f"score-{cuong.pk}": "82,5"},
    )
    assert response.status_code == 302
    cuong.refresh_from_db()
    assert (cuong.state, cuong.on_paper, cuong.self_level) == (S.SUBMITTED, True, "HTTNV")
    [paper] = trail(cuong, "submit")
    assert (paper.actor, paper.on_behalf_of, paper.data) == (
        secretary,
        town.member("paper"),
        {"on_paper": True, "level": "HTTNV"},
    )

    # 6. Its own self-review (it is a member of the cell) and the cell's review; Anh submits his.
    binh = member_form(period, town.member("secretary"))
    assert client.post(form_url("submit", binh), form_post(binh, "HTTNV")).status_code == 302
    binh.refresh_from_db()
    assert binh.state == S.SUBMITTED
    [own] = trail(binh, "submit")
    assert (own.actor, own.on_behalf_of) == (secretary, None)
    review = own_review(period, town.cell_a1)
    assert client.post(form_url("submit", review), form_post(review, "HTTNV")).status_code == 302
    review.refresh_from_db()
    assert review.state == S.SUBMITTED and trail(review, "submit")[0].actor == secretary
    submit_self_review(member_form(period, town.member("third")), town.user("pham_duc_anh"))
    assert {form.state for form in classified_forms(period, town.cell_a1)} == {S.SUBMITTED}

    # 7. The meeting.
    meeting_page = cell_url("meeting", period, town.cell_a1)
    assert client.get(meeting_page).status_code == 200
    if meeting_kind == "minutes":
        # Minutes that do not add up are refused with the places to correct; nothing is saved.
        wrong = minutes_post(period, town.cell_a1, "HTTNV")
        wrong["present"] = "9"
        response = client.post(meeting_page, wrong)
        assert response.status_code == 400 and response.context["problems"]
        assert not Meeting.objects.exists()
        response = client.post(meeting_page, minutes_post(period, town.cell_a1, "HTTNV"))
        assert response.status_code == 302, messages_of(response)
        assert client.get(cell_url("meeting_print", period, town.cell_a1)).status_code == 200
        assert client.get(cell_url("meeting_docx", period, town.cell_a1)).status_code == 200
    else:
        # The attendance first, then the ballot; the members present with an account vote.
        response = client.post(meeting_page, minutes_post(period, town.cell_a1, "HTTNV", counted=False))
        assert response.status_code == 302, messages_of(response)
        response = client.post(cell_url("ballot_open", period, town.cell_a1))
        ballot = Ballot.objects.get()
        assert ballot.state == Ballot.State.OPEN and ballot.opened_by == secretary, messages_of(response)
        assert period_trail(period, "ballot_open")[0].actor == secretary
        assert {m.pk for m in ballot.eligible_voters.all()} == {
            town.member(key).pk for key in ("secretary", "member", "third")
        }
        # The secretary votes too, as a member of the cell, on the ballot paper.
        paper_page = client.get(reverse("assessments:ballot_vote", args=[ballot.public_id]))
        subjects = [assessment for assessment, *_rest in paper_page.context["subjects"]]
        assert len(subjects) == 5
        vote = {f"vote-{a.public_id}": "HTTNV" for a in subjects}
        assert client.post(reverse("assessments:ballot_vote", args=[ballot.public_id]), vote).status_code == 302
        choices = {key.removeprefix("vote-"): level for key, level in vote.items()}
        meetings.ballot_vote(ballot=ballot, user=town.user("dang_vien"), choices=choices)
        # Two of the five official members have voted: not more than half, so it is not closed.
        response = client.post(cell_url("ballot_close", period, town.cell_a1), follow=True)
        ballot.refresh_from_db()
        assert ballot.state == Ballot.State.OPEN
        assert any("3" in message for message in messages_of(response))
        meetings.ballot_vote(ballot=ballot, user=town.user("pham_duc_anh"), choices=choices)
        response = client.post(cell_url("ballot_close", period, town.cell_a1))
        ballot.refresh_from_db()
        assert (ballot.state, ballot.closed_by) == (Ballot.State.CLOSED, secretary)
        assert period_trail(period, "ballot_close")[0].actor == secretary
    meeting = Meeting.objects.get()
    assert (meeting.organization, meeting.recorded_by, meeting.present, meeting.absent) == (
        town.cell_a1,
        secretary,
        5,
        1,
    )
    assert period_trail(period, "meeting_record")[0].actor == secretary
    for form in classified_forms(period, town.cell_a1):
        assert (form.state, form.cell_proposed_level, form.decided_level) == (S.CELL_REVIEWED, "HTTNV", "")
        [proposal] = trail(form, "record_proposal")
        assert proposal.actor == secretary and proposal.data["level"] == "HTTNV"

    # The officer decides, the board finalises and publishes; the dashboard shows the published levels.
    board = town.user("ban_to_chuc")
    decide_members(period, town.committee_a, town.user("can_bo_a"))
    decide_members(period, town.committee_b, town.user("can_bo_b"))
    decide_members(period, town.cell_c, town.user("can_bo_c"))
    rank_below(period, town.committee_a, town.user("can_bo_a"))
    rank_below(period, town.committee_b, town.user("can_bo_b"))
    rank_below(period, town.city, board)
    services.period_close(period=period, user=board)
    closing.period_finalise(period=Period.objects.get(pk=period.pk), user=board)
    closing.period_publish(period=Period.objects.get(pk=period.pk), user=board)
    dashboard = client.get(cell_url("dashboard", period, town.cell_a1))
    assert dashboard.context["published"] is True
    assert {form.decided_level for form in dashboard.context["forms"] if form.classified} == {"HTTNV"}


def test_the_secretary_can_neither_decide_levels_nor_finalise(roles, client):
    town = roles
    period = open_period(town, "2018")
    secretary, board = town.user("bi_thu_a1"), town.user("ban_to_chuc")
    secretary.refresh_from_db()
    assert not secretary.is_staff and not secretary.is_superuser and secretary.user_permissions.count() == 0
    client.force_login(secretary)
    hoa = member_form(period, town.member("member"))
    other = member_form(period, town.member("a2_first"))
    # Levels are decided by the grassroots committee: not on the cell, not on the committee.
    for organization in (town.cell_a1, town.committee_a):
        assert client.get(cell_url("decide", period, organization)).status_code == 404
        response = client.post(cell_url("decide", period, organization), {f"level-{hoa.pk}": "HTXSNV"})
        assert response.status_code == 404
        assert client.get(cell_url("rank", period, organization)).status_code == 404
    hoa.refresh_from_db()
    assert hoa.decided_level == "" and hoa.state == S.NOT_STARTED
    # Nothing outside the cell: the neighbouring cell, its members, the board's roster.
    assert client.get(cell_url("dashboard", period, town.cell_a2)).status_code == 404
    assert client.get(cell_url("meeting", period, town.cell_a2)).status_code == 404
    assert client.get(form_url("form", other)).status_code == 404
    assert client.get(reverse("assessments:roster", args=[period.public_id])).status_code == 404
    # No admin: neither the periods' actions nor deciding at the proposals.
    for action, selected in [
        ("admin:assessments_period_changelist", ("finalise_periods", period.pk)),
        ("admin:assessments_assessment_changelist", ("decide_as_proposed", hoa.pk)),
    ]:
        response = client.post(reverse(action), {"action": selected[0], "_selected_action": [selected[1]]})
        assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
    # Once the period is finalised, it cannot reopen a level either.
    decide_members(period, town.committee_a, town.user("can_bo_a"))
    decide_members(period, town.committee_b, town.user("can_bo_b"))
    decide_members(period, town.cell_c, town.user("can_bo_c"))
    rank_below(period, town.committee_a, town.user("can_bo_a"))
    rank_below(period, town.committee_b, town.user("can_bo_b"))
    rank_below(period, town.city, board)
    assert Period.objects.get(pk=period.pk).state == Period.State.OPEN
    closing.period_finalise(period=Period.objects.get(pk=period.pk), user=board)
    response = client.post(form_url("reopen", hoa), {"reason": "Chi bộ đề nghị xem lại"})
    hoa.refresh_from_db()
    assert response.status_code == 302 and not hoa.reopened and not trail(hoa, "reopen")


def test_the_secretary_of_a_grassroots_cell_decides_its_members_levels(roles, client):
    """A grassroots cell (chi bộ cơ sở, here cell C) is itself the grassroots level: its cell committee,
    led by its secretary, decides its members' levels, while a subordinate cell's secretary cannot
    (above): the grassroots committee above decides there."""
    town = roles
    period = open_period(town, "2018")
    secretary_c = UserFactory(username="bi_thu_c")
    grant_role(user=secretary_c, organization=town.cell_c, role=RoleAssignment.Role.CELL_SECRETARY, actor=SYSTEM)
    client.force_login(secretary_c)
    form = member_form(period, town.member("c_first"))
    assert client.get(cell_url("decide", period, town.cell_c)).status_code == 200
    response = client.post(cell_url("decide", period, town.cell_c), {f"level-{form.pk}": "HTNV"})
    assert response.status_code == 302
    form.refresh_from_db()
    assert (form.decided_level, form.decided_by) == ("HTNV", secretary_c)
