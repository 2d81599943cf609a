"""Reminders to many members as a background job (assessments/reviews/background.py): above the threshold
the screen queues a job that e-mails by chunks and records each chunk, so a retry never sends twice what
was sent; below it, a cell's secretary keeps one click and an immediate answer."""

import dataclasses
import datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from assessments.core import services
from assessments.models import Assessment, AuditEntry, Period
from assessments.reviews import background
from jobs import registry
from jobs import services as jobs
from jobs.models import Job
from jobs.registry import JobCancelled
from members.models import Member
from tests.factories import MemberFactory
from tests.jobs.helpers import follow_job, run_jobs

pytestmark = pytest.mark.django_db
S = Assessment.State


@pytest.fixture(autouse=True)
def vietnamese():
    with translation.override("vi"):
        yield


@pytest.fixture
def period(city, personas):
    """2026, open, under committee A: 7 members with an address who have not submitted (cell A1 and
    A2), one without (Phạm Đức Anh), the secretary has submitted."""
    for n in range(4):
        MemberFactory(full_name=f"Đảng Viên A1 {n}", cell=city.cell_a1, email=f"a1-{n}@example.org")
    Member.objects.filter(pk=personas.member_record.pk).update(email="hoa@example.org")
    for member in Member.objects.filter(cell=city.cell_a2):
        Member.objects.filter(pk=member.pk).update(email=f"a2-{member.pk}@example.org")
    Member.objects.filter(pk=personas.member_a1_other.pk).update(email="")
    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=period, user=personas.board)
    Assessment.objects.filter(period=period, member=personas.secretary_a1_record).update(state=S.SUBMITTED)
    return period


def remind(client, period, code):
    return client.post(reverse("assessments:remind", args=[period.public_id, code]))


def emailed(mailoutbox):
    return sorted(address for message in mailoutbox for address in message.to)


def test_a_few_are_reminded_at_once_as_before(period, personas, client_for, mailoutbox, settings):
    settings.REMINDERS_IN_REQUEST_MAX = 500
    client = client_for(personas.secretary_a1)
    response = remind(client, period, "chi-bo-a1")
    assert response.status_code == 302
    assert response.url == reverse("assessments:dashboard", args=[period.public_id, "chi-bo-a1"])
    assert not Job.objects.exists()
    assert AuditEntry.objects.get(period=period, action="remind").data["emailed"] == 5


def test_above_the_threshold_a_job_sends_by_chunks(
    period, city, personas, client_for, mailoutbox, settings, monkeypatch
):
    settings.REMINDERS_IN_REQUEST_MAX = 3
    monkeypatch.setattr(background, "CHUNK", 2)
    sends = []
    original = background.send_mass_mail
    monkeypatch.setattr(
        background, "send_mass_mail", lambda messages, **kw: sends.append(len(messages)) or original(messages, **kw)
    )
    client = client_for(personas.officer_a)
    response = remind(client, period, "dang-bo-a")
    job = Job.objects.get()
    assert response.url == reverse("jobs:detail", args=[job.public_id])
    assert job.kind == "reminders" and job.organization == city.committee_a and job.period == period
    assert mailoutbox == []  # nothing sent before the worker

    page = follow_job(client, response).content.decode()
    job.refresh_from_db()
    assert job.state == "succeeded"
    assert sends == [2, 2, 2, 1]
    assert len(mailoutbox) == 7 and len(set(emailed(mailoutbox))) == 7
    assert "hoa@example.org" in emailed(mailoutbox)
    assert job.summary["sent"] == 7 and job.summary["in_person"] == 1 and job.summary["finished"]
    entry = AuditEntry.objects.get(period=period, action="remind")
    assert entry.actor == personas.officer_a
    assert entry.data == {"organization": "dang-bo-a", "emailed": 7, "in_person": 1, "job": str(job.public_id)}
    assert 'id="reminders-sent"' in page and "7" in page
    calls = reverse("assessments:call_list", args=[period.public_id, "dang-bo-a"]) + "?without_email=1"
    assert calls in page


def test_a_retry_sends_only_to_those_not_yet_sent(period, city, personas, mailoutbox, monkeypatch):
    """The worker died after two chunks: the retry starts after the last one recorded."""
    monkeypatch.setattr(background, "CHUNK", 2)
    job, _ = jobs.job_start(kind="reminders", user=personas.officer_a, organization=city.committee_a, period=period)
    reports = []

    def dies_before_the_third_chunk(done, total, step=""):
        reports.append(done)
        if len(reports) == 3:
            raise SystemExit("worker killed")

    with pytest.raises(SystemExit):
        background.run_reminders(job, dies_before_the_third_chunk)
    assert len(mailoutbox) == 4
    job.refresh_from_db()
    assert job.summary["sent"] == 4 and not job.summary.get("finished")
    # The worker is gone: running, its heartbeat old; the recovery queues it again and a worker ends it.
    old = timezone.now() - datetime.timedelta(minutes=10)
    Job.objects.filter(pk=job.pk).update(state="running", attempts=1, started_at=old, heartbeat_at=old)
    jobs.jobs_recover()
    run_jobs()
    job.refresh_from_db()
    assert job.state == "succeeded" and job.attempts == 2
    addresses = emailed(mailoutbox)
    assert len(addresses) == 7 and len(set(addresses)) == 7  # each member once, none twice
    expected = background._with_mail(period, city.committee_a).values_list("member__email", flat=True)
    assert addresses == sorted(expected)
    assert job.summary["sent"] == 7
    assert AuditEntry.objects.filter(period=period, action="remind").count() == 1


