"""The roster (who is not classified, and why) at 50, 564 and 3,000 subjects left out: a page at a time,
the same queries whatever the size, a search by name, and the board's decision on a later page brings
it back to that page."""

import pytest
from django.urls import reverse

from assessments.core import services
from assessments.core.views import ROSTER_PAGE_SIZE
from assessments.models import Assessment, Period
from tests.factories import bulk_committee

pytestmark = pytest.mark.django_db
ROSTER_QUERIES = 7


def left_out(city, personas, size):
    """A period whose roster holds `size` members left out by the board's rule-free override, made in bulk."""
    committee = bulk_committee(city.city, f"ro{size}", cells=max(1, size // 50), members_per_cell=min(size, 50))
    period = Period.objects.create(organization=city.city, year=2026, regime="2025")
    services.period_open(period=period, user=personas.board)
    under = Assessment.objects.filter(
        period=period, member__isnull=False, organization__path__startswith=committee.path
    )
    under.update(classified=False, exclusion_reason="other")
    return period, under.count()


def url(period, **query):
    from urllib.parse import urlencode

    base = reverse("assessments:roster", args=[period.public_id])
    return f"{base}?{urlencode(query)}" if query else base


@pytest.mark.parametrize("size", [50, 564, 3000])
def test_the_roster_shows_a_page_at_a_time_with_the_same_queries(
    city, personas, client_for, size, django_assert_num_queries
):
    period, count = left_out(city, personas, size)
    client = client_for(personas.board)
    first = client.get(url(period))
    assert first.status_code == 200
    page = first.context["page"]
    assert page.paginator.count >= count >= size - 50
    assert len(page.object_list) == min(ROSTER_PAGE_SIZE, page.paginator.count)
    assert len(first.content) < 200_000
    # Session, user, roles, the period, the count, the page's rows, the schedule's warnings: the same at
    # every size and on every page.
    assert _queries(client, url(period)) == ROSTER_QUERIES
    with django_assert_num_queries(ROSTER_QUERIES):
        last = client.get(url(period, page=page.paginator.num_pages))
    assert last.status_code == 200


def _queries(client, address):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        client.get(address)
    return len(ctx.captured_queries)


def test_the_roster_finds_a_member_by_a_part_of_the_name_without_accents(city, personas, client_for):
    period, _ = left_out(city, personas, 564)
    target = (
        Assessment.objects.filter(period=period, classified=False, member__isnull=False).select_related("member").last()
    )
    word = target.member.full_name.split()[-1]
    from organizations.vietnamese import fold

    page = client_for(personas.board).get(url(period, q=fold(word)))
    rows = list(page.context["page"].object_list)
    assert rows and all(word.lower() in row.member.full_name.lower() for row in rows if row.member_id)
    nobody = client_for(personas.board).get(url(period, q="zzzqqq"))
    assert nobody.context["page"].paginator.count == 0 and "zzzqqq" in nobody.content.decode()


def test_a_decision_on_a_later_page_comes_back_to_that_page(city, personas, client_for):
    period, _ = left_out(city, personas, 564)
    client = client_for(personas.board)
    page = client.get(url(period, page=3)).context["page"]
    target = page.object_list[0]
    response = client.post(
        reverse("assessments:roster_override", args=[period.public_id, target.public_id]),
        {"classified": "1", "reason": "Hội nghị quyết định xếp loại", "page": "3"},
    )
    assert response.status_code == 302 and response.url == url(period, page=3)
    target.refresh_from_db()
    assert target.classified and target.exclusion_overridden


def test_another_organisation_s_secretary_sees_no_roster(city, personas, client_for):
    period, _ = left_out(city, personas, 50)
    assert client_for(personas.secretary_a1).get(url(period)).status_code == 404
