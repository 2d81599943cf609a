"""Writing the year-end workbook: the sheets streamed row by row into an XlsxWriter workbook in
constant-memory mode, each set up to print on A4.

Why XlsxWriter: it streams (one row in memory per sheet), and it keeps the whole layout: widths, the
frozen header row, wrapped rows of their own height, number formats, the page setup, header and footer.
Its cell by cell writing cost three quarters of the export, so the data rows are written as the same
XML by `rowxml.SheetRows` (0.9 µs a cell rather than 6; `bench/export_writers.py` compares the writers),
and the file is zipped at zlib's fastest level. The rows come as plain values (`lists.py`), their
queries run in one read transaction per sheet with PostgreSQL's JIT off (it compiles the summary's
grouped query for longer than the query runs) and the cursors planned for all their rows, and the
garbage collector is paused while the rows stream: it finds no cycle in them, and its passes over the
young rows cost a third of the time.

A sheet holds 1,048,576 rows: past `layout.SHEET_ROWS` members (a national export), the lists of members
are one sheet per organisation directly under the exported one (`YearEndExport.sheets`), and a sheet
still too long goes on over continuation sheets. Those lists by part are written by several processes
at once on PostgreSQL (`parallel.py`; the same file, byte for byte).
"""

import os
import shutil
import tempfile
import textwrap
import time
from contextlib import closing, nullcontext

import xlsxwriter
from django.db import connections, router
from django.utils.translation import gettext as _

from bulk import frozen_gc, report_transaction
from organizations.models import Organization

from ..core.models import Assessment, Period
from . import layout, parallel
from .layout import (
    BOLD_WIDTH,
    CHARS_PER_WIDTH,
    DATE_FORMAT,
    HEADER_FORMAT,
    HEADER_NAME_LENGTH,
    HEADER_PADDING,
    LINE_HEIGHT,
    PAGE_MARGINS,
    PERCENT_FORMAT,
    WRAPPED,
    Sheet,
    neutralise,
    unique_title,
)
from .parallel import Piece
from .rowxml import FastZipWorkbook, RowStyles, SheetRows
from .sheets import YearEndExport

A4 = 9  # Excel's paper size code

LINE_MEMO = 50_000  # wrapped texts whose line count is kept while a sheet is written


def wrapped_lines(value: str, chars: int) -> int:
    """The lines of a wrapped text as its cell shows it (with the leading quote before what would be a formula)."""
    text = neutralise(value)
    return len(textwrap.wrap(text, width=chars)) if len(text) > chars else 1


class RowHeights:
    """The height of a row whose wrapped texts run over several lines, None for a row of one line: the
    lines of a wrapped text counted once per text and width (the lists repeat the same names of cells
    and grassroots organisations row after row; a bounded memo: a province has many names)."""

    def __init__(self, columns) -> None:
        self.wrapped = [
            (i, max(int(column.width * CHARS_PER_WIDTH), 1)) for i, column in enumerate(columns) if column.wrap
        ]
        self.memo: dict[tuple[str, int], int] = {}

    def __call__(self, row) -> float | None:
        lines = 1
        memo = self.memo
        for i, chars in self.wrapped:
            value = row[i]
            if value.__class__ is str and len(value) >= chars:
                key = (value, chars)
                found = memo.get(key)
                if found is None:
                    if len(memo) > LINE_MEMO:
                        memo.clear()
                    found = memo[key] = wrapped_lines(value, chars)
                if found > lines:
                    lines = found
        # Neither Excel nor LibreOffice fits a row to wrapped text when it opens a file.
        return lines * LINE_HEIGHT if lines > 1 else None


# The writer's options: text is text (a value beginning with "=" is never read as a formula, nor a
# string as a number or a link), dates in the day-first format, and rows flushed to disk as written.
WORKBOOK_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
    "default_date_format": DATE_FORMAT,
}


def line_count(text, width):
    """An estimate of the lines `text` takes, wrapped at spaces, in a column `width` wide."""
    chars = max(int(width * CHARS_PER_WIDTH), 1)
    if len(text) <= chars:
        return 1
    return len(textwrap.wrap(text, width=chars))


def header_footer_text(text):
    """Text for a page header or footer, where & starts a code (&P the page number) and && is an &.

    An "&G" would be read as a picture's place (and the writer drops a header whose pictures are
    missing): an invisible word joiner keeps the G apart."""
    return str(text).replace("&", "&&").replace("&&G", "&&\u2060G")


def sized(points, text):
    """Header or footer text in a font size: &10 and the text, spaced when the text would extend the number."""
    return f"&{points}{' ' if text[:1].isdigit() else ''}{text}"


