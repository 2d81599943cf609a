"""A national export: more members than a sheet holds (1,048,576 rows) split the lists of members by the
organisations directly under the root (the provinces), with a sheet of their totals; here on the test
city with the sheet's limit lowered."""

import io
import subprocess
import sys
import zipfile

import pytest
from openpyxl import load_workbook

from assessments.models import Assessment
from assessments.outputs import layout
from assessments.outputs.layout import distinct_names, neutralise, sheet_title, unique_title
from assessments.outputs.workbook import write_workbook
from organizations.models import Organization
from tests.assessments import test_export

# The year of test_export: 2025 and 2026 decided in the test city.
english, retired, period = test_export.english, test_export.retired, test_export.period

pytestmark = pytest.mark.django_db


def export(period, organization):
    buffer = io.BytesIO()
    written = write_workbook(period, organization, buffer)
    return written, buffer.getvalue()


def sheets_of(data):
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    return {ws.title: [list(row) for row in ws.iter_rows(values_only=True)] for ws in workbook.worksheets}


def members_under(period, org):
    return Assessment.objects.filter(period=period, member__isnull=False, organization__path__startswith=org.path)


def test_within_the_limit_the_workbook_keeps_its_seven_sheets(period, city, monkeypatch):
    count = members_under(period, city.city).count()
    monkeypatch.setattr(layout, "SHEET_ROWS", count)
    written, _ = export(period, city.city)
    assert len(written) == 7
    assert written["List of members"] == count


def test_past_the_limit_each_organisation_under_the_root_has_its_list_of_members(period, city, monkeypatch):
    children = list(Organization.objects.get_children(city.city))
    counts = {child.name: members_under(period, child).count() for child in children}
    total = members_under(period, city.city).count()
    assert total == sum(counts.values()) > max(counts.values())
    monkeypatch.setattr(layout, "SHEET_ROWS", max(counts.values()))
    written, data = export(period, city.city)
    sheets = sheets_of(data)
    assert list(written) == list(sheets)
    assert all(count <= max(counts.values()) for count in written.values())
    # The summaries, the totals by part after the summary by grassroots organisation, then each list.
    titles = list(sheets)
    assert titles[:3] == [
        "Organisations by sector",
        "Members by grassroots organisat",
        "Members by organisation directl",
    ]
    member_lists = {name: f"Member list – {name}" for name, count in counts.items() if count}
    first = titles.index("Member list – " + next(iter(member_lists)))
    assert titles[first : first + len(member_lists)] == list(member_lists.values())
    assert titles[first - 1].startswith("List of organisations")
    # Every member once, each on the list of their part, numbered from 1 on each sheet.
    for name, title in member_lists.items():
        header, *rows = sheets[title]
        assert header[:2] == ["No.", "Full name"]
        assert [row[0] for row in rows] == list(range(1, counts[name] + 1))
        child = Organization.objects.get(name=name)
        assert sorted(row[1] for row in rows) == sorted(
            neutralise(name) for name in members_under(period, child).values_list("member__full_name", flat=True)
        )
    # The totals by part: members of each, and the whole.
    header, *rows = sheets["Members by organisation directl"]
    assert header[:2] == ["Organisation", "Members"]
    assert [row[:2] for row in rows] == [
        *([name, count] for name, count in counts.items() if count),
        ["Total", total],
    ]
    # The other lists of members are split the same way; the summary by grassroots organisation is whole.
    assert [title for title in titles if title.startswith("KHTNV – ")] == [f"KHTNV – {name}" for name in member_lists]
    assert [title for title in titles if title.startswith("Awards – ")] == [f"Awards – {name}" for name in member_lists]
    assert sheets["Members by grassroots organisat"][-1][:2] == ["Total", total]
    assert all(len(title) <= 31 for title in titles)
    assert len({title.lower() for title in titles}) == len(titles)


