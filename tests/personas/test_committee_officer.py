"""The grassroots committee officer (cán bộ đảng ủy cơ sở) of committee A: follows the cells on the
dashboard, writes the committee's own review and its leadership collective's, decides the members'
levels within the quota (a row at a time through htmx, a cell, the whole committee; an exception beyond
what the regulation allows is refused), decides the cells' levels, and decides again a level the board
reopened.

The others' steps (the members' forms, the cells' minutes, the board's opening, closing, finalising
and publishing) are done through the services."""

import pytest
from django.urls import reverse

from assessments.core import services
from assessments.decisions import closing
from assessments.models import Assessment, Period
from tests.helpers import scored_2025  # noqa: E402

from .steps import (
    REGIMES,
    classified_forms,
    decide_members,
    form_post,
    member_form,
    messages_of,
    open_period,
    own_review,
    period_trail,
    rank_below,
    record_minutes,
    submit_cell,
    trail,
)

pytestmark = pytest.mark.django_db

S = Assessment.State


def decide_url(period, organization):
    return reverse("assessments:decide", args=[period.public_id, organization.code])


def rank_url(period, organization):
    return reverse("assessments:rank", args=[period.public_id, organization.code])


@pytest.fixture
def period(roles, request):
    return open_period(roles, request.param)


