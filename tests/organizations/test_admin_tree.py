"""The admin's organisation tree at any size: one level at a time, a page of 50 rows, its list query run
once, the member counts of the page in one grouped query (no count per row), searchable."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from demo.committee import bulk_committee
from organizations.admin import OrganizationAdmin
from organizations.models import Organization
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("admin:organizations_organization_changelist")


@pytest.fixture
def root_client(client, personas):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    return client


def _queries(client, url, params=None):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return response, [q["sql"] for q in ctx.captured_queries]


def _row_queries(sqls):
    """The queries that read rows of organisations (not the counts of the paginator)."""
    return [sql for sql in sqls if sql.startswith('SELECT "organizations_organization"."id"')]


def test_the_tree_reads_its_rows_once_and_counts_members_in_one_query(root_client, city):
    response, sqls = _queries(root_client, URL)
    assert [row.code for row in response.context["cl"].result_list] == ["city"]
    # The rows once (treebeard's tree context answers from them), the cluster filter's list apart.
    assert len(_row_queries(sqls)) == 1, "\n".join(sqls)
    grouped = [sql for sql in sqls if 'FROM "members_member"' in sql]
    assert len(grouped) == 1 and "GROUP BY" in grouped[0]
    assert "SELECT COUNT(*) FROM (SELECT" not in "\n".join(sqls)  # no correlated count per row
    assert response.context["cl"].result_list[0].member_total == 8


def test_the_tree_query_count_is_pinned_whatever_the_number_of_children(root_client, city):
    # session, user, the parent (in scope, then read), the clusters of the filter, the paginator's count,
    # the rows, the member counts
    url = URL + f"children/{city.city.pk}/"
    _response, small = _queries(root_client, url)
    for n in range(3):
        bulk_committee(city.city, f"extra-{n}", members=120, cell_size=40)
    response, large = _queries(root_client, url)
    assert len(small) == len(large) == 8, "\n".join(large)
    data = response.json()
    assert data["num_pages"] == 1
    context = {row["node-id"]: row["has-children"] for row in data["tree_context"]}
    assert context[str(city.committee_a.pk)] == 1
    assert context[str(city.cell_c.pk)] == 0


def test_a_level_of_many_children_is_paginated(root_client, city):
    committee = bulk_committee(city.city, "big", members=60 * 3, cell_size=3)  # 60 cells
    assert OrganizationAdmin.list_per_page == 50
    url = URL + f"children/{committee.pk}/"
    first = root_client.get(url).json()
    assert first["num_pages"] == 2 and len(first["tree_context"]) == 50
    last = root_client.get(url, {"p": 2}).json()
    assert last["page"] == 2 and len(last["tree_context"]) == 10


def test_the_tree_is_searchable_by_name_without_diacritics_and_by_code(root_client, city):
    response, sqls = _queries(root_client, URL, {"q": "dang bo a"})
    assert {row.code for row in response.context["cl"].result_list} == {"dang-bo-a"}
    assert response.context["cl"].result_list[0].member_total == 5
    response, _sqls = _queries(root_client, URL, {"q": "chi-bo-a"})
    assert {row.code for row in response.context["cl"].result_list} == {"chi-bo-a1", "chi-bo-a2"}
    assert Organization.objects.get(code="chi-bo-a1").members.count() == 3
    counts = {row.code: row.member_total for row in response.context["cl"].result_list}
    assert counts == {"chi-bo-a1": 3, "chi-bo-a2": 2}
