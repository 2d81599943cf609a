"""The year-end workbook's rows written by each candidate writer, the same plain rows for all.

    DATABASE_URL=postgres://… .venv/bin/python bench/export_writers.py [--limit N] [--members N] [--no-libreoffice]

The rows of the published year of the root organisation are read once (`YearEndExport`, plain values)
and kept in memory, `--limit` cutting each list to N rows, `--members` repeating the member list's rows
(numbered on) to N rows when the database holds fewer (a province's size from a city); then each writer
writes them, timed (wall and processor seconds), and its file is checked:

- layout: read back with openpyxl, what our workbook has: bold wrapped header row, frozen pane, column
  widths, date and percentage formats, a wrapped row's height, A4 landscape fitted one page wide, the
  header row repeated, page header and footer;
- LibreOffice: `soffice --headless --convert-to csv` of the member list, its rows counted.

The writers: openpyxl write-only (the workbook before; its code is here), XlsxWriter constant-memory
(assessments/outputs/workbook.py, what the export uses: XlsxWriter's workbook, the rows' XML written by
rowxml.SheetRows), XlsxWriter through its own write_row and write per row (the export before rowxml),
pyexcelerate (fast, but builds the whole workbook in memory and has no page setup, header or footer),
rustpy-xlsxwriter (Rust, one call per sheet: its row heights and row formats are read before the rows,
so a wrapped row cannot get its height as it streams). The last two are measured only when installed
(not in requirements.txt).
"""

import argparse
import csv
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from assessments.models import Period  # noqa: E402
from assessments.outputs import layout  # noqa: E402
from assessments.outputs.layout import Sheet, neutralise  # noqa: E402
from assessments.outputs.sheets import YearEndExport  # noqa: E402
from assessments.outputs.workbook import header_footer_text, line_count, sized  # noqa: E402
from bulk import frozen_gc, report_transaction  # noqa: E402

MEMBER_LIST = 3  # the sheet LibreOffice converts to CSV


def read_rows(period, organization, limit, members=0):
    """[(sheet, rows)] of plain values, each list cut to `limit` rows, the member list repeated to
    `members` rows."""
    with report_transaction("default"):
        sheets = []
        for sheet in YearEndExport(period, organization).sheets():
            rows = []
            for row in sheet.rows:
                rows.append(row)
                if limit and len(rows) >= limit:
                    break
            sheets.append((sheet, rows))
    member_rows = sheets[MEMBER_LIST][1]
    if members > len(member_rows) and member_rows:
        repeated = [[n + 1, *member_rows[n % len(member_rows)][1:]] for n in range(members)]
        sheets[MEMBER_LIST] = (sheets[MEMBER_LIST][0], repeated)
    return sheets


def page_texts(sheet, organization, period):
    left = sized(10, header_footer_text(organization.name[: layout.HEADER_NAME_LENGTH]))
    center = sized(12, "&B" + header_footer_text(sheet.subject))
    right = sized(10, header_footer_text(period))
    footer = sized(9, header_footer_text("Page %(number)s of %(total)s") % {"number": "&P", "total": "&N"})
    return left, center, right, footer


def wrapped_lines(values, columns):
    return max(
        (line_count(values[i], c.width) for i, c in enumerate(columns) if c.wrap and isinstance(values[i], str)),
        default=1,
    )


# --- The writers ---------------------------------------------------------------------------------


