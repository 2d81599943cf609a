"""Creating a whole organisation's accounts, and new codes for it, as background jobs (accounts/background.py):
the confirmed button starts the job and shows its page; the worker makes the accounts and writes the slips
to a file that opens once; nothing is half-done when the job is cancelled or fails; a retry after a dead
worker never makes a second set of codes behind the user's back."""

import datetime
import io
import re
import threading
import types
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import OperationalError, connection, connections  # noqa: F401 - connection: the skipif below
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from accounts import background, services
from accounts.models import AccountState
from jobs import services as jobs
from jobs.models import Job
from jobs.registry import JobCancelled
from members.models import Member
from organizations import policy
from organizations.models import RoleAssignment
from tests.jobs.helpers import run_jobs

from .helpers import PASSWORD_CHANGE, fresh, post_create, sign_in, slips_in

pytestmark = pytest.mark.django_db
User = get_user_model()

REISSUE_URL = reverse("accounts:organization_accounts_reissue", args=["chi-bo-a1"])


def accounts_url(code):
    return reverse("accounts:organization_accounts", args=[code])


def job_of(response):
    assert response.status_code == 302, response.status_code
    job = Job.objects.get(public_id=response.url.rstrip("/").split("/")[-1])
    assert response.url == reverse("jobs:detail", args=[job.public_id])
    return job


def job_page(client, job):
    return client.get(reverse("jobs:detail", args=[job.public_id])).content.decode()


def result_files():
    directory = Path(settings.JOBS_RESULTS_DIR)
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def accounts_made():
    return (User.objects.count(), AccountState.objects.count(), Member.objects.filter(user__isnull=False).count())


def signs_in_with(username, code):
    """The code on the slip opens the account (and asks for a new password first)."""
    client = Client()
    response = sign_in(client, username, code)
    if response.status_code != 302:
        return False
    home = client.get(response.url)
    return home.status_code == 302 and home.url == PASSWORD_CHANGE


def killed(job, *, attempts=1):
    """As a worker killed mid-job leaves it: running, its heartbeat old."""
    old = timezone.now() - datetime.timedelta(minutes=10)
    Job.objects.filter(pk=job.pk).update(state="running", attempts=attempts, started_at=old, heartbeat_at=old)


def start(user, organization, action="create"):
    job, _created = jobs.job_start(
        kind="accounts",
        user=user,
        organization=organization,
        arguments={"action": action, "site_address": "http://testserver/"},
    )
    return job


# --- Starting it ----------------------------------------------------------------------------------


def test_the_confirmed_button_starts_a_job_and_shows_its_page(personas, client_for):
    client = client_for(personas.secretary_a1)
    job = job_of(post_create(client, "chi-bo-a1"))
    assert job.kind == "accounts" and job.state == "queued"
    assert job.arguments == {"action": "create", "site_address": "http://testserver/"}
    assert job.organization.code == "chi-bo-a1" and job.started_by == personas.secretary_a1
    # Queued only: nothing made in the request.
    assert Member.objects.get(pk=personas.member_a1_other.pk).user is None
    page = job_page(client, job)
    assert "Tài khoản đảng viên" in page or "Member accounts" in page
    assert 'id="open-slips"' not in page


def test_starting_the_job_costs_a_fixed_number_of_queries(personas, client_for, django_assert_num_queries):
    client = client_for(personas.officer_a)
    client.get(accounts_url("dang-bo-a"))  # the session's first queries out of the way
    url = reverse("accounts:organization_accounts_create", args=["dang-bo-a"])
    # Session, user, roles (the scope, which the permission reuses), the organisation, "anything to do?",
    # "a job already?" (job_start's), the job (in a savepoint: 3), its task and the task's id on the job.
    with django_assert_num_queries(11):
        response = client.post(url, {"confirmed": "1"})
    assert job_of(response).kind == "accounts"


