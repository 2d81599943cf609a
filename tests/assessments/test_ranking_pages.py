"""The board's ranking of a province's organisations, a page at a time and by cluster (cụm thi đua):
50 rows a page in the suggested order, the same queries and a bounded page at 50, 564 and 3,000
organisations; one cluster's ranking on its own; a page saved without touching the others, and a row
another member decided meanwhile left as they decided it."""

import re

import pytest
from django.urls import reverse

from assessments import decisions
from assessments.decisions import ranking
from assessments.models import Assessment, Period
from organizations.models import Cluster, Organization, RoleAssignment
from tests.factories import UserFactory, grant, organization, tree_in_bulk

pytestmark = pytest.mark.django_db

PER_PAGE = 50
# Session, user, roles, organisation, period; the counts (the whole's and the clusters', one grouped
# query), the exception; the reviews, the levels below (summed by the database up to the listed
# organisations), the analysis forms, the task shares, the records of the year, the board's records; the
# conflicts and posts.
QUERIES = 17
# The bound on any page at any size; a page of 50 rows is about a fifth of it.
MAX_PAGE_BYTES = 500_000
CLUSTER_SIZE = 40


def province(size):
    """A province of `size` grassroots cells in clusters of 40, a review of each (classified, its own
    proposal HTTNV), and its board: written in bulk."""
    clusters = Cluster.objects.bulk_create(
        Cluster(code=f"cum-{n:03d}", name=f"Cụm {n:03d}") for n in range(-(-size // CLUSTER_SIZE))
    )
    cells = [
        organization(f"cs-{n:05d}", f"Chi bộ cơ sở {n:05d}", Organization.Kind.GRASSROOTS_CELL) for n in range(size)
    ]
    for n, cell in enumerate(cells):
        cell.cluster = clusters[n // CLUSTER_SIZE]
    nodes = tree_in_bulk(
        organization("tinh", "Đảng bộ tỉnh", Organization.Kind.CITY_COMMITTEE), [(cell, []) for cell in cells]
    )
    root = nodes["tinh"]
    period, board = reviewed(root, [node for code, node in nodes.items() if code != "tinh"], "province-board")
    return root, period, board


def reviewed(root, organizations, board_name):
    """An open period of `root`, a review of each of `organizations` (classified, its own proposal
    HTTNV), and the root's board."""
    period = Period.objects.create(organization=root, year=2026, regime="2018", state=Period.State.OPEN)
    Assessment.objects.bulk_create(
        Assessment(
            period=period,
            subject_kind=Assessment.SubjectKind.ORGANIZATION,
            organization=node,
            classified=True,
            self_level="HTTNV",
            state=Assessment.State.SUBMITTED,
        )
        for node in organizations
    )
    board = UserFactory(username=board_name)
    grant(board, RoleAssignment.Role.BOARD, root)
    return period, board


def rank_url(period, root, **params):
    address = reverse("assessments:rank", args=[period.public_id, root.code])
    return address + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def row_pks(html):
    return [int(pk) for pk in re.findall(r'<tr id="row-(\d+)"', html)]


@pytest.mark.parametrize("size", [50, 564, 3000])
def test_the_ranking_shows_fifty_a_page_with_the_same_queries_at_any_size(size, client_for, django_assert_num_queries):
    root, period, board = province(size)
    client = client_for(board)
    pages = -(-size // PER_PAGE)
    with django_assert_num_queries(QUERIES):
        first = client.get(rank_url(period, root))
    html = first.content.decode()
    assert first.status_code == 200 and len(first.content) < MAX_PAGE_BYTES
    assert len(row_pks(html)) == min(size, PER_PAGE)
    # The summary by cluster: a row a cluster, each with its organisations.
    assert html.count("?cluster=cum-") == -(-size // CLUSTER_SIZE)
    if pages > 1:
        assert f"Trang 1 / {pages}" in html
        with django_assert_num_queries(QUERIES):
            last = client.get(rank_url(period, root, page=pages))
        assert len(last.content) < MAX_PAGE_BYTES
        assert len(row_pks(last.content.decode())) == size - (pages - 1) * PER_PAGE
    # One cluster's ranking: its organisations only, with the same queries.
    with django_assert_num_queries(QUERIES):
        one = client.get(rank_url(period, root, cluster="cum-000"))
    shown = row_pks(one.content.decode())
    expected = set(
        Assessment.objects.filter(period=period, organization__cluster__code="cum-000").values_list("pk", flat=True)
    )
    assert set(shown) == expected and len(shown) == CLUSTER_SIZE


def test_every_organisation_is_on_exactly_one_page_in_the_ranking_order(client_for):
    root, period, board = province(120)
    # Some decided better than the rest: the ranking puts them first, across the pages.
    best = list(ranking.organization_assessments(period, root).order_by("-pk").values_list("pk", flat=True)[:3])
    Assessment.objects.filter(pk__in=best).update(decided_level="HTXSNV", state=Assessment.State.DECIDED)
    client = client_for(board)
    seen = []
    for number in (1, 2, 3):
        seen += row_pks(client.get(rank_url(period, root, page=number)).content.decode())
    rows, _rulebook, _params = ranking.ranking_rows(period, root)
    assert seen == [row.assessment.pk for row in rows]
    assert len(set(seen)) == 120 and set(seen[:3]) == set(best)


def test_an_unknown_cluster_shows_the_whole_ranking(client_for):
    root, period, board = province(60)
    response = client_for(board).get(rank_url(period, root, cluster="no-such-cluster"))
    assert response.status_code == 200
    assert len(row_pks(response.content.decode())) == PER_PAGE
    assert 'name="cluster" value="no-such-cluster"' not in response.content.decode()


def test_the_organisations_in_no_cluster_have_their_own_group(client_for):
    root, period, board = province(60)
    loose = Organization.objects.filter(code__in=["cs-00000", "cs-00001"])
    loose.update(cluster=None)
    html = client_for(board).get(rank_url(period, root, cluster=ranking.NO_CLUSTER)).content.decode()
    assert set(row_pks(html)) == set(
        Assessment.objects.filter(period=period, organization__in=loose).values_list("pk", flat=True)
    )
    assert "Không thuộc cụm nào" in html or "Not in a cluster" in html


def save_page(client, period, root, levels, versions, **filters):
    data = {"action": "save", **filters}
    for pk, level in levels.items():
        data[f"level-{pk}"] = level
        data[f"note-{pk}"] = ""
        data[f"version-{pk}"] = versions[pk]
    return client.post(rank_url(period, root), data)


def shown_versions(html):
    return {int(pk): version for pk, version in re.findall(r'name="version-(\d+)" value="(\d+)"', html)}


def test_a_page_saved_keeps_the_other_pages_and_its_cluster(client_for):
    root, period, board = province(120)
    client = client_for(board)
    html = client.get(rank_url(period, root, cluster="cum-001", page=1)).content.decode()
    pks = row_pks(html)
    assert len(pks) == CLUSTER_SIZE
    versions = shown_versions(html)
    response = save_page(client, period, root, dict.fromkeys(pks, "HTTNV"), versions, cluster="cum-001", page="1")
    assert response.status_code == 302 and "cluster=cum-001" in response.url
    decided = Assessment.objects.filter(period=period, subject_kind="organization").exclude(decided_level="")
    assert set(decided.values_list("pk", flat=True)) == set(pks)
    assert set(decided.values_list("organization__cluster__code", flat=True)) == {"cum-001"}
    # The summary says so.
    page = client.get(rank_url(period, root)).content.decode()
    assert re.search(
        r"Cụm 001</a></td><td class=\"text-end\">40</td><td class=\"text-end\">0</td>"
        r"<td class=\"text-end\">40</td>",
        page,
    )


def test_a_row_another_member_decided_meanwhile_is_not_overwritten(client_for):
    root, period, board = province(60)
    client = client_for(board)
    html = client.get(rank_url(period, root)).content.decode()
    pks = row_pks(html)
    versions = shown_versions(html)
    assert set(versions) == set(pks)
    # Another member of the board decides the first row after this page was drawn.
    other = UserFactory(username="other-board")
    grant(other, RoleAssignment.Role.BOARD, root)
    ranking.ranking_record(period=period, parent=root, user=other, choices={pks[0]: ("HTNV", "")})
    # The page, saved whole, still shows HTTNV on every row, the first included.
    response = save_page(client, period, root, dict.fromkeys(pks, "HTTNV"), versions)
    assert response.status_code == 302
    levels = dict(Assessment.objects.filter(pk__in=pks).values_list("pk", "decided_level"))
    assert levels[pks[0]] == "HTNV"
    assert all(levels[pk] == "HTTNV" for pk in pks[1:])
    after = client.get(response.url).content.decode()
    assert "HTNV" in after and ("không được lưu" in after.lower() or "not saved" in after.lower())


def test_a_row_unchanged_by_the_page_is_not_a_conflict(client_for):
    """The other member's level, posted back as it now stands (the page was reloaded on that row by
    htmx, say), is no conflict: nothing is refused."""
    root, period, board = province(10)
    client = client_for(board)
    html = client.get(rank_url(period, root)).content.decode()
    pks, versions = row_pks(html), shown_versions(html)
    other = UserFactory(username="other-board")
    grant(other, RoleAssignment.Role.BOARD, root)
    ranking.ranking_record(period=period, parent=root, user=other, choices={pks[0]: ("HTNV", "")})
    levels = {pk: "HTTNV" for pk in pks} | {pks[0]: "HTNV"}
    response = save_page(client, period, root, levels, versions)
    after = client.get(response.url).content.decode().lower()
    assert "not saved" not in after and "không được lưu" not in after
    assert dict(Assessment.objects.filter(pk__in=pks).values_list("pk", "decided_level")) == levels


def test_a_ranking_without_clusters_offers_no_cluster_filter(client_for):
    root, period, board = province(30)
    Organization.objects.filter(cluster__isnull=False).update(cluster=None)
    html = client_for(board).get(rank_url(period, root)).content.decode()
    assert 'name="cluster"' not in html and 'id="clusters"' not in html
    assert len(row_pks(html)) == 30


def test_the_clusters_are_listed_by_name_with_their_numbers_in_order():
    root, period, _board = province(3 * CLUSTER_SIZE)
    for cluster, name in zip(Cluster.objects.order_by("code"), ["Cụm số 10", "Cụm số 2", "Cụm số 1"], strict=True):
        Cluster.objects.filter(pk=cluster.pk).update(name=name)
    summaries = ranking.ranking_summary(ranking.organization_assessments(period, root)).clusters
    assert [s.name for s in summaries] == ["Cụm số 1", "Cụm số 2", "Cụm số 10"]
    assert [s.subjects for s in summaries] == [CLUSTER_SIZE] * 3


def country(areas, per_area):
    """A root over `areas` provinces (city committees) of `per_area` grassroots cells each, reviewed
    (`reviewed`): written in bulk."""
    Kind = Organization.Kind
    tree = [
        (
            organization(f"tinh-{a:02d}", f"Tỉnh {a:02d}", Kind.CITY_COMMITTEE),
            [
                (organization(f"cs-{a:02d}-{n:04d}", f"Chi bộ {a:02d}-{n:04d}", Kind.GRASSROOTS_CELL), [])
                for n in range(per_area)
            ],
        )
        for a in range(areas)
    ]
    nodes = tree_in_bulk(organization("vn", "Cả nước", Kind.CITY_COMMITTEE), tree)
    root = nodes["vn"]
    period, board = reviewed(root, [node for code, node in nodes.items() if code.startswith("cs-")], "country-board")
    return root, period, board


# The summary by area instead of the rows: session, user, roles, organisation, period, the counts (the
# whole's, the clusters' and the areas' in one grouped query), the exception, and the areas' names; one
# area's ranking: the ranking's and the areas' names.
AREA_SUMMARY_QUERIES = 8
AREA_QUERIES = QUERIES + 1


def test_a_ranking_too_long_for_one_screen_asks_for_an_area_and_ranks_one_area_at_a_time(
    client_for, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(ranking, "RANKING_ROWS_MAX", 100)
    root, period, board = country(areas=3, per_area=40)  # 120 grassroots cells: more than 100
    client = client_for(board)
    with django_assert_num_queries(AREA_SUMMARY_QUERIES):
        summary = client.get(rank_url(period, root))
    html = summary.content.decode()
    assert summary.status_code == 200
    assert row_pks(html) == [] and "quá nhiều" in html
    # A row an area, in the tree's order, each with its 40 organisations, a link to its ranking.
    assert re.findall(r'<a href="\?area=(tinh-\d\d)">', html) == ["tinh-00", "tinh-01", "tinh-02"]
    assert html.count('<td class="text-end">40</td>') >= 3
    with django_assert_num_queries(AREA_QUERIES):
        one = client.get(rank_url(period, root, area="tinh-01")).content.decode()
    shown = row_pks(one)
    expected = set(
        Assessment.objects.filter(period=period, organization__code__startswith="cs-01-").values_list("pk", flat=True)
    )
    assert set(shown) == expected and len(shown) == 40
    assert 'aria-current="true"><td><a href="?area=tinh-01">' in one
    # The area kept through the filter of the rows and the pages; an unknown area is the summary again.
    assert '<input type="hidden" name="area" value="tinh-01">' in one
    assert row_pks(client.get(rank_url(period, root, area="tinh-99")).content.decode()) == []


def test_a_ranking_short_enough_shows_every_row_and_no_areas(client_for):
    root, period, board = country(areas=3, per_area=4)
    html = client_for(board).get(rank_url(period, root)).content.decode()
    assert len(row_pks(html)) == 12 and "?area=" not in html


def test_one_grouped_query_counts_the_whole_the_clusters_and_the_areas_as_apart(django_assert_num_queries):
    root, period, _board = country(areas=3, per_area=40)
    cluster = Cluster.objects.create(code="cum-a", name="Cụm A")
    # The first 20 of areas 00 and 01 in the cluster; some levels decided, one reopened, one not classified.
    Organization.objects.filter(code__regex=r"^cs-0[01]-00[01]\d$").update(cluster=cluster)
    forms = Assessment.objects.filter(period=period)
    forms.filter(organization__code__startswith="cs-00-000").update(decided_level="HTXSNV")
    forms.filter(organization__code__startswith="cs-02-001").update(decided_level="HTNV", reopened=True)
    forms.filter(organization__code="cs-01-0039").update(classified=False)
    queryset = ranking.organization_assessments(period, root)
    with django_assert_num_queries(1):
        summary = ranking.ranking_summary(queryset, "organization", parent=root)
    # The whole: the same as the sum of the organisations' tallies, which the screens counted before.
    whole = decisions.total_tally(decisions.tallies_by_organization(queryset, "organization"))
    assert (summary.total.classified, summary.total.decided, summary.total.proposed, summary.total.reopened) == (
        whole.classified,
        whole.decided,
        whole.proposed,
        whole.reopened,
    )
    assert summary.total.classified == 119 and summary.total.reopened == 10
    assert summary.total.decided == {"HTXSNV": 10, "HTNV": 10}
    assert [(c.code, c.subjects, c.tally.classified) for c in summary.clusters] == [
        ("cum-a", 40, 40),
        (ranking.NO_CLUSTER, 80, 79),
    ]
    with django_assert_num_queries(1):
        areas = summary.areas()
    assert [(a.code, a.subjects, a.tally.classified, dict(a.tally.decided)) for a in areas] == [
        ("tinh-00", 40, 40, {"HTXSNV": 10}),
        ("tinh-01", 40, 39, {}),
        ("tinh-02", 40, 40, {"HTNV": 10}),
    ]
    # One cluster's areas: its subjects only; an area with none of them is not listed.
    assert [(a.code, a.subjects, dict(a.tally.decided)) for a in summary.areas("cum-a")] == [
        ("tinh-00", 20, {"HTXSNV": 10}),
        ("tinh-01", 20, {}),
    ]
    assert [(a.code, a.subjects) for a in summary.areas(ranking.NO_CLUSTER)] == [
        ("tinh-00", 20),
        ("tinh-01", 20),
        ("tinh-02", 40),
    ]
