"""The task shares on the pages of the forms, and the proposed level held to the rule box on submit:
the member on their self-review, the evaluator on the analysis form, by the same evaluation."""

from decimal import Decimal

import pytest
from django.urls import reverse

from assessments.core import services
from assessments.models import Analysis, Assessment, AuditEntry, Period
from assessments.reviews import formview
from assessments.rulebooks import TaskStats

from .test_views import complete_post

pytestmark = pytest.mark.django_db

S = Assessment.State


@pytest.fixture
def period(city, personas):
    period = Period.objects.create(organization=city.city, year=2026, regime="2025")
    services.period_open(period=period, user=personas.board)
    period.refresh_from_db()
    return period


@pytest.fixture
def form(period, personas):
    return Assessment.objects.get(period=period, member=personas.member_record)


def points_totalling(template, total):
    """Points for every criterion of `template` adding up to `total`: each at its maximum, the shortfall
    taken from the first criteria."""
    points = {item.id: item.max_points for item in template.points_items()}
    shortfall = sum(points.values()) - Decimal(str(total))
    for item_id, value in points.items():
        taken = min(value, shortfall)
        points[item_id] = value - taken
        shortfall -= taken
    return {f"item-{key}": str(value) for key, value in points.items()}


def shares(completed="100", on_time="100", exceeding="40", fixed="100"):
    return {
        "item-tasks_completed": completed,
        "item-tasks_on_time": on_time,
        "item-tasks_exceeding": exceeding,
        "item-shortcomings_fixed": fixed,
    }


def member_post(form, total, level, **overrides):
    template = formview.template_for(form)
    data = complete_post(form, **{"item-proposed_level": level})
    data.update(points_totalling(template, total))
    data.update(shares())
    data.update(overrides)
    return data


def url(name, assessment):
    return reverse(f"assessments:{name}", args=[assessment.public_id])


# --- The fields ------------------------------------------------------------------------------------------


def test_the_members_2025_form_has_the_share_fields(form, personas, client_for):
    content = client_for(personas.member).get(url("form", form)).content.decode()
    for name in ("tasks_completed", "tasks_on_time", "tasks_exceeding", "shortcomings_fixed"):
        assert f'name="item-{name}"' in content
    assert 'name="item-shortcomings_fixed-none"' in content
    assert "Tỉ lệ nhiệm vụ được giao đã hoàn thành (%)" in content


def test_a_share_above_100_is_refused_in_vietnamese_and_nothing_is_saved(form, personas, client_for):
    response = client_for(personas.member).post(
        url("save", form), {"version": "0", "item-tasks_completed": "120", "item-shortcomings": "Một ít"}
    )
    assert response.status_code == 400
    assert "nằm ngoài khoảng từ 0% đến 100%" in response.content.decode()
    form.refresh_from_db()
    assert form.version == 0 and form.answers == {}


def test_shares_that_do_not_add_up_are_refused(form, personas, client_for):
    response = client_for(personas.member).post(
        url("save", form), {"version": "0", "item-tasks_completed": "80", "item-tasks_on_time": "90"}
    )
    assert response.status_code == 400
    assert "Các tỉ lệ không khớp nhau" in response.content.decode()
    form.refresh_from_db()
    assert form.version == 0


