"""The rows of a sheet written as the XML XlsxWriter itself writes in constant-memory mode, a row at a time.

XlsxWriter writes a cell in about eight microseconds: `write()` looks at the value's type, checks the
bounds, keeps the cell in a table, and when the next row begins, writes the row out with a list of
attributes and four regular expressions per string. For the lists (a row per member, a province's
100,000 rows of eleven cells) that was two thirds of the export. Here a row is one string made by one
loop over its values, with the column letters and the cells' style numbers worked out once per sheet,
and the rows go to the sheet's row file in batches; the result is what XlsxWriter writes for the same
values and formats (tests/assessments/test_export.py compares the two cell by cell):

- a string: an inline string, escaped as XlsxWriter escapes it (& < >, control characters as _xHHHH_,
  a literal _xHHHH_ with its underscore escaped, space kept where it leads or trails); an empty string
  or None: no cell, or a blank cell with the row's format when the row has one (a wrapped row);
- a number: its value; a date: its serial day number in the workbook's date format;
- a row of several lines: its height (as set_row would write it) and the wrapped format on every cell.

The writer uses XlsxWriter's row file and row counter in constant-memory mode (pinned in
requirements.txt): `SheetRows.start` writes out the header row XlsxWriter holds, `finish` tells the
worksheet the rows written, so that its dimension and the rest of the sheet come out as usual.

`FastZipWorkbook` is XlsxWriter's workbook zipped by ISA-L's deflate (the `isal` package, pinned), the
same deflate format zlib writes, at ZIP_LEVEL: at zlib's default level the compression of a province's
100 MB of XML was a fifth of the export; zlib's fastest level made it a third of that for a file a quarter
larger; ISA-L's level 1 deflates about three and a half times faster again than zlib's fastest (1,170
against 340 MB/s on a country's sheets), into a file a tenth smaller than zlib's fastest. Where the
package is missing, zlib's fastest level.
"""

from __future__ import annotations

import datetime
import io
import os
import re
import shutil
import types
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import xlsxwriter
import xlsxwriter.workbook
from xlsxwriter.format import Format
from xlsxwriter.utility import _datetime_to_excel_datetime, _utf16_len, _utf16_truncate, xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from .layout import DANGEROUS_PREFIXES

# What makes a string need more than copying: XML's special characters, control characters, Excel's own
# escapes, the two non-characters, a space at either end.
_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^\s|\s$")
_ESCAPED_ESCAPE = re.compile("(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")
_LEADING_OR_TRAILING_SPACE = re.compile(r"^\s|\s$")

# Rows are written to the sheet's row file this many at a time.
BATCH = 500

# The different strings of a column whose cells are kept written out.
TEXT_MEMO = 20_000

# Whole numbers up to this (in size) are written by XlsxWriter's .16G as their digits (a float holds
# them exactly, in at most 16 of them).
EXACT_INT = 2**53

# Excel's limit on a cell's text, in UTF-16 units.
STRING_LIMIT = 32767


def text_cell(text: str) -> str:
    """The <is> part of an inline string cell, as XlsxWriter writes it (with its leading quote when the text
    would be read as a formula)."""
    if text.startswith(DANGEROUS_PREFIXES):
        text = "'" + text
    if len(text) > STRING_LIMIT // 2 and _utf16_len(text) > STRING_LIMIT:
        text = _utf16_truncate(text, STRING_LIMIT)
    if not _SPECIAL.search(text):
        return f"<is><t>{text}</t></is>"
    text = _ESCAPED_ESCAPE.sub(r"_x005F\1", text)
    text = _CONTROL.sub(lambda match: f"_x{ord(match.group(1)):04X}_", text)
    text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    preserve = ' xml:space="preserve"' if _LEADING_OR_TRAILING_SPACE.search(text) else ""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<is><t{preserve}>{text}</t></is>"


# The bytes copied at a time into the workbook's files and its zip.
COPY_CHUNK = 1 << 20

# The deflate level of the workbook's zip: ISA-L's 1 (of 0 to 3), else zlib's 1, its fastest (6 is its
# default, XlsxWriter's).
ZIP_LEVEL = 1

