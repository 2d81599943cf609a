"""An evaluator (the Fatherland Front's delegate, mat_tran) assigned by the board to committee B: reads
the committee's own reviews and fills the analysis forms on them (criteria rated in 2018, scored in
2025), which then stand beside the committee in the board's ranking. It sees that organisation and
nothing else: not its cells, not its members, not the other committees.

The others' steps (the board's period, the officer's review) are done through the services."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils.html import escape

from assessments.core import services
from assessments.decisions import ranking
from assessments.models import Analysis, Assessment

from .steps import REGIMES, analysis_post, member_form, messages_of, open_period, own_review, submit_self_review, trail

pytestmark = pytest.mark.django_db

S = Assessment.State


def form_url(name, assessment):
    return reverse(f"assessments:{name}", args=[assessment.public_id])


@pytest.mark.parametrize("regime", REGIMES)
def test_the_evaluator_analyses_only_the_assigned_organisation(roles, client, regime):
    town = roles
    period = open_period(town, regime)
    evaluator = town.user("mat_tran")
    evaluator.refresh_from_db()
    assert not evaluator.is_staff and not evaluator.is_superuser and evaluator.user_permissions.count() == 0
    assert list(evaluator.groups.all()) == [Group.objects.get(name="Người đánh giá")]
    client.force_login(evaluator)
    review = own_review(period, town.committee_b)
    collective = own_review(period, town.committee_b, Assessment.SubjectKind.COLLECTIVE)

    # 1. Its home page names the organisation and links to the analysis form of its review.
    home = client.get(reverse("home"))
    assert home.context["evaluated"] == [town.committee_b] and home.context["panels"] == []
    assert [r.pk for r in home.context["evaluations"]] == [review.pk]
    assert form_url("analysis", review) in home.content.decode()
    listing = client.get(reverse("organizations:list"))
    assert [org for org, _depth, _count in listing.context["rows"]] == [town.committee_b]
    detail = client.get(reverse("organizations:detail", args=[town.committee_b.code]))
    assert detail.status_code == 200 and detail.context["manages"] is False and detail.context["children"] == []

    # 2. It reads the committee's own review once the committee has written it: read only.
    submit_self_review(review, town.user("can_bo_b"))
    page = client.get(form_url("form", review))
    assert page.status_code == 200 and page.context["editable"] is False
    assert page.context["can_analyse"] is True and page.context["evaluations"] is None
    review.refresh_from_db()
    written = review.answers["plan"] if "plan" in review.answers else next(iter(review.answers.values()))
    assert escape(written) in page.content.decode()

    # 3. The analysis form: saved first, handed in after; once handed in it is final.
    address = form_url("analysis", review)
    page = client.get(address)
    assert page.status_code == 200 and page.context["editable"] is True
    response = client.post(address, analysis_post(review, "HTTNV", submit=False, rater="Ủy ban MTTQ xã Định Trung"))
    assert response.status_code == 302, messages_of(response)
    analysis = Analysis.objects.get(assessment=review, rater=evaluator)
    assert analysis.version == 1 and analysis.submitted_at is None and not trail(review, "analysis")
    assert analysis.answers["rater"] == "Ủy ban MTTQ xã Định Trung"
    response = client.post(address, analysis_post(review, "HTTNV", version=1, rater="Ủy ban MTTQ xã Định Trung"))
    assert response.status_code == 302, messages_of(response)
    analysis.refresh_from_db()
    assert analysis.submitted_at is not None and analysis.proposed_level == "HTTNV"
    [handed_in] = trail(review, "analysis")
    assert handed_in.actor == evaluator and handed_in.data == {"proposed_level": "HTTNV"}
    response = client.post(address, analysis_post(review, "HTXSNV", version=2))
    assert response.status_code == 400
    analysis.refresh_from_db()
    assert analysis.proposed_level == "HTTNV" and len(trail(review, "analysis")) == 1
    assert client.get(address).context["editable"] is False

    # Its form stands beside the committee in the board's ranking (and nowhere else: it is the only one).
    rows, _rulebook, _params = ranking.ranking_rows(period, town.city)
    [row] = [row for row in rows if row.assessment.organization == town.committee_b]
    assert row.evaluations["count"] == 1 and row.evaluations["top_level"] == "HTTNV"
    assert [r.evaluations["count"] for r in rows if r.assessment.organization != town.committee_b] == [0, 0]

    # 4. The leadership collective's analysis: saved as a draft, then the period closes.
    address = form_url("analysis", collective)
    response = client.post(address, analysis_post(collective, "HTTNV", submit=False))
    assert response.status_code == 302
    services.period_close(period=period, user=town.user("ban_to_chuc"))
    page = client.get(address)
    assert page.status_code == 200 and page.context["editable"] is False
    assert client.post(address, analysis_post(collective, "HTTNV", version=1)).status_code == 400
    assert Analysis.objects.get(assessment=collective).submitted_at is None


def test_the_evaluator_sees_nothing_but_the_assigned_organisation(roles, client):
    town = roles
    period = open_period(town, "2018")
    client.force_login(town.user("mat_tran"))
    hidden = [
        own_review(period, town.committee_a),  # another committee
        own_review(period, town.committee_a, Assessment.SubjectKind.COLLECTIVE),
        own_review(period, town.cell_b1),  # a cell of the committee: nothing below it
        own_review(period, town.cell_c),
        member_form(period, town.member("b1_first")),  # the committee's members
    ]
    for assessment in hidden:
        for name in ("form", "analysis", "print", "docx"):
            assert client.get(form_url(name, assessment)).status_code == 404, (name, assessment)
        response = client.post(form_url("analysis", assessment), analysis_post(assessment, "HTXSNV"))
        assert response.status_code == 404
    assert not Analysis.objects.exists()
    b, b1 = town.committee_b, town.cell_b1
    for name, args in [
        ("organizations:detail", [town.committee_a.code]),
        ("organizations:detail", [b1.code]),
        ("members:list", []),
        ("members:detail", [town.member("b1_first").public_id]),
        ("accounts:organization_accounts", [b.code]),
        ("assessments:dashboard", [period.public_id, b.code]),
        ("assessments:decide", [period.public_id, b.code]),
        ("assessments:rank", [period.public_id, b.code]),
        ("assessments:stats", [period.public_id, b.code]),
        ("assessments:export", [period.public_id, b.code]),
        ("assessments:meeting", [period.public_id, b1.code]),
        ("assessments:roster", [period.public_id]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 404, name
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
    # Its own committee's review is read, never written.
    review = own_review(period, b)
    response = client.post(form_url("submit", review), {"version": "0"})
    review.refresh_from_db()
    assert review.state == S.NOT_STARTED and not trail(review, "submit")
