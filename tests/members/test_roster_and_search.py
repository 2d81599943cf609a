"""The member list at any size: one page of 50 at a time, the filters kept from page to page, a fixed
number of queries; the search by the prefix of a word of the folded name or of the card number, served
by an index on PostgreSQL."""

import math
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from demo.committee import bulk_committee as build_committee
from members.models import Member
from members.selectors import search_members
from members.views import PAGE_SIZE
from tests.factories import MemberFactory, bulk_committee

pytestmark = pytest.mark.django_db

# One page of 50 members: its HTML stays far below the 500 KB that no page may pass.
PAGE_HTML_LIMIT = 120_000


def _get(client, params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("members:list"), params)
    assert response.status_code == 200
    return response, len(ctx.captured_queries)


@pytest.mark.parametrize("size", [50, 564, 3000])
def test_roster_is_paginated_with_its_filters_kept(size, city, personas, client_for):
    committee = build_committee(city.city, "roster", members=size)
    total = Member.objects.under(committee).count()
    assert total == size
    client = client_for(personas.board)
    pages = math.ceil(size / PAGE_SIZE)

    response, queries = _get(client, {"org": committee.code, "status": "active"})
    page = response.context["page"]
    assert page.paginator.count == size
    assert page.paginator.num_pages == pages
    assert len(page.object_list) == min(size, PAGE_SIZE)
    assert len(response.content) < PAGE_HTML_LIMIT
    html = response.content.decode()
    if pages > 1:
        # The link to the next page keeps the organisation and the status.
        links = re.findall(r'href="\?([^"]*page=2[^"]*)"', html)
        assert links and all(f"org={committee.code}" in link and "status=active" in link for link in links)
    else:
        assert "page=2" not in html

    last, last_queries = _get(client, {"org": committee.code, "status": "active", "page": pages})
    assert last.context["page"].number == pages
    assert len(last.context["page"].object_list) == size - PAGE_SIZE * (pages - 1)
    assert len(last.content) < PAGE_HTML_LIMIT
    # The session, the user, the roles, the organisation of the filter, the count and the page.
    assert queries == last_queries == 6


def test_roster_page_beyond_the_last_shows_the_last(city, personas, client_for):
    committee = bulk_committee(city.city, "roster", cells=3, members_per_cell=50)
    response, _queries = _get(client_for(personas.board), {"org": committee.code, "page": 99})
    assert response.context["page"].number == 3


def test_roster_status_filter_narrows_the_count(city, personas, client_for):
    committee = bulk_committee(city.city, "roster", cells=2, members_per_cell=50)
    Member.objects.under(committee).filter(pk__in=Member.objects.under(committee).values("pk")[:7]).update(
        status=Member.Status.DECEASED
    )
    client = client_for(personas.board)
    response, _queries = _get(client, {"org": committee.code, "status": "deceased"})
    assert response.context["page"].paginator.count == 7
    response, _queries = _get(client, {"org": committee.code, "status": "active"})
    assert response.context["page"].paginator.count == 93


@pytest.fixture
def named(city):
    MemberFactory(cell=city.cell_a1, full_name="Nguyễn Thị Ánh Tuyết", card_number="48123456")
    MemberFactory(cell=city.cell_a1, full_name="Đỗ Đức Thuận", card_number="77000001")
    MemberFactory(cell=city.cell_a1, full_name="Lê Quyên", card_number="77000002")


def _found(text):
    return set(search_members(Member.objects.all(), text).values_list("full_name", flat=True))


def test_search_finds_by_the_accentless_prefix_of_any_word(named):
    assert _found("tuyet") == {"Nguyễn Thị Ánh Tuyết"}
    assert _found("anh tu") == {"Nguyễn Thị Ánh Tuyết"}
    assert _found("ÁNH") == {"Nguyễn Thị Ánh Tuyết"}
    assert _found("do duc") == {"Đỗ Đức Thuận"}
    assert _found("Đức") == {"Đỗ Đức Thuận"}


def test_search_is_by_prefix_not_by_a_middle_substring(named):
    # "uye" is inside "Tuyết" and "Quyên", at the start of no word: a prefix search finds nobody.
    assert _found("uye") == set()
    assert _found("uan") == set()


def test_search_finds_by_the_card_number_prefix(named):
    assert _found("4812") == {"Nguyễn Thị Ánh Tuyết"}
    assert _found("77000") == {"Đỗ Đức Thuận", "Lê Quyên"}
    assert _found("23456") == set()  # inside the number, not its start


def test_search_of_nothing_keeps_everyone(named):
    assert search_members(Member.objects.filter(full_name__startswith="Lê"), "  ").count() == 1


def test_folded_name_follows_a_renaming(named):
    member = Member.objects.get(card_number="77000002")
    member.full_name = "Lê Thị Quyên"
    member.save(update_fields=["full_name"])
    member.refresh_from_db()
    assert member.search_name == "le thi quyen"
    assert _found("thi quy") == {"Lê Thị Quyên"}


def test_search_on_the_roster_keeps_the_query_in_the_page_links(city, personas, client_for):
    for n in range(60):
        MemberFactory(cell=city.cell_a1, full_name=f"Phạm Văn Bình {n}")
    response, _queries = _get(client_for(personas.board), {"q": "pham binh"})
    assert response.context["page"].paginator.count == 0  # "binh" is not a prefix of "pham …"
    response, _queries = _get(client_for(personas.board), {"q": "Phạm văn"})
    assert response.context["page"].paginator.count == 60
    assert re.search(r'href="\?q=Ph%E1%BA%A1m\+v%C4%83n&amp;page=2"', response.content.decode())


def _plan(queryset):
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram and pattern indexes are PostgreSQL's")
@pytest.mark.parametrize(
    "text, index",
    [
        ("Nguyễn", "_like"),  # the first word: the pattern twin of the folded name's index
        ("thi anh", "member_search_trgm"),  # a later word: the trigram index
        ("4812", "_like"),  # the card number's pattern twin
    ],
)
def test_search_uses_an_index_on_postgresql(text, index, city):
    Member.objects.bulk_create(
        [
            Member(
                full_name=f"Trần Văn Số{n}",
                search_name=f"tran van so{n}",
                sort_key=f"tran van so{n}",
                gender=Member.Gender.MALE,
                date_of_birth="1960-01-01",
                admission_date="1990-01-01",
                card_number=f"5{n:08d}",
                occupation=Member.Occupation.RETIRED,
                cell=city.cell_a1,
            )
            for n in range(3000)
        ]
    )
    MemberFactory(cell=city.cell_a1, full_name="Nguyễn Thị Ánh Tuyết", card_number="48123456")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE members_member")
    queryset = search_members(Member.objects.all(), text).order_by().values("pk")
    plan = _plan(queryset)
    assert "Seq Scan on members_member" not in plan, plan
    assert index in plan, plan
    assert list(queryset) == list(Member.objects.filter(card_number="48123456").values("pk"))


def test_the_migration_fills_the_folded_names_of_rows_written_without_them(named, monkeypatch):
    from importlib import import_module
    from types import SimpleNamespace

    from django.apps import apps

    migration = import_module("members.migrations.0007_folded_name")
    monkeypatch.setattr(migration, "CHUNK", 2)  # several chunks over the city's members
    Member.objects.update(search_name="")
    assert _found("tuyet") == set()
    migration.refill_folded_names(apps, SimpleNamespace(connection=connection))
    assert _found("tuyet") == {"Nguyễn Thị Ánh Tuyết"}
    assert not Member.objects.filter(search_name="").exists()