def test_the_message_is_in_english_for_an_english_page(form, personas, client_for):
    client = client_for(personas.member)
    client.cookies["django_language"] = "en"
    response = client.post(
        url("save", form),
        {"version": "0", "item-tasks_completed": "80", "item-tasks_on_time": "90"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400 and "The shares do not add up" in response.content.decode()


def test_the_shares_are_saved_and_reach_the_rules_as_fractions(form, personas, client_for):
    data = {"version": "0", **shares("95", "92,5", "30", "")}
    data["item-shortcomings_fixed-none"] = "1"
    assert client_for(personas.member).post(url("save", form), data).status_code == 302
    form.refresh_from_db()
    assert form.answers["tasks_on_time"] == "92,5" and form.answers["shortcomings_fixed"] == "none"
    answers = formview.scored_answers(formview.template_for(form), form.answers)
    assert answers.tasks == TaskStats(completed=Decimal("0.95"), on_time=Decimal("0.925"), exceeding=Decimal("0.3"))
    assert answers.shortcomings_fixed is None
    page = client_for(personas.member).get(url("form", form)).content.decode()
    assert (
        'value="92,5"' in page
        and 'name="item-shortcomings_fixed-none" id="item-shortcomings_fixed-none" value="1" checked' in page
    )


def test_the_printed_form_shows_the_shares(form, personas, client_for):
    client = client_for(personas.member)
    client.post(
        url("save", form), {"version": "0", **shares("50", "50", "0", "")} | {"item-shortcomings_fixed-none": "1"}
    )
    page = client.get(url("print", form)).content.decode()
    assert "Tỉ lệ nhiệm vụ được giao đã hoàn thành (%):</strong> 50%" in page
    assert "Kỳ kiểm điểm trước không chỉ ra hạn chế, khuyết điểm nào" in page


# --- The member is held to the rule box -------------------------------------------------------------------


def test_92_points_and_half_the_tasks_cannot_be_submitted_as_htxsnv(form, personas, client_for):
    client = client_for(personas.member)
    data = member_post(form, 92, "HTXSNV", **shares("50", "50", "0"))
    response = client.post(url("submit", form), data)
    assert response.status_code == 400
    content = response.content.decode()
    assert "Quy định không cho phép mức đề xuất" in content
    assert "HTXSNV cần 100%" in content
    form.refresh_from_db()
    assert form.state != S.SUBMITTED
    # The box beside the form says the same, from the same evaluation.
    check = response.context["level_check"]
    assert check["refused"] and any("HTXSNV cần 100%" in m for m in check["blocking"])


def test_89_5_points_fit_httnv_and_htxsnv_is_refused(form, personas, client_for):
    response = client_for(personas.member).post(url("submit", form), member_post(form, "89.5", "HTXSNV"))
    assert response.status_code == 400
    assert "Tổng điểm 89,5/100" in response.content.decode()
    form.refresh_from_db()
    assert form.state != S.SUBMITTED


def test_a_level_within_the_rules_is_submitted(form, personas, client_for):
    response = client_for(personas.member).post(url("submit", form), member_post(form, 92, "HTXSNV"))
    assert response.status_code == 302
    form.refresh_from_db()
    assert form.state == S.SUBMITTED and form.self_level == "HTXSNV"


def test_a_level_above_a_cap_the_deciding_level_may_set_aside_needs_a_reason(form, personas, client_for):
    # 90% completed, no trigger: the HTNV conditions fail, a KHTNV cap the deciding level may set aside.
    client = client_for(personas.member)
    data = member_post(form, 80, "HTNV", **shares("90", "90", "0"))
    page = client.post(url("save", form), data, HTTP_X_REQUESTED_WITH="fetch")
    assert page.json()["level_check"]["needs_reason"] is True
    form.refresh_from_db()
    data["version"] = str(form.version)
    refused = client.post(url("submit", form), data)
    assert refused.status_code == 400
    content = refused.content.decode()
    assert "Xin ghi lý do đề xuất" in content and 'id="level-reason" class="mb-4">' in content
    form.refresh_from_db()
    assert form.state != S.SUBMITTED
    data["level_reason"] = "Nhiệm vụ còn lại chuyển sang năm sau theo chỉ đạo của cấp trên."
    assert client.post(url("submit", form), data).status_code == 302
    form.refresh_from_db()
    assert form.state == S.SUBMITTED
    entry = AuditEntry.objects.get(assessment=form, action=AuditEntry.Action.SUBMIT)
    assert entry.reason.startswith("Nhiệm vụ còn lại")


def test_the_reason_box_is_hidden_when_the_level_is_within_the_rules(form, personas, client_for):
    client = client_for(personas.member)
    client.post(url("save", form), member_post(form, 92, "HTTNV"))
    page = client.get(url("form", form)).content.decode()
    assert 'id="level-reason" class="mb-4" hidden' in page


# --- The evaluator is held to the same rules --------------------------------------------------------------


def org_review(period, organization):
    return Assessment.objects.get(period=period, organization=organization, subject_kind="organization")


def analysis_post(assessment, total, level, **overrides):
    template = formview.template_for(assessment, "analysis")
    data = {"version": "0", "item-rater": "Mặt trận Tổ quốc", "item-proposed_level": level, "submit": "1"}
    data.update(points_totalling(template, total))
    data.update(shares())
    data.update(overrides)
    return data


def test_the_evaluator_cannot_hand_in_htxsnv_when_the_box_says_89_5_fits_httnv(period, city, personas, client_for):
    review = org_review(period, city.committee_b)
    client = client_for(personas.evaluator)
    address = url("analysis", review)
    response = client.post(address, analysis_post(review, "89.5", "HTXSNV"))
    assert response.status_code == 400
    content = response.content.decode()
    assert "Quy định không cho phép mức đề xuất" in content and "Tổng điểm 89,5/100" in content
    assert not Analysis.objects.filter(assessment=review, submitted_at__isnull=False).exists()
    # Saved without handing in, the page's box says the same.
    data = analysis_post(review, "89.5", "HTXSNV")
    del data["submit"]
    assert client.post(address, data).status_code == 302
    box = client.get(address).context["level_check"]
    assert box["refused"] and any("89,5" in message for message in box["blocking"])


def test_the_evaluator_gives_a_reason_for_a_level_above_the_advice(period, city, personas, client_for):
    review = org_review(period, city.committee_b)
    client = client_for(personas.evaluator)
    address = url("analysis", review)
    # 95 points, but only 10% of the tasks beyond requirements: the organisation's conditions advise HTTNV.
    data = analysis_post(review, 95, "HTXSNV", **shares("100", "100", "10"))
    refused = client.post(address, data)
    assert refused.status_code == 400
    assert "Xin ghi lý do đề xuất" in refused.content.decode()
    assert refused.context["level_check"]["needs_reason"]
    assert not Analysis.objects.filter(assessment=review, submitted_at__isnull=False).exists()
    data["level_reason"] = "Đơn vị có thành tích nổi trội được cấp trên khen thưởng."
    assert client.post(address, data).status_code == 302
    analysis = Analysis.objects.get(assessment=review, rater=personas.evaluator)
    assert analysis.submitted_at and analysis.proposed_level == "HTXSNV"
    assert analysis.answers["tasks_exceeding"] == "10"
    entry = AuditEntry.objects.get(assessment=review, action=AuditEntry.Action.ANALYSIS)
    assert entry.reason.startswith("Đơn vị có thành tích")


def test_the_evaluator_hands_in_a_level_within_the_rules(period, city, personas, client_for):
    review = org_review(period, city.committee_b)
    response = client_for(personas.evaluator).post(url("analysis", review), analysis_post(review, 85, "HTTNV"))
    assert response.status_code == 302
    assert Analysis.objects.get(assessment=review).submitted_at
