"""The counts over a subtree's forms (the levels below the ranked organisations, the statistics, the
award lists, the quota exception on record) are read from indexes that hold every column they count, so
that PostgreSQL answers them from the index alone rather than from the forms' wide rows; and the levels
below a root's organisations, counted over the whole period without a join, are those counted subtree by
subtree."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from assessments import decisions
from assessments.core import organization_facts, services
from assessments.core.organization_facts import LevelsBelow
from assessments.decisions import ranking, selectors
from assessments.models import Assessment, Period
from assessments.outputs import statistics
from members.models import Member

pytestmark = pytest.mark.django_db


@pytest.fixture
def period(city, personas):
    """2026 opened, the members of committee A decided, one of committee B decided KHTNV."""
    Member.objects.update(occupation=Member.Occupation.RETIRED)
    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=period, user=personas.board)
    for committee, user, level in (
        (city.committee_a, personas.officer_a, "HTTNV"),
        (city.committee_b, personas.board, "KHTNV"),
    ):
        forms = Assessment.objects.filter(
            period=period, member__isnull=False, classified=True, organization__path__startswith=committee.path
        )
        choices = {form.pk: (level, "") for form in forms}
        decisions.decisions_record(period=period, organization=committee, user=user, choices=choices)
    return period


# Django's index of each foreign key (assessments_assessment_member_id_7aa97de3...): made to follow one
# key, never to count over a subtree; on a table of a few rows the planner may take one with a filter
# (member_id IS NOT NULL, then the period) as readily as an index that holds what is counted, so the plans
# are read without them.
FOREIGN_KEY_INDEX = r"^assessments_assessment_[a-z_]+_id_[0-9a-f]{8}$"


def plans(queries, set_aside=()):
    """The plan of each captured query, as PostgreSQL makes it when it may not read the table itself by
    a sequential or bitmap scan: an index that holds every column the query reads is then scanned alone
    ("Index Only Scan"), one that does not is scanned with the table ("Index Scan").

    The table is vacuumed first, as autovacuum keeps it in production (its pages marked all-visible):
    otherwise an index-only scan costs as much as fetching the rows, and on a table this small the
    planner may take a narrower index and the rows instead (as it did after other tests had written
    and emptied the table). So the tests that read plans commit their rows (`committed`).

    `set_aside`: indexes dropped for the plans (in their transaction, rolled back), with the foreign
    keys' own (`FOREIGN_KEY_INDEX`): on a table of a few rows two indexes that both hold what a query
    reads cost the planner about the same, and it may take either; what the test asks is then whether
    the one it names suffices alone."""
    found = []
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) assessments_assessment")
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'assessments_assessment' AND indexname ~ %s",
            [FOREIGN_KEY_INDEX],
        )
        set_aside = [*set_aside, *(name for (name,) in cursor.fetchall())]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        for index in set_aside:
            cursor.execute(f'DROP INDEX "{index}"')
        for query in queries:
            cursor.execute("EXPLAIN " + query["sql"])
            found.append((query["sql"], "\n".join(row[0] for row in cursor.fetchall())))
        transaction.set_rollback(True)
    return found


def reads_the_forms_rows(plan):
    """Whether a plan reads rows of the forms' table itself (a sequential scan, or an index scan that
    fetches the rows), rather than only indexes that hold what it counts."""
    return any(
        ("Seq Scan on assessments_assessment" in line)
        or ("Index Scan using" in line and "Index Only Scan" not in line and " on assessments_assessment" in line)
        for line in plan.splitlines()
    )


def plan_of(captured, *marks, set_aside=()):
    """The plan of the one captured query whose SQL holds every one of `marks`."""
    chosen = [
        (sql, plan) for sql, plan in plans(captured.captured_queries, set_aside) if all(mark in sql for mark in marks)
    ]
    assert len(chosen) == 1, [sql for sql, _plan in chosen]
    return chosen[0][1]


needs_postgresql = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="index-only scans: PostgreSQL, the production database"
)
committed = pytest.mark.django_db(transaction=True)


@needs_postgresql
@committed
def test_the_levels_below_the_ranked_organisations_are_counted_from_the_index_alone(period, city):
    with CaptureQueriesContext(connection) as captured:
        ranking.ranking_rows(period, city.city)
    # The members' levels: from the counts the database keeps (MemberLevelCount), not from the forms.
    members = plan_of(captured, "WITH counted AS (")
    assert "assessments_memberlevelcount" in members and "assessments_assessment" not in members, members
    organizations = plan_of(captured, '"subject_kind"', '"member_id" IS NULL', "ORDER BY")
    assert "Index Only Scan" in organizations and not reads_the_forms_rows(organizations)


@needs_postgresql
@committed
def test_the_statistics_count_the_members_and_organisations_from_the_index_alone(period, city):
    with CaptureQueriesContext(connection) as captured:
        statistics.stats_for(period, city.city)
        statistics.award_pages(period, city.city)
    progress = plan_of(captured, '"n_submitted"')
    assert "Index Only Scan" in progress and not reads_the_forms_rows(progress)
    organizations = plan_of(captured, '"organization__kind"')
    assert "Index Only Scan" in organizations and not reads_the_forms_rows(organizations)
    # The award lists' counts: HTXSNV this year, and five years running.
    awards = [
        plan
        for sql, plan in plans(captured.captured_queries)
        if sql.startswith("SELECT COUNT(*)") and "'HTXSNV'" in sql
    ]
    assert len(awards) == 2 and not reads_the_forms_rows(awards[0])


@needs_postgresql
@committed
def test_a_roots_members_progress_is_counted_from_the_index_of_the_members_progress_and_years_from_the_counts(
    period, city
):
    # A root's statistics' progress (every form of a period is under its root) reads the small index of
    # the members' progress, not the covering index of every form (86 MB at 500,000 members, against 12);
    # its years read the members' levels from the counts the database keeps (MemberLevelCount). (A
    # ranking's levels below read those counts too: the test above.)
    with CaptureQueriesContext(connection) as stats:
        statistics.stats_for(period, city.city)
    progress = plan_of(stats, '"n_submitted"')
    assert not reads_the_forms_rows(progress), progress
    # On these few rows the covering index of every form costs the planner about what the small one does
    # (at 500,000 members it is seven times larger): the query is read with it and without it.
    alone = plan_of(stats, '"n_submitted"', set_aside=["assessment_period_org_state"])
    assert "Index Only Scan using assessment_member_progress" in alone, alone
    years = plan_of(stats, "UNION ALL")
    assert "assessments_memberlevelcount" in years and not reads_the_forms_rows(years), years
    # Neither joins an organisation.
    assert "organizations_organization" not in progress and "organizations_organization" not in years


@needs_postgresql
@committed
def test_a_screens_quota_exception_on_record_is_found_by_its_own_index(period, city):
    with CaptureQueriesContext(connection) as captured:
        selectors.latest_exception(period, city.city, "organization")
    assert "audit_period_quota_exception" in plan_of(captured, "quota_exception")


@needs_postgresql
def test_the_forms_table_is_vacuumed_after_two_percent_of_its_rows_change():
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'assessments_assessment'")
        options = set(cursor.fetchone()[0])
    assert {
        "autovacuum_vacuum_scale_factor=0.02",
        "autovacuum_vacuum_insert_scale_factor=0.02",
        "autovacuum_analyze_scale_factor=0.02",
    } <= options


def levels_below(period, organizations):
    levels = LevelsBelow(period, organizations)
    return (
        {path: dict(counts) for path, counts in levels.member_levels.items()},
        dict(levels.members_undecided),
        {path: dict(counts) for path, counts in levels.subordinate_levels.items()},
    )


def test_the_levels_below_a_roots_organisations_are_those_counted_subtree_by_subtree(period, city, monkeypatch):
    grassroots = list(ranking.decided_organizations(city.city))
    by_subtree = levels_below(period, grassroots)
    committee_b = Assessment.objects.filter(
        period=period, member__isnull=False, classified=True, organization__path__startswith=city.committee_b.path
    ).count()
    assert by_subtree[0][city.committee_a.path] and by_subtree[0][city.committee_b.path] == {"KHTNV": committee_b}
    # From this many organisations on, their common subtree is read, here the root's: the whole period,
    # with no join on the organisations.
    monkeypatch.setattr(organization_facts, "SUBTREES_LISTED", 1)
    with CaptureQueriesContext(connection) as captured:
        whole_period = levels_below(period, grassroots)
    counted = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("WITH counted AS (")]
    # The counts are read without a join; their sums up to the listed organisations' depth join the
    # organisations of the few rows counted.
    assert len(counted) == 1 and "memberlevelcount" in counted[0]
    assert "organizations_organization" not in counted[0].split(") SELECT ")[0]
    assert whole_period == by_subtree


def test_a_committees_levels_below_leave_out_the_other_committees(period, city, monkeypatch):
    monkeypatch.setattr(organization_facts, "SUBTREES_LISTED", 1)
    cells = list(ranking.decided_organizations(city.committee_a))
    members, _undecided, _subordinates = levels_below(period, cells)
    assert members and all(path.startswith(city.committee_a.path) for path in members)
    decided = Assessment.objects.filter(
        period=period, member__isnull=False, organization__path__startswith=city.committee_a.path, decided_level="HTTNV"
    ).count()
    assert sum(counts.get("HTTNV", 0) for counts in members.values()) == decided


@pytest.mark.parametrize("listed_together", [1, 1000])
def test_organisations_of_several_depths_each_count_every_member_under_them(period, city, monkeypatch, listed_together):
    # A committee, one of its own cells (listed with it: both count the cell's members), another committee
    # and a cell directly under the city: summed up to each one's depth, by its own subtree or together.
    monkeypatch.setattr(organization_facts, "SUBTREES_LISTED", listed_together)
    listed = [city.committee_a, city.cell_a1, city.committee_b, city.cell_c]
    members, undecided, _subordinates = levels_below(period, listed)
    for organization in listed:
        forms = Assessment.objects.filter(
            period=period, member__isnull=False, classified=True, organization__path__startswith=organization.path
        )
        decided = {}
        for level in forms.exclude(decided_level="").values_list("decided_level", flat=True):
            decided[level] = decided.get(level, 0) + 1
        assert members.get(organization.path, {}) == decided
        assert undecided.get(organization.path, 0) == forms.filter(decided_level="").count()
    assert members[city.committee_a.path] and members[city.cell_a1.path]
    assert undecided[city.cell_c.path]


@needs_postgresql
@committed
def test_the_boards_roster_reads_its_own_index_not_the_periods_forms(period, personas, client_for):
    """The roster lists the subjects not classified and those the board classified against the rules: a
    few thousand of a province's 100,000 forms, found by the partial index that holds only them."""
    from django.urls import reverse

    # One member left out (a page of the roster is read only when it has rows).
    Assessment.objects.filter(period=period, member=personas.member_a2.pk).update(classified=False)
    client = client_for(personas.board)
    url = reverse("assessments:roster", args=[period.public_id])
    for query in ("", "nguyen"):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, {"q": query}).status_code == 200
        for marks in (("SELECT COUNT(*)", '"classified"'), ('"classified"', "ORDER BY")):
            plan = plan_of(captured, *marks)
            assert "using assessment_roster on assessments_assessment" in plan, plan
