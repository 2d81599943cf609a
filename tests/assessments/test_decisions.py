"""The grassroots decision: levels under the rules and the quota, all or nothing."""

import datetime

import pytest
from django.urls import reverse

from assessments import decisions
from assessments.core import services
from assessments.models import Assessment, AuditEntry, Period
from members.models import DisciplineDecision, Member
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db
S = Assessment.State


@pytest.fixture(autouse=True)
def retired(personas):
    """Retired members: no civil-service rating is needed before deciding them (see the test below)."""
    Member.objects.update(occupation=Member.Occupation.RETIRED)


@pytest.fixture
def period(city, personas):
    # Committee A: 5 members (3 in A1, 2 in A2).
    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=period, user=personas.board)
    return period


def forms_of(period, organization):
    return list(
        Assessment.objects.filter(period=period, organization__path__startswith=organization.path, member__isnull=False)
        .select_related("member")
        .order_by("member__sort_key")
    )


def record(period, city, user, levels, exception=None):
    forms = forms_of(period, city.committee_a)
    choices = {f.pk: (level, note) for f, (level, note) in zip(forms, levels, strict=True)}
    return decisions.decisions_record(
        period=period, organization=city.committee_a, user=user, choices=choices, exception=exception
    )


def plain(*levels):
    return [(level, "") for level in levels]


def test_the_officer_records_levels_within_the_quota(period, city, personas):
    saved, quota = record(period, city, personas.officer_a, plain("HTNV", "HTTNV", "HTTNV", "HTTNV", "HTTNV"))
    assert saved == 5 and quota.within and quota.cap_count == 0
    forms = forms_of(period, city.committee_a)
    assert [f.state for f in forms] == [S.DECIDED] * 5
    assert AuditEntry.objects.filter(period=period, action="decide").count() == 5


def test_quota_boundary_five_httnv_allow_one_htxsnv(city, personas, period):
    MemberFactory(cell=city.cell_a2, occupation=Member.Occupation.RETIRED)
    # 6 members now in a new period: 1 HTXSNV with 5 HTTNV is within 20% of 5.
    period2 = Period.objects.create(organization=city.city, year=2027, regime="2018")
    services.period_open(period=period2, user=personas.board)
    forms = forms_of(period2, city.committee_a)
    choices = {f.pk: ("HTTNV", "") for f in forms}
    choices[forms[0].pk] = ("HTXSNV", "")
    saved, quota = decisions.decisions_record(
        period=period2, organization=city.committee_a, user=personas.officer_a, choices=choices
    )
    assert quota.within and quota.cap_count == 1 and saved == 6


def test_four_httnv_allow_no_htxsnv_without_a_recorded_exception(period, city, personas):
    levels = plain("HTXSNV", "HTTNV", "HTTNV", "HTTNV", "HTTNV")  # 4 HTTNV: cap 0
    with pytest.raises(decisions.DecisionError) as excinfo:
        record(period, city, personas.officer_a, levels)
    assert excinfo.value.quota.cap_count == 0
    assert not Assessment.objects.filter(period=period, state=S.DECIDED).exists()
    # The 2018 texts provide no exception: a competent level's decision does not help by default...
    decision = decisions.ExceptionDecision("12-QĐ/TU", datetime.date(2026, 1, 20), "Ban Thường vụ", "Dẫn đầu cụm")
    with pytest.raises(decisions.DecisionError, match="R2018-Q-MEMBER"):
        record(period, city, personas.officer_a, levels, exception=decision)
    assert not AuditEntry.objects.filter(action__in=["decide", "quota_exception"]).exists()
    # ...unless the period allows one (25% of 4 HTTNV rounds down to 1).
    Period.objects.filter(pk=period.pk).update(parameters={"quota_exception_allowed": True})
    period.refresh_from_db()
    saved, quota = record(period, city, personas.officer_a, levels, exception=decision)
    assert saved == 5 and not quota.within and quota.covered
    exception = AuditEntry.objects.get(period=period, action="quota_exception")
    assert exception.reason == "Dẫn đầu cụm" and exception.data["organization"] == "dang-bo-a"
    assert exception.data["decision_number"] == "12-QĐ/TU" and exception.data["raised_cap"] == 1


