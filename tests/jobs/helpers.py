"""Running the queued background jobs in the test: django_tasks_db's own worker loop, in this process,
in batch mode (it stops when the queue is empty)."""

from unittest import mock

from django.urls import reverse


def run_jobs(*, max_tasks=None):
    """Run every queued task with db_worker's Worker (SELECT ... FOR UPDATE SKIP LOCKED, claim, run).
    Inside the test's transaction the worker must not close the connection between tasks, as it does
    between them in production (close_old_connections): that alone is left out."""
    from jobs.runner import run_queued

    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        run_queued(worker_id="test-worker", max_tasks=max_tasks)


def follow_job(client, response):
    """A screen that started a job redirected to its page: run the queued jobs, then return the job's
    download when it made a file, else its page."""
    from jobs.models import Job

    assert response.status_code == 302, response.status_code
    public_id = response.url.rstrip("/").split("/")[-1]
    assert response.url == reverse("jobs:detail", args=[public_id])
    run_jobs()
    job = Job.objects.get(public_id=public_id)
    if job.has_result:
        return client.get(reverse("jobs:download", args=[public_id]))
    return client.get(response.url)
