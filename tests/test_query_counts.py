"""The site's list and detail pages cost a fixed number of queries, whatever the size of the data."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members.models import CivilServiceRating, DisciplineDecision, LeavePeriod, Transfer
from tests.factories import MemberFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def grow(city, personas, cells=4, members_per_cell=15):
    for committee in (city.committee_a, city.committee_b):
        for _ in range(cells):
            cell = OrganizationFactory(parent=committee)
            for _ in range(members_per_cell):
                MemberFactory(cell=cell)
    for _ in range(members_per_cell):
        MemberFactory(cell=city.cell_a1)
    member = personas.member_record
    for year in (2023, 2024, 2025):
        DisciplineDecision.objects.create(
            member=member, decided_on=datetime.date(year, 3, 1), form="reprimand", reason="x"
        )
        CivilServiceRating.objects.create(member=member, year=year, level="HTTNV")
        LeavePeriod.objects.create(
            member=member, kind="sick", starts_on=datetime.date(year, 1, 1), ends_on=datetime.date(year, 2, 1)
        )
        Transfer.objects.create(
            member=member, transferred_on=datetime.date(year, 6, 1), from_cell=city.cell_a2, to_cell=city.cell_a1
        )


def count(client, url, params=None):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


# Every signed-in page starts with the session, the user and the role assignments (3 queries).
PAGES = [
    # the paginator's count, the page of organisations, one grouped member count
    ("board", lambda p, c: reverse("organizations:list"), None, 6),
    # the organisation, its ancestors, its children, one grouped member count, its levels by year
    ("board", lambda p, c: reverse("organizations:detail", args=[c.committee_a.code]), None, 8),
    # the organisation, its ancestors, the cell's members, one grouped member count, its levels by year
    ("secretary_a1", lambda p, c: reverse("organizations:detail", args=[c.cell_a1.code]), None, 8),
    # the paginator's count and the page of members with their cells
    ("board", lambda p, c: reverse("members:list"), None, 5),
    ("board", lambda p, c: reverse("members:list"), {"q": "nguyen", "org": "dang-bo-a"}, 6),
    # the member with cell and account, the levels by year, the levels of the cells of those years (none
    # here: no query), then one query per kind of record
    ("secretary_a1", lambda p, c: reverse("members:detail", args=[p.member_record.public_id]), None, 10),
]


@pytest.mark.parametrize("persona, build, params, expected", PAGES)
def test_page_query_count_does_not_grow_with_the_data(persona, build, params, expected, personas, city, client_for):
    client = client_for(getattr(personas, persona))
    url = build(personas, city)
    small = count(client, url, params)
    grow(city, personas)
    large = count(client, url, params)
    assert small == large == expected
