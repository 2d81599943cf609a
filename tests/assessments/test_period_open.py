"""Opening a period takes the roster snapshot: who is reviewed, who is not classified and why."""

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from assessments.core import services
from assessments.models import Assessment, AuditEntry, Period
from assessments.reviews import services as review_services
from members.models import Member, Transfer
from tests.factories import MemberFactory, OrganizationFactory
from tests.jobs.helpers import run_jobs

pytestmark = pytest.mark.django_db

REFERENCE = datetime.date(2026, 12, 15)
Kind = Assessment.SubjectKind


@pytest.fixture
def period(city):
    return Period.objects.create(organization=city.city, year=2026, regime="2018", self_review_due=REFERENCE)


def open_(period, personas):
    return services.period_open(period=period, user=personas.board)


def assessment_of(member, kind=Kind.MEMBER):
    return Assessment.objects.get(member=member, subject_kind=kind)


def test_one_assessment_for_every_current_member_and_organisation(period, personas, city):
    MemberFactory(cell=city.cell_a2, status=Member.Status.DECEASED)
    MemberFactory(cell=city.cell_a2, is_leader=True)
    result = open_(period, personas)
    assert (result.members, result.leaders) == (8, 1)
    # 6 organisations under the city; committees A and B and the grassroots cell C review their collective.
    assert (result.organizations, result.collectives) == (6, 3)
    assert Assessment.objects.filter(period=period).count() == 8 + 1 + 6 + 3
    assert not Assessment.objects.filter(member__status=Member.Status.DECEASED).exists()
    period.refresh_from_db()
    assert period.state == Period.State.OPEN and period.opened_by == personas.board
    assert AuditEntry.objects.filter(period=period, action="open").exists()


def test_members_are_assessed_in_their_cell(period, personas, city):
    open_(period, personas)
    assert assessment_of(personas.member_record).organization == city.cell_a1


@pytest.mark.parametrize(
    "changes, reason, rule",
    [
        ({"status": Member.Status.EXCUSED}, "excused", "R2018-M-EXEMPT-MIEN"),
        ({"status": Member.Status.SUSPENDED}, "suspended", "R2018-M-EXEMPT-SUSP"),
        (
            {"admission_date": REFERENCE - datetime.timedelta(days=170), "official_date": None},
            "new_member",
            "R2018-M-NEW",
        ),
        ({"admission_date": REFERENCE - datetime.timedelta(days=200), "official_date": None}, "", ""),
        ({}, "", ""),
    ],
    ids=["excused", "suspended", "admitted-under-6-months", "probationary-over-6-months", "active"],
)
def test_the_roster_marks_who_is_not_classified_by_which_rule(period, personas, changes, reason, rule):
    Member.objects.filter(pk=personas.member_a2.pk).update(**changes)
    result = open_(period, personas)
    assessment = assessment_of(personas.member_a2)
    excluded = bool(rule)
    assert assessment.classified is (not excluded)
    assert (assessment.exclusion_reason, assessment.exclusion_rule) == (reason, rule)
    assert bool(assessment.exclusion_text_in("vi")) is excluded and not assessment.exclusion_note
    assert any(name == "Nguyễn Văn Dũng" for name, _ in result.excluded) is excluded


def test_a_new_member_s_reason_cites_the_admission_date_in_either_language(period, personas):
    admitted = REFERENCE - datetime.timedelta(days=170)
    Member.objects.filter(pk=personas.member_a2.pk).update(admission_date=admitted, official_date=None)
    open_(period, personas)
    assessment = assessment_of(personas.member_a2)
    assert assessment.exclusion_values == {"admitted": admitted.strftime("%d/%m/%Y"), "months": "6"}
    vi, en = assessment.exclusion_text_in("vi"), assessment.exclusion_text_in("en")
    assert vi.startswith(f"Đảng viên vào Đảng ngày {admitted:%d/%m/%Y}, chưa đủ 6 tháng")
    assert en.startswith(f"Member admitted on {admitted:%d/%m/%Y}, less than 6 months ago")


def test_an_organisation_founded_under_6_months_ago_is_not_classified(period, personas, city):
    new_cell = OrganizationFactory(parent=city.committee_b, founded_on=REFERENCE - datetime.timedelta(days=60))
    open_(period, personas)
    assessment = Assessment.objects.get(organization=new_cell, subject_kind=Kind.ORGANIZATION)
    assert not assessment.classified
    assert (assessment.exclusion_reason, assessment.exclusion_rule) == ("new_organization", "R2018-O-NEW")
    assert Assessment.objects.get(organization=city.cell_b1, subject_kind=Kind.ORGANIZATION).classified


