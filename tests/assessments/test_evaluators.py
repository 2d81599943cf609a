"""Multi-dimensional evaluation: evaluators assigned by the board fill the organisation analysis form;
the forms are aggregated beside the organisation's own review; an evaluator sees only what is assigned."""

import pytest
from django.urls import reverse

from assessments.core import services
from assessments.models import Analysis, Assessment, Period
from assessments.reviews import formview
from assessments.rulebooks import ItemKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def period(city, personas):
    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=period, user=personas.board)
    return period


def org_review(period, organization):
    return Assessment.objects.get(period=period, organization=organization, subject_kind="organization")


def analysis_post(assessment, rating, level):
    template = formview.template_for(assessment, "analysis")
    data = {"version": "0", "item-rater": "Mặt trận Tổ quốc", "submit": "1", "item-proposed_level": level}
    for item in template.items():
        if item.kind == ItemKind.RATING:
            data[f"item-{item.id}"] = rating
    return data


def test_the_evaluator_fills_the_analysis_form_of_the_assigned_organisation(period, city, personas, client_for):
    review = org_review(period, city.committee_b)  # the evaluator persona is assigned committee B
    client = client_for(personas.evaluator)
    address = reverse("assessments:analysis", args=[review.public_id])
    assert client.get(address).status_code == 200
    assert client.post(address, analysis_post(review, "tot", "HTTNV")).status_code == 302
    analysis = Analysis.objects.get(assessment=review, rater=personas.evaluator)
    assert analysis.submitted_at and analysis.proposed_level == "HTTNV"
    # The organisation's own review is readable, not writable.
    page = client.get(reverse("assessments:form", args=[review.public_id]))
    assert page.status_code == 200 and page.context["editable"] is False


def test_an_evaluator_sees_nothing_else(period, city, personas, client_for):
    client = client_for(personas.evaluator)
    other = org_review(period, city.committee_a)
    member_form = Assessment.objects.get(period=period, member=personas.member_b1)
    for assessment in (other, member_form):
        assert client.get(reverse("assessments:form", args=[assessment.public_id])).status_code == 404
        assert client.get(reverse("assessments:analysis", args=[assessment.public_id])).status_code == 404
    assert not Analysis.objects.exists()


def test_the_evaluators_forms_are_aggregated_beside_the_organisations_review(period, city, personas, client_for):
    from organizations.models import RoleAssignment
    from tests.factories import UserFactory, grant

    review = org_review(period, city.committee_b)
    second = UserFactory(username="cum_thi_dua")
    grant(second, RoleAssignment.Role.EVALUATOR, city.committee_b)
    client_for(personas.evaluator).post(
        reverse("assessments:analysis", args=[review.public_id]), analysis_post(review, "tot", "HTTNV")
    )
    client_for(second).post(
        reverse("assessments:analysis", args=[review.public_id]), analysis_post(review, "xuat_sac", "HTXSNV")
    )
    page = client_for(personas.board).get(reverse("assessments:form", args=[review.public_id]))
    summary = page.context["evaluations"]
    assert summary["count"] == 2
    assert dict(summary["levels"]) == {"HTXSNV": 1, "HTTNV": 1, "HTNV": 0, "KHTNV": 0}
    assert summary["ratings"]["programmes_into_action"] == {"tot": 1, "xuat_sac": 1}
    # The evaluator does not see the others' forms.
    assert (
        client_for(personas.evaluator).get(reverse("assessments:form", args=[review.public_id])).context["evaluations"]
        is None
    )


def test_the_evaluators_home_links_to_the_analysis_form(period, city, personas, client_for):
    page = client_for(personas.evaluator).get(reverse("home"))
    assert [r.organization.code for r in page.context["evaluations"]] == ["dang-bo-b"]