def test_a_second_click_while_the_job_waits_shows_the_same_job(personas, client_for):
    client = client_for(personas.secretary_a1)
    first = job_of(post_create(client, "chi-bo-a1"))
    assert job_of(post_create(client, "chi-bo-a1")) == first
    assert Job.objects.count() == 1


def test_nothing_to_do_is_said_at_once_without_a_job(personas, city, client_for):
    services.member_accounts_create(organization=fresh(city.cell_a1), actor=personas.secretary_a1)
    client = client_for(personas.secretary_a1)
    response = post_create(client, "chi-bo-a1")
    assert response.status_code == 302 and response.url == accounts_url("chi-bo-a1")
    (message,) = client.get(response.url).context["messages"]
    assert message.level_tag == "info"
    # Every account made is in use: no new code needed either.
    User.objects.filter(member__cell=city.cell_a1).update(last_login=timezone.now())
    response = client.post(REISSUE_URL, {"confirmed": "1"})
    assert response.status_code == 302 and response.url == accounts_url("chi-bo-a1")
    assert not Job.objects.exists()


@pytest.mark.parametrize("persona", ["secretary_b1", "member", "evaluator", "outsider"])
def test_who_does_not_manage_the_cell_starts_nothing(persona, personas, client_for):
    client = client_for(getattr(personas, persona))
    assert post_create(client, "chi-bo-a1").status_code == 404
    assert client.post(REISSUE_URL, {"confirmed": "1"}).status_code == 404
    assert not Job.objects.exists()
    with pytest.raises(policy.Refused):
        start(getattr(personas, persona), fresh(personas.member_a1_other.cell))
    assert not Job.objects.exists()


def test_the_worker_asks_the_permission_again(personas, city, client_for):
    """The secretary lost the role between the click and the worker: nothing is made, the job says why."""
    job = job_of(post_create(client_for(personas.secretary_a1), "chi-bo-a1"))
    RoleAssignment.objects.filter(user=personas.secretary_a1).delete()
    before = accounts_made()
    run_jobs()
    job.refresh_from_db()
    assert job.state == "failed" and job.error and "Traceback" not in job.error
    assert accounts_made() == before and result_files() == []


# --- Doing it -------------------------------------------------------------------------------------


def test_the_job_makes_the_accounts_and_its_slips_open_once(personas, client_for):
    client = client_for(personas.officer_a)
    response = post_create(client, "dang-bo-a")
    job = job_of(response)
    run_jobs()
    job.refresh_from_db()
    assert job.state == "succeeded" and job.has_result and job.result_once
    assert job.result_name == "phieu-tai-khoan-dang-bo-a.html"
    assert job.result_content_type == "text/html; charset=utf-8"
    assert job.summary == {"action": "create", "slips": 3, "skipped": 0}
    assert not Member.objects.filter(cell__path__startswith=job.organization.path, user__isnull=True).exists()

    page = job_page(client, job)
    download_url = reverse("jobs:download", args=[job.public_id])
    assert f'id="open-slips" href="{download_url}"' in page
    assert 'id="slips-once"' in page

    download = client.get(download_url)
    assert download.status_code == 200 and download["Content-Disposition"].startswith("inline")
    assert "no-store" in download["Cache-Control"]
    html = b"".join(download.streaming_content).decode()
    slips = slips_in(html)
    assert set(slips) == {personas.member_a1_other.card_number, personas.member_a2.card_number} | {
        m.card_number for m in Member.objects.filter(full_name="Vũ Thị Ánh")
    }
    # The same page of slips as the request used to show, without the session's menu and forms.
    assert "http://testserver/" in html and "Chi bộ A2" in html and "slips.css" in html and "print.js" in html
    assert "csrfmiddlewaretoken" not in html and 'action="/accounts/logout/"' not in html
    for username, code in slips.items():
        assert signs_in_with(username, code)

    # Once: the file is gone, the page says so and no longer offers it.
    assert client.get(download_url).status_code == 404
    assert result_files() == []
    page = job_page(client, job)
    assert 'id="open-slips"' not in page and 'id="slips-opened"' in page


