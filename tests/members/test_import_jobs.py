"""The commit of an import as a background job (members/background.py): the screen checks the file and
queues the job; the worker writes every row or none, reports its progress, says which rows are wrong,
rolls back when cancelled, never imports twice, and removes the uploaded file however the job ends."""

import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from assessments.models import AuditEntry
from jobs import services
from jobs.models import Job
from jobs.registry import JobCancelled
from members import background
from members.models import Member
from organizations.models import Organization
from tests.jobs.helpers import follow_job, run_jobs
from tests.members.test_import import ORG_HEADERS, csv_file, member_row, post, xlsx_file

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def vietnamese():
    with translation.override("vi"):
        yield


def job_files():
    directory = Path(settings.JOBS_RESULTS_DIR)
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def queue(user, rows, kind="members", organization=None):
    """A commit queued as the screen queues it (the file already checked)."""
    upload = csv_file(rows) if kind == "members" else csv_file(rows, headers=ORG_HEADERS)
    organization = organization or background.import_organization(user)
    return background.import_commit_start(kind, upload, user, organization)


def killed(job, *, attempts=1):
    """As a worker killed mid-job leaves it: running, its heartbeat old."""
    old = timezone.now() - datetime.timedelta(minutes=10)
    Job.objects.filter(pk=job.pk).update(state="running", attempts=attempts, started_at=old, heartbeat_at=old)


# --- The screen ---------------------------------------------------------------------------------------


def test_commit_queues_a_job_and_sends_the_user_to_its_page(personas, city, client_for):
    client = client_for(personas.officer_a)
    response = post(
        client, csv_file([member_row("96100001"), member_row("96100002", cell="chi-bo-a2")]), action="commit"
    )
    assert response.status_code == 302
    job = Job.objects.get()
    assert response.url == reverse("jobs:detail", args=[job.public_id])
    assert job.kind == "import_commit" and job.state == "queued"
    assert job.organization == city.committee_a and job.started_by == personas.officer_a
    assert job.arguments == {"kind": "members", "filename": "dang-vien.csv"}
    assert job_files() == [job.input_path] and job.input_path.endswith(".upload")
    assert not Member.objects.filter(card_number__startswith="961000").exists()  # not before the worker

    page = follow_job(client, response)
    assert page.status_code == 200
    job.refresh_from_db()
    assert job.state == "succeeded"
    assert job.summary == {"kind": "members", "rows": 2, "created": 2, "errors": 0, "committed": True}
    assert Member.objects.filter(card_number__startswith="961000").count() == 2
    done = ngettext("%(counter)s member imported.", "%(counter)s members imported.", 2) % {"counter": 2}
    assert 'id="import-done"' in page.content.decode() and done in page.content.decode()
    assert job_files() == []  # the uploaded file is gone
    entry = AuditEntry.objects.get(action="import_members")
    assert entry.actor == personas.officer_a and entry.data["job"] == str(job.public_id)


def test_an_organisations_import_is_a_job_too(personas, city, client_for):
    rows = [{"Mã": "chi-bo-a3", "Tên": "Chi bộ A3", "Loại tổ chức": "cell", "Mã tổ chức cấp trên": "dang-bo-a"}]
    client = client_for(personas.board)
    response = post(client, xlsx_file(rows, ORG_HEADERS, "to-chuc.xlsx"), "organizations", "commit")
    page = follow_job(client, response).content.decode()
    assert (
        ngettext("%(counter)s organisation imported.", "%(counter)s organisations imported.", 1) % {"counter": 1}
        in page
    )
    assert Organization.objects.get_parent(Organization.objects.get(code="chi-bo-a3")) == city.committee_a
    assert Organization.objects.find_problems() == ([], [], [], [], [])


def test_errors_found_in_the_request_queue_nothing(personas, client_for):
    rows = [member_row("96200001"), member_row("96200001")]
    response = post(client_for(personas.board), csv_file(rows), action="commit")
    assert response.status_code == 200
    assert "Chưa nhập dữ liệu nào" in response.content.decode()
    assert not Job.objects.exists() and job_files() == []


