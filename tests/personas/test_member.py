"""A party member (Lê Thị Hoa, cell A1) with an account: writes her self-review (the page autosaves),
submits it, votes in the cell's online secret ballot, and learns her level only once the board
publishes it: not on her home page, her list of reviews, her form or her record before then. The
managers' pages are not hers: they answer 404.

The others' steps (the secretary's meeting and ballot, the officer's decision, the board's period) are
done through the services."""

import pytest
from django.urls import reverse

from assessments import meetings
from assessments.core import services
from assessments.decisions import closing
from assessments.models import Assessment, Ballot, VoterMark

from .steps import (
    REGIMES,
    answers_for,
    as_post,
    decide_members,
    form_post,
    member_form,
    messages_of,
    open_period,
    rank_below,
    record_minutes,
    submit_cell,
    trail,
)

pytestmark = pytest.mark.django_db

S = Assessment.State
LEVEL_SHOWN = "own-level"  # the mark of the member's level on the home page and the list of reviews


def form_url(name, assessment):
    return reverse(f"assessments:{name}", args=[assessment.public_id])


def open_ballot(period, town):
    """The secretary's meeting: the attendance recorded, then the online ballot opened."""
    secretary = town.user("bi_thu_a1")
    record_minutes(period, town.cell_a1, secretary, counted=False)
    return meetings.ballot_open(period=period, organization=town.cell_a1, user=secretary)


def shows_no_level(client, own):
    """Nothing of the decided level on any of the member's pages."""
    home = client.get(reverse("home")).content.decode()
    assert LEVEL_SHOWN not in home and "cell-level" not in home
    mine = client.get(reverse("assessments:mine"))
    assert mine.status_code == 200 and LEVEL_SHOWN not in mine.content.decode()
    page = client.get(form_url("form", own))
    assert page.context["show_result"] is False
    assert "Mức xếp loại đã quyết định" not in page.content.decode()
    # Her history tells of the cell's proposal and the decision, without their levels.
    history = page.context["history"]
    assert {"record_proposal", "decide"} <= {entry.action for entry in history}
    assert [entry.detail for entry in history] == [""] * len(history)
    record = client.get(reverse("members:me"), follow=True)
    assert record.status_code == 200 and record.context["history"] == []


