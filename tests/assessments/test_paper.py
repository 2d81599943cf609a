"""Self-reviews handed in on paper: the secretary ticks them in one step for the cell."""

import pytest
from django.urls import reverse

from assessments.core import services
from assessments.models import Assessment, AuditEntry, Period
from assessments.reviews import services as review_services
from members.models import Member
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db
S = Assessment.State


@pytest.fixture
def period(city, personas):
    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=period, user=personas.board)
    period.refresh_from_db()
    return period


def address(period, cell):
    return reverse("assessments:paper", args=[period.public_id, cell.code])


def forms(period, cell):
    return list(Assessment.objects.filter(period=period, organization=cell, member__isnull=False).order_by("pk"))


def test_the_secretary_records_paper_self_reviews_in_one_step(period, city, personas, client_for):
    client = client_for(personas.secretary_a1)
    cell_forms = forms(period, city.cell_a1)
    page = client.get(address(period, city.cell_a1))
    assert page.status_code == 200 and len(page.context["forms"]) == 3
    first, second = cell_forms[:2]
    response = client.post(
        address(period, city.cell_a1),
        {f"received-{first.pk}": "1", f"level-{first.pk}": "HTTNV", f"received-{second.pk}": "1"},
    )
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, first.on_paper, first.self_level) == (S.SUBMITTED, True, "HTTNV")
    assert (second.state, second.on_paper, second.self_level) == (S.SUBMITTED, True, "")
    entry = AuditEntry.objects.get(assessment=first, action="submit")
    assert entry.actor == personas.secretary_a1 and entry.on_behalf_of == first.member
    assert entry.data == {"on_paper": True, "level": "HTTNV"}
    # The form page says so; the page now lists only the one left.
    form_page = client.get(reverse("assessments:form", args=[first.public_id]))
    assert "giấy" in form_page.content.decode()
    assert len(client.get(address(period, city.cell_a1)).context["forms"]) == 1


def test_a_refused_row_saves_nothing_and_keeps_what_was_ticked(period, city, personas, client_for):
    client = client_for(personas.secretary_a1)
    first, second = forms(period, city.cell_a1)[:2]
    response = client.post(
        address(period, city.cell_a1),
        {
            f"received-{first.pk}": "1",
            f"level-{first.pk}": "HTTNV",
            f"received-{second.pk}": "1",
            f"level-{second.pk}": "XYZ",
        },
    )
    assert response.status_code == 400
    rows = {form.pk: form for form in response.context["forms"]}
    assert rows[first.pk].ticked and rows[first.pk].paper_level == "HTTNV"
    assert rows[second.pk].errors == ["Mức xếp loại không hợp lệ."]
    assert "Mức xếp loại không hợp lệ." in response.content.decode()
    assert not Assessment.objects.filter(on_paper=True).exists()


def test_nothing_ticked_is_said_plainly(period, city, personas, client_for):
    response = client_for(personas.secretary_a1).post(address(period, city.cell_a1), {})
    assert response.status_code == 400 and "Tick" not in response.content.decode()  # said in Vietnamese


def test_a_member_of_another_cell_cannot_be_slipped_in(period, city, personas, client_for):
    foreign = Assessment.objects.get(period=period, member=personas.member_b1)
    response = client_for(personas.secretary_a1).post(address(period, city.cell_a1), {f"received-{foreign.pk}": "1"})
    assert response.status_code == 400
    foreign.refresh_from_db()
    assert foreign.state == S.NOT_STARTED


def test_members_cannot_mark_their_own_form_as_paper(period, city, personas):
    own = Assessment.objects.get(period=period, member=personas.member_record)
    with pytest.raises(services.WorkflowError):
        review_services.paper_self_reviews_record(
            period=period, organization=city.cell_a1, user=personas.member, choices={own.pk: "HTTNV"}
        )


def test_a_closed_period_takes_no_paper_self_review(period, city, personas):
    services.period_close(period=period, user=personas.board)
    period.refresh_from_db()
    form = forms(period, city.cell_a1)[0]
    with pytest.raises(review_services.PaperError):
        review_services.paper_self_reviews_record(
            period=period, organization=city.cell_a1, user=personas.secretary_a1, choices={form.pk: ""}
        )


@pytest.mark.parametrize("extra", [0, 40])
def test_the_page_costs_the_same_queries_at_any_size(
    period, city, personas, client_for, extra, django_assert_num_queries
):
    for _ in range(extra):
        MemberFactory(cell=city.cell_a1, occupation=Member.Occupation.RETIRED)
    if extra:
        period = Period.objects.create(organization=city.city, year=2027, regime="2018")
        services.period_open(period=period, user=personas.board)
    client = client_for(personas.secretary_a1)
    # Session, user, roles, organisation, period; the forms with their members.
    with django_assert_num_queries(6):
        assert client.get(address(period, city.cell_a1)).status_code == 200
