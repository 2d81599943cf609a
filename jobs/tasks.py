"""The one task of the queue: run a job (`jobs.runner.execute`). The job's row says what to do."""

from django_tasks import task


@task()
def run_job(job_id: int) -> str | None:
    from .runner import execute

    return execute(job_id)