def print_setup(ws, sheet, organization, period):
    """A4 landscape, one page wide and as many pages tall as the rows need, the header row on every page.

    The title goes in the page header (the organisation on the left, the sheet's subject in the middle,
    the period on the right), so that the table still begins on the first row for whoever reads the file
    with a program.
    """
    ws.set_landscape()
    ws.set_paper(A4)
    ws.fit_to_pages(1, 0)  # as many pages tall as needed
    margins = {side: PAGE_MARGINS[side] for side in ("left", "right", "top", "bottom")}
    ws.set_margins(**margins)
    ws.hide_gridlines(0)  # printed too
    ws.center_horizontally()
    ws.repeat_rows(0)
    left = sized(10, header_footer_text(organization.name[:HEADER_NAME_LENGTH]))
    center = sized(12, "&B" + header_footer_text(sheet.subject))
    right = sized(10, header_footer_text(period))
    ws.set_header(f"&L{left}&C{center}&R{right}", {"margin": PAGE_MARGINS["header"]})
    # The pagination's words ("Trang 2 / 9"), with the codes of the page number and the page count.
    page = header_footer_text(_("Page %(number)s of %(total)s")) % {"number": "&P", "total": "&N"}
    ws.set_footer(f"&C{sized(9, page)}", {"margin": PAGE_MARGINS["footer"]})


class Formats:
    """The workbook's formats, made once: a column's number format, and the same wrapped."""

    def __init__(self, workbook):
        self.header = workbook.add_format(HEADER_FORMAT)
        self.column = {
            "percent": workbook.add_format({"num_format": PERCENT_FORMAT}),
            "date": workbook.add_format({"num_format": DATE_FORMAT}),
        }
        self.wrapped = {
            "text": workbook.add_format(WRAPPED),
            "number": workbook.add_format(WRAPPED),
            "percent": workbook.add_format({**WRAPPED, "num_format": PERCENT_FORMAT}),
            "date": workbook.add_format({**WRAPPED, "num_format": DATE_FORMAT}),
        }
        # Numbered now, in this order (XlsxWriter numbers a format when a cell first uses it): the rows
        # another process writes carry these numbers before the workbook's first sheet is written
        # (`styles_of`), and the file is the same whichever process writes them.
        for cell_format in (self.header, *self.column.values(), *self.wrapped.values()):
            cell_format._get_xf_index()

    def of_columns(self, columns):
        """The formats of a sheet's rows: each column's, each column's wrapped, and a date's."""
        return (
            [self.column.get(column.kind) for column in columns],
            [self.wrapped[column.kind] for column in columns],
            self.column["date"],
        )


def whole_results(using: str) -> None:
    """Plan the lists' cursors for all their rows (for the rest of the transaction, on PostgreSQL).

    A server-side cursor is planned by default for its first tenth of rows (cursor_tuple_fraction 0.1):
    walking an index in the list's order rather than sorting, which for the whole list cost several times
    the query the database plans for a COPY of the same rows."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL cursor_tuple_fraction = 1.0")


def add_sheet(
    workbook: xlsxwriter.Workbook,
    formats: Formats,
    sheet: Sheet,
    title: str,
    organization: Organization,
    period: Period,
) -> SheetRows:
    """A worksheet named `title` with the sheet's layout and header row, and the writer of its rows."""
    ws = workbook.add_worksheet(title)
    columns = sheet.columns
    for index, column in enumerate(columns):
        ws.set_column(index, index, column.width, formats.column.get(column.kind))
    ws.freeze_panes(1, 0)
    print_setup(ws, sheet, organization, period)
    header_lines = max(line_count(column.header, column.width * BOLD_WIDTH) for column in columns)
    ws.set_row(0, header_lines * LINE_HEIGHT + HEADER_PADDING)
    ws.write_row(0, 0, [neutralise(column.header) for column in columns], formats.header)
    # Dates and percentages take their column's format; a row of several lines gets its height and its
    # cells a wrapped format (a row's own format would hide the columns' number formats).
    rows = SheetRows(ws, *formats.of_columns(columns))
    rows.start()
    return rows


def write_sheet(
    workbook: xlsxwriter.Workbook,
    formats: Formats,
    sheet: Sheet,
    organization: Organization,
    period: Period,
    taken: set[str] | None = None,
) -> dict[str, int]:
    """One sheet: its layout, then its rows as they come; returns {tab's name: data rows}.

    Rows past `layout.SHEET_ROWS` go on a sheet of the same layout after it, named as it with " (2)"…;
    `taken` is the set of the workbook's names (lower case) so far."""
    taken = set() if taken is None else taken
    limit = layout.SHEET_ROWS
    title = unique_title(sheet.title, taken)
    rows = add_sheet(workbook, formats, sheet, title, organization, period)
    written = {}
    heights = RowHeights(sheet.columns)
    count = 0
    # The rows closed however the sheet ends: a list's are fetched by a thread until their reader stops.
    with closing(sheet.rows) if hasattr(sheet.rows, "close") else nullcontext():
        for row in sheet.rows:
            if count == limit:
                rows.finish()
                written[title] = count
                title = unique_title(sheet.title, taken)
                rows = add_sheet(workbook, formats, sheet, title, organization, period)
                count = 0
            count += 1
            rows.write(count, row, heights(row))
    rows.finish()
    written[title] = count
    return written