def test_the_board_overrides_the_roster_with_a_recorded_reason(period, personas):
    Member.objects.filter(pk=personas.member_a2.pk).update(status=Member.Status.EXCUSED)
    open_(period, personas)
    assessment = assessment_of(personas.member_a2)
    with pytest.raises(services.WorkflowError):
        services.assessment_classification_override(
            assessment=assessment, user=personas.board, classified=True, reason=" "
        )
    with pytest.raises(services.WorkflowError):
        services.assessment_classification_override(
            assessment=assessment, user=personas.officer_a, classified=True, reason="Đã trở lại sinh hoạt"
        )
    services.assessment_classification_override(
        assessment=assessment, user=personas.board, classified=True, reason="Đã trở lại sinh hoạt từ tháng 6"
    )
    assessment.refresh_from_db()
    assert assessment.classified and assessment.exclusion_overridden
    assert (assessment.exclusion_reason, assessment.exclusion_rule, assessment.exclusion_text) == ("", "", "")
    entry = AuditEntry.objects.get(assessment=assessment, action="classification_override")
    assert entry.reason == "Đã trở lại sinh hoạt từ tháng 6" and entry.actor == personas.board


def test_the_board_s_own_reason_is_kept_apart_from_the_rules(period, personas):
    open_(period, personas)
    assessment = assessment_of(personas.member_a2)
    services.assessment_classification_override(
        assessment=assessment, user=personas.board, classified=False, reason="Ốm dài ngày, điều trị ở nước ngoài"
    )
    assessment.refresh_from_db()
    assert not assessment.classified and assessment.exclusion_overridden
    assert (assessment.exclusion_reason, assessment.exclusion_rule) == ("", "")
    assert assessment.exclusion_note == "Ốm dài ngày, điều trị ở nước ngoài"
    # The board's words are shown as written, whatever the language of the page.
    assert assessment.exclusion_text_in("en") == assessment.exclusion_text_in("vi") == assessment.exclusion_note


def test_a_period_opens_once(period, personas):
    open_(period, personas)
    with pytest.raises(services.WorkflowError):
        open_(period, personas)
    assert Assessment.objects.filter(period=period, subject_kind=Kind.MEMBER).count() == 8


def test_invalid_parameters_refuse_to_open_and_change_nothing(period, personas):
    Period.objects.filter(pk=period.pk).update(parameters={"quota_rate": "abc"})
    period.refresh_from_db()
    with pytest.raises(services.WorkflowError):
        open_(period, personas)
    assert not Assessment.objects.filter(period=period).exists()
    period.refresh_from_db()
    assert period.state == Period.State.PREPARING


def test_a_transfer_without_the_former_cells_comment_is_a_fact_for_the_rules(period, personas, city):
    from assessments.core.facts import member_facts_for

    Transfer.objects.create(
        member=personas.member_a2,
        transferred_on=datetime.date(2026, 8, 1),
        from_cell=city.cell_b1,
        to_cell=city.cell_a2,
    )
    facts = member_facts_for([personas.member_a2], 2026)[personas.member_a2.pk]
    assert facts.transfers[0].months_in_former_cell == 7
    assert not facts.transfers[0].former_cell_comment_received