def test_a_part_longer_than_a_sheet_goes_on_over_continuation_sheets(period, city, monkeypatch):
    size = members_under(period, city.committee_a).count()
    monkeypatch.setattr(layout, "SHEET_ROWS", 2)
    written, data = export(period, city.city)
    sheets = sheets_of(data)
    first = "Member list – Đảng bộ A"
    parts = [first, *(f"{first} ({n})" for n in range(2, (size + 1) // 2 + 1))]
    assert [title for title in sheets if title.startswith(first)] == parts
    numbers = [row[0] for title in parts for row in sheets[title][1:]]
    assert numbers == list(range(1, size + 1))  # the numbering goes on over the sheets
    assert all(len(rows) <= 3 for rows in sheets.values() if len(rows) > 1 and rows[0][0] == "No.")
    assert all(
        count <= 2 for title, count in written.items() if title.startswith(("Member list –", "KHTNV –", "Awards –"))
    )


def test_long_names_alike_give_unique_tab_names(period, city, monkeypatch):
    long = "Đảng bộ Khối các cơ quan và doanh nghiệp tỉnh"
    Organization.objects.filter(pk=city.committee_a.pk).update(name=f"{long} A")
    Organization.objects.filter(pk=city.committee_b.pk).update(name=f"{long} B")
    monkeypatch.setattr(layout, "SHEET_ROWS", 1)
    written, data = export(period, city.city)
    titles = list(sheets_of(data))
    assert titles == list(written)
    assert all(len(title) <= 31 and not set(title) & set("[]:*?/\\") for title in titles)
    assert len({title.lower() for title in titles}) == len(titles)
    # Cut to 31 characters, the second committee's list takes a number.
    first = sheet_title(f"Member list – {long} A")
    assert first == "Member list – Đảng bộ Khối các"
    members = [title for title in titles if title.startswith("Member list – Đảng bộ Khối")]
    assert members[0] == first
    assert members[1:] == [f"Member list – Đảng bộ Khối ({n})" for n in range(2, len(members) + 1)]
    assert sum(written[title] for title in members) == sum(
        members_under(period, org).count() for org in (city.committee_a, city.committee_b)
    )


def test_the_split_workbook_is_a_sound_file(period, city, monkeypatch, tmp_path):
    monkeypatch.setattr(layout, "SHEET_ROWS", 2)
    _, data = export(period, city.city)
    path = tmp_path / "national.xlsx"
    path.write_bytes(data)
    checked = subprocess.run([sys.executable, "-m", "zipfile", "-t", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None


def test_unique_title_cuts_and_numbers_names_already_taken():
    taken = set()
    assert unique_title("Members", taken) == "Members"
    assert unique_title("MEMBERS", taken) == "MEMBERS (2)"  # Excel compares without case
    name = "x" * 31
    assert unique_title(name, taken) == name
    assert unique_title(name, taken) == "x" * 27 + " (2)"
    assert unique_title(name, taken) == "x" * 27 + " (3)"
    assert taken == {"members", "members (2)", name, "x" * 27 + " (2)", "x" * 27 + " (3)"}


def test_distinct_names_drop_the_words_all_the_names_begin_with():
    provinces = ["Đảng bộ tỉnh Hà Nam", "Đảng bộ tỉnh Nam Định", "Đảng bộ tỉnh Ninh Bình"]
    assert distinct_names(provinces) == ["Hà Nam", "Nam Định", "Ninh Bình"]
    assert distinct_names(["Đảng bộ tỉnh", "Đảng bộ tỉnh Hà Nam"]) == ["Đảng bộ tỉnh", "Hà Nam"]
    assert distinct_names(["Đảng bộ A", "Chi bộ C"]) == ["Đảng bộ A", "Chi bộ C"]
    assert distinct_names(["Đảng bộ tỉnh Hà Nam"]) == ["Đảng bộ tỉnh Hà Nam"]


def test_the_tabs_of_provinces_name_the_province(period, city, monkeypatch):
    for org, province in ((city.committee_a, "Hà Nam"), (city.committee_b, "Nam Định"), (city.cell_c, "Ninh Bình")):
        Organization.objects.filter(pk=org.pk).update(name=f"Đảng bộ tỉnh {province}")
    monkeypatch.setattr(layout, "SHEET_ROWS", 5)
    written, data = export(period, city.city)
    sheets = sheets_of(data)
    assert "Member list – Hà Nam" in written
    assert "Member list – Nam Định" in written
    assert sheets["Member list – Hà Nam"][0][:2] == ["No.", "Full name"]