@pytest.mark.parametrize("period", REGIMES, indirect=True)
def test_the_officer_decides_the_committees_members_and_cells_within_the_quota(roles, period, client):
    town = roles
    officer, secretary, board = town.user("can_bo_a"), town.user("bi_thu_a1"), town.user("ban_to_chuc")
    # The cells have met: cell A1 through its secretary, cell A2 (no secretary) through the committee.
    submit_cell(period, town.cell_a1, secretary)
    record_minutes(period, town.cell_a1, secretary, "HTTNV")
    submit_cell(period, town.cell_a2, officer)
    record_minutes(period, town.cell_a2, officer, "HTTNV")
    client.force_login(officer)

    # 1. Home and the committee's dashboard: the cells with their progress.
    home = client.get(reverse("home"))
    assert [panel["organization"] for panel in home.context["panels"]] == [town.committee_a]
    dashboard = client.get(reverse("assessments:dashboard", args=[period.public_id, town.committee_a.code]))
    assert dashboard.status_code == 200
    assert [child for child, *_rest in dashboard.context["children"]] == [town.cell_a1, town.cell_a2]
    assert client.get(reverse("assessments:stats", args=[period.public_id, town.committee_a.code])).status_code == 200

    # 2. The committee's own review: a draft, then submitted; and the leadership collective's review.
    review = own_review(period, town.committee_a)
    page = client.get(reverse("assessments:form", args=[review.public_id]))
    assert page.status_code == 200 and page.context["editable"] is True
    response = client.post(reverse("assessments:save", args=[review.public_id]), form_post(review, "HTTNV"))
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.state == S.DRAFT and review.filled_by == officer
    response = client.post(reverse("assessments:submit", args=[review.public_id]), form_post(review, "HTTNV"))
    assert response.status_code == 302
    review.refresh_from_db()
    assert (review.state, review.self_level) == (S.SUBMITTED, "HTTNV")
    [submitted] = trail(review, "submit")
    assert submitted.actor == officer and submitted.on_behalf_of is None
    collective = own_review(period, town.committee_a, Assessment.SubjectKind.COLLECTIVE)
    response = client.post(reverse("assessments:submit", args=[collective.public_id]), form_post(collective, "HTTNV"))
    assert response.status_code == 302
    collective.refresh_from_db()
    assert collective.state == S.SUBMITTED and trail(collective, "submit")[0].actor == officer

    # The board closes the period; the decisions come next.
    services.period_close(period=period, user=board)

    # 3. The decision screen: the committee's cells with their counts, then one cell's rows.
    decide = decide_url(period, town.committee_a)
    page = client.get(decide)
    assert page.status_code == 200
    assert [cell for cell in page.context["cells"]] == [town.cell_a1, town.cell_a2]
    page = client.get(decide, {"cell": town.cell_a1.code})
    rows = {row.assessment.member: row for row in page.context["rows"]}
    hoa, anh = town.member("member"), town.member("third")
    assert rows[hoa].suggested.value == "HTTNV"

    # One row through htmx: the row answers a fragment, the level is saved at once. (In 2025 the score
    # and the task shares must bear HTXSNV out: Hoa's and Anh's forms gave 95 points.)
    scored_2025([member_form(period, hoa), member_form(period, anh)]) if period.regime == "2025" else None
    own = member_form(period, hoa)
    response = client.post(
        decide,
        {f"level-{own.pk}": "HTXSNV", f"note-{own.pk}": "Tiêu biểu trong phong trào của khu phố"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "assessments/_decision_rows.html" in [t.name for t in response.templates]
    own.refresh_from_db()
    assert (own.state, own.decided_level, own.decided_by) == (S.DECIDED, "HTXSNV", officer)
    [decided] = trail(own, "decide")
    assert decided.actor == officer and decided.data == {"level": "HTXSNV"}

    # A second HTXSNV on the page's form: saved while others are undecided (the quota is not binding yet).
    third = member_form(period, anh)
    response = client.post(decide, {f"level-{third.pk}": "HTXSNV", f"note-{third.pk}": "Gương mẫu"})
    assert response.status_code == 302
    third.refresh_from_db()
    assert third.decided_level == "HTXSNV"

    # Accepting every suggestion now would leave 2 HTXSNV for 5 HTTNV (a cap of 1): refused, nothing saved.
    response = client.post(decide, {"action": "accept_all"})
    assert response.status_code == 400
    assert Assessment.objects.filter(period=period, member__isnull=False).exclude(decided_level="").count() == 2

    # An exception to the quota: none in 2018 (the form is not even offered); in 2025 only with the
    # competent level's decision, and never beyond 25% of the HTTNV count (1 of 5): refused either way.
    decision = {
        "action": "exception",
        "exception_number": "45-QĐ/TU",
        "exception_date": f"{period.year}-12-01",
        "exception_body": "Ban Thường vụ Thành ủy",
        "exception_reason": "Đảng bộ dẫn đầu cụm thi đua, được Thành ủy khen",
    }
    page = client.get(decide)
    if period.regime == "2018":
        assert page.context["exception_form"] is None and 'name="exception_number"' not in page.content.decode()
        refused = "R2018-Q-MEMBER"
    else:
        assert 'name="exception_number"' in page.content.decode()
        assert client.post(decide, decision | {"exception_number": ""}).status_code == 400
        refused = "R2025-Q-EXCEPTION"
    response = client.post(decide, decision, follow=True)
    assert response.status_code == 400 and any(refused in message for message in messages_of(response))
    assert not period_trail(period, "quota_exception")
    # So the officer lowers the second HTXSNV back to the cell's proposal.
    response = client.post(decide, {f"level-{third.pk}": "HTTNV"})
    assert response.status_code == 302

    # Then cell A1's suggestions, then the whole committee's.
    response = client.post(decide, {"action": "accept_cell", "cell": town.cell_a1.code})
    assert response.status_code == 302
    a1 = classified_forms(period, town.cell_a1)
    assert all(form.decided_level for form in a1)
    assert not any(form.decided_level for form in classified_forms(period, town.cell_a2))
    response = client.post(decide, {"action": "accept_all"}, follow=True)
    assert response.status_code == 200, messages_of(response)
    levels = {form.member: form.decided_level for form in classified_forms(period, town.cell_a1)}
    levels |= {form.member: form.decided_level for form in classified_forms(period, town.cell_a2)}
    assert sorted(levels.values()) == ["HTTNV"] * 6 + ["HTXSNV"]
    decided_by = set(
        Assessment.objects.filter(period=period, member__cell__path__startswith=town.committee_a.path)
        .exclude(decided_level="")
        .values_list("decided_by", flat=True)
    )
    assert decided_by == {officer.pk}

    # 4. The committee decides its cells' levels (in 2025 on the score of each cell's review, here the
    # one its paper gave).
    if period.regime == "2025":
        scored_2025([own_review(period, town.cell_a1), own_review(period, town.cell_a2)], total="80")
    rank = rank_url(period, town.committee_a)
    page = client.get(rank)
    assert page.status_code == 200
    cells = {row.assessment.organization: row.assessment for row in page.context["rows"]}
    assert set(cells) == {town.cell_a1, town.cell_a2}
    response = client.post(
        rank, {f"level-{cells[town.cell_a1].pk}": "HTTNV", f"level-{cells[town.cell_a2].pk}": "HTNV"}
    )
    assert response.status_code == 302, messages_of(response)
    for cell, level in [(town.cell_a1, "HTTNV"), (town.cell_a2, "HTNV")]:
        cell_review = own_review(period, cell)
        assert (cell_review.decided_level, cell_review.decided_by) == (level, officer)
        assert trail(cell_review, "decide")[0].actor == officer

    # The rest of the town is decided by the others; the board finalises, then reopens Hoa's level.
    decide_members(period, town.committee_b, town.user("can_bo_b"))
    decide_members(period, town.cell_c, town.user("can_bo_c"))
    rank_below(period, town.committee_b, town.user("can_bo_b"))
    rank_below(period, town.city, board)
    closing.period_finalise(period=period, user=board)
    closing.assessment_reopen(assessment=own, user=board, reason="Đơn thư phản ánh, đã xác minh")

    # 5. The officer decides the reopened level again, from the link on the form page.
    page = client.get(reverse("assessments:form", args=[own.public_id]))
    assert page.context["decision_url"].startswith(decide)
    page = client.get(decide, {"cell": town.cell_a1.code, "show": "reopened"})
    assert [row.assessment for row in page.context["rows"]] == [own]
    assert page.context["rows"][0].editable
    # Other levels of the finalised period stay locked.
    client.post(decide, {f"level-{third.pk}": "HTNV", f"note-{third.pk}": "x"})
    third.refresh_from_db()
    assert third.decided_level == "HTTNV"
    response = client.post(decide, {f"level-{own.pk}": "HTTNV", f"note-{own.pk}": "Hạ mức sau khi xác minh"})
    assert response.status_code == 302
    own.refresh_from_db()
    assert (own.decided_level, own.reopened, own.state) == ("HTTNV", False, S.DECIDED)
    regraded = trail(own, "decide")[-1]
    assert regraded.actor == officer and regraded.data == {
        "level": "HTTNV",
        "regrading": True,
        "previous_level": "HTXSNV",
    }

    # The board finalises the re-grading and publishes; the dashboard shows the published levels.
    closing.period_finalise(period=period, user=board)
    closing.period_publish(period=period, user=board)
    dashboard = client.get(reverse("assessments:dashboard", args=[period.public_id, town.committee_a.code]))
    assert dashboard.context["published"] is True and dashboard.context["show_levels"] is True


@pytest.mark.parametrize("period", ["2025"], indirect=True)
def test_the_officer_cannot_finalise_publish_or_decide_another_committee(roles, period, client):
    town = roles
    officer, board = town.user("can_bo_a"), town.user("ban_to_chuc")
    officer.refresh_from_db()
    assert not officer.is_staff and not officer.is_superuser and officer.user_permissions.count() == 0
    client.force_login(officer)
    other = member_form(period, town.member("b1_first"))
    for name, args in [
        ("assessments:decide", [period.public_id, town.committee_b.code]),
        ("assessments:rank", [period.public_id, town.committee_b.code]),
        ("assessments:dashboard", [period.public_id, town.committee_b.code]),
        ("assessments:meeting", [period.public_id, town.cell_b1.code]),
        # The grassroots organisations are ranked by the board, the roster is the board's.
        ("assessments:rank", [period.public_id, town.city.code]),
        ("assessments:roster", [period.public_id]),
        ("assessments:form", [other.public_id]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 404, name
    response = client.post(decide_url(period, town.committee_b), {f"level-{other.pk}": "HTNV"})
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.decided_level == ""

    # The admin's period pages send a non-staff account to the admin's sign-in; the actions do nothing.
    for address in [
        reverse("admin:index"),
        reverse("admin:assessments_period_changelist"),
        reverse("admin:assessments_period_add"),
        reverse("admin:assessments_period_change", args=[period.pk]),
    ]:
        response = client.get(address)
        assert response.status_code == 302 and response.url.startswith(reverse("admin:login")), address
    decide_members(period, town.committee_a, officer)
    decide_members(period, town.committee_b, town.user("can_bo_b"))
    decide_members(period, town.cell_c, town.user("can_bo_c"))
    rank_below(period, town.committee_a, officer)
    rank_below(period, town.committee_b, town.user("can_bo_b"))
    rank_below(period, town.city, board)
    for action in ("close_periods", "finalise_periods", "publish_periods"):
        response = client.post(
            reverse("admin:assessments_period_changelist"), {"action": action, "_selected_action": [period.pk]}
        )
        assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
    period.refresh_from_db()
    assert period.state == Period.State.OPEN
    # Nor can it reopen a level, even of its own committee.
    closing.period_finalise(period=period, user=board)
    own = member_form(period, town.member("member"))
    response = client.post(reverse("assessments:reopen", args=[own.public_id]), {"reason": "Tôi muốn sửa"})
    own.refresh_from_db()
    assert response.status_code == 302 and not own.reopened and not trail(own, "reopen")
