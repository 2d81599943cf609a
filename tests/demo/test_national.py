"""bench/national.py's country: the planned shape (pure Python), and the rows it writes with COPY
(PostgreSQL only: the simulation refuses SQLite)."""

import importlib.util
from collections import Counter
from pathlib import Path

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from members.models import Member
from organizations.models import Organization
from organizations.vietnamese import fold, title_sort_key

SPEC = importlib.util.spec_from_file_location(
    "bench_national", Path(__file__).resolve().parents[2] / "bench" / "national.py"
)
national = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(national)


def test_the_plan_has_the_countrys_proportions():
    plan = national.plan_country(300_000, 4)
    assert len(plan) == 4
    grassroots = [sizes for province in plan for district in province for sizes in district]
    cells = [size for sizes in grassroots for size in sizes]
    assert sum(cells) == 300_000
    assert min(cells) >= 5
    assert 300_000 / len(grassroots) == pytest.approx(national.MEMBERS_PER_GRASSROOTS, rel=0.1)
    assert 300_000 / len(cells) == pytest.approx(national.MEMBERS_PER_CELL, rel=0.1)
    districts = sum(len(province) for province in plan)
    assert len(grassroots) / districts == pytest.approx(national.GRASSROOTS_PER_DISTRICT, rel=0.3)
    # Provinces differ in size.
    sizes = [sum(sum(g) for d in province for g in d) for province in plan]
    assert max(sizes) > 1.3 * min(sizes)


def test_too_few_members_for_the_provinces_is_refused():
    with pytest.raises(ValueError):
        national.plan_country(150, 2)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the national simulation writes with COPY")
def test_a_small_country_is_written_with_the_planned_structure():
    plan = national.plan_country(2000, 2)
    counts = national.build_country(2000, 2)
    levels = Counter(Organization.objects.values_list("depth", "kind"))
    planned_cells = sum(len(sizes) for province in plan for district in province for sizes in district)
    planned_grassroots = sum(len(district) for province in plan for district in province)
    assert levels[(1, "city")] == 1  # the country
    assert levels[(2, "city")] == 2 == counts["provinces"]  # the provinces
    assert levels[(3, "city")] == sum(len(province) for province in plan) == counts["districts"]
    assert levels[(4, "grassroots_committee")] == planned_grassroots == counts["grassroots"]
    assert levels[(5, "cell")] == planned_cells == counts["cells"]
    assert Member.objects.count() == 2000 == counts["members"]
    # Every cell holds its planned members, never fewer than five, with a secretary and a deputy.
    per_cell = Counter(Member.objects.values_list("cell_id", flat=True))
    assert sorted(per_cell.values()) == sorted(s for p in plan for d in p for g in d for s in g)
    assert Member.objects.filter(party_post="secretary").count() == planned_cells
    # A tree treebeard accepts, siblings in the order of their names, the keys save() would compute.
    assert Organization.objects.find_problems() == ([], [], [], [], [])
    for parent in Organization.objects.filter(depth__lte=3):
        names = [c.name for c in Organization.objects.get_children(parent)]
        assert names == sorted(names, key=title_sort_key) and len(names) == parent.numchild
    member = Member.objects.order_by("pk").first()
    assert member.search_name == fold(member.full_name) and member.cell.kind == "cell"
    # The constraints and indexes dropped for the load are back.
    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.filter(pk=member.pk + 1).update(card_number=member.card_number)
    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.filter(pk=member.pk).update(cell_id=10**9)
    # Later rows carry on after the explicit keys.
    t01 = Organization.objects.get(code="t01")
    org = Organization.objects.add_child(t01, {"code": "t01-new", "name": "Đảng bộ mới", "kind": "city"})
    assert org.pk > max(Organization.objects.exclude(pk=org.pk).values_list("pk", flat=True))


@pytest.mark.skipif(connection.vendor == "postgresql", reason="SQLite refuses")
@pytest.mark.django_db
def test_sqlite_is_refused():
    with pytest.raises(RuntimeError, match="PostgreSQL"):
        national.build_country(2000, 2)


@pytest.mark.django_db
def test_a_screen_s_queries_are_counted(client, django_user_model):
    """The bench reads the queries of the first request before timing the others (each request empties the
    log, and with DEBUG off nothing is logged outside the capture)."""
    client.force_login(django_user_model.objects.create(username="bench"))
    with CaptureQueriesContext(connection) as expected:
        client.get("/")
    count = len(expected.captured_queries)  # read at once: the next request empties the log
    figures = national._page(client, "/")
    assert figures["status"] == 200
    assert figures["queries"] == count > 0
