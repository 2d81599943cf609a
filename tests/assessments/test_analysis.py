"""Analysis forms: the secretary rates a member's criteria and sees what the rules make of them."""

import pytest
from django.urls import reverse

from assessments.core import services
from assessments.models import Analysis, Assessment, AuditEntry, Period
from assessments.reviews import formview
from assessments.rulebooks import ItemKind

pytestmark = pytest.mark.django_db


def open_period(city, personas, regime):
    period = Period.objects.create(organization=city.city, year=2026, regime=regime)
    services.period_open(period=period, user=personas.board)
    return period


def ratings_post(assessment, rating, version=0, **extra):
    template = formview.template_for(assessment, "analysis")
    data = {"version": str(version), "item-rater": "Chi ủy chi bộ A1"}
    for item in template.items():
        if item.kind == ItemKind.RATING:
            data[f"item-{item.id}"] = rating
    data.update(extra)
    return data


@pytest.fixture
def form_2018(city, personas):
    period = open_period(city, personas, "2018")
    return Assessment.objects.get(period=period, member=personas.member_record)


def address(assessment):
    return reverse("assessments:analysis", args=[assessment.public_id])


def test_secretary_rates_a_member_and_sees_the_highest_level_allowed(form_2018, personas, client_for):
    client = client_for(personas.secretary_a1)
    response = client.post(address(form_2018), ratings_post(form_2018, "tot", **{"item-general_comment": "Tốt"}))
    assert response.status_code == 302
    analysis = Analysis.objects.get(assessment=form_2018, rater=personas.secretary_a1)
    assert analysis.answers["political_ideology"] == "tot" and analysis.version == 1
    page = client.get(address(form_2018))
    # All criteria Tốt: HTXSNV needs the results criteria at Xuất sắc, so HTTNV is the highest.
    assert page.context["suggested"].startswith("Hoàn thành tốt") or page.context["suggested"].startswith("Well")


def test_a_criterion_at_kem_is_reported(form_2018, personas, client_for):
    client = client_for(personas.secretary_a1)
    data = ratings_post(form_2018, "tot")
    data["item-ethics_lifestyle"] = "kem"
    client.post(address(form_2018), data)
    page = client.get(address(form_2018))
    assert page.context["findings"]


def test_handing_in_makes_the_form_final_and_is_audited(form_2018, personas, client_for):
    client = client_for(personas.secretary_a1)
    data = ratings_post(form_2018, "tot", **{"item-general_comment": "Đạt", "item-proposed_level": "HTTNV"})
    data["submit"] = "1"
    assert client.post(address(form_2018), data).status_code == 302
    analysis = Analysis.objects.get(assessment=form_2018)
    assert analysis.submitted_at and analysis.proposed_level == "HTTNV"
    assert AuditEntry.objects.filter(assessment=form_2018, action="analysis").exists()
    again = client.post(address(form_2018), ratings_post(form_2018, "kem", version=analysis.version))
    assert again.status_code == 400
    analysis.refresh_from_db()
    assert analysis.answers["political_ideology"] == "tot"


def test_handing_in_needs_every_required_item(form_2018, personas, client_for):
    response = client_for(personas.secretary_a1).post(address(form_2018), {"version": "0", "submit": "1"})
    assert response.status_code == 400
    assert not Analysis.objects.exists()


def test_a_stale_analysis_save_is_refused(form_2018, personas, client_for):
    client = client_for(personas.secretary_a1)
    client.post(address(form_2018), ratings_post(form_2018, "tot"))
    response = client.post(address(form_2018), ratings_post(form_2018, "kem", version=0))
    assert response.status_code == 409
    assert Analysis.objects.get().answers["political_ideology"] == "tot"


def test_points_above_a_criterions_maximum_are_refused(city, personas, client_for):
    period = open_period(city, personas, "2025")
    assessment = Assessment.objects.get(period=period, member=personas.member_record)
    template = formview.template_for(assessment, "analysis")
    item = next(i for i in template.items() if i.kind == ItemKind.POINTS)
    data = {"version": "0", f"item-{item.id}": str(item.max_points + 1)}
    response = client_for(personas.secretary_a1).post(address(assessment), data)
    assert response.status_code == 400
    [message] = response.context["form"].errors[f"item-{item.id}"]
    assert f"vượt quá điểm tối đa {item.max_points}" in message
    page = response.content.decode()
    assert page.index(message) > page.index(f'id="wrap-item-{item.id}"')  # shown at the item
    assert f'value="{item.max_points + 1}"' in page  # what was typed stays
    assert not Analysis.objects.exists()


@pytest.mark.parametrize("persona", ["member", "secretary_b1", "evaluator", "outsider"])
def test_only_those_who_lead_the_organisation_may_rate(form_2018, personas, client_for, persona):
    client = client_for(getattr(personas, persona))
    assert client.get(address(form_2018)).status_code == 404
    assert client.post(address(form_2018), ratings_post(form_2018, "tot")).status_code == 404
    assert not Analysis.objects.exists()