def write_openpyxl(sheets, organization, period, target):
    """The workbook as it was written before: openpyxl's write-only mode, styled cells where needed."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.page import PageMargins
    from openpyxl.worksheet.properties import PageSetupProperties

    font, fill = Font(name="Calibri", size=11, bold=True), PatternFill("solid", fgColor="D9D9D9")
    align, border = Alignment(wrap_text=True, horizontal="center", vertical="center"), Border(bottom=Side("thin"))
    wrapped = Alignment(wrap_text=True, vertical="top")
    formats = {"percent": layout.PERCENT_FORMAT, "date": layout.DATE_FORMAT}

    def cell(ws, value, column, alignment=None):
        c = WriteOnlyCell(ws, value=value)
        if column.kind in formats:
            c.number_format = formats[column.kind]
        if alignment is not None:
            c.alignment = alignment
        return c

    workbook = Workbook(write_only=True)
    for sheet, rows in sheets:
        ws = workbook.create_sheet(sheet.title)
        columns = sheet.columns
        ws.freeze_panes = "A2"
        for index, column in enumerate(columns, start=1):
            ws.column_dimensions[get_column_letter(index)].width = column.width
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        ws.page_setup.orientation, ws.page_setup.paperSize = "landscape", 9
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.page_margins = PageMargins(**layout.PAGE_MARGINS)
        ws.print_options.gridLines = ws.print_options.horizontalCentered = True
        ws.print_title_rows = "1:1"
        left, center, right, footer = page_texts(sheet, organization, period)
        ws.oddHeader.left.text, ws.oddHeader.center.text, ws.oddHeader.right.text = left, center, right
        ws.oddFooter.center.text = footer
        header_lines = max(line_count(c.header, c.width * layout.BOLD_WIDTH) for c in columns)
        ws.row_dimensions[1].height = header_lines * layout.LINE_HEIGHT + layout.HEADER_PADDING
        headers = []
        for column in columns:
            c = WriteOnlyCell(ws, value=neutralise(column.header))
            c.font, c.alignment, c.fill, c.border = font, align, fill, border
            headers.append(c)
        ws.append(headers)
        styled = [i for i, c in enumerate(columns) if c.kind in formats]
        for number, row in enumerate(rows, start=2):
            values = [neutralise(v) if isinstance(v, str) else v for v in row]
            lines = wrapped_lines(values, columns)
            if lines > 1:
                ws.row_dimensions[number].height = lines * layout.LINE_HEIGHT
                values = [cell(ws, v, c, wrapped) for v, c in zip(values, columns, strict=True)]
            else:
                for i in styled:
                    values[i] = cell(ws, values[i], columns[i])
            ws.append(values)
            if lines > 1:
                del ws.row_dimensions[number]
    workbook.save(target)


def write_xlsxwriter(sheets, organization, period, target):
    """What the export does (assessments.outputs.workbook): XlsxWriter's workbook and page setup, the rows
    as rowxml.SheetRows writes them, the file zipped at the fast level; on the rows already read."""
    from assessments.outputs.rowxml import FastZipWorkbook
    from assessments.outputs.workbook import WORKBOOK_OPTIONS, Formats, write_sheet

    with tempfile.TemporaryDirectory() as scratch:
        workbook = FastZipWorkbook(target, {**WORKBOOK_OPTIONS, "tmpdir": scratch})
        formats = Formats(workbook)
        for sheet, rows in sheets:
            write_sheet(workbook, formats, Sheet(sheet.subject, sheet.columns, iter(rows)), organization, period)
        workbook.close()


def write_xlsxwriter_cells(sheets, organization, period, target):
    """The export before rowxml: the same workbook, each row through XlsxWriter's write_row (or write, cell
    by cell, with the wrapped formats), zipped at XlsxWriter's level."""
    import xlsxwriter

    from assessments.outputs.workbook import WORKBOOK_OPTIONS, Formats, add_sheet

    with tempfile.TemporaryDirectory() as scratch:
        workbook = xlsxwriter.Workbook(target, {**WORKBOOK_OPTIONS, "tmpdir": scratch})
        formats = Formats(workbook)
        for sheet, rows in sheets:
            writer = add_sheet(workbook, formats, sheet, sheet.title, organization, period)
            ws = writer.ws
            columns = sheet.columns
            wrapped_formats = [formats.wrapped[column.kind] for column in columns]
            for number, row in enumerate(rows, start=1):
                lines = wrapped_lines(row, columns)
                values = [neutralise(value) if isinstance(value, str) else value for value in row]
                if lines > 1:
                    ws.set_row(number, lines * layout.LINE_HEIGHT)
                    for col, (value, cell_format) in enumerate(zip(values, wrapped_formats, strict=True)):
                        ws.write(number, col, value, cell_format)
                else:
                    ws.write_row(number, 0, values)
        workbook.close()


