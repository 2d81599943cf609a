"""The cell's view of each member's task shares on the meeting record, and `meeting_task_shares`, which
gives them to the decision."""

from decimal import Decimal

import pytest

from assessments.meetings import BallotCountForm, meeting_task_shares
from assessments.meetings.models import BallotCount
from assessments.models import Assessment, Period
from assessments.rulebooks import TaskStats
from members.models import Member

from .test_meeting import ALL_GOOD, meeting_url, minutes

pytestmark = pytest.mark.django_db


@pytest.fixture
def period(city, personas):
    Member.objects.update(occupation=Member.Occupation.RETIRED)
    period = Period.objects.create(organization=city.city, year=2026, regime="2025")
    from assessments.core import services

    services.period_open(period=period, user=personas.board)
    period.refresh_from_db()
    return period


@pytest.fixture
def forms(period, city):
    """The three members of cell A1, their self-reviews submitted, in Vietnamese order."""
    forms = list(
        Assessment.objects.filter(period=period, organization=city.cell_a1, member__isnull=False)
        .select_related("member")
        .order_by("member__sort_key", "pk")
    )
    Assessment.objects.filter(pk__in=[f.pk for f in forms]).update(state=Assessment.State.SUBMITTED)
    for form in forms:
        form.refresh_from_db()
    return forms


def with_shares(data, form, completed="", on_time="", exceeding=""):
    data[f"row-{form.public_id}-tasks_completed"] = completed
    data[f"row-{form.public_id}-tasks_on_time"] = on_time
    data[f"row-{form.public_id}-tasks_exceeding"] = exceeding
    return data


def test_the_meeting_page_has_the_share_fields_of_each_member(period, forms, personas, client_for):
    content = client_for(personas.secretary_a1).get(meeting_url(period)).content.decode()
    for form in forms:
        for name in ("tasks_completed", "tasks_on_time", "tasks_exceeding"):
            assert f'name="row-{form.public_id}-{name}"' in content


def test_the_cells_shares_are_recorded_and_read_as_fractions(period, forms, personas, client_for):
    first, second, _third = forms
    data = minutes(forms, {first: ALL_GOOD})
    with_shares(data, first, "100", "92,5", "30")
    with_shares(data, second, "50")
    response = client_for(personas.secretary_a1).post(meeting_url(period), data)
    assert response.status_code == 302
    count = BallotCount.objects.get(assessment=first)
    assert (count.tasks_completed, count.tasks_on_time, count.tasks_exceeding) == (
        Decimal("100"),
        Decimal("92.5"),
        Decimal("30"),
    )
    shares = meeting_task_shares(forms)
    assert shares == {
        first.pk: TaskStats(completed=Decimal(1), on_time=Decimal("0.925"), exceeding=Decimal("0.3")),
        second.pk: TaskStats(completed=Decimal("0.5")),
    }
    page = client_for(personas.secretary_a1).get(meeting_url(period)).content.decode()
    assert 'value="92.5"' in page


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        (("120", "", ""), "tasks_completed", "không thể lớn hơn 100%"),
        (("80", "90", ""), "tasks_on_time", "Các tỉ lệ không khớp nhau"),
        (("80", "", "85"), "tasks_exceeding", "Các tỉ lệ không khớp nhau"),
        (("", "90", ""), "tasks_completed", "Xin nhập cả tỉ lệ nhiệm vụ hoàn thành"),
        (("nhiều", "", ""), "tasks_completed", "Xin nhập tỉ lệ phần trăm từ 0 đến 100"),
    ],
)
def test_bad_shares_are_refused_and_nothing_is_saved(period, forms, personas, client_for, values, field, message):
    first = forms[0]
    data = with_shares(minutes(forms, {first: ALL_GOOD}), first, *values)
    response = client_for(personas.secretary_a1).post(meeting_url(period), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not BallotCount.objects.exists()
    assert Assessment.objects.get(pk=first.pk).state == Assessment.State.SUBMITTED


def test_a_line_not_counted_yet_keeps_its_shares(period, forms, personas, client_for):
    first = forms[0]
    data = with_shares(minutes(forms), first, "75")
    assert client_for(personas.secretary_a1).post(meeting_url(period), data).status_code == 302
    assert meeting_task_shares([first]) == {first.pk: TaskStats(completed=Decimal("0.75"))}


def test_the_share_fields_check_alone():
    form = BallotCountForm({"tasks_completed": "100", "tasks_on_time": "100,5"})
    assert not form.is_valid() and "tasks_on_time" in form.errors
    form = BallotCountForm({"tasks_completed": "99.5", "tasks_on_time": "99,5"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["tasks_on_time"] == Decimal("99.5")
