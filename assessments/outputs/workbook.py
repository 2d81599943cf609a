"""Writing the year-end workbook: the sheets streamed into a write-only openpyxl workbook, each set up
to print on A4."""

import textwrap

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from .layout import (
    BOLD_WIDTH,
    CHARS_PER_WIDTH,
    DATE_FORMAT,
    HEADER_ALIGNMENT,
    HEADER_BORDER,
    HEADER_FILL,
    HEADER_FONT,
    HEADER_NAME_LENGTH,
    HEADER_PADDING,
    LINE_HEIGHT,
    PAGE_MARGINS,
    PERCENT_FORMAT,
    WRAPPED,
    neutralise,
)
from .sheets import YearEndExport


def _cell(ws, value, column, alignment=None):
    """A styled cell: the number format of dates and percentages, the alignment of a multi-line row."""
    cell = WriteOnlyCell(ws, value=value)
    if column.kind == "percent":
        cell.number_format = PERCENT_FORMAT
    elif column.kind == "date":
        cell.number_format = DATE_FORMAT
    if alignment is not None:
        cell.alignment = alignment
    return cell


def _header_cell(ws, column):
    cell = WriteOnlyCell(ws, value=neutralise(column.header))
    cell.font, cell.alignment, cell.fill, cell.border = HEADER_FONT, HEADER_ALIGNMENT, HEADER_FILL, HEADER_BORDER
    return cell


def line_count(text, width):
    """An estimate of the lines `text` takes, wrapped at spaces, in a column `width` wide."""
    chars = max(int(width * CHARS_PER_WIDTH), 1)
    if len(text) <= chars:
        return 1
    return len(textwrap.wrap(text, width=chars))


def header_footer_text(text):
    """Text for a page header or footer, where & starts a code (&P the page number) and && is an &."""
    return str(text).replace("&", "&&")


def sized(points, text):
    """Header or footer text in a font size: &10 and the text, spaced when the text would extend the number."""
    return f"&{points}{' ' if text[:1].isdigit() else ''}{text}"


def print_setup(ws, sheet, organization, period):
    """A4 landscape, one page wide and as many pages tall as the rows need, the header row on every page.

    The title goes in the page header (the organisation on the left, the sheet's subject in the middle,
    the period on the right), so that the table still begins on the first row for whoever reads the file
    with a program. The fit to the page is a sheet property, written before the first row: call this
    before `ws.append`.
    """
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.orientation = Worksheet.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages tall as needed
    ws.page_margins = PageMargins(**PAGE_MARGINS)
    ws.print_options.gridLines = True
    ws.print_options.horizontalCentered = True
    ws.print_title_rows = "1:1"
    ws.oddHeader.left.text = sized(10, header_footer_text(organization.name[:HEADER_NAME_LENGTH]))
    ws.oddHeader.center.text = sized(12, "&B" + header_footer_text(sheet.subject))
    ws.oddHeader.right.text = sized(10, header_footer_text(period))
    # The pagination's words ("Trang 2 / 9"), with the codes of the page number and the page count.
    page = header_footer_text(_("Page %(number)s of %(total)s")) % {"number": "&P", "total": "&N"}
    ws.oddFooter.center.text = sized(9, page)


def write_workbook(period, organization, target):
    """Write the seven sheets to `target` (a path or a binary file); return {sheet title: data rows}."""
    export = YearEndExport(period, organization)
    workbook = Workbook(write_only=True)
    workbook.properties.title = f"{period} – {organization.name}"
    written = {}
    for sheet in export.sheets():
        ws = workbook.create_sheet(sheet.title)
        columns = sheet.columns
        # Write-only sheets take the frozen pane, the widths and the fit to the page only before their
        # first row, and a row's height only before it is written.
        ws.freeze_panes = "A2"
        for index, column in enumerate(columns, start=1):
            ws.column_dimensions[get_column_letter(index)].width = column.width
        print_setup(ws, sheet, organization, period)
        header_lines = max(line_count(column.header, column.width * BOLD_WIDTH) for column in columns)
        ws.row_dimensions[1].height = header_lines * LINE_HEIGHT + HEADER_PADDING
        ws.append([_header_cell(ws, column) for column in columns])
        count = 0
        # Only dates and percentages need a styled cell; plain values are cheaper to stream.
        styled = [i for i, column in enumerate(columns) if column.kind in ("percent", "date")]
        wrapped = [i for i, column in enumerate(columns) if column.wrap]
        for number, row in enumerate(sheet.rows, start=2):
            values = [neutralise(value) if isinstance(value, str) else value for value in row]
            lines = max(
                (line_count(values[i], columns[i].width) for i in wrapped if isinstance(values[i], str)), default=1
            )
            if lines > 1:
                # Neither Excel nor LibreOffice fits a row to wrapped text when it opens a file: the row
                # gets its height here, and it is dropped once written so that memory stays flat.
                ws.row_dimensions[number].height = lines * LINE_HEIGHT
                values = [_cell(ws, value, column, WRAPPED) for value, column in zip(values, columns, strict=True)]
            else:
                for i in styled:
                    values[i] = _cell(ws, values[i], columns[i])
            ws.append(values)
            if lines > 1:
                del ws.row_dimensions[number]
            count += 1
        written[sheet.title] = count
    workbook.save(target)
    return written