@pytest.mark.parametrize("chunk", [1, 3, 2000])
@pytest.mark.parametrize("per_part", [1, 2, 1000])
def test_the_slips_are_written_by_parts_of_whole_cells_the_same_page_as_one(
    personas, city, client_for, monkeypatch, per_part, chunk
):
    """A province's slips are written a few cells at a time, as the members' chunks come (a cell may
    span two of them): whatever the parts and the chunks, each cell has one page with its own slips, in
    the members' order, and the page around them once."""
    monkeypatch.setattr(background, "SLIPS_PER_PART", per_part)
    monkeypatch.setattr(services, "CHUNK", chunk)
    client = client_for(personas.board)
    had_one = set(Member.objects.filter(user__isnull=False).values_list("pk", flat=True))
    job = job_of(post_create(client, city.city.code))
    run_jobs()
    job.refresh_from_db()
    html = b"".join(client.get(reverse("jobs:download", args=[job.public_id])).streaming_content).decode()
    expected = list(
        Member.objects.filter(cell__path__startswith=city.city.path, user__isnull=False)
        .exclude(pk__in=had_one)
        .order_by("cell__path", "sort_key", "pk")
        .values_list("cell__name", "card_number")
    )
    assert len(expected) == job.summary["slips"] >= 4
    pages = html.split('<section class="slip-page" aria-label="')[1:]
    assert [page.split('"', 1)[0] for page in pages] == list(dict.fromkeys(cell for cell, _card in expected))
    written = [
        (page.split('"', 1)[0], username) for page in pages for username in re.findall(r"data-username>([^<]+)<", page)
    ]
    assert written == expected
    assert html.count("<html") == 1 and html.count("</html>") == 1 and html.count('class="alert alert-warning') == 1
    assert f"{len(expected)} " in html.split('class="alert alert-warning', 1)[1].split("</div>", 1)[0]


def test_parts_end_where_a_cell_ends():
    cell = [types.SimpleNamespace(member=types.SimpleNamespace(cell=name)) for name in "aaabccd"]
    parts = list(background._by_whole_cells(cell, 2))
    assert [[slip.member.cell for slip in part] for part in parts] == [["a", "a", "a"], ["b", "c", "c"], ["d"]]
    assert list(background._by_whole_cells([], 2)) == []


def test_the_codes_are_nowhere_in_the_database_in_plain_text(personas, client_for):
    client = client_for(personas.officer_a)
    job = job_of(post_create(client, "dang-bo-a"))
    run_jobs()
    slips = slips_in(_download(client, job))
    assert slips
    everything = io.StringIO()
    call_command("dumpdata", stdout=everything)
    dump = everything.getvalue()
    for code in slips.values():
        assert code not in dump and code.replace("-", "") not in dump


def _download(client, job):
    response = client.get(reverse("jobs:download", args=[job.public_id]))
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def test_another_cell_cannot_open_the_slips(personas, client_for):
    job = job_of(post_create(client_for(personas.secretary_a1), "chi-bo-a1"))
    run_jobs()
    other = client_for(personas.secretary_b1)
    assert other.get(reverse("jobs:download", args=[job.public_id])).status_code == 404
    assert other.get(reverse("jobs:detail", args=[job.public_id])).status_code == 404
    assert result_files() == [f"{job.public_id}.html"]  # still there for the secretary


def test_new_codes_as_a_job_void_the_old_slips(personas, city, client_for):
    first = services.member_accounts_create(organization=fresh(city.cell_a1), actor=personas.secretary_a1)
    (old,) = first.slips
    client = client_for(personas.secretary_a1)
    job = job_of(client.post(REISSUE_URL, {"confirmed": "1"}))
    assert job.arguments["action"] == "reissue"
    run_jobs()
    job.refresh_from_db()
    assert job.state == "succeeded" and job.summary == {"action": "reissue", "slips": 1, "skipped": 0}
    html = _download(client, job)
    assert "Mã đăng nhập mới" in html or "New codes" in html
    new = slips_in(html)
    assert list(new) == [old.username] and new[old.username] != old.code
    assert not signs_in_with(old.username, old.code)
    assert signs_in_with(old.username, new[old.username])
    assert AccountState.objects.get(user__username=old.username).codes_issued == 2
    assert client.get(reverse("jobs:download", args=[job.public_id])).status_code == 404