try:
    from isal import isal_zlib
except ImportError:  # (pinned in requirements.txt; zlib does the same work, slower)
    isal_zlib = None


class _LevelZipFile(zipfile.ZipFile):
    """A zip file whose members are deflated at ZIP_LEVEL, by ISA-L when it is there."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("compresslevel", ZIP_LEVEL)
        super().__init__(*args, **kwargs)

    def write(self, filename: Any, arcname: Any = None, compress_type: Any = None, compresslevel: Any = None) -> None:
        """ZipFile.write; a sheet's file whose rows are apart (FastWorksheet) with its rows put in place."""
        spliced = _SPLICED.pop(os.path.abspath(os.fspath(filename)), None)
        if spliced is None:
            super().write(filename, arcname, compress_type, compresslevel)
            return
        at, rows_files = spliced
        zinfo = zipfile.ZipInfo.from_file(filename, arcname)
        # (Whether the member needs ZIP64 is read from its size.)
        zinfo.file_size += sum(os.path.getsize(rows_file) for rows_file in rows_files)
        zinfo.compress_type = self.compression if compress_type is None else compress_type
        zinfo._compresslevel = self.compresslevel if compresslevel is None else compresslevel
        with open(filename, "rb") as sheet, self.open(zinfo, "w") as member:
            member.write(sheet.read(at))
            for rows_file in rows_files:
                with open(rows_file, "rb") as rows:
                    shutil.copyfileobj(rows, member, COPY_CHUNK)
            shutil.copyfileobj(sheet, member, COPY_CHUNK)
        for rows_file in rows_files:
            os.unlink(rows_file)

    def open(self, name: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = super().open(name, mode, *args, **kwargs)
        if mode != "w":
            return handle
        if isal_zlib is not None and handle._zinfo.compress_type == zipfile.ZIP_DEFLATED:
            # The member's writer keeps its CRC, sizes and headers; only its deflate is ISA-L's (a raw
            # deflate stream, as zipfile's own compressor makes: wbits -15).
            handle._compressor = isal_zlib.compressobj(ZIP_LEVEL, isal_zlib.DEFLATED, -15)
        # Written a chunk of COPY_CHUNK at a time (ZipFile.write copies a file by 8 KB).
        return io.BufferedWriter(handle, COPY_CHUNK)


def _with_zip_file(function: types.FunctionType) -> types.FunctionType:
    """`function` as it is, but seeing _LevelZipFile for the ZipFile of its module: XlsxWriter takes no
    compression level, and its module stays as it is (no other workbook of the process is changed)."""
    namespace = {**vars(xlsxwriter.workbook), "ZipFile": _LevelZipFile}
    return types.FunctionType(
        function.__code__, namespace, function.__name__, function.__defaults__, function.__closure__
    )


# {a sheet's file: (where its rows go in it, the files of its rows)}: the rows that `_LevelZipFile.write`
# puts into the sheet as it zips it (FastWorksheet).
_SPLICED: dict[str, tuple[int, list[str]]] = {}


class FastWorksheet(Worksheet):
    """XlsxWriter's constant-memory worksheet whose rows are not copied into the sheet's file when the
    file is assembled (XlsxWriter reads them back as text and writes them out again, then the zip reads
    the whole again: a country's 2.7 GB of rows twice over): the sheet's file is written without them,
    and the zip takes them from their own file at their place (`_LevelZipFile.write`), followed by the
    files of rows written elsewhere (`rows_after`: by another process, `SheetRows.attach`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows_after: list[str] = []

    def _write_optimized_sheet_data(self) -> None:
        if self.dim_rowmin is None or not isinstance(self.fh, io.TextIOWrapper):
            # (No row at all, or a sheet written in memory: then no rows were attached either, since
            # `SheetRows.attach` follows a header row in a constant-memory sheet.)
            super()._write_optimized_sheet_data()
            return
        self._xml_start_tag("sheetData")
        self.row_data_fh.close()
        self.fh.flush()
        self.spliced = os.path.abspath(self.fh.name)
        _SPLICED[self.spliced] = (self.fh.buffer.tell(), [self.row_data_filename, *self.rows_after])
        self._xml_end_tag("sheetData")


class FastZipWorkbook(xlsxwriter.Workbook):
    """XlsxWriter's workbook, its file zipped at ZIP_LEVEL, its sheets FastWorksheets."""

    _store_workbook = _with_zip_file(xlsxwriter.Workbook._store_workbook)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.worksheet_class = FastWorksheet

    def close(self) -> None:
        try:
            super().close()
        finally:
            for worksheet in self.worksheets():  # (left there by an error before its sheet was zipped)
                _SPLICED.pop(getattr(worksheet, "spliced", ""), None)


def inline(text: str) -> str:
    """text_cell, with the common case (nothing to escape) first."""
    if _SPECIAL.search(text) or text.startswith(DANGEROUS_PREFIXES) or len(text) > STRING_LIMIT // 2:
        return text_cell(text)
    return f"<is><t>{text}</t></is>"


def _style(cell_format: Format | None) -> str:
    return f' s="{cell_format._get_xf_index()}"' if cell_format is not None else ""


@dataclass(frozen=True)
class RowStyles:
    """What the cells of a sheet's rows are written with, as plain values: made from the workbook's
    formats in the workbook's process (a format gets its number when it is first asked for), and so
    handed as they are to another process that writes the rows (`parallel.py`)."""

    plain: tuple[str, ...]  # a cell of an ordinary row: its column's format
    plain_date: str  # a date in an ordinary row: the date format
    wrapped: tuple[str, ...]  # a cell of a wrapped row: its column's wrapped format
    date_1904: bool = False
    remove_timezone: bool = False

    @classmethod
    def of(
        cls,
        column_formats: Sequence[Format | None],
        wrapped_formats: Sequence[Format | None],
        date_format: Format,
        *,
        date_1904: bool = False,
        remove_timezone: bool = False,
    ) -> RowStyles:
        # XlsxWriter's order: the cell's format, the row's, the column's.
        return cls(
            plain=tuple(_style(cell_format) for cell_format in column_formats),
            plain_date=_style(date_format),
            wrapped=tuple(_style(cell_format) for cell_format in wrapped_formats),
            date_1904=date_1904,
            remove_timezone=remove_timezone,
        )


class RowWriter:
    """Writes data rows of a sheet, as XML, to a text file (`fh`): the rows of a constant-memory worksheet
    (`SheetRows`), or rows another process writes for one (`parallel.py`)."""

    def __init__(self, fh: Any, styles: RowStyles) -> None:
        self.fh = fh
        self.styles = styles
        self.count = len(styles.plain)
        self.letters = [xl_col_to_name(col) for col in range(self.count)]
        # A cell of an ordinary row takes its column's format; a date, the date format; a wrapped row's
        # cells, the wrapped format of their column.
        self.plain = list(styles.plain)
        self.plain_date = styles.plain_date
        self.wrapped = list(styles.wrapped)
        # The <is> part of each column's strings, kept while a column repeats its strings (the names of cells
        # and organisations, the labels): a column of more different ones (the members' names) keeps none.
        self.texts: list[dict[str, str] | None] = [{} for _ in range(self.count)]
        self.heights: dict[float, str] = {}
        self.serials: dict[datetime.date, str] = {}
        self.batch: list[str] = []
        self.last = 0

    def _height(self, points: float) -> str:
        height = self.heights.get(points)
        if height is None:
            # As set_row(row, points) writes it: whole pixels, back in points.
            pixels = int(points * 4.0 / 3.0 + 0.5)
            height = self.heights[points] = f' ht="{pixels * 0.75:.16g}" customHeight="1"'
        return height

    def _serial(self, value: datetime.date) -> str:
        serial = self.serials.get(value)
        if serial is None:
            number = _datetime_to_excel_datetime(value, self.styles.date_1904, self.styles.remove_timezone)
            serial = self.serials[value] = f"<v>{number:.16G}</v></c>"
        return serial

    def write(self, row: int, values: Iterable[Any], height: float | None = None) -> None:
        """Row `row` (0-based, after the last written) with `values`; `height` in points makes it a wrapped row."""
        number = str(row + 1)
        if height is None:
            parts = [f'<row r="{number}">']
            styles = self.plain
            date_styles = None
        else:
            parts = [f'<row r="{number}"{self._height(height)}>']
            styles = date_styles = self.wrapped
        append = parts.append
        letters, texts = self.letters, self.texts
        for col, value in enumerate(values):
            cls = value.__class__
            if cls is str:
                if value:
                    cache = texts[col]
                    if cache is None:
                        fragment = inline(value)
                    else:
                        fragment = cache.get(value)
                        if fragment is None:
                            fragment = cache[value] = inline(value)
                            if len(cache) > TEXT_MEMO:
                                texts[col] = None
                    append(f'<c r="{letters[col]}{number}"{styles[col]} t="inlineStr">{fragment}</c>')
                elif date_styles is not None:
                    append(f'<c r="{letters[col]}{number}"{styles[col]}/>')
            elif cls is int and -EXACT_INT <= value <= EXACT_INT:
                # (As .16G writes it: the rows' numbers, the counts.)
                append(f'<c r="{letters[col]}{number}"{styles[col]}><v>{value}</v></c>')
            elif cls is int or cls is float:
                append(f'<c r="{letters[col]}{number}"{styles[col]}><v>{value:.16G}</v></c>')
            elif value is None:
                if date_styles is not None:
                    append(f'<c r="{letters[col]}{number}"{styles[col]}/>')
            elif cls is datetime.date or cls is datetime.datetime:
                style = self.plain_date if date_styles is None else date_styles[col]
                append(f'<c r="{letters[col]}{number}"{style}>{self._serial(value)}')
            elif cls is bool:
                append(f'<c r="{letters[col]}{number}"{styles[col]} t="b"><v>{int(value)}</v></c>')
            elif cls is Decimal:
                append(f'<c r="{letters[col]}{number}"{styles[col]}><v>{float(value):.16G}</v></c>')
            else:
                text = str(value)
                append(f'<c r="{letters[col]}{number}"{styles[col]} t="inlineStr">{text_cell(text)}</c>')
        append("</row>")
        self.batch.append("".join(parts))
        self.last = row
        if len(self.batch) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.batch:
            self.fh.write("".join(self.batch))
            self.batch.clear()


class SheetRows(RowWriter):
    """Writes the data rows of one constant-memory worksheet, after its header row."""

    def __init__(
        self,
        ws: Worksheet,
        column_formats: Sequence[Format | None],
        wrapped_formats: Sequence[Format | None],
        date_format: Format,
    ) -> None:
        if not ws.constant_memory:
            raise ValueError("SheetRows writes constant-memory worksheets only")
        self.ws = ws
        styles = RowStyles.of(
            column_formats, wrapped_formats, date_format, date_1904=ws.date_1904, remove_timezone=ws.remove_timezone
        )
        super().__init__(ws.fh, styles)

    def start(self) -> None:
        """Write out the header row (row 0) XlsxWriter is holding; the data rows follow it."""
        self.ws._write_single_row(1)
        self.last = 0

    def attach(self, rows_file: str, count: int) -> None:
        """The sheet's data rows are the `count` rows of `rows_file` (a RowWriter's file, its rows
        numbered from 1), written elsewhere; the file becomes the worksheet's (it goes with the sheet)."""
        if self.last or not isinstance(self.ws, FastWorksheet):
            raise ValueError("attach gives a FastWorksheet all its data rows")
        self.flush()
        self.ws.rows_after.append(rows_file)
        self.last = count

    def finish(self) -> None:
        """Write what is left and tell the worksheet how far its rows go."""
        self.flush()
        ws = self.ws
        if self.last:
            ws.dim_rowmax = max(ws.dim_rowmax or 0, self.last)
            ws.dim_colmin = min(ws.dim_colmin if ws.dim_colmin is not None else 0, 0)
            ws.dim_colmax = max(ws.dim_colmax or 0, self.count - 1)
        # The rows are out: nothing left for XlsxWriter to write when it closes the sheet.
        ws.previous_row = self.last + 1
