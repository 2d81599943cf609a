"""The job's page: a progress bar polled by htmx while the job runs, a cancel button, the file when done,
the reason when failed; "my jobs"; the export's page that starts a job."""

import pytest
from django.urls import reverse

from jobs import services
from jobs.models import Job
from tests.jobs.helpers import follow_job, run_jobs

pytestmark = pytest.mark.django_db


def export_job(period, user, organization):
    return services.job_start(kind="export", user=user, organization=organization, period=period)[0]


def test_a_running_job_polls_its_progress_every_two_seconds(opened, personas, city, client_for):
    job = export_job(opened, personas.officer_a, city.committee_a)
    Job.objects.filter(pk=job.pk).update(state="running", done=2, total=8, step="Trang tính 2")
    client = client_for(personas.officer_a)
    page = client.get(reverse("jobs:detail", args=[job.public_id])).content.decode()
    progress_url = reverse("jobs:progress", args=[job.public_id])
    assert f'hx-get="{progress_url}"' in page and 'hx-trigger="every 2s"' in page
    assert "pct-25" in page and 'aria-valuenow="25"' in page and "Trang tính 2" in page
    assert reverse("jobs:cancel", args=[job.public_id]) in page
    fragment = client.get(progress_url, headers={"HX-Request": "true"}).content.decode()
    assert fragment.startswith('<div id="job-progress"') and "every 2s" in fragment
    assert "<html" not in fragment
    # The fragment's address opened by itself is the job's whole page.
    assert client.get(progress_url).url == reverse("jobs:detail", args=[job.public_id])


def test_a_finished_job_stops_polling_and_offers_its_file(opened, personas, city, client_for):
    job = export_job(opened, personas.officer_a, city.committee_a)
    run_jobs()
    client = client_for(personas.officer_a)
    fragment = client.get(reverse("jobs:progress", args=[job.public_id]), headers={"HX-Request": "true"})
    fragment = fragment.content.decode()
    assert "hx-trigger" not in fragment and "pct-100" in fragment
    assert reverse("jobs:download", args=[job.public_id]) in fragment
    assert reverse("jobs:cancel", args=[job.public_id]) not in fragment
    response = client.get(reverse("jobs:download", args=[job.public_id]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="xep-loai-2026-dang-bo-a.xlsx"'


def test_a_file_handed_out_once_is_gone_after_its_download(opened, personas, city, client_for, settings, tmp_path):
    settings.JOBS_RESULTS_DIR = str(tmp_path)
    job = export_job(opened, personas.officer_a, city.committee_a)
    (tmp_path / "slips.html").write_text("<p>codes</p>", encoding="utf-8")
    Job.objects.filter(pk=job.pk).update(
        state="succeeded",
        result_path="slips.html",
        result_name="slips.html",
        result_content_type="text/html; charset=utf-8",
        result_once=True,
    )
    client = client_for(personas.officer_a)
    url = reverse("jobs:download", args=[job.public_id])
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "text/html; charset=utf-8"
    assert b"".join(response.streaming_content) == b"<p>codes</p>"
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"].startswith("inline")
    assert not (tmp_path / "slips.html").exists()
    assert client.get(url).status_code == 404


def test_no_file_while_the_job_runs(opened, personas, city, client_for):
    job = export_job(opened, personas.officer_a, city.committee_a)
    assert client_for(personas.officer_a).get(reverse("jobs:download", args=[job.public_id])).status_code == 404


def test_the_export_page_starts_a_job_and_a_second_click_shows_it(opened, personas, city, client_for):
    client = client_for(personas.officer_a)
    url = reverse("assessments:export", args=[opened.public_id, city.committee_a.code])
    assert client.get(url).status_code == 200
    first = client.post(url)
    second = client.post(url)
    job = Job.objects.get()
    assert first.url == second.url == reverse("jobs:detail", args=[job.public_id])
    assert job.kind == "export" and job.organization == city.committee_a and job.started_by == personas.officer_a
    workbook = follow_job(client, first)
    assert workbook.status_code == 200 and workbook["Content-Type"].startswith("application/vnd.openxml")
    # The page lists the file made.
    assert reverse("jobs:download", args=[job.public_id]) in client.get(url).content.decode()


def test_cancel_is_a_post_and_stops_a_queued_job(opened, personas, city, client_for):
    job = export_job(opened, personas.officer_a, city.committee_a)
    client = client_for(personas.board)
    url = reverse("jobs:cancel", args=[job.public_id])
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 302 and response.url == reverse("jobs:detail", args=[job.public_id])
    job.refresh_from_db()
    assert job.state == "cancelled"


def test_cancel_is_refused_once_finished_with_a_message(opened, personas, city, client_for):
    job = export_job(opened, personas.officer_a, city.committee_a)
    run_jobs()
    client = client_for(personas.officer_a)
    page = client.post(reverse("jobs:cancel", args=[job.public_id]), follow=True)
    job.refresh_from_db()
    assert job.state == "succeeded"
    assert "alert-danger" in page.content.decode()


def test_a_job_outside_ones_organisations_is_not_there(opened, personas, city, client_for):
    job = export_job(opened, personas.officer_a, city.committee_a)
    run_jobs()
    for user in (personas.secretary_b1, personas.secretary_a1, personas.member, personas.evaluator):
        client = client_for(user)
        for name in ("jobs:detail", "jobs:progress", "jobs:download"):
            assert client.get(reverse(name, args=[job.public_id])).status_code == 404, (user, name)
        assert client.post(reverse("jobs:cancel", args=[job.public_id])).status_code == 404


def test_my_jobs_lists_only_mine(opened, personas, city, client_for):
    mine = export_job(opened, personas.officer_a, city.committee_a)
    theirs = export_job(opened, personas.board, city.city)
    page = client_for(personas.officer_a).get(reverse("jobs:mine")).content.decode()
    assert reverse("jobs:detail", args=[mine.public_id]) in page
    assert reverse("jobs:detail", args=[theirs.public_id]) not in page


def test_the_pages_speak_vietnamese(opened, personas, city, client_for):
    job = export_job(opened, personas.officer_a, city.committee_a)
    page = client_for(personas.officer_a).get(reverse("jobs:detail", args=[job.public_id])).content.decode()
    assert "Chờ" in page or "chờ" in page  # "Waiting for a worker"


def test_my_jobs_queries_do_not_grow(opened, personas, city, client_for, django_assert_num_queries):
    """The session, the user, the user's roles (the menu's scope), the pager's count, and the page of jobs
    with their organisation and period in one query."""
    client = client_for(personas.officer_a)
    export_job(opened, personas.officer_a, city.committee_a)
    with django_assert_num_queries(MY_JOBS_QUERIES):
        client.get(reverse("jobs:mine"))
    for org in (city.cell_a1, city.cell_a2):
        Job.objects.create(kind="export", organization=org, period=opened, started_by=personas.officer_a)
    with django_assert_num_queries(MY_JOBS_QUERIES):
        client.get(reverse("jobs:mine"))


MY_JOBS_QUERIES = 5  # the pager counts the jobs


def test_the_job_page_names_its_starter_family_name_first(opened, personas, city, client_for):
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(pk=personas.officer_a.pk).update(last_name="Nguyễn Văn", first_name="Sơn")
    job = export_job(opened, personas.officer_a, city.committee_a)
    page = client_for(personas.officer_a).get(reverse("jobs:detail", args=[job.public_id])).content.decode()
    assert "Nguyễn Văn Sơn" in page and "Sơn Nguyễn Văn" not in page