def attach_sheet(
    workbook: xlsxwriter.Workbook,
    formats: Formats,
    sheet: Sheet,
    pieces: list[Piece],
    organization: Organization,
    period: Period,
    taken: set[str],
) -> dict[str, int]:
    """The sheet whose rows another process wrote (`parallel.Writers`): a sheet of its layout for each
    piece of rows (its continuation sheets named as `write_sheet` names them), or one empty sheet."""
    written = {}
    for piece in pieces or [None]:
        title = unique_title(sheet.title, taken)
        rows = add_sheet(workbook, formats, sheet, title, organization, period)
        if piece is not None:
            rows.attach(piece.path, piece.count)
        rows.finish()
        written[title] = piece.count if piece is not None else 0
    return written


def styles_of(workbook: xlsxwriter.Workbook, formats: Formats, sheet: Sheet) -> RowStyles:
    """The styles of a sheet's rows, as `add_sheet` gives them, numbered now for another process."""
    return RowStyles.of(
        *formats.of_columns(sheet.columns), date_1904=workbook.date_1904, remove_timezone=workbook.remove_timezone
    )


# An export's scratch directory: named after the process that made it, so that one left behind by a
# process that could not remove it (a worker killed -9) is removed by a later export: when that process
# is gone and nothing was written in it for an hour (a process of another machine or container sharing
# the temporary directory is not seen here; no export writes for an hour without a pause).
SCRATCH_PREFIX = "export-"
SCRATCH_LEFT_SECONDS = 3600


def scratch_directory() -> tempfile.TemporaryDirectory:
    """A new scratch directory for an export (removed when it ends), once those left by exports whose
    process is gone are removed."""
    root = tempfile.gettempdir()
    for name in os.listdir(root):
        owner, dash, _rest = name.removeprefix(SCRATCH_PREFIX).partition("-")
        if not (name.startswith(SCRATCH_PREFIX) and dash and owner.isdigit()) or _alive(int(owner)):
            continue
        path = os.path.join(root, name)
        try:
            idle = time.time() - os.stat(path).st_mtime
        except OSError:
            continue  # removed meanwhile
        if idle > SCRATCH_LEFT_SECONDS:
            shutil.rmtree(path, ignore_errors=True)
    return tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def write_workbook(period, organization, target, *, progress=None):
    """Write the seven sheets to `target` (a path or a binary file); return {sheet title: data rows}.

    The members more than a sheet holds (a national export), the lists of members are one sheet per
    organisation directly under `organization`, after a sheet of their totals (`YearEndExport.sheets`);
    a sheet still too long goes on over continuation sheets.

    `progress`, if given, is called as progress(done, total) with the sheets written so far: (0, 7)
    before the first, (7, 7) once the file is complete (more than 7 when the lists are split). It is
    called between the sheets' transactions, so that what it writes (a job's progress) is seen at once."""
    using = router.db_for_read(Assessment)
    if isinstance(target, os.PathLike):
        target = os.fspath(target)
    # The sheets' headers and row generators; whether the members' lists are split (their count from the
    # summary's tallies, kept for its sheet) is asked in a report transaction too.
    with report_transaction(using):
        sheets = YearEndExport(period, organization).sheets()
    total = len(sheets)
    if progress:
        progress(0, total)
    # The sheets' rows wait in temporary files of a directory of their own until the file is assembled:
    # the directory goes when the export ends, also on an error (and no half file is assembled then).
    with frozen_gc(), scratch_directory() as scratch:
        workbook = FastZipWorkbook(target, {**WORKBOOK_OPTIONS, "tmpdir": scratch})
        workbook.set_properties({"title": f"{period} – {organization.name}"})
        formats = Formats(workbook)
        # The lists by part (a national export) written by processes of their own, when there are several.
        remote = [sheet for sheet in sheets if sheet.recipe is not None]
        writers = None
        if remote and (processes := parallel.processes_for(using)) > 1:
            writers = parallel.Writers(processes, using, period, organization, scratch, layout.SHEET_ROWS)
        written, taken = {}, set()
        with writers or nullcontext():
            for sheet in remote if writers else ():
                writers.submit(sheet, styles_of(workbook, formats, sheet))
            for done, sheet in enumerate(sheets, start=1):
                if writers and sheet.recipe is not None:
                    pieces = writers.pieces(sheet)
                    written.update(attach_sheet(workbook, formats, sheet, pieces, organization, period, taken))
                else:
                    # A sheet's queries run while its rows are written: one transaction per sheet.
                    with report_transaction(using):
                        whole_results(using)
                        written.update(write_sheet(workbook, formats, sheet, organization, period, taken))
                if progress and done < total:
                    progress(done, total)
        workbook.close()
    if progress:
        progress(total, total)
    return written