def test_the_denominator_can_count_httnv_or_better(period, city, personas):
    Period.objects.filter(pk=period.pk).update(parameters={"quota_denominator": "HTTNV_OR_BETTER"})
    period.refresh_from_db()
    # 1 HTXSNV + 4 HTTNV: 20% of 5 = 1, within.
    saved, quota = record(period, city, personas.officer_a, plain("HTXSNV", "HTTNV", "HTTNV", "HTTNV", "HTTNV"))
    assert quota.within and quota.denominator == 5


def test_a_blocking_finding_cannot_be_overridden(period, city, personas):
    DisciplineDecision.objects.create(
        member=personas.member_record, decided_on=datetime.date(2026, 3, 1), form="reprimand", reason="Vi phạm"
    )
    forms = forms_of(period, city.committee_a)
    target = next(f for f in forms if f.member_id == personas.member_record.pk)
    choices = {f.pk: ("HTNV", "") for f in forms}
    choices[target.pk] = ("HTTNV", "Đã sửa chữa")
    with pytest.raises(decisions.DecisionError) as excinfo:
        decisions.decisions_record(
            period=period, organization=city.committee_a, user=personas.officer_a, choices=choices
        )
    assert target.pk in excinfo.value.row_errors
    assert not Assessment.objects.filter(period=period, state=S.DECIDED).exists()
    choices[target.pk] = ("KHTNV", "")
    decisions.decisions_record(period=period, organization=city.committee_a, user=personas.officer_a, choices=choices)
    target.refresh_from_db()
    assert target.decided_level == "KHTNV"


def test_a_civil_servant_cannot_be_decided_before_the_civil_service_rating(period, city, personas):
    from members.models import CivilServiceRating

    Member.objects.filter(pk=personas.member_record.pk).update(occupation=Member.Occupation.CIVIL_SERVANT)
    form = Assessment.objects.get(period=period, member=personas.member_record)
    with pytest.raises(decisions.DecisionError) as excinfo:
        decisions.decisions_record(
            period=period, organization=city.committee_a, user=personas.officer_a, choices={form.pk: ("HTNV", "")}
        )
    assert form.pk in excinfo.value.row_errors
    CivilServiceRating.objects.create(member=personas.member_record, year=2026, level="HTTNV")
    decisions.decisions_record(
        period=period, organization=city.committee_a, user=personas.officer_a, choices={form.pk: ("HTNV", "")}
    )


def test_a_warning_can_be_set_aside_with_a_reason(period, city, personas):
    from members.models import CivilServiceRating

    # A civil servant rated HTNV by the state: the [R] rule warns above HTNV.
    Member.objects.filter(pk=personas.member_record.pk).update(occupation=Member.Occupation.CIVIL_SERVANT)
    CivilServiceRating.objects.create(member=personas.member_record, year=2026, level="HTNV")
    forms = forms_of(period, city.committee_a)
    target = next(f for f in forms if f.member_id == personas.member_record.pk)
    choices = {f.pk: ("HTNV", "") for f in forms}
    choices[target.pk] = ("HTTNV", "")
    with pytest.raises(decisions.DecisionError) as excinfo:
        decisions.decisions_record(
            period=period, organization=city.committee_a, user=personas.officer_a, choices=choices
        )
    assert target.pk in excinfo.value.row_errors
    choices[target.pk] = ("HTTNV", "Kết quả công tác năm nay tốt hơn đánh giá công chức")
    decisions.decisions_record(period=period, organization=city.committee_a, user=personas.officer_a, choices=choices)
    target.refresh_from_db()
    assert target.decided_level == "HTTNV" and target.decision_note.startswith("Kết quả")


