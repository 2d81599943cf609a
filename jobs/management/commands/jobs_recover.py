"""Find the jobs whose worker died and try them again (or end them as failed)."""

from django.core.management.base import BaseCommand

from jobs.services import jobs_recover


class Command(BaseCommand):
    help = (
        "Queue again the running jobs whose worker stopped (no heartbeat for JOBS_STALE_SECONDS), or mark "
        "them failed after JOBS_MAX_ATTEMPTS. Each worker also does it before every job."
    )

    def handle(self, *args, **options):
        recovered = jobs_recover()
        for job in recovered:
            self.stdout.write(f"{job.public_id} {job.kind}: {job.state}")
        self.stdout.write(f"{len(recovered)} job(s) recovered.")
