"""A national workbook's lists by part written by processes of their own (assessments/outputs/parallel.py):
the same file as one process writes, and nothing left running or half-written when it fails. On the test
city with the sheet's limit lowered, so that the lists are split by the organisations under the root."""

import io
import multiprocessing
import zipfile

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from assessments.models import Assessment
from assessments.outputs import layout, lists, parallel
from assessments.outputs.layout import neutralise
from assessments.outputs.workbook import write_workbook
from jobs.views import XLSX
from tests.assessments import test_export
from tests.jobs.helpers import follow_job

english, retired, period = test_export.english, test_export.retired, test_export.period

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="other processes read the database: PostgreSQL (not SQLite in memory)"
)


def contents(data: bytes) -> dict[str, bytes]:
    """The workbook's files, unzipped, less its properties (they hold the time it was written)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist() if name != "docProps/core.xml"}


def export(period, organization, **options):
    buffer = io.BytesIO()
    written = write_workbook(period, organization, buffer, **options)
    return written, buffer.getvalue()


@pytest.fixture
def split(monkeypatch):
    """Two members a sheet: every part's lists go on over continuation sheets."""
    monkeypatch.setattr(layout, "SHEET_ROWS", 2)


@pytest.fixture
def submitted(monkeypatch):
    """The sheets given to the other processes."""
    given = []
    submit = parallel.Writers.submit

    def counting(self, sheet, styles):
        given.append(sheet.tab)
        return submit(self, sheet, styles)

    monkeypatch.setattr(parallel.Writers, "submit", counting)
    return given


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_the_lists_written_by_other_processes_make_the_same_workbook(period, city, split, submitted, settings):
    with translation.override("vi"):  # (the other processes write in the workbook's language)
        settings.EXPORT_PROCESSES = 1
        alone, one = export(period, city.city)
        assert submitted == []
        settings.EXPORT_PROCESSES = 2
        together, several = export(period, city.city)
    assert together == alone
    # Every list by part was written elsewhere: the members', KHTNV's and the awards' of each part, and
    # those longer than a sheet went on over continuation sheets.
    parts = [tab.removeprefix("DS đảng viên – ") for tab in submitted if tab.startswith("DS đảng viên – ")]
    assert len(parts) == 3
    assert sorted(submitted) == sorted(
        f"{short} – {part}" for part in parts for short in ("DS đảng viên", "KHTNV", "Khen thưởng")
    )
    assert "DS đảng viên – Đảng bộ A (2)" in together
    assert contents(several) == contents(one)
    assert multiprocessing.active_children() == []


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_failure_in_another_process_fails_the_export_and_stops_them_all(period, city, split, monkeypatch, settings):
    settings.EXPORT_PROCESSES = 2
    monkeypatch.setattr(lists, "Recipe", lambda method, part: parallel.Recipe("no_such_list", part))
    target = io.BytesIO()
    with pytest.raises(AttributeError, match="no_such_list"):
        write_workbook(period, city.city, target)
    assert target.getvalue() == b""  # nothing of a workbook written
    assert multiprocessing.active_children() == []


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_cancelled_export_stops_the_other_processes(period, city, split, settings):
    settings.EXPORT_PROCESSES = 2
    seen = []

    class Cancelled(Exception):
        pass

    def progress(done, total):
        seen.append(done)
        if done == 2:
            raise Cancelled

    with pytest.raises(Cancelled):
        write_workbook(period, city.city, io.BytesIO(), progress=progress)
    assert seen == [0, 1, 2]
    assert multiprocessing.active_children() == []


@pytest.mark.django_db(transaction=True)
def test_the_lists_stay_in_the_workbooks_process_where_others_could_not_read_them(settings):
    settings.EXPORT_PROCESSES = 4
    expected = 4 if connection.vendor == "postgresql" else 1  # (SQLite: the tests' database is in memory)
    assert parallel.processes_for("default") == expected
    with transaction.atomic():  # what this transaction wrote, no other process sees
        assert parallel.processes_for("default") == 1
    settings.EXPORT_PROCESSES = 1
    assert parallel.processes_for("default") == 1


@pytest.mark.django_db
def test_without_other_processes_the_split_workbook_is_written_as_before(period, city, split, submitted, settings):
    settings.EXPORT_PROCESSES = 2  # (inside the test's transaction: the workbook's process writes them)
    written, _ = export(period, city.city)
    assert submitted == []
    assert any(title.startswith("Member list – ") for title in written)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_the_boards_export_job_has_the_lists_written_by_other_processes(
    period, city, personas, client_for, split, submitted, settings
):
    settings.EXPORT_PROCESSES = 2
    url = reverse("assessments:export", args=[period.public_id, city.city.code])
    client = client_for(personas.board)
    response = follow_job(client, client.post(url, HTTP_ACCEPT_LANGUAGE="en"))
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    data = b"".join(response.streaming_content)
    assert len(submitted) == 9
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    lists = {ws.title: [row for row in ws.iter_rows(values_only=True)] for ws in workbook.worksheets}
    members = [row for title, rows in lists.items() if title.startswith("Member list") for row in rows[1:]]
    assert sorted(row[1] for row in members) == sorted(
        neutralise(name)
        for name in Assessment.objects.filter(period=period, member__isnull=False).values_list(
            "member__full_name", flat=True
        )
    )
    assert multiprocessing.active_children() == []