def test_members_not_to_be_classified_cannot_be_decided(period, city, personas):
    form = Assessment.objects.get(period=period, member=personas.member_a2)
    Assessment.objects.filter(pk=form.pk).update(classified=False, exclusion_note="Miễn sinh hoạt")
    with pytest.raises(decisions.DecisionError):
        decisions.decisions_record(
            period=period, organization=city.committee_a, user=personas.officer_a, choices={form.pk: ("HTNV", "")}
        )


@pytest.mark.parametrize("persona", ["secretary_a1", "member", "evaluator"])
def test_only_the_grassroots_level_decides(period, city, personas, persona):
    with pytest.raises(services.WorkflowError):
        record(period, city, getattr(personas, persona), plain("HTNV", "HTNV", "HTNV", "HTNV", "HTNV"))


def test_a_subordinate_cell_does_not_decide(period, city, personas):
    with pytest.raises(services.WorkflowError):
        decisions.decisions_record(period=period, organization=city.cell_a1, user=personas.board, choices={})


def test_a_locked_period_refuses_decisions(period, city, personas):
    Period.objects.filter(pk=period.pk).update(state=Period.State.FINALISED)
    period.refresh_from_db()
    with pytest.raises(services.WorkflowError):
        record(period, city, personas.officer_a, plain("HTNV", "HTNV", "HTNV", "HTNV", "HTNV"))


def test_khtnv_two_years_running_is_flagged(period, city, personas):
    previous = Period.objects.create(organization=city.city, year=2025, regime="2018")
    services.period_open(period=previous, user=personas.board)
    Assessment.objects.filter(period=previous, member=personas.member_record).update(
        decided_level="KHTNV", state=S.DECIDED
    )
    DisciplineDecision.objects.create(
        member=personas.member_record, decided_on=datetime.date(2026, 3, 1), form="warning", reason="Vi phạm"
    )
    rows, _rulebook, _params = decisions.decision_rows(period, city.committee_a)
    flagged = [row.assessment.member.full_name for row in rows if row.two_years]
    assert flagged == ["Lê Thị Hoa"]


def test_the_decision_screen_accepts_the_cells_proposals_not_the_self_assessments(period, city, personas, client_for):
    client = client_for(personas.officer_a)
    address = reverse("assessments:decide", args=[period.public_id, city.committee_a.code])
    page = client.get(address, {"cell": city.cell_a1.code})
    assert page.status_code == 200 and len(page.context["rows"]) == 3
    forms = forms_of(period, city.committee_a)
    Assessment.objects.filter(period=period, member__isnull=False).update(self_level="HTXSNV")
    Assessment.objects.filter(pk__in=[f.pk for f in forms]).update(cell_proposed_level="HTNV", state=S.CELL_REVIEWED)
    response = client.post(address, {"action": "accept_all"})
    assert response.status_code == 302
    assert set(
        Assessment.objects.filter(
            period=period, organization__path__startswith=city.committee_a.path, member__isnull=False
        ).values_list("decided_level", flat=True)
    ) == {"HTNV"}


def test_the_decision_screen_reports_a_broken_quota_and_saves_nothing(period, city, personas, client_for):
    client = client_for(personas.officer_a)
    address = reverse("assessments:decide", args=[period.public_id, city.committee_a.code])
    forms = forms_of(period, city.committee_a)
    data = {f"level-{f.pk}": "HTXSNV" for f in forms}
    response = client.post(address, data)
    assert response.status_code == 400
    assert response.context["box"].binding is False  # nothing was saved: the box shows the stored levels
    assert not Assessment.objects.filter(period=period, state=S.DECIDED).exists()


def test_a_member_list_is_not_mixed_with_another_committee(period, city, personas):
    rows, _rulebook, _params = decisions.decision_rows(period, city.committee_a)
    assert {row.assessment.organization.code for row in rows} == {"chi-bo-a1", "chi-bo-a2"}
    assert Member.objects.filter(cell__code="chi-bo-b1").exists()
