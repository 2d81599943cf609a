"""'My background jobs' a page at a time: 50 jobs a page, newest first, the same queries and a bounded page
whatever the number of jobs the user started."""

import re

import pytest
from django.urls import reverse

from jobs.models import Job
from jobs.selectors import MY_JOBS_PER_PAGE

pytestmark = pytest.mark.django_db

# The session, the user, the user's roles (the menu's scope), the pager's count, the page of jobs.
QUERIES = 5
# A page of 50 jobs is about 25 KB; the bound leaves room for the layout, not for a longer list.
MAX_PAGE_BYTES = 60_000


def started(opened, user, organization, count):
    """`count` finished exports started by `user`, in one query (finished: the rule of one running export
    per subject does not apply)."""
    jobs = Job.objects.bulk_create(
        Job(
            kind=Job.Kind.EXPORT,
            state=Job.State.SUCCEEDED,
            organization=organization,
            period=opened,
            started_by=user,
            done=1,
            total=1,
        )
        for _ in range(count)
    )
    return sorted(jobs, key=lambda job: job.pk, reverse=True)  # created together: newest is the last made


def detail_links(page):
    return re.findall(r'href="/jobs/([0-9a-f-]{36})/"', page)


@pytest.mark.parametrize("count", [50, 564, 3000])
def test_my_jobs_show_fifty_a_page_with_the_same_queries(
    count, opened, personas, city, client_for, django_assert_num_queries
):
    jobs = started(opened, personas.officer_a, city.committee_a, count)
    client = client_for(personas.officer_a)
    pages = -(-count // MY_JOBS_PER_PAGE)
    with django_assert_num_queries(QUERIES):
        first = client.get(reverse("jobs:mine"))
    assert first.status_code == 200 and len(first.content) < MAX_PAGE_BYTES
    html = first.content.decode()
    assert detail_links(html) == [str(job.public_id) for job in jobs[:MY_JOBS_PER_PAGE]]
    if pages == 1:
        assert 'class="pagination"' not in html
        return
    assert f"Trang 1 / {pages}" in html or f"Page 1 of {pages}" in html
    with django_assert_num_queries(QUERIES):
        last = client.get(reverse("jobs:mine"), {"page": pages})
    assert len(last.content) < MAX_PAGE_BYTES
    expected = jobs[(pages - 1) * MY_JOBS_PER_PAGE :]
    assert detail_links(last.content.decode()) == [str(job.public_id) for job in expected]


def test_every_job_is_on_exactly_one_page(opened, personas, city, client_for):
    jobs = started(opened, personas.officer_a, city.committee_a, 120)
    client = client_for(personas.officer_a)
    seen = []
    for number in (1, 2, 3):
        seen += detail_links(client.get(reverse("jobs:mine"), {"page": number}).content.decode())
    assert seen == [str(job.public_id) for job in jobs]


@pytest.mark.parametrize("page", ["0", "999", "abc", "-1"])
def test_a_page_out_of_range_shows_a_page_not_an_error(page, opened, personas, city, client_for):
    jobs = started(opened, personas.officer_a, city.committee_a, 60)
    response = client_for(personas.officer_a).get(reverse("jobs:mine"), {"page": page})
    assert response.status_code == 200
    links = detail_links(response.content.decode())
    # get_page: a number out of range shows the last page, what is not a number the first.
    expected = jobs[:50] if page == "abc" else jobs[50:]
    assert links == [str(job.public_id) for job in expected]