def test_a_finished_job_found_by_the_recovery_sends_nothing_more(period, city, personas, mailoutbox):
    job, _ = jobs.job_start(kind="reminders", user=personas.officer_a, organization=city.committee_a, period=period)
    background.run_reminders(job, lambda *args, **kwargs: None)
    assert len(mailoutbox) == 7
    old = timezone.now() - datetime.timedelta(minutes=10)
    Job.objects.filter(pk=job.pk).update(state="running", attempts=1, started_at=old, heartbeat_at=old)
    jobs.jobs_recover()
    job.refresh_from_db()
    assert job.state == "succeeded"
    run_jobs()
    assert len(mailoutbox) == 7
    assert AuditEntry.objects.filter(period=period, action="remind").count() == 1


def test_who_submits_meanwhile_is_not_reminded(period, city, personas, mailoutbox, monkeypatch):
    monkeypatch.setattr(background, "CHUNK", 1)
    job, _ = jobs.job_start(kind="reminders", user=personas.officer_a, organization=city.committee_a, period=period)

    def submits_on_the_first_chunk(done, total, step=""):
        if done == 1:
            Assessment.objects.filter(period=period, member=personas.member_a2).update(state=S.SUBMITTED)

    summary = background.run_reminders(job, submits_on_the_first_chunk)
    assert summary["sent"] == len(mailoutbox) == 6


def test_a_cancel_stops_before_the_next_chunk_and_says_what_was_sent(period, city, personas, mailoutbox, monkeypatch):
    monkeypatch.setattr(background, "CHUNK", 3)
    job, _ = jobs.job_start(kind="reminders", user=personas.officer_a, organization=city.committee_a, period=period)

    def cancelled_after_the_first(done, total, step=""):
        if done:
            raise JobCancelled

    with pytest.raises(JobCancelled):
        background.run_reminders(job, cancelled_after_the_first)
    assert len(mailoutbox) == 3
    entry = AuditEntry.objects.get(period=period, action="remind")
    assert entry.data["emailed"] == 3 and entry.data["cancelled"] is True
    assert not background.reminders_finished(job)


def test_a_second_click_while_the_job_runs_goes_to_that_job(period, personas, client_for, settings):
    settings.REMINDERS_IN_REQUEST_MAX = 0
    client = client_for(personas.officer_a)
    first = remind(client, period, "dang-bo-a")
    second = remind(client, period, "dang-bo-a")
    assert first.url == second.url and Job.objects.count() == 1


@pytest.mark.parametrize("persona", ["secretary_b1", "evaluator", "member", "outsider"])
def test_who_does_not_lead_the_organisation_starts_nothing(period, personas, client_for, settings, persona):
    settings.REMINDERS_IN_REQUEST_MAX = 0
    response = remind(client_for(getattr(personas, persona)), period, "dang-bo-a")
    assert response.status_code == 404
    assert not Job.objects.exists()


def test_the_worker_asks_the_permission_again(period, city, personas, mailoutbox):
    from organizations.models import RoleAssignment

    job, _ = jobs.job_start(kind="reminders", user=personas.officer_a, organization=city.committee_a, period=period)
    RoleAssignment.objects.filter(user=personas.officer_a).delete()
    run_jobs()
    job.refresh_from_db()
    assert job.state == "failed" and job.error
    assert mailoutbox == []
    assert not AuditEntry.objects.filter(action="remind").exists()


def test_the_job_is_refused_for_an_organisation_outside_the_period(personas, city, period):
    from organizations.policy import Refused

    other = Period.objects.create(organization=city.committee_b, year=2027, regime="2018")
    with pytest.raises(Refused):
        jobs.job_start(kind="reminders", user=personas.board, organization=city.committee_a, period=other)


def test_a_cancelled_mailing_says_how_many_went_not_that_nothing_was_kept(
    period, city, personas, mailoutbox, monkeypatch
):
    monkeypatch.setattr(background, "CHUNK", 3)
    job, _ = jobs.job_start(kind="reminders", user=personas.officer_a, organization=city.committee_a, period=period)
    real = background.run_reminders

    def cancelled_after_the_first_chunk(job, progress):
        def progress_then_cancel(done, total, step=""):
            if done:
                Job.objects.filter(pk=job.pk).update(cancel_requested=True)
                raise JobCancelled
            progress(done, total, step)

        return real(job, progress_then_cancel)

    # The registry's entry replaced for this test only (registering again would leave it to the tests after).
    kind = dataclasses.replace(registry.get(Job.Kind.REMINDERS), run=cancelled_after_the_first_chunk)
    monkeypatch.setitem(registry.KINDS, Job.Kind.REMINDERS, kind)
    run_jobs()
    job.refresh_from_db()
    assert job.state == Job.State.CANCELLED and len(mailoutbox) == 3
    assert job.step == "Đã hủy: đã gửi 3 lời nhắc; sẽ không gửi thêm."


def test_two_mailings_of_one_organisation_cannot_run_at_once(period, city, personas):
    from django.db import IntegrityError, transaction

    first, created = jobs.job_start(
        kind="reminders", user=personas.officer_a, organization=city.committee_a, period=period
    )
    again, created_again = jobs.job_start(
        kind="reminders", user=personas.officer_a, organization=city.committee_a, period=period
    )
    assert created and not created_again and again == first
    # The database itself refuses a second one, whatever the screens do.
    with pytest.raises(IntegrityError), transaction.atomic():
        Job.objects.create(kind="reminders", organization=city.committee_a, period=period, state="running")