def write_pyexcelerate(sheets, organization, period, target):
    """pyexcelerate: widths, header style, frozen pane, formats and row heights; it has no page setup,
    page header or footer to set."""
    from pyexcelerate import Alignment, Color, Fill, Font, Format, Panes, Style, Workbook

    workbook = Workbook()
    header_style = Style(
        font=Font(bold=True), fill=Fill(background=Color(217, 217, 217)), alignment=Alignment(wrap_text=True)
    )
    for sheet, rows in sheets:
        columns = sheet.columns
        data = [[neutralise(c.header) for c in columns]]
        heights = {}
        for number, row in enumerate(rows, start=2):
            values = [neutralise(v) if isinstance(v, str) else v for v in row]
            lines = wrapped_lines(values, columns)
            if lines > 1:
                heights[number] = lines * layout.LINE_HEIGHT
            data.append(values)
        ws = workbook.new_sheet(sheet.title, data=data)
        ws.panes = Panes(0, 1)
        ws.set_row_style(1, header_style)
        for index, column in enumerate(columns, start=1):
            number_format = {"percent": layout.PERCENT_FORMAT, "date": layout.DATE_FORMAT}.get(column.kind)
            style = Style(size=column.width, format=Format(number_format) if number_format else None)
            ws.set_col_style(index, style)
        for number, height in heights.items():
            ws.set_row_style(number, Style(size=height, alignment=Alignment(wrap_text=True, vertical="top")))
    workbook.save(target)


def records(headers, rows):
    return (dict(zip(headers, row, strict=True)) for row in rows)


def write_rustpy(sheets, organization, period, target):
    """rustpy-xlsxwriter: every layout feature it takes; a wrapped row's height is not among them (its
    row heights are read before the rows stream), and each row must be a dict by header."""
    import rustpy_xlsxwriter as rx

    entries, widths, formats, setups, header_formats = [], {}, {}, {}, {}
    for sheet, rows in sheets:
        headers = [neutralise(c.header) for c in sheet.columns]
        entries.append((sheet.title, records(headers, rows)))
        widths[sheet.title] = [c.width for c in sheet.columns]
        kinds = {"percent": layout.PERCENT_FORMAT, "date": layout.DATE_FORMAT}
        formats[sheet.title] = {
            h: rx.Format().set_num_format(kinds[c.kind])
            for h, c in zip(headers, sheet.columns, strict=True)
            if c.kind in kinds
        }
        header_formats[sheet.title] = rx.Format().set_bold().set_text_wrap().set_background_color("#D9D9D9")
        left, center, right, footer = page_texts(sheet, organization, period)
        setups[sheet.title] = {
            "landscape": True,
            "paper_size": 9,
            "fit_to_pages": (1, 0),
            "repeat_rows": 0,
            "print_gridlines": True,
            "center_horizontally": True,
            "margins": layout.PAGE_MARGINS,
            "header": f"&L{left}&C{center}&R{right}",
            "footer": f"&C{footer}",
        }
    rx.write_worksheets(
        entries,
        target,
        freeze_panes={"general": {"row": 1, "col": 0}},
        column_widths=widths,
        column_formats=formats,
        header_format=header_formats,
        page_setup=setups,
    )


WRITERS = {
    "openpyxl write-only": (write_openpyxl, None),
    "XlsxWriter constant_memory": (write_xlsxwriter, None),
    "XlsxWriter write_row (before)": (write_xlsxwriter_cells, None),
    "pyexcelerate": (write_pyexcelerate, "pyexcelerate"),
    "rustpy-xlsxwriter": (write_rustpy, "rustpy_xlsxwriter"),
}


# --- The checks ----------------------------------------------------------------------------------


