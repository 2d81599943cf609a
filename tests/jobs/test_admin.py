"""The jobs in the admin: read-only, within the board's subtree."""

import pytest
from django.urls import reverse

from jobs.models import Job
from organizations.models import RoleAssignment
from tests.factories import UserFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def jobs(opened, city, personas):
    return {
        "city": Job.objects.create(kind="export", organization=city.city, period=opened, started_by=personas.board),
        "a": Job.objects.create(
            kind="export", organization=city.committee_a, period=opened, started_by=personas.officer_a
        ),
    }


def test_the_city_board_lists_every_job(client, personas, jobs):
    client.force_login(personas.board)
    response = client.get(reverse("admin:jobs_job_changelist"))
    assert response.status_code == 200
    assert set(response.context["cl"].result_list) == set(jobs.values())
    assert client.get(reverse("admin:jobs_job_change", args=[jobs["city"].pk])).status_code == 200


def test_a_board_below_the_root_sees_only_its_subtrees_jobs(client, city, jobs):
    board_a = UserFactory(username="board_a")
    grant(board_a, RoleAssignment.Role.BOARD, city.committee_a)
    client.force_login(board_a)
    response = client.get(reverse("admin:jobs_job_changelist"))
    assert set(response.context["cl"].result_list) == {jobs["a"]}
    assert client.get(reverse("admin:jobs_job_change", args=[jobs["city"].pk])).status_code == 404


def test_nobody_adds_or_edits_a_job_in_the_admin(client, personas, jobs):
    client.force_login(personas.board)
    assert client.get(reverse("admin:jobs_job_add")).status_code == 403
    page = client.get(reverse("admin:jobs_job_change", args=[jobs["a"].pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()


def test_the_changelist_queries_do_not_grow(client, personas, jobs, opened, city, django_assert_num_queries):
    client.force_login(personas.board)
    url = reverse("admin:jobs_job_changelist")
    client.get(url)
    with django_assert_num_queries(count := _count(client, url)):
        client.get(url)
    for _ in range(5):
        Job.objects.create(
            kind="import_commit", organization=city.cell_a1, period=opened, started_by=personas.secretary_a1
        )
    with django_assert_num_queries(count):
        client.get(url)


def _count(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return len(queries)
