"""Starting a job needs the permission of the work; the work asks it again in the worker."""

import pytest

from assessments.models import Period
from jobs import services
from jobs.models import Job
from organizations.policy import SYSTEM, Refused
from tests.jobs.helpers import run_jobs

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("persona", ["officer_a", "secretary_a1", "member", "evaluator"])
def test_only_the_board_starts_an_opening(period, personas, persona):
    with pytest.raises(Refused):
        services.job_start(
            kind="open_period", user=getattr(personas, persona), organization=period.organization, period=period
        )
    assert not Job.objects.exists()


def test_the_board_starts_an_opening(period, personas):
    assert services.job_start(kind="open_period", user=personas.board, organization=period.organization, period=period)[
        1
    ]


def test_an_opened_period_is_refused_before_anything_is_queued(opened, personas):
    with pytest.raises(Refused):
        services.job_start(kind="open_period", user=personas.board, organization=opened.organization, period=opened)
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("persona", "org", "allowed"),
    [
        ("officer_a", "committee_a", True),
        ("officer_a", "committee_b", False),
        ("secretary_a1", "cell_a1", True),
        ("secretary_a1", "committee_a", False),
        ("member", "cell_a1", False),
        ("evaluator", "committee_b", False),
        ("board", "city", True),
    ],
)
def test_an_export_needs_to_lead_the_organisation(opened, personas, city, persona, org, allowed):
    def start():
        return services.job_start(
            kind="export", user=getattr(personas, persona), organization=getattr(city, org), period=opened
        )

    if allowed:
        assert start()[1]
    else:
        with pytest.raises(Refused):
            start()
        assert not Job.objects.exists()


def test_an_export_of_an_organisation_outside_the_period_is_refused(personas, city):
    period_a = Period.objects.create(organization=city.committee_a, year=2026, regime="2018")
    with pytest.raises(Refused):
        services.job_start(kind="export", user=personas.board, organization=city.committee_b, period=period_a)


def test_the_worker_asks_again_with_the_starters_standing(period, personas):
    """A role taken away between the click and the worker: the work is refused, the job says why."""
    from organizations.models import RoleAssignment

    job, _ = services.job_start(
        kind="open_period", user=personas.board, organization=period.organization, period=period
    )
    RoleAssignment.objects.filter(user=personas.board).delete()
    personas.board.__dict__.pop("_review_scope", None)
    run_jobs()
    job.refresh_from_db()
    period.refresh_from_db()
    assert job.state == "failed" and job.error and period.state == "preparing"


def test_the_command_line_may_start_a_job(period):
    job, _ = services.job_start(kind="open_period", user=SYSTEM, organization=period.organization, period=period)
    run_jobs()
    job.refresh_from_db()
    assert job.by_system and job.started_by is None and job.state == "succeeded"