@pytest.mark.parametrize("regime", REGIMES)
def test_the_member_writes_votes_and_sees_her_level_only_once_published(roles, client, regime):
    town = roles
    period = open_period(town, regime)
    member, record = town.user("dang_vien"), town.member("member")
    member.refresh_from_db()
    assert not member.is_staff and member.user_permissions.count() == 0 and not member.groups.exists()
    client.force_login(member)
    own = member_form(period, record)

    # 1. Her home page leads to her self-review.
    home = client.get(reverse("home"))
    assert [review.pk for review in home.context["own_reviews"]] == [own.pk]
    assert form_url("form", own) in home.content.decode()
    page = client.get(form_url("form", own))
    assert page.status_code == 200 and page.context["editable"] and not page.context["is_proxy"]

    # 2. The page autosaves what she has written so far (JSON to the page's script).
    answers = answers_for(own, "HTTNV")
    first_item = next(key for key in as_post(answers) if key.startswith("item-strengths"))
    response = client.post(
        form_url("save", own), {"version": "0", first_item: "Phần đầu"}, HTTP_X_REQUESTED_WITH="fetch"
    )
    assert response.status_code == 200 and response.json()["version"] == 1
    own.refresh_from_db()
    assert own.state == S.DRAFT and own.filled_by == member
    [saved] = trail(own, "save")
    assert (saved.actor, saved.on_behalf_of) == (member, None)

    # 3. She submits the whole form; after that it can be read, not changed.
    response = client.post(form_url("submit", own), form_post(own, "HTTNV"))
    assert response.status_code == 302, messages_of(response)
    own.refresh_from_db()
    assert (own.state, own.self_level, own.on_paper) == (S.SUBMITTED, "HTTNV", False)
    [submitted] = trail(own, "submit")
    assert (submitted.actor, submitted.on_behalf_of) == (member, None)
    text = dict(own.answers)
    response = client.post(form_url("save", own), {"version": str(own.version), first_item: "Sửa lại"})
    assert response.status_code == 400
    own.refresh_from_db()
    assert own.answers == text and own.state == S.SUBMITTED

    # 4. The cell meets and votes online: the ballot waits for her on her home page.
    submit_cell(period, town.cell_a1, town.user("bi_thu_a1"))
    ballot = open_ballot(period, town)
    home = client.get(reverse("home"))
    assert [b.pk for b in home.context["open_ballots"]] == [ballot.pk]
    assert client.get(reverse("assessments:my_ballots")).context["rows"] == [(ballot, False)]
    vote_page = reverse("assessments:ballot_vote", args=[ballot.public_id])
    subjects = [assessment for assessment, *_rest in client.get(vote_page).context["subjects"]]
    assert len(subjects) == 5
    vote = {f"vote-{a.public_id}": "HTTNV" for a in subjects}
    # A ballot paper with a member left out is refused and not counted.
    incomplete = dict(list(vote.items())[:-1])
    assert client.post(vote_page, incomplete).status_code == 400
    assert not VoterMark.objects.exists()
    assert client.post(vote_page, vote).status_code == 302
    assert VoterMark.objects.get().voter == record
    # Once only: nothing of her vote is shown back, and a second ballot is refused.
    again = client.get(vote_page)
    assert again.context["has_voted"] is True and again.context["subjects"] == []
    assert client.post(vote_page, vote).status_code == 400
    assert VoterMark.objects.count() == 1
    assert client.get(reverse("home")).context["open_ballots"] == []
    choices = {key.removeprefix("vote-"): level for key, level in vote.items()}
    for username in ("bi_thu_a1", "pham_duc_anh"):
        meetings.ballot_vote(ballot=ballot, user=town.user(username), choices=choices)
    meetings.ballot_close(ballot=Ballot.objects.get(pk=ballot.pk), user=town.user("bi_thu_a1"))
    own.refresh_from_db()
    assert (own.state, own.cell_proposed_level) == (S.CELL_REVIEWED, "HTTNV")

    # 5. Decided and finalised, not yet published: she sees no level anywhere.
    board = town.user("ban_to_chuc")
    decide_members(period, town.committee_a, town.user("can_bo_a"), "HTTNV")
    decide_members(period, town.committee_b, town.user("can_bo_b"))
    decide_members(period, town.cell_c, town.user("can_bo_c"))
    rank_below(period, town.committee_a, town.user("can_bo_a"), "HTNV")
    rank_below(period, town.committee_b, town.user("can_bo_b"))
    rank_below(period, town.city, board, "HTNV")  # committee A's cells are HTNV: it can be no higher
    own.refresh_from_db()
    assert own.decided_level == "HTTNV"
    shows_no_level(client, own)
    services.period_close(period=period, user=board)
    closing.period_finalise(period=period, user=board)
    shows_no_level(client, own)

    # 6. Published: her level, and her cell's, on her home page, her reviews, her form and her record.
    closing.period_publish(period=period, user=board)
    home = client.get(reverse("home")).content.decode()
    assert "Mức xếp loại của đồng chí: <strong>Hoàn thành tốt nhiệm vụ</strong>" in home
    assert "Mức xếp loại của Chi bộ khu phố 1" in home
    mine = client.get(reverse("assessments:mine")).content.decode()
    assert LEVEL_SHOWN in mine and "Hoàn thành tốt nhiệm vụ" in mine
    page = client.get(form_url("form", own))
    assert page.context["show_result"] is True and "Mức xếp loại đã quyết định" in page.content.decode()
    record_page = client.get(reverse("members:me"), follow=True)
    assert [(a.period, a.decided_level) for a in record_page.context["history"]] == [(period, "HTTNV")]
    assert record_page.context["history"][0].cell_level.decided_level == "HTNV"


def test_the_managers_pages_are_not_the_members(roles, client):
    town = roles
    period = open_period(town, "2018")
    client.force_login(town.user("dang_vien"))
    own = member_form(period, town.member("member"))
    neighbour = member_form(period, town.member("third"))
    a1, committee = town.cell_a1, town.committee_a
    for name, args in [
        ("assessments:dashboard", [period.public_id, a1.code]),
        ("assessments:meeting", [period.public_id, a1.code]),
        ("assessments:paper", [period.public_id, a1.code]),
        ("assessments:call_list", [period.public_id, a1.code]),
        ("assessments:decide", [period.public_id, committee.code]),
        ("assessments:rank", [period.public_id, committee.code]),
        ("assessments:stats", [period.public_id, committee.code]),
        ("assessments:export", [period.public_id, committee.code]),
        ("assessments:roster", [period.public_id]),
        ("assessments:form", [neighbour.public_id]),
        ("assessments:analysis", [own.public_id]),
        ("accounts:organization_accounts", [a1.code]),
        ("organizations:detail", [a1.code]),
        ("organizations:list", []),
        ("members:list", []),
        ("members:detail", [town.member("third").public_id]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 404, name
    for name, args in [
        ("assessments:remind", [period.public_id, a1.code]),
        ("assessments:ballot_open", [period.public_id, a1.code]),
    ]:
        assert client.post(reverse(name, args=args)).status_code == 404, name
    # Her own form is hers to read, but returning it is the secretary's act: refused by the workflow.
    submit_cell(period, a1, town.user("bi_thu_a1"))
    response = client.post(reverse("assessments:return", args=[own.public_id]), {"reason": "Tự trả lại"}, follow=True)
    assert messages_of(response)  # the workflow's refusal, shown on her form
    own.refresh_from_db()
    assert own.state == S.SUBMITTED and not trail(own, "return")
    assert not Ballot.objects.exists()
    # Her own decision is not hers to make either.
    response = client.post(reverse("assessments:decide", args=[period.public_id, committee.code]), {})
    assert response.status_code == 404
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