def test_members_skipped_are_counted_on_the_job_page(personas, client_for):
    User.objects.create(username=personas.member_a1_other.card_number)
    client = client_for(personas.secretary_a1)
    job = job_of(post_create(client, "chi-bo-a1"))
    run_jobs()
    job.refresh_from_db()
    assert job.summary == {"action": "create", "slips": 0, "skipped": 1}
    assert job.has_result  # the page that says why
    assert "Phạm Đức Anh" in _download(client, job)


def test_a_job_that_finds_the_work_done_meanwhile_says_so(personas, city, client_for):
    client = client_for(personas.secretary_a1)
    job = job_of(post_create(client, "chi-bo-a1"))
    services.member_accounts_create(organization=fresh(city.cell_a1), actor=personas.secretary_a1)
    run_jobs()
    job.refresh_from_db()
    assert job.state == "succeeded" and not job.has_result and not job.result_once
    assert job.summary == {"action": "create", "slips": 0, "skipped": 0}
    page = job_page(client, job)
    assert 'id="open-slips"' not in page and 'id="slips-opened"' not in page
    assert accounts_url("chi-bo-a1") in page
    assert result_files() == []


# --- Nothing half-done ----------------------------------------------------------------------------


def test_progress_is_told_by_batches_and_stopping_inside_the_transaction_undoes_everything(personas, city):
    """The service reports after each batch of codes and once inside its transaction: a job cancelled
    there (progress raises) leaves no account."""
    told = []
    saving = gettext("Saving the accounts")

    def progress(done, total, step=""):
        told.append((done, total))
        if step == saving:
            raise JobCancelled

    before = accounts_made()
    with pytest.raises(JobCancelled):
        services.member_accounts_create(organization=fresh(city.city), actor=personas.board, progress=progress)
    assert accounts_made() == before
    assert told[-1] == (told[-1][1], told[-1][1]) and told[-1][1] >= 4
    assert len(told) == 2  # fewer codes than a batch: one batch, then the transaction's report


def test_progress_comes_after_every_batch(personas, city, monkeypatch):
    monkeypatch.setattr(services, "BATCH_SIZE", 2)
    monkeypatch.setattr(services, "THREADED_HASHING_FROM", 1)
    told = []
    batch = services.member_accounts_create(
        organization=fresh(city.city), actor=personas.board, progress=lambda d, t, s="": told.append((d, t))
    )
    total = len(batch.slips)
    assert total >= 4
    after_each_batch = list(range(2, total + 1, 2)) + ([total] if total % 2 else [])
    assert told == [(done, total) for done in after_each_batch] + [(total, total)]


def test_a_job_cancelled_while_making_the_codes_leaves_no_account(personas, client_for, monkeypatch):
    client = client_for(personas.officer_a)
    job = job_of(post_create(client, "dang-bo-a"))
    original = services._hash_codes

    def cancelled_meanwhile(codes, progress=None):
        Job.objects.filter(pk=job.pk).update(cancel_requested=True)  # the user's click on Cancel
        return original(codes, progress)

    monkeypatch.setattr(services, "_hash_codes", cancelled_meanwhile)
    before = accounts_made()
    run_jobs()
    job.refresh_from_db()
    assert job.state == "cancelled" and not job.has_result
    assert accounts_made() == before and result_files() == []