def test_open_period_command_prints_what_it_created(personas, city, settings):
    settings.LANGUAGE_CODE = "en"
    Member.objects.filter(pk=personas.member_a2.pk).update(status=Member.Status.SUSPENDED)
    out = StringIO()
    call_command("open_period", "2026", "--regime", "2025", stdout=out)
    text = out.getvalue()
    assert "8 members" in text and "Nguyễn Văn Dũng" in text
    period = Period.objects.get(year=2026)
    assert period.regime == "2025" and period.state == Period.State.OPEN
    with pytest.raises(CommandError):
        call_command("open_period", "2026", "--regime", "2025", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("open_period", "2026", "--regime", "2018", stdout=StringIO())


def test_open_period_command_refuses_an_unknown_organisation(personas):
    with pytest.raises(CommandError):
        call_command("open_period", "2026", "--regime", "2018", "--org", "nowhere", stdout=StringIO())


def test_opening_costs_a_fixed_number_of_queries(period, personas, city, django_assert_max_num_queries):
    for _ in range(30):
        MemberFactory(cell=city.cell_b1)
    # Bounded by the work, not by the members: the records are read in one query per kind.
    with django_assert_max_num_queries(20):
        open_(period, personas)


def test_the_board_sees_the_roster_and_overrides_from_the_page(period, personas, client_for):
    from django.urls import reverse

    Member.objects.filter(pk=personas.member_a2.pk).update(status=Member.Status.EXCUSED)
    open_(period, personas)
    assessment = assessment_of(personas.member_a2)
    client = client_for(personas.board)
    page = client.get(reverse("assessments:roster", args=[period.public_id]))
    assert [a.pk for a in page.context["rows"]] == [assessment.pk]
    override = reverse("assessments:roster_override", args=[period.public_id, assessment.public_id])
    response = client.post(override, {"classified": "1", "reason": ""}, follow=True)
    assert "Xin ghi rõ lý do quyết định của Ban Tổ chức." in response.content.decode()
    assessment.refresh_from_db()
    assert not assessment.classified  # no reason, no change
    response = client.post(override, {"classified": "peut-être", "reason": "Đã sinh hoạt trở lại"}, follow=True)
    assessment.refresh_from_db()
    assert not assessment.classified and response.redirect_chain  # an unknown decision, no change
    client.post(override, {"classified": "1", "reason": "Đã sinh hoạt trở lại"})
    assessment.refresh_from_db()
    assert assessment.classified and assessment.exclusion_overridden
    # An officer cannot reach it.
    assert client_for(personas.officer_a).post(override, {"classified": "0", "reason": "x"}).status_code == 404


@pytest.mark.parametrize(
    "language, shown, hidden",
    [
        ("en", "Member excused from work and party activities: not classified", "được miễn công tác"),
        ("vi", "Đảng viên được miễn công tác và sinh hoạt đảng: không xếp loại chất lượng", "Member excused"),
    ],
)
def test_the_reason_for_not_classifying_is_shown_in_the_language_of_the_request(
    period, personas, client_for, language, shown, hidden
):
    from django.urls import reverse

    Member.objects.filter(pk=personas.member_a2.pk).update(status=Member.Status.EXCUSED)
    open_(period, personas)
    form = assessment_of(personas.member_a2)
    board = client_for(personas.board)
    pages = [
        board.get(reverse("assessments:roster", args=[period.public_id]), HTTP_ACCEPT_LANGUAGE=language),
        board.get(reverse("assessments:form", args=[form.public_id]), HTTP_ACCEPT_LANGUAGE=language),
    ]
    for page in pages:
        content = page.content.decode()
        assert page.status_code == 200 and shown in content and hidden not in content


def test_the_admin_refuses_bad_parameters_and_opens_periods(personas, city, client):
    from django.urls import reverse

    from tests.factories import UserFactory

    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    add = reverse("admin:assessments_period_add")
    data = {
        "organization": city.city.pk,
        "year": "2026",
        "quarter": "",
        "regime": "2018",
        "parameters": '{"quota_rate": "2"}',
    }
    response = client.post(add, data)
    assert response.status_code == 200 and "parameters" in response.context["adminform"].form.errors
    assert not Period.objects.exists()
    data["parameters"] = '{"quota_rate": "0.25"}'
    assert client.post(add, data).status_code == 302
    period = Period.objects.get()
    changelist = reverse("admin:assessments_period_changelist")
    client.post(changelist, {"action": "open_periods", "_selected_action": [period.pk]})
    run_jobs()  # the opening is a background job (tests/jobs/)
    period.refresh_from_db()
    assert period.state == Period.State.OPEN
    assert Assessment.objects.filter(period=period, subject_kind=Kind.MEMBER).count() == 8


def test_the_board_closes_an_open_period_and_the_forms_are_then_refused(period, personas):
    open_(period, personas)
    services.period_close(period=period, user=personas.board)
    period.refresh_from_db()
    assert period.state == Period.State.CLOSED
    assert AuditEntry.objects.filter(period=period, action="close").exists()
    with pytest.raises(services.WorkflowError):
        services.period_close(period=period, user=personas.board)
    form = assessment_of(personas.member_record)
    with pytest.raises(services.WorkflowError):
        review_services.assessment_save(assessment=form, user=personas.member, answers={}, base_version=0)