def layout_gaps(path, sheets):
    """What of our layout the file lacks, read back with openpyxl (an empty list: all of it)."""
    from openpyxl import load_workbook

    workbook = load_workbook(path)
    gaps = set()
    for ws, (sheet, rows) in zip(workbook.worksheets, sheets, strict=True):
        if ws.freeze_panes != "A2":
            gaps.add("frozen pane")
        if not (ws["A1"].font.b and ws["A1"].alignment.wrap_text):
            gaps.add("header style")
        if abs((ws.column_dimensions["A"].width or 0) - sheet.columns[0].width) > 1:
            gaps.add("widths")
        if ws.page_setup.orientation != "landscape" or str(ws.page_setup.paperSize) != "9":
            gaps.add("A4 landscape")
        if not ws.sheet_properties.pageSetUpPr or not ws.sheet_properties.pageSetUpPr.fitToPage:
            gaps.add("fit to page")
        if ws.print_title_rows != "$1:$1":
            gaps.add("header row on each page")
        if not (ws.oddHeader.center.text or "").endswith(sheet.subject) or not ws.oddFooter.center.text:
            gaps.add("page header/footer")
        for number, row in enumerate(rows, start=2):
            values = [neutralise(v) if isinstance(v, str) else v for v in row]
            if wrapped_lines(values, sheet.columns) > 1:
                if ws.row_dimensions[number].height is None or not ws.cell(number, 1).alignment.wrap_text:
                    gaps.add("wrapped row height")
                break
        for index, column in enumerate(sheet.columns, start=1):
            if column.kind in ("date", "percent") and ws.max_row > 1:
                expected = layout.DATE_FORMAT if column.kind == "date" else layout.PERCENT_FORMAT
                value_rows = [r for r in range(2, min(ws.max_row, 20) + 1) if ws.cell(r, index).value is not None]
                if value_rows and ws.cell(value_rows[0], index).number_format != expected:
                    gaps.add("number formats")
        if any(isinstance(v, float) for v in (ws.cell(2, 1).value,)) and sheet.columns[0].kind == "number":
            gaps.add("whole numbers as decimals")
    return sorted(gaps)


def libreoffice_rows(path, sheet_index):
    """The rows of one sheet as LibreOffice reads them (converted to CSV), or None without LibreOffice."""
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if not office:
        return None
    with tempfile.TemporaryDirectory() as out:
        profile = Path(out, "profile").as_uri()
        # The filter's 12th token: the sheet to convert (1-based); UTF-8 (76), comma-separated (44).
        options = f"csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,{sheet_index + 1}"
        subprocess.run(
            [office, f"-env:UserInstallation={profile}", "--headless", "--convert-to", options, "--outdir", out, path],
            capture_output=True,
            timeout=1200,
            check=False,
        )
        converted = list(Path(out).glob("*.csv"))
        if not converted:
            return 0
        with converted[0].open(encoding="utf-8") as handle:
            return sum(1 for _ in csv.reader(handle)) - 1


def measure(name, writer, sheets, organization, period, libreoffice):
    with tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False) as handle:
        path = handle.name
    try:
        cpu, wall = time.process_time(), time.perf_counter()
        with frozen_gc():
            writer(sheets, organization, period, path)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        result = {"writer": name, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "mb": os.path.getsize(path) / 1e6}
        result["gaps"] = layout_gaps(path, sheets)
        if libreoffice:
            result["libreoffice_rows"] = libreoffice_rows(path, MEMBER_LIST)
        return result
    finally:
        os.unlink(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="at most this many rows in each list (0: all)")
    parser.add_argument("--members", type=int, default=0, help="the member list repeated to this many rows")
    parser.add_argument("--no-libreoffice", action="store_true", help="skip the LibreOffice check")
    parser.add_argument("--writers", nargs="*", default=list(WRITERS), choices=list(WRITERS))
    args = parser.parse_args()
    period = Period.objects.filter(state=Period.State.PUBLISHED).select_related("organization").latest("year")
    organization = period.organization
    sheets = read_rows(period, organization, args.limit, args.members)
    members = len(sheets[MEMBER_LIST][1])
    cells = sum(len(rows) * len(sheet.columns) for sheet, rows in sheets)
    print(f"{period} – {organization}: {members} members in the list, {cells} cells")
    print(f"{'writer':28} {'wall s':>8} {'cpu s':>8} {'µs/cell':>8} {'MB':>6} {'LibreOffice':>12}  layout gaps")
    for name in args.writers:
        writer, module = WRITERS[name]
        if module:
            try:
                __import__(module)
            except ImportError:
                print(f"{name:28} (not installed)")
                continue
        result = measure(name, writer, sheets, organization, period, not args.no_libreoffice)
        office = result.get("libreoffice_rows")
        office = "—" if office is None else ("ok" if office == members else f"{office} rows")
        per_cell = result["cpu_s"] / cells * 1e6
        gaps = ", ".join(result["gaps"]) or "none"
        print(
            f"{name:28} {result['wall_s']:>8} {result['cpu_s']:>8} {per_cell:>8.2f} "
            f"{result['mb']:>6.1f} {office:>12}  {gaps}"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(peak resident memory of this process, the rows held in memory: {peak:.0f} MB)")


if __name__ == "__main__":
    main()