def test_a_job_stopped_after_writing_its_slips_but_before_the_commit_leaves_nothing(personas, client_for, monkeypatch):
    """The slips are written inside the transaction: stopped there, the accounts are not kept, nor the file."""
    original = background._write_slips

    def written_then_cancelled(job, batch, final):
        original(job, batch, final)
        assert final.is_file() and User.objects.filter(username=personas.member_a2.card_number).exists()
        raise JobCancelled

    monkeypatch.setattr(background, "_write_slips", written_then_cancelled)
    job = job_of(post_create(client_for(personas.officer_a), "dang-bo-a"))
    before = accounts_made()
    run_jobs()
    job.refresh_from_db()
    assert job.state == "cancelled" and not job.result_path
    assert accounts_made() == before and result_files() == []


def test_a_job_that_fails_before_the_commit_leaves_nothing(personas, client_for, monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(background, "_write_slips", full_disk)
    job = job_of(post_create(client_for(personas.officer_a), "dang-bo-a"))
    before = accounts_made()
    run_jobs()
    job.refresh_from_db()
    assert job.state == "failed" and job.error and "No space" not in job.error
    assert accounts_made() == before and result_files() == []


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the cancel flag read from another connection")
@pytest.mark.django_db(transaction=True)
def test_a_cancel_clicked_while_the_accounts_are_saved_undoes_them(personas, client_for, monkeypatch):
    """The user clicks Cancel (another connection) once the accounts are written, before the commit: the
    report that follows inside the transaction reads the flag, and everything is undone."""
    job = job_of(post_create(client_for(personas.officer_a), "dang-bo-a"))

    def cancel_from_another_request():
        def click():
            try:
                Job.objects.filter(pk=job.pk).update(cancel_requested=True)
            finally:
                connections.close_all()

        thread = threading.Thread(target=click)
        thread.start()
        thread.join()

    monkeypatch.setattr(services, "announce", _then(services.announce, cancel_from_another_request))
    before = accounts_made()
    run_jobs()
    job.refresh_from_db()
    assert job.state == "cancelled"
    assert accounts_made() == before and result_files() == []


def _then(function, after):
    def both(*args, **kwargs):
        result = function(*args, **kwargs)
        after()
        return result

    return both


# --- A worker that died ---------------------------------------------------------------------------


def committed_then_died(job):
    """The work as a worker does it, up to its commit; then the worker dies before ending the job."""
    Job.objects.filter(pk=job.pk).update(state="running", attempts=1, started_at=timezone.now())
    job.refresh_from_db()
    background.run(job, lambda done, total, step="": None)
    killed(job)


def test_a_worker_that_died_after_the_commit_leaves_a_job_found_done(personas, city, client_for):
    client = client_for(personas.secretary_a1)
    job = job_of(post_create(client, "chi-bo-a1"))
    committed_then_died(job)
    jobs.jobs_recover()
    job.refresh_from_db()
    assert job.state == "succeeded" and job.has_result
    (username, code), *rest = slips_in(_download(client, job)).items()
    assert not rest and signs_in_with(username, code)
    assert AccountState.objects.get(user__username=username).codes_issued == 1  # no second set


def test_a_job_lost_on_its_last_attempt_after_the_commit_says_the_accounts_were_saved(personas, city, client_for):
    client = client_for(personas.secretary_a1)
    job = job_of(post_create(client, "chi-bo-a1"))
    committed_then_died(job)
    for leftover in Path(settings.JOBS_RESULTS_DIR).iterdir():
        leftover.unlink()
    killed(job, attempts=settings.JOBS_MAX_ATTEMPTS)
    jobs.jobs_recover()
    job.refresh_from_db()
    assert job.state == "failed" and not job.has_result
    assert "Cấp mã mới" in job.error or "New codes" in job.error
    assert "start it again" not in job.error and "khởi động lại" not in job.error
    assert job.error in job_page(client, job)


def test_a_job_lost_on_its_last_attempt_before_the_commit_says_nothing_was_kept(personas, city, client_for):
    client = client_for(personas.secretary_a1)
    job = job_of(post_create(client, "chi-bo-a1"))
    killed(job, attempts=settings.JOBS_MAX_ATTEMPTS)
    jobs.jobs_recover()
    job.refresh_from_db()
    assert job.state == "failed"
    assert str(settings.JOBS_MAX_ATTEMPTS) in job.error
    assert "New codes" not in job.error and "Cấp mã mới" not in job.error
    assert not AccountState.objects.exists()


def test_a_retry_after_the_commit_whose_slips_were_lost_makes_no_second_set_and_says_new_codes(
    personas, city, client_for
):
    client = client_for(personas.secretary_a1)
    job = job_of(post_create(client, "chi-bo-a1"))
    committed_then_died(job)
    for leftover in Path(settings.JOBS_RESULTS_DIR).iterdir():
        leftover.unlink()  # the file did not survive (a disk replaced, a folder cleaned)
    state_before = sorted(AccountState.objects.values_list("user_id", "codes_issued"))
    passwords_before = sorted(User.objects.values_list("pk", "password"))
    jobs.jobs_recover()
    job.refresh_from_db()
    assert job.state == "queued"  # tried again...
    run_jobs()
    job.refresh_from_db()
    # ...and it says what happened and what to do, making nothing behind the user's back.
    assert job.state == "failed" and not job.has_result
    assert "Cấp mã mới" in job.error or "New codes" in job.error  # the button to use
    assert sorted(AccountState.objects.values_list("user_id", "codes_issued")) == state_before
    assert sorted(User.objects.values_list("pk", "password")) == passwords_before
    assert job.error in job_page(client, job)
    # The user does as told: new codes, which sign in.
    new_job = job_of(client.post(REISSUE_URL, {"confirmed": "1"}))
    run_jobs()
    (username, code), *_rest = slips_in(_download(client, new_job)).items()
    assert signs_in_with(username, code)


def test_a_worker_that_died_before_the_commit_is_tried_again_from_the_start(personas, client_for, monkeypatch):
    """Killed between writing the file and the commit: the file is left, pointed at by nothing; the retry
    makes the accounts and replaces it."""
    client = client_for(personas.secretary_a1)
    job = job_of(post_create(client, "chi-bo-a1"))
    Path(settings.JOBS_RESULTS_DIR).mkdir(parents=True, exist_ok=True)
    (Path(settings.JOBS_RESULTS_DIR) / f"{job.public_id}.html").write_text("codes never saved", encoding="utf-8")
    killed(job)
    assert not background.already_done(job)
    jobs.jobs_recover()
    run_jobs()
    job.refresh_from_db()
    assert job.state == "succeeded" and job.attempts == 2
    (username, code), *_rest = slips_in(_download(client, job)).items()
    assert signs_in_with(username, code)


def test_the_slips_page_itself_is_unchanged_for_one_member(personas, client_for):
    """A single member's new code still answers the POST itself, with the site's menu."""
    from .helpers import post_reset

    response = post_reset(client_for(personas.secretary_a1), personas.member_record, 0)
    assert response.status_code == 200
    assert 'action="/accounts/logout/"' in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_database_restart_before_the_commit_is_retried_with_one_set_of_codes(personas, client_for, monkeypatch):
    """Outside a transaction of the test's (as in the worker), the runner runs the work again after a
    database error: the first attempt's slips are not kept, the second's are the accounts' codes."""
    original = background._write_slips
    calls = []

    def restart_once(job, batch, final):
        original(job, batch, final)
        calls.append(final.read_text(encoding="utf-8"))
        if len(calls) == 1:
            raise OperationalError("the database system is shutting down")

    monkeypatch.setattr(background, "_write_slips", restart_once)
    client = client_for(personas.secretary_a1)
    job = job_of(post_create(client, "chi-bo-a1"))
    run_jobs()
    job.refresh_from_db()
    assert job.state == "succeeded" and len(calls) == 2 and job.attempts == 1
    slips = slips_in(_download(client, job))
    assert slips == slips_in(calls[1]) != slips_in(calls[0])
    ((username, code),) = slips.items()
    assert signs_in_with(username, code)
    assert not signs_in_with(username, slips_in(calls[0])[username])
    assert AccountState.objects.get(user__username=username).codes_issued == 1
