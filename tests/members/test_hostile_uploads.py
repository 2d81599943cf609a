"""Hostile uploads at the import screen (issue 11): each gets a clear message in Vietnamese and
changes nothing. The files are built in tests/hostile_files.py; bench/hostile_uploads.py measures a
worker's time and memory on the same files (README, "Hostile uploads")."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from assessments.core.models import AuditEntry
from members.models import Member
from organizations.models import Organization
from tests import hostile_files as hostile

pytestmark = pytest.mark.django_db

TOO_MANY_ROWS = "quá số dòng tối đa của một lần nhập"
NOT_XLSX = "không phải bảng tính .xlsx hợp lệ"
FORBIDDEN_XML = "khai báo XML không được phép"
TOO_COMPLEX = "quá lớn hoặc quá phức tạp để đọc an toàn"


def snapshot():
    return (Member.objects.count(), Organization.objects.count(), AuditEntry.objects.count())


def post(client, name, data, kind="members"):
    """The import screen's commit: the file is checked and, if it were good, written."""
    upload = SimpleUploadedFile(name, data)
    return client.post(reverse("members:import"), {"kind": kind, "action": "commit", "file": upload})


def assert_refused(response, needle):
    assert response.status_code == 200
    assert needle in response.context["rejected"], response.context["rejected"]
    page = response.content.decode()
    assert "import-rejected" in page
    assert needle in page


@pytest.mark.parametrize(
    "name,build,needle",
    [
        ("xfd200000.xlsx", hostile.far_cell_xlsx, TOO_MANY_ROWS),
        ("xfd200000-undeclared.xlsx", hostile.far_cell_undeclared_xlsx, TOO_MANY_ROWS),
        ("wide.xlsx", hostile.wide_declared_xlsx, "dữ liệu ở cột XFD; tối đa là 50 cột"),
        ("bomb.xlsx", hostile.compression_bomb_xlsx, "khi giải nén có hơn 64 MB"),
        ("lying-bomb.xlsx", hostile.lying_bomb_xlsx, NOT_XLSX),
        ("xxe.xlsx", hostile.xxe_xlsx, FORBIDDEN_XML),
        ("billion-laughs.xlsx", hostile.billion_laughs_xlsx, FORBIDDEN_XML),
        ("xxe-sheet.xlsx", hostile.xxe_in_sheet_xlsx, FORBIDDEN_XML),
        ("comment.xlsx", hostile.comment_xlsx, "chú thích, chỉ thị xử lý hoặc khối CDATA"),
        ("long-tag.xlsx", hostile.long_tag_xlsx, TOO_COMPLEX),
        ("renamed.xlsx", hostile.not_a_zip_xlsx, NOT_XLSX),
        ("short-lines.csv", hostile.short_lines_csv, TOO_MANY_ROWS),
        ("long-line.csv", hostile.long_line_csv, "Tệp quá lớn (10.486.027 byte)"),
        ("long-line-1mb.csv", lambda: hostile.long_line_csv(1024 * 1024), "Dòng 2 của tệp CSV dài hơn 10.000 ký tự"),
    ],
)
def test_hostile_file_is_refused_with_a_message_and_changes_nothing(name, build, needle, personas, client_for):
    before = snapshot()
    response = post(client_for(personas.board), name, build())
    assert_refused(response, needle)
    assert snapshot() == before


@pytest.mark.parametrize("name", ["empty.xlsx", "empty.csv"])
def test_empty_file_is_refused(name, personas, client_for):
    before = snapshot()
    response = post(client_for(personas.officer_a), name, b"")
    assert_refused(response, "Tệp không có dữ liệu")
    assert snapshot() == before


def test_hostile_organisations_file_is_refused_for_the_board(personas, client_for):
    before = snapshot()
    response = post(client_for(personas.board), "to-chuc.xlsx", hostile.billion_laughs_xlsx(), kind="organizations")
    assert_refused(response, FORBIDDEN_XML)
    assert snapshot() == before


def test_officer_gets_the_same_message_for_a_bomb(personas, client_for):
    before = snapshot()
    response = post(client_for(personas.officer_a), "bomb.xlsx", hostile.compression_bomb_xlsx())
    assert_refused(response, "khi giải nén có hơn 64 MB")
    assert snapshot() == before


def test_elements_beyond_the_budget_are_refused(personas, client_for, settings):
    # The budget is 125 items a row of the limit: 12,500 for 100 rows; the sheet has 20,000 unknown
    # elements of two items each.
    settings.IMPORT_MAX_ROWS = 100
    before = snapshot()
    response = post(client_for(personas.board), "unknown.xlsx", hostile.unknown_elements_xlsx(20_000))
    assert_refused(response, TOO_COMPLEX)
    assert snapshot() == before


def test_the_same_elements_within_the_budget_are_read(personas, client_for, settings):
    settings.IMPORT_MAX_ROWS = 100
    response = post(client_for(personas.board), "unknown.xlsx", hostile.unknown_elements_xlsx(1_000))
    # Read: the sheet has the headers and no rows.
    assert response.context["rejected"] == "Tệp chỉ có tiêu đề, không có dòng dữ liệu nào."