@pytest.mark.parametrize(
    "name,data,needle",
    [
        ("garbage.xlsx", b"PK\x03\x04" + b"\x00garbage" * 50, ".xlsx hợp lệ"),
        ("report.pdf", b"%PDF-1.4", "không phải bảng tính"),
    ],
)
def test_a_hostile_file_is_refused_in_the_request_and_queues_nothing(name, data, needle, personas, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = post(client_for(personas.board), SimpleUploadedFile(name, data), action="commit")
    assert response.status_code == 200 and needle in response.context["rejected"]
    assert not Job.objects.exists() and job_files() == []


def test_a_file_over_the_size_limit_is_refused_in_the_request(personas, client_for, settings):
    settings.IMPORT_MAX_BYTES = 200
    rows = [member_row(f"9630000{n}") for n in range(5)]
    response = post(client_for(personas.board), csv_file(rows), action="commit")
    assert "200" in response.context["rejected"]
    assert not Job.objects.exists() and job_files() == []


def test_rows_outside_ones_cells_queue_nothing(personas, client_for):
    response = post(client_for(personas.secretary_b1), csv_file([member_row("96400001")]), action="commit")
    assert response.status_code == 200 and response.context["result"].errors
    assert not Job.objects.exists()


@pytest.mark.parametrize("persona", ["outsider", "member", "evaluator"])
def test_who_may_import_nothing_gets_404_and_no_job(persona, personas, client_for):
    response = post(client_for(getattr(personas, persona)), csv_file([member_row("96500001")]), action="commit")
    assert response.status_code == 404
    assert not Job.objects.exists() and job_files() == []


# --- The worker ---------------------------------------------------------------------------------------


def test_a_row_that_went_wrong_since_the_check_fails_the_job_and_imports_nothing(personas, city, client_for):
    job = queue(personas.board, [member_row("96600001"), member_row("96600002"), member_row("96600003")])
    # Between the check and the worker, someone else creates a member with the second card number.
    Member.objects.create(
        full_name="Người khác",
        gender="male",
        date_of_birth=datetime.date(1980, 1, 1),
        card_number="96600002",
        admission_date=datetime.date(2005, 1, 1),
        occupation="other",
        cell=city.cell_a1,
    )
    run_jobs()
    job.refresh_from_db()
    assert job.state == "failed"
    assert job.error == ngettext(
        "Nothing was imported: the file has %(count)d error (the row below). "
        "Correct it, check the file again and import it.",
        "Nothing was imported: the file has %(count)d errors (the rows below). "
        "Correct them, check the file again and import it.",
        1,
    ) % {"count": 1}
    assert job.summary["errors"] == 1 and not job.summary.get("committed")
    assert job.summary["error_rows"][0]["row"] == 3 and "96600002" in job.summary["error_rows"][0]["message"]
    assert not Member.objects.filter(card_number__in=["96600001", "96600003"]).exists()
    assert not AuditEntry.objects.filter(action="import_members").exists()
    assert AuditEntry.objects.filter(action="job_failed").count() == 1
    assert job_files() == []
    page = client_for(personas.board).get(reverse("jobs:detail", args=[job.public_id])).content.decode()
    assert job.error in page and "import-errors" in page and "96600002" in page


def test_the_worker_asks_the_permission_again(personas, city):
    job = queue(personas.officer_a, [member_row("96700001")])
    _revoke_all(personas.officer_a)  # between the click and the worker, the role is taken away
    run_jobs()
    job.refresh_from_db()
    assert job.state == "failed" and job.error
    assert not Member.objects.filter(card_number="96700001").exists()
    assert job_files() == []


def _revoke_all(user):
    from organizations.models import RoleAssignment

    RoleAssignment.objects.filter(user=user).delete()


def test_a_job_cannot_be_queued_by_who_does_not_manage_its_organisation(personas, city):
    from organizations.policy import Refused

    with pytest.raises(Refused):
        queue(personas.secretary_a1, [member_row("96800001")], organization=city.city)
    assert not Job.objects.exists() and job_files() == []


def test_progress_is_reported_by_chunks_inside_the_import(personas, monkeypatch):
    monkeypatch.setattr("members.importing.PROGRESS_CHUNK", 2)
    monkeypatch.setattr("members.importing.BATCH_SIZE", 2)
    rows = [member_row(f"969000{n:02d}") for n in range(5)]
    job = queue(personas.board, rows)
    reports = []
    summary = background.run_import_commit(job, lambda done, total, step="": reports.append((done, total, step)))
    assert summary["created"] == 5
    assert reports[0] == (0, 0, gettext("Reading the file"))
    checked = [r for r in reports if r[2] == gettext("Checking the rows")]
    written = [r for r in reports if r[2] == gettext("Writing the rows")]
    assert [r[0] for r in checked] == [2, 4] and {r[1] for r in checked} == {10}
    assert [r[0] for r in written] == [7, 9, 10]


def test_a_cancel_during_the_writing_rolls_everything_back(personas):
    rows = [member_row(f"970000{n:02d}") for n in range(3)]
    job = queue(personas.board, rows)

    def progress(done, total, step=""):
        if step == gettext("Writing the rows"):
            raise JobCancelled

    with pytest.raises(JobCancelled):
        background.run_import_commit(job, progress)
    assert not Member.objects.filter(card_number__startswith="970000").exists()
    assert not AuditEntry.objects.filter(action="import_members").exists()
    assert not background.imported_by_job(job)


def test_a_cancelled_job_in_the_worker_keeps_nothing_and_removes_the_file(personas, monkeypatch):
    job = queue(personas.board, [member_row("97100001")])
    original = background.authorise_import

    def cancelled_meanwhile(user, organization, period=None):
        original(user, organization, period)
        Job.objects.filter(pk=job.pk).update(cancel_requested=True)  # the user's click, while it runs

    monkeypatch.setattr(background, "authorise_import", cancelled_meanwhile)
    run_jobs()
    job.refresh_from_db()
    assert job.state == "cancelled"
    assert not Member.objects.filter(card_number="97100001").exists()
    assert job_files() == []


def test_a_job_cancelled_while_queued_removes_its_file(personas):
    job = queue(personas.board, [member_row("97200001")])
    assert job_files() == [job.input_path]
    services.job_cancel(job=job, user=personas.board)
    assert job_files() == []
    run_jobs()
    assert not Member.objects.filter(card_number="97200001").exists()


def test_an_unexpected_error_removes_the_file_and_keeps_nothing(personas, monkeypatch):
    def broken(members, progress=None):
        raise RuntimeError("disk full")

    monkeypatch.setattr("members.importing._write_members", broken)
    job = queue(personas.board, [member_row("97300001")])
    run_jobs()
    job.refresh_from_db()
    assert job.state == "failed" and "disk full" not in job.error
    assert job_files() == []


def test_a_retry_after_the_commit_does_not_import_twice(personas):
    """The worker died after its commit: the recovery finds the summary written with the rows."""
    job = queue(personas.board, [member_row("97400001"), member_row("97400002")])
    # The first attempt: the work committed, then the worker was killed before ending the job.
    Job.objects.filter(pk=job.pk).update(attempts=1)
    job.refresh_from_db()
    background.run_import_commit(job, lambda *args, **kwargs: None)
    killed(job)
    assert background.imported_by_job(job)
    services.jobs_recover()
    job.refresh_from_db()
    assert job.state == "succeeded"
    assert Member.objects.filter(card_number__startswith="974000").count() == 2
    assert AuditEntry.objects.filter(action="import_members").count() == 1
    assert job_files() == []


def test_a_second_attempt_that_finds_the_rows_written_returns_their_summary(personas):
    job = queue(personas.board, [member_row("97500001")])
    background.run_import_commit(job, lambda *args, **kwargs: None)
    Job.objects.filter(pk=job.pk).update(attempts=2)
    job.refresh_from_db()
    summary = background.run_import_commit(job, lambda *args, **kwargs: None)
    assert summary["created"] == 1 and summary["committed"] is True
    assert Member.objects.filter(card_number="97500001").count() == 1
    assert AuditEntry.objects.filter(action="import_members").count() == 1


def test_a_worker_killed_before_the_commit_is_retried_and_imports(personas):
    job = queue(personas.board, [member_row("97600001")])
    killed(job)
    services.jobs_recover()
    job.refresh_from_db()
    assert job.state == "queued" and job_files() == [job.input_path]
    run_jobs()
    job.refresh_from_db()
    assert job.state == "succeeded" and job.attempts == 2
    assert Member.objects.filter(card_number="97600001").count() == 1
    assert job_files() == []


def test_a_job_given_up_by_the_recovery_removes_its_file(personas):
    job = queue(personas.board, [member_row("97700001")])
    killed(job, attempts=settings.JOBS_MAX_ATTEMPTS)
    services.jobs_recover()
    job.refresh_from_db()
    assert job.state == "failed" and job_files() == []


def test_the_job_page_is_not_for_others(personas, client_for):
    job = queue(personas.officer_a, [member_row("97800001")])
    assert client_for(personas.secretary_b1).get(reverse("jobs:detail", args=[job.public_id])).status_code == 404
    assert client_for(personas.board).get(reverse("jobs:detail", args=[job.public_id])).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_cancel_read_from_another_connection_rolls_the_import_back(personas, monkeypatch):
    """The real worker on committed data: the user's click (another connection) during the writing is read
    by the progress inside the import's transaction (PostgreSQL), and every row goes."""
    import threading

    from django.core.management import call_command
    from django.db import connection, connections

    if connection.vendor == "sqlite":
        pytest.skip("SQLite: one writer at a time, the flag is read between transactions only")
    monkeypatch.setattr("members.importing.BATCH_SIZE", 2)
    from members import importing

    original = importing._write_members

    def click_then_write(members, progress=None):
        def click():
            try:
                Job.objects.filter(kind="import_commit").update(cancel_requested=True)
            finally:
                connections.close_all()

        thread = threading.Thread(target=click)
        thread.start()
        thread.join()
        return original(members, progress)

    monkeypatch.setattr(importing, "_write_members", click_then_write)
    job = queue(personas.board, [member_row(f"979000{n:02d}") for n in range(5)])
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--interval", "0", verbosity=0)
    job.refresh_from_db()
    assert job.state == "cancelled"
    assert not Member.objects.filter(card_number__startswith="979000").exists()
    assert not AuditEntry.objects.filter(action="import_members").exists()
    assert job_files() == []


def test_the_failed_jobs_page_lists_its_errors_in_the_same_queries(personas, client_for, django_assert_num_queries):
    """The rows in error are in the job's summary: the page costs the same for one or two hundred."""
    client = client_for(personas.board)
    counts = []
    for n in (1, 150):
        Member.objects.filter(card_number__startswith="981").delete()
        rows = [member_row(f"981{n:03d}{i:03d}") for i in range(n)]
        job = queue(personas.board, rows)
        for row in rows:  # each card number taken between the check and the worker
            Member.objects.create(
                full_name="Người khác",
                gender="male",
                date_of_birth=datetime.date(1980, 1, 1),
                card_number=row["Số thẻ đảng viên"],
                admission_date=datetime.date(2005, 1, 1),
                occupation="other",
                cell=Organization.objects.get(code="chi-bo-a1"),
            )
        run_jobs()
        job.refresh_from_db()
        assert job.state == "failed" and len(job.summary["error_rows"]) == n
        with django_assert_num_queries(4) as captured:
            page = client.get(reverse("jobs:detail", args=[job.public_id])).content.decode()
        counts.append(len(captured.captured_queries))
        assert page.count("<tr><td>") == n
    assert counts == [4, 4]


def test_an_administrators_first_organisations_are_written_in_the_request(db, client):
    """No organisation yet to file a job under: the first roots (a few rows) are imported at once."""
    from tests.factories import UserFactory

    admin = UserFactory(username="admin", is_superuser=True, is_staff=True)
    client.force_login(admin)
    rows = [{"Mã": "tinh", "Tên": "Đảng bộ Tỉnh", "Loại tổ chức": "city", "Mã tổ chức cấp trên": ""}]
    response = post(client, csv_file(rows, headers=ORG_HEADERS), "organizations", "commit")
    assert response.status_code == 200, response.status_code
    assert "import-done" in response.content.decode(), (
        response.context.get("rejected"),
        response.context.get("errors"),
    )
    assert Organization.objects.get(code="tinh").is_root() and not Job.objects.exists()
