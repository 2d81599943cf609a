"""Beyond one machine: reports read from a replica through the router, the cache and the sessions shared
by several app servers through the database."""

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import CacheHandler
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections, router
from django.test.utils import CaptureQueriesContext, override_settings

from config.routers import REPLICA, on_replica, replica_in_use, reports_on_replica
from organizations.models import Organization

from .factories import organization

DATABASE_CACHE = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "django_cache"}}


def test_the_replica_alias_is_a_mirror_in_the_tests_and_no_replica_is_in_use_without_a_url(settings):
    assert settings.DATABASES[REPLICA]["TEST"]["MIRROR"] == "default"
    assert not settings.REPORTS_ON_REPLICA
    assert not replica_in_use()


@pytest.mark.django_db
def test_without_a_replica_reports_read_the_primary():
    with reports_on_replica():
        assert Organization.objects.all().db == DEFAULT_DB_ALIAS


@override_settings(REPORTS_ON_REPLICA=True)
@pytest.mark.django_db
def test_with_a_replica_only_the_reads_of_a_report_go_there():
    assert Organization.objects.all().db == DEFAULT_DB_ALIAS
    with reports_on_replica():
        assert Organization.objects.all().db == REPLICA
        # A write is never sent to the replica, inside a report or not.
        assert router.db_for_write(Organization) == DEFAULT_DB_ALIAS
    assert Organization.objects.all().db == DEFAULT_DB_ALIAS


@override_settings(REPORTS_ON_REPLICA=True)
def test_the_block_ends_even_when_the_report_fails():
    @on_replica
    def failing_report():
        assert Organization.objects.all().db == REPLICA
        raise RuntimeError("the report broke")

    with pytest.raises(RuntimeError):
        failing_report()
    assert Organization.objects.all().db == DEFAULT_DB_ALIAS


def test_nothing_is_migrated_on_the_replica():
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "organizations")
    assert not router.allow_migrate(REPLICA, "organizations")


@override_settings(REPORTS_ON_REPLICA=True)
@pytest.mark.django_db(databases=[DEFAULT_DB_ALIAS, REPLICA], transaction=True)
def test_a_report_reads_committed_rows_through_the_replica_connection():
    """The mirror alias is a second connection to the same database, as a replica is: what the primary
    committed is read there, and the report's queries run on that connection, not the primary's."""
    Organization.objects.add_root(instance=organization("city", "Thành phố", Organization.Kind.CITY_COMMITTEE))
    replica_side, primary_side = CaptureQueriesContext(connections[REPLICA]), CaptureQueriesContext(connection)
    with replica_side, primary_side, reports_on_replica():
        names = list(Organization.objects.values_list("name", flat=True))
    assert names == ["Thành phố"]
    assert len(replica_side) == 1 and not primary_side.captured_queries


@pytest.mark.django_db
def test_the_database_cache_is_shared_by_app_servers():
    """Two app servers are two processes, each with its own cache objects: with DJANGO_CACHE=database
    what one stores the other reads, through the table."""
    with override_settings(CACHES=DATABASE_CACHE):
        call_command("createcachetable", verbosity=0)
        one_server, another_server = CacheHandler(), CacheHandler()
        one_server["default"].set("signed-in-count", 42)
        assert another_server["default"].get("signed-in-count") == 42
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM django_cache")
            assert cursor.fetchone()[0] == 1


def test_the_local_cache_is_this_process_only(settings):
    assert settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")


@pytest.mark.django_db
def test_a_session_opened_on_one_server_is_read_on_another():
    """Sessions are rows of the database: a session saved by one server is loaded by another."""
    assert "backends.db" in SessionStore.__module__
    first = SessionStore()
    first["member"] = 7
    first.save()
    second = SessionStore(session_key=first.session_key)
    assert second["member"] == 7


@pytest.mark.django_db
def test_migrate_prepares_the_shared_cache_table():
    """One command prepares a new server: `migrate` also creates the cache's table when the cache is in
    the database."""
    with override_settings(CACHES=DATABASE_CACHE):
        call_command("migrate", verbosity=0)
        with connection.cursor() as cursor:
            assert "django_cache" in connection.introspection.table_names(cursor)


@override_settings(REPORTS_ON_REPLICA=True)
@pytest.mark.django_db(databases=[DEFAULT_DB_ALIAS, REPLICA], transaction=True)
def test_the_statistics_page_reads_its_figures_on_the_replica(client, city, personas):
    """The board's statistics page: the access check reads the primary, the figures the replica."""
    import datetime

    from django.urls import reverse

    from assessments.core import services
    from assessments.models import Period

    period = Period.objects.create(organization=city.city, year=datetime.date.today().year, regime="2018")
    services.period_open(period=period, user=personas.board)
    client.force_login(personas.board)
    replica_side, primary_side = CaptureQueriesContext(connections[REPLICA]), CaptureQueriesContext(connection)
    with replica_side, primary_side:
        response = client.get(reverse("assessments:stats", args=[period.public_id, city.city.code]))
    assert response.status_code == 200
    assert "assessments_assessment" in " ".join(q["sql"] for q in replica_side.captured_queries)
    assert "assessments_assessment" not in " ".join(q["sql"] for q in primary_side.captured_queries)


@override_settings(REPORTS_ON_REPLICA=True)
@pytest.mark.django_db(databases=[DEFAULT_DB_ALIAS, REPLICA], transaction=True)
def test_the_export_reads_its_rows_on_the_replica(city, personas, tmp_path):
    """The year-end workbook as the export job writes it: every row read on the replica."""
    import datetime

    from assessments.core import services
    from assessments.models import Period
    from assessments.outputs.workbook import write_workbook

    period = Period.objects.create(organization=city.city, year=datetime.date.today().year, regime="2018")
    services.period_open(period=period, user=personas.board)
    replica_side, primary_side = CaptureQueriesContext(connections[REPLICA]), CaptureQueriesContext(connection)
    with replica_side, primary_side, reports_on_replica():
        write_workbook(period, city.city, tmp_path / "year.xlsx")
    assert "assessments_assessment" in " ".join(q["sql"] for q in replica_side.captured_queries)
    assert not primary_side.captured_queries
