"""The statistics page: progress per organisation, the distribution of levels, year over year."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments import decisions
from assessments.core import services
from assessments.decisions import ranking
from assessments.models import Assessment, Period
from assessments.outputs import statistics as dashboards
from members.models import Member
from organizations.models import Organization
from tests.factories import MemberFactory, OrganizationFactory

pytestmark = pytest.mark.django_db
S = Assessment.State


def open_period(city, personas, year):
    period = Period.objects.create(organization=city.city, year=year, regime="2018")
    services.period_open(period=period, user=personas.board)
    period.refresh_from_db()
    return period


def member_forms(period, organization):
    return list(
        Assessment.objects.filter(period=period, member__isnull=False, organization__path__startswith=organization.path)
        .select_related("member")
        .order_by("member__sort_key")
    )


def decide(period, organization, user, levels):
    forms = [f for f in member_forms(period, organization) if f.classified]
    choices = {f.pk: (level, "") for f, level in zip(forms, levels, strict=False)}
    decisions.decisions_record(period=period, organization=organization, user=user, choices=choices)


@pytest.fixture
def period(city, personas):
    """2026, with the members' levels decided as the decision screen records them.

    Committee A: 5 members, all decided (1 HTNV, 4 HTTNV), the 3 of cell A1 proposed by their cell.
    Committee B: 2 members, one not to be classified, the other decided HTTNV.
    Cell C: 1 member, submitted, not decided.
    Organisations: the three grassroots ranked HTTNV by the board; cells A1 and A2 decided HTNV.
    """
    Member.objects.update(occupation=Member.Occupation.RETIRED)
    period = open_period(city, personas, 2026)
    Assessment.objects.filter(period=period, member__cell=city.cell_a1).update(cell_proposed_level="HTTNV")
    Assessment.objects.filter(period=period, member__cell=city.cell_b1, member__user__isnull=True).update(
        classified=False, exclusion_note="Ốm dài ngày"
    )
    Assessment.objects.filter(period=period, member__cell=city.cell_c).update(state=S.SUBMITTED)
    decide(period, city.committee_a, personas.officer_a, ["HTNV", "HTTNV", "HTTNV", "HTTNV", "HTTNV"])
    decide(period, city.committee_b, personas.board, ["HTTNV"])
    # The organisations' levels written as they stand, not through the ranking: the rules of the
    # ranking (an organisation after every level below it, cell C's member undecided) are not what
    # these figures test.
    organizations = ranking.organization_assessments(period, city.city)
    organizations.update(decided_level="HTTNV", state=S.DECIDED)
    ranking.organization_assessments(period, city.committee_a).update(decided_level="HTNV", state=S.DECIDED)
    return period


def stats_url(period, organization):
    return reverse("assessments:stats", args=[period.public_id, organization.code])


def progress_of(stats):
    return {
        row.organization.code: (row.members, row.classified, row.submitted, row.proposed, row.decided)
        for row in stats.progress
    }


def levels_of(distribution):
    """(to be classified, HTXSNV, HTTNV, HTNV, KHTNV, not yet decided)"""
    return (distribution.classified, *(count for count, _percent in distribution.cells))


def test_progress_per_organisation_matches_the_database(period, city):
    stats = dashboards.stats_for(period, city.city)
    assert progress_of(stats) == {
        "dang-bo-a": (5, 5, 5, 3, 5),
        "dang-bo-b": (2, 1, 1, 0, 1),
        "chi-bo-c": (1, 1, 1, 0, 0),
    }
    total = stats.total
    assert (total.members, total.classified, total.submitted, total.proposed, total.decided) == (8, 7, 7, 3, 6)
    # The same figures, counted plainly, as the decision screens store them.
    decided = Assessment.objects.filter(period=period, member__isnull=False, classified=True).exclude(decided_level="")
    assert total.decided == decided.count()


def test_members_levels_count_decided_levels_of_classified_members(period, city):
    stats = dashboards.stats_for(period, city.city)
    assert levels_of(stats.members_total) == (7, 0, 5, 1, 0, 1)
    by_name = {d.label: levels_of(d) for d in stats.members}
    assert by_name == {
        city.committee_a.name: (5, 0, 4, 1, 0, 0),
        city.committee_b.name: (1, 0, 1, 0, 0, 0),
        city.cell_c.name: (1, 0, 0, 0, 0, 1),
    }
    assert stats.members_total.cells[1] == (5, 71)  # 5 of the 7 to be classified


def test_organisations_levels_leave_out_the_organisation_itself(period, city):
    stats = dashboards.stats_for(period, city.city)
    grassroots, subordinate = stats.organizations
    assert levels_of(grassroots) == (3, 0, 3, 0, 0, 0)
    assert levels_of(subordinate) == (3, 0, 0, 2, 0, 1)  # A1 and A2 decided, B1 not yet
    # Under committee A only its two cells count; the committee's own level is decided above it.
    (cells,) = dashboards.stats_for(period, city.committee_a).organizations
    assert levels_of(cells) == (2, 0, 0, 2, 0, 0)


def test_year_over_year_shows_each_annual_period_oldest_first(period, city, personas):
    earlier = open_period(city, personas, 2025)
    decide(earlier, city.committee_a, personas.officer_a, ["HTTNV"] * 5)
    # A quarterly review is not a year of its own.
    Period.objects.create(organization=city.city, year=2026, quarter=2, regime="2018")
    stats = dashboards.stats_for(period, city.city)
    assert [members.label for members, _organizations in stats.years] == ["2025", "2026"]
    (members_2025, organizations_2025), (members_2026, _organizations_2026) = stats.years
    assert levels_of(members_2025) == (8, 0, 5, 0, 0, 3)
    assert levels_of(members_2026) == levels_of(stats.members_total)
    assert organizations_2025.decided == 0
    # Scoped to committee A, both years count only its five members.
    scoped = dashboards.stats_for(period, city.committee_a)
    assert [levels_of(m) for m, _o in scoped.years] == [(5, 0, 5, 0, 0, 0), (5, 0, 4, 1, 0, 0)]
    chart = dashboards.chart_data(stats)
    assert chart["years"]["labels"] == ["2025", "2026"]
    assert chart["years"]["series"][1]["percents"] == [63, 71]  # HTTNV: 5 of 8, 5 of 7


def test_the_page_shows_the_figures_as_tables(period, city, personas, client_for):
    response = client_for(personas.board).get(stats_url(period, city.city))
    assert response.status_code == 200
    html = response.content.decode()
    for table in ("progress-table", "members-table", "organizations-table", "years-members-table"):
        assert f'id="{table}"' in html
    assert 'id="stats-data"' in html
    row = re.search(r'<tr data-code="dang-bo-a">(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r'<span class="stats-number">(\d+)</span>', row) == ["5", "3", "5"]
    assert ">5 <small" in html  # the HTTNV members of the city


def test_the_officer_sees_only_the_rows_of_their_committee(period, city, personas, client_for):
    client = client_for(personas.officer_a)
    response = client.get(stats_url(period, city.committee_a))
    assert response.status_code == 200
    assert {row.organization.code for row in response.context["stats"].progress} == {"chi-bo-a1", "chi-bo-a2"}
    html = response.content.decode()
    assert city.committee_b.name not in html and city.cell_c.name not in html
    assert client.get(stats_url(period, city.city)).status_code == 404
    assert client.get(stats_url(period, city.committee_b)).status_code == 404


def test_a_cell_shows_itself_as_its_only_row(period, city, personas, client_for):
    response = client_for(personas.secretary_a1).get(stats_url(period, city.cell_a1))
    assert response.status_code == 200
    assert progress_of(response.context["stats"]) == {"chi-bo-a1": (3, 3, 3, 3, 3)}


def test_the_page_refuses_a_post(period, city, personas, client_for):
    assert client_for(personas.board).post(stats_url(period, city.city)).status_code == 405


def queries_for_page(client, url):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


# 1-2 the session and the user; 3 the role assignments (scope); 4 the organisation; 5 the period;
# then one query per figure: 6-7 the count and the page of the children; 8 the subtree's organisations'
# paths; 9 the members' progress and levels, by organisation; 10 the organisations' levels, by kind; 11
# the years; 12 the years' levels; 13-14 the counts of the award lists (HTXSNV this year, and five years
# running). A list that is not empty adds the query of its page.
PAGE_QUERIES = 14


def test_the_query_count_does_not_grow_with_the_data(city, personas, client_for):
    Member.objects.update(occupation=Member.Occupation.RETIRED)
    small = open_period(city, personas, 2025)
    client = client_for(personas.board)
    assert queries_for_page(client, stats_url(small, city.city)) == PAGE_QUERIES
    # Ten times the members, in new cells and a new committee, and another year.
    committee = OrganizationFactory(
        code="dang-bo-d", name="Đảng bộ D", kind=Organization.Kind.GRASSROOTS_COMMITTEE, parent=city.city
    )
    for number in range(4):
        committee.refresh_from_db()
        cell = OrganizationFactory(code=f"chi-bo-d{number}", name=f"Chi bộ D{number}", parent=committee)
        for _ in range(18):
            MemberFactory(cell=cell, occupation=Member.Occupation.RETIRED)
    large = open_period(city, personas, 2026)
    assert Assessment.objects.filter(period=large, member__isnull=False).count() == 80
    assert queries_for_page(client, stats_url(large, city.city)) == PAGE_QUERIES


def test_the_chart_library_is_served_from_our_static_files(period, city, personas, client_for):
    assert finders.find("vendor/chartjs/chart.umd.min.js")
    assert finders.find("js/charts.js")
    html = client_for(personas.board).get(stats_url(period, city.city)).content.decode()
    assert f"{settings.STATIC_URL}vendor/chartjs/chart.umd.min.js" in html
    templates = Path(settings.BASE_DIR, "templates", "assessments").glob("stats*.html")
    for template in templates:
        assert not re.search(r"https?://", template.read_text()), template.name
    assert not re.search(r"<script[^>]+src=\"https?://", html)


def test_the_page_of_a_big_tree_shows_a_page_of_children_and_of_each_award_list(city, personas, client_for):
    from demo.committee import bulk_committee

    for number in range(56):  # with the city's three: 59 children, two pages
        bulk_committee(city.city, f"extra-{number:02d}", members=2, cell_size=2)
    period = open_period(city, personas, 2025)
    forms = Assessment.objects.filter(period=period, member__isnull=False)
    forms.update(classified=True, decided_level="HTXSNV")
    total = forms.count()
    assert total == 8 + 112
    client = client_for(personas.board)
    with CaptureQueriesContext(connection) as context:
        first = client.get(stats_url(period, city.city))
    # This year's award list has rows: the query of its page (no earlier year: five years running is empty).
    assert len(context.captured_queries) == PAGE_QUERIES + 1
    stats = first.context["stats"]
    assert len(stats.progress) == len(stats.members) == 50
    assert stats.page.paginator.num_pages == 2
    assert stats.total.members == total  # the total is over the whole subtree, not the page
    assert sum(row.members for row in stats.progress) < total
    assert len(first.context["awards"].this_year.object_list) == 50
    assert first.context["awards"].this_year.paginator.count == total
    assert len(first.content) < 200_000

    second = client.get(stats_url(period, city.city), {"page": 2, "awards": 3})
    stats = second.context["stats"]
    assert len(stats.progress) == 9
    assert (
        sum(row.members for row in stats.progress) + sum(row.members for row in first.context["stats"].progress)
        == total
    )
    awards = second.context["awards"].this_year
    assert awards.number == 3 and len(awards.object_list) == total - 100
    html = second.content.decode()
    # The link back to the awards' second page keeps the page of children.
    assert 'href="?page=2&amp;awards=2"' in html
    assert 'href="?page=1&amp;awards=3"' in html
