"""Reading an uploaded spreadsheet within limits: every upload of the site goes through `read_rows`.

An upload is hostile until read. A few kilobytes of .xlsx can declare a cell at XFD200000 (openpyxl
pads every row to the declared size: gigabytes), a zip of 4.5 MB can hold gigabytes of XML, a CSV of
short lines millions of rows, and an XML part can declare entities. Each is refused, with a message in
the user's language, before it costs more than a bounded amount of memory and time:

- the file's size, before anything is read (and `BoundedUploadHandler` stops keeping the bytes of a
  larger file while Django receives it);
- .xlsx: the zip's directory first (the number of parts, their declared sizes, the compression ratio
  of each), before anything is decompressed; zipfile never returns more bytes than a part declares,
  so the declared sizes bound everything after. Then the parts that hold the first sheet's values are
  read as streams by defusedxml's SAX parser (expat; no DTD, no entities, no external references)
  into a handler that keeps only the cell values: no tree is built, so memory does not grow with what
  a part holds, only with the values kept, which are bounded (rows, columns, text, shared strings),
  and the elements and attributes read are counted against a budget that bounds the time.
  Before the parser sees a byte, each chunk is checked for what a streaming parser would still have
  to hold whole: tags longer than a bound, comments, processing instructions and CDATA sections
  (no spreadsheet program writes them). The sheet's declared dimension is checked as well as its
  actual rows and columns. openpyxl gives the meaning of number formats and the date conversion, so
  that values are those openpyxl would read (it does not read the file: its read-only mode keeps any
  element it does not know, which a crafted file can fill);
- .csv: read as a stream of UTF-8 text, a line at a time up to a length, the rows counted as they
  come.

The limits are settings (`UploadLimits.from_settings`), sized for the largest legitimate import: a
city's members, about 7,300 rows of 15 columns (an .xlsx of 0.5 MB holding 8 MB of XML).
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import itertools
import posixpath
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO
from xml.sax import SAXException
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import AttributesImpl

from defusedxml import DefusedXmlException
from defusedxml.expatreader import DefusedExpatParser
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, get_column_letter
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel, from_ISO8601
from openpyxl.utils.exceptions import CellCoordinatesException

XLSX, CSV = ".xlsx", ".csv"
EXTENSIONS = (XLSX, CSV)

# Bounds that only protect the reader, far above any workbook a spreadsheet program writes: not
# settings. Excel writes 10 to 30 parts.
XLSX_MAX_PARTS = 1000
# A part is judged by its compression ratio only from this size: small parts compress as they like.
XLSX_RATIO_FROM_BYTES = 1024 * 1024
# Bytes between two "<" of an XML part at most: a tag, or a text between two tags (the longest text
# Excel allows in a cell, 32,767 characters, is 98 KB in UTF-8). The parser holds a tag whole.
XML_MAX_SPAN = 256 * 1024
XML_CHUNK = 256 * 1024
# Nesting of XML elements at most: a sheet nests five deep.
XML_MAX_DEPTH = 32
EXCEL_MAX_COLUMNS = 16384  # XFD

SPREADSHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


@dataclass(frozen=True)
class UploadLimits:
    """What an upload may hold; each limit is a setting, with these defaults."""

    max_bytes: int = 5 * 1024 * 1024  # IMPORT_MAX_BYTES: the file as uploaded
    max_rows: int = 20_000  # IMPORT_MAX_ROWS: rows of the sheet or the CSV, the header included
    max_columns: int = 50  # IMPORT_MAX_COLUMNS
    max_line_chars: int = 10_000  # IMPORT_MAX_LINE_CHARS: one line of a CSV file
    xlsx_max_uncompressed: int = 64 * 1024 * 1024  # IMPORT_XLSX_MAX_UNCOMPRESSED_BYTES: all the parts
    xlsx_max_ratio: int = 100  # IMPORT_XLSX_MAX_RATIO: a part's uncompressed size / compressed size

    @classmethod
    def from_settings(cls) -> UploadLimits:
        default = cls()
        return cls(
            max_bytes=getattr(settings, "IMPORT_MAX_BYTES", default.max_bytes),
            max_rows=getattr(settings, "IMPORT_MAX_ROWS", default.max_rows),
            max_columns=getattr(settings, "IMPORT_MAX_COLUMNS", default.max_columns),
            max_line_chars=getattr(settings, "IMPORT_MAX_LINE_CHARS", default.max_line_chars),
            xlsx_max_uncompressed=getattr(
                settings, "IMPORT_XLSX_MAX_UNCOMPRESSED_BYTES", default.xlsx_max_uncompressed
            ),
            xlsx_max_ratio=getattr(settings, "IMPORT_XLSX_MAX_RATIO", default.xlsx_max_ratio),
        )

    @property
    def max_items(self) -> int:
        """XML elements and attributes read from one workbook: the parser's time. A full row of the
        members' template costs about 80 in the sheet (15 cells, each with its value and 3 attributes)
        and 30 more in the shared strings when every text is a new one."""
        return self.max_rows * 125

    @property
    def max_text_chars(self) -> int:
        """Characters of text kept from one workbook: 800 a row on average, three full rows of the
        members' template."""
        return self.max_rows * 800


class UploadRejected(Exception):
    """The file cannot be read: the message says why, in the user's language."""


def _number(value: int) -> str:
    return number_format(value, force_grouping=True)


def _not_xlsx() -> UploadRejected:
    return UploadRejected(_("The file is not a valid .xlsx workbook. Save it again from Excel and retry."))


def _too_complex(part: str) -> UploadRejected:
    return UploadRejected(
        _(
            "The workbook's part %(part)s is too large or too complex to read safely. Copy the data into a "
            "new workbook and retry."
        )
        % {"part": part[:100]}
    )


def _too_many_rows(limits: UploadLimits) -> UploadRejected:
    return UploadRejected(
        _(
            "The file has more than %(limit)s rows, the most one import takes. Split it into several "
            "files, or delete the empty rows below the data."
        )
        % {"limit": _number(limits.max_rows)}
    )


def _too_many_columns(column: int, limits: UploadLimits) -> UploadRejected:
    return UploadRejected(
        _(
            "The file has data in column %(column)s; the limit is %(limit)s columns. Delete the columns to "
            "the right of the data, or copy the data into a new workbook."
        )
        % {"column": get_column_letter(min(column, EXCEL_MAX_COLUMNS)), "limit": limits.max_columns}
    )


# --- The entry point --------------------------------------------------------------------------------


def read_rows(upload: UploadedFile, limits: UploadLimits | None = None) -> list[list]:
    """The rows of the first sheet of an .xlsx, or of a .csv, as lists of cell values, the trailing
    empty cells left out. Blank rows are kept (as []) so that a row's position is its number in the
    file. Raises UploadRejected."""
    limits = limits or UploadLimits.from_settings()
    name = (getattr(upload, "name", "") or "").lower()
    if not name.endswith(EXTENSIONS):
        raise UploadRejected(_("The file is not a spreadsheet: upload an .xlsx or a .csv file."))
    size = upload.size
    if size is not None and size > limits.max_bytes:
        raise UploadRejected(
            _("The file is too large (%(size)s bytes); the limit is %(limit)s bytes.")
            % {"size": _number(size), "limit": _number(limits.max_bytes)}
        )
    if not size:
        raise UploadRejected(_("The file is empty."))
    stream = upload.file
    stream.seek(0)
    if name.endswith(XLSX):
        return _read_xlsx(stream, limits)
    return _read_csv(stream, limits)


# --- .xlsx: the archive -----------------------------------------------------------------------------


def _read_xlsx(stream: IO[bytes], limits: UploadLimits) -> list[list]:
    if stream.read(4) != b"PK\x03\x04":
        raise _not_xlsx()
    _check_directory_size(stream)
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            _check_archive(archive, limits)
            return _Workbook(archive, limits).rows()
    except UploadRejected:
        raise
    except DefusedXmlException as exc:
        raise UploadRejected(
            _(
                "The workbook contains XML declarations that are not allowed (a document type or entities). "
                "Save it again from Excel and retry."
            )
        ) from exc
    # A bad zip, a part that is missing or cut short, XML that is not well formed, a value that is not
    # what its type says (a shared string's index beyond the table, a date beyond the calendar).
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        NotImplementedError,
        RuntimeError,
        SAXException,
        KeyError,
        IndexError,
        ValueError,
        OverflowError,
        CellCoordinatesException,
    ) as exc:
        raise _not_xlsx() from exc


def _check_directory_size(stream: IO[bytes]) -> None:
    """Refuse a zip whose directory announces too many parts, before zipfile reads that directory."""
    stream.seek(0, io.SEEK_END)
    end = stream.tell()
    tail_size = min(end, 22 + 65535)  # the end record, and the longest comment it may carry
    stream.seek(end - tail_size)
    tail = stream.read(tail_size)
    position = tail.rfind(b"PK\x05\x06")
    if position < 0 or position + 22 > len(tail):
        raise _not_xlsx()
    # 0xFFFF announces a ZIP64 directory, which no workbook needs.
    _check_part_count(struct.unpack_from("<H", tail, position + 10)[0])


def _check_part_count(count: int) -> None:
    if count > XLSX_MAX_PARTS:
        raise UploadRejected(
            _("The workbook has too many parts (%(count)s): it is not a workbook this site can read.")
            % {"count": _number(count)}
        )


def _check_archive(archive: zipfile.ZipFile, limits: UploadLimits) -> None:
    infos = archive.infolist()
    _check_part_count(len(infos))
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise UploadRejected(_("The workbook is protected by a password. Remove the password and retry."))
        total += info.file_size
        if total > limits.xlsx_max_uncompressed:
            raise UploadRejected(
                _("The workbook holds more than %(limit)s MB once uncompressed: it is too large to import.")
                % {"limit": _number(limits.xlsx_max_uncompressed // (1024 * 1024))}
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > XLSX_RATIO_FROM_BYTES and ratio > limits.xlsx_max_ratio:
            raise UploadRejected(
                _(
                    "The workbook's part %(part)s is compressed %(ratio)s times, more than a spreadsheet "
                    "program does (at most %(limit)s): it is not a workbook this site can read."
                )
                % {"part": info.filename[:100], "ratio": _number(int(ratio)), "limit": limits.xlsx_max_ratio}
            )


# --- .xlsx: the XML parts ---------------------------------------------------------------------------


def _local(name: str) -> str:
    """A tag or attribute name without its prefix. Names are matched without their namespace: the
    reader's bounds hold whatever the namespaces, and "strict" workbooks use other ones."""
    return name.rpartition(":")[2]


def _attribute(attrib: AttributesImpl, name: str, default: str = "") -> str:
    for key, value in attrib.items():
        if _local(key) == name:
            return value
    return default


class _Handler(ContentHandler):
    """What the parser calls for each start tag, end tag and piece of text; counts what they cost
    against the workbook's budget (the parser's time), and how deep the elements nest."""

    def __init__(self, budget: _Budget, part: str) -> None:
        super().__init__()
        self.budget, self.part, self.depth = budget, part, 0

    def _spend(self, items: int) -> None:
        self.budget.items += items
        if self.budget.items > self.budget.limits.max_items:
            raise _too_complex(self.part)

    def startElement(self, name: str, attrs: AttributesImpl) -> None:  # noqa: N802 (SAX's name)
        self.depth += 1
        if self.depth > XML_MAX_DEPTH:
            raise _too_complex(self.part)
        self._spend(1 + len(attrs))
        self.on_start(_local(name), attrs)

    def endElement(self, name: str) -> None:  # noqa: N802
        self.depth -= 1
        self.on_end(_local(name))

    def characters(self, content: str) -> None:
        # Not counted: with expat's text buffered (_Parser), a text comes in one call between two tags
        # (or one every 64 KB), so the elements bound the calls.
        self.text(content)

    def text(self, content: str) -> None:
        pass

    def on_start(self, name: str, attrib: AttributesImpl) -> None:
        pass

    def on_end(self, name: str) -> None:
        pass


@dataclass
class _Budget:
    """What one workbook may cost, shared by its parts."""

    limits: UploadLimits
    items: int = 0
    text: int = 0

    def keep_text(self, part: str, text: str) -> None:
        self.text += len(text)
        if self.text > self.limits.max_text_chars:
            raise _too_complex(part)


class _XmlGuard:
    """Checks each chunk of a part before the parser sees it. The parser holds a tag, a comment or a
    processing instruction whole before it reports it: tags are bounded, and comments, processing
    instructions and CDATA sections, which no spreadsheet program writes, refused. A document type
    goes on to defusedxml, which refuses it."""

    def __init__(self, part: str) -> None:
        self.part = part
        self.since = 0  # bytes since the last "<" of the chunks before
        self.previous = b""  # the end of the chunk before, for a mark cut in two
        self.first = True

    def check(self, chunk: bytes) -> None:
        start = 0
        if self.first:
            self.first = False
            if chunk.startswith(codecs.BOM_UTF8):
                start = len(codecs.BOM_UTF8)
            # The XML declaration, the one processing instruction allowed, opens the part.
            if chunk.startswith(b"<?xml", start):
                start = chunk.find(b"?>", start)
                if start < 0:
                    raise _too_complex(self.part)
        if b"\x00" in chunk:
            raise _not_xlsx()  # UTF-16 or binary: Excel writes its XML in UTF-8
        probe = self.previous + chunk[start:]
        if b"<!--" in probe or b"<![" in probe or b"<?" in probe:
            raise UploadRejected(
                _(
                    "The workbook contains XML that spreadsheet programs do not write (comments, processing "
                    "instructions or CDATA sections). Save it again from Excel and retry."
                )
            )
        self.previous = chunk[-8:]
        self._check_spans(chunk)

    def _check_spans(self, chunk: bytes) -> None:
        # Jumps from a "<" to the last "<" within reach, then to the next one: the loop turns once
        # for every XML_MAX_SPAN bytes, not once a tag.
        found = chunk.find(b"<", 0, max(XML_MAX_SPAN - self.since, 0))
        if found < 0:
            self.since += len(chunk)
            if self.since > XML_MAX_SPAN:
                raise _too_complex(self.part)
            return
        while True:
            last = chunk.rfind(b"<", found, found + XML_MAX_SPAN)
            found = chunk.find(b"<", last + 1, last + 1 + XML_MAX_SPAN)
            if found < 0:
                self.since = len(chunk) - last - 1
                if self.since > XML_MAX_SPAN:
                    raise _too_complex(self.part)
                return


class _Parser(DefusedExpatParser):
    """defusedxml's SAX parser, with expat told to report a text in one piece: otherwise every
    character reference (openpyxl writes "ễ" as &#7877;) and every line is a call of its own."""

    def reset(self) -> None:
        super().reset()
        self._parser.buffer_text = True  # the expat parser, as defusedxml's own reset() reaches it
        self._parser.buffer_size = 64 * 1024


def _parse_part(archive: zipfile.ZipFile, path: str, handler: _Handler) -> None:
    """Stream one part through defusedxml's SAX parser (expat) into the handler."""
    # No DTD at all: a spreadsheet part never has one. Entities and external references are refused
    # by defusedxml's defaults as well.
    parser = _Parser(forbid_dtd=True)
    parser.setContentHandler(handler)
    guard = _XmlGuard(path)
    with archive.open(path) as part:
        while chunk := part.read(XML_CHUNK):
            guard.check(chunk)
            parser.feed(chunk)
    parser.close()


class _Relationships(_Handler):
    """A part's relationships: {id: (type, path)}, the type without its namespace URL."""

    def __init__(self, budget: _Budget, part: str, source: str) -> None:
        super().__init__(budget, part)
        self.source, self.targets = source, {}

    def on_start(self, name: str, attrib: AttributesImpl) -> None:
        if name != "Relationship" or attrib.get("TargetMode") == "External":
            return
        target = attrib.get("Target", "")
        if target.startswith("/"):
            path = target.lstrip("/")
        else:
            path = posixpath.normpath(posixpath.join(posixpath.dirname(self.source), target))
        self.targets[attrib.get("Id", "")] = (attrib.get("Type", "").rpartition("/")[2], path)


def _relationships(archive: zipfile.ZipFile, budget: _Budget, source: str) -> dict:
    folder, name = posixpath.split(source)
    path = posixpath.join(folder, "_rels", name + ".rels")
    handler = _Relationships(budget, path, source)
    _parse_part(archive, path, handler)
    return handler.targets


class _WorkbookPart(_Handler):
    """The sheets in their order, and the calendar the dates count from."""

    def __init__(self, budget: _Budget, part: str) -> None:
        super().__init__(budget, part)
        self.sheets, self.epoch = [], WINDOWS_EPOCH

    def on_start(self, name: str, attrib: AttributesImpl) -> None:
        if name == "sheet":
            self.sheets.append(_attribute(attrib, "id"))
        elif name == "workbookPr" and attrib.get("date1904", "").lower() in ("1", "true"):
            self.epoch = MAC_EPOCH


class _Styles(_Handler):
    """Which cell styles show a number as a date or a duration (openpyxl's rules)."""

    def __init__(self, budget: _Budget, part: str) -> None:
        super().__init__(budget, part)
        self.custom, self.styles, self.inside = {}, [], None

    def on_start(self, name: str, attrib: AttributesImpl) -> None:
        if name in ("numFmts", "cellXfs"):
            self.inside = name
        elif name == "numFmt" and self.inside == "numFmts":
            self.custom[attrib.get("numFmtId", "")] = attrib.get("formatCode", "")
        elif name == "xf" and self.inside == "cellXfs":
            self.styles.append(attrib.get("numFmtId", "0"))

    def on_end(self, name: str) -> None:
        if name == self.inside:
            self.inside = None

    def formats(self) -> tuple[set, set]:
        dates, durations = set(), set()
        for index, format_id in enumerate(self.styles):
            code = self.custom.get(format_id)
            if code is None and format_id.isdigit():
                code = BUILTIN_FORMATS.get(int(format_id))
            if is_date_format(code):
                dates.add(index)
            if is_timedelta_format(code):
                durations.add(index)
        return dates, durations


class _Texts(_Handler):
    """Collects the text of rich or plain strings: every <t> of an <si> or <is>, phonetic runs left out."""

    def __init__(self, budget: _Budget, part: str) -> None:
        super().__init__(budget, part)
        self.pieces, self.in_text, self.in_phonetic = None, False, False

    def open_text(self, name: str) -> None:
        if name == "t" and self.pieces is not None and not self.in_phonetic:
            self.in_text = True
        elif name == "rPh":
            self.in_phonetic = True

    def close_text(self, name: str) -> None:
        if name == "t":
            self.in_text = False
        elif name == "rPh":
            self.in_phonetic = False

    def text(self, content: str) -> None:
        if self.in_text:
            self.budget.keep_text(self.part, content)
            self.pieces.append(content)


class _SharedStrings(_Texts):
    def __init__(self, budget: _Budget, part: str) -> None:
        super().__init__(budget, part)
        self.strings = []

    def on_start(self, name: str, attrib: AttributesImpl) -> None:
        if name == "si":
            self.pieces = []
            if len(self.strings) >= self.budget.limits.max_rows * self.budget.limits.max_columns:
                raise _too_complex(self.part)
        else:
            self.open_text(name)

    def on_end(self, name: str) -> None:
        if name == "si" and self.pieces is not None:
            self.strings.append("".join(self.pieces))
            self.pieces = None
        else:
            self.close_text(name)


@dataclass
class _Cell:
    column: int
    kind: str
    style: int
    pieces: list = field(default_factory=list)


class _Sheet(_Texts):
    """The rows of a sheet, each a list of its values, as openpyxl would give them with data_only."""

    def __init__(
        self, budget: _Budget, part: str, shared: list, dates: set, durations: set, epoch: datetime.datetime
    ) -> None:
        super().__init__(budget, part)
        self.limits = budget.limits
        self.shared, self.dates, self.durations, self.epoch = shared, dates, durations, epoch
        self.rows, self.row, self.column, self.cell, self.in_value = [], None, 0, None, False

    def on_start(self, name: str, attrib: AttributesImpl) -> None:
        if name == "dimension":
            self._check_dimension(attrib.get("ref", ""))
        elif name == "row":
            number = int(attrib["r"]) if attrib.get("r") else len(self.rows) + 1
            if number <= len(self.rows):
                raise ValueError("rows out of order")
            if number > self.limits.max_rows:
                raise _too_many_rows(self.limits)
            self.rows.extend([] for _ in range(len(self.rows) + 1, number))
            self.row, self.column = {}, 0
        elif name == "c" and self.row is not None:
            reference = attrib.get("r")
            if reference:
                self.column = column_index_from_string(coordinate_from_string(reference)[0])
            else:
                self.column += 1
            style = attrib.get("s", "0")
            self.cell = _Cell(self.column, attrib.get("t", "n"), int(style) if style.isdigit() else 0)
            self.pieces = self.cell.pieces
        elif name == "v" and self.cell is not None:
            self.in_value = True
        else:
            self.open_text(name)

    def text(self, content: str) -> None:
        if self.in_value:
            self.budget.keep_text(self.part, content)
            self.cell.pieces.append(content)
        else:
            super().text(content)

    def on_end(self, name: str) -> None:
        if name == "v":
            self.in_value = False
        elif name == "c" and self.cell is not None:
            value = self._value(self.cell)
            if self.cell.column <= self.limits.max_columns:
                if value is not None:
                    self.row[self.cell.column] = value
            elif value is not None and value != "":
                raise _too_many_columns(self.cell.column, self.limits)
            self.cell, self.pieces = None, None
        elif name == "row" and self.row is not None:
            values = [None] * max(self.row, default=0)
            for column, value in self.row.items():
                values[column - 1] = value
            self.rows.append(values)
            self.row = None
        else:
            self.close_text(name)

    def _check_dimension(self, reference: str) -> None:
        """The size the sheet declares: openpyxl pads every row to it, so a few bytes can ask for
        gigabytes; refused here even though this reader does not use it."""
        last = reference.rpartition(":")[2]
        if not last:
            return
        letters, row = coordinate_from_string(last)
        if row > self.limits.max_rows:
            raise _too_many_rows(self.limits)
        column = column_index_from_string(letters)
        if column > self.limits.max_columns:
            raise _too_many_columns(column, self.limits)

    def _value(self, cell: _Cell) -> object:
        """openpyxl's reading of a cell (WorkSheetParser.parse_cell, data_only)."""
        text = "".join(cell.pieces)
        if cell.kind == "inlineStr":
            return text
        if not text:
            return None
        if cell.kind == "n":
            number = float(text) if any(mark in text for mark in ".eE") else int(text)
            if cell.style in self.dates:
                try:
                    return from_excel(number, self.epoch, timedelta=cell.style in self.durations)
                except (OverflowError, ValueError):
                    return "#VALUE!"
            return number
        if cell.kind == "s":
            return self.shared[int(text)]
        if cell.kind == "b":
            return bool(int(text))
        if cell.kind == "d":
            return from_ISO8601(text)
        return text  # "str" (a formula's text) and "e" (an error such as #N/A)


class _Workbook:
    def __init__(self, archive: zipfile.ZipFile, limits: UploadLimits) -> None:
        self.archive, self.budget = archive, _Budget(limits)

    def rows(self) -> list[list]:
        book_path = next(
            (path for kind, path in _relationships(self.archive, self.budget, "").values() if kind == "officeDocument"),
            "xl/workbook.xml",
        )
        book = _WorkbookPart(self.budget, book_path)
        _parse_part(self.archive, book_path, book)
        targets = _relationships(self.archive, self.budget, book_path)
        sheet_path = next((targets[rid][1] for rid in book.sheets if targets.get(rid, ("",))[0] == "worksheet"), None)
        if sheet_path is None:
            raise UploadRejected(_("The workbook has no sheet."))
        dates, durations, shared = set(), set(), []
        for kind, path in targets.values():
            if kind == "styles":
                styles = _Styles(self.budget, path)
                _parse_part(self.archive, path, styles)
                dates, durations = styles.formats()
            elif kind == "sharedStrings":
                strings = _SharedStrings(self.budget, path)
                _parse_part(self.archive, path, strings)
                shared = strings.strings
        sheet = _Sheet(self.budget, sheet_path, shared, dates, durations, book.epoch)
        _parse_part(self.archive, sheet_path, sheet)
        return [_trimmed(row) for row in sheet.rows]


def _trimmed(values: list) -> list:
    while values and values[-1] is None:
        values.pop()
    return values


# --- .csv -------------------------------------------------------------------------------------------


def _read_csv(stream: IO[bytes], limits: UploadLimits) -> list[list]:
    head = stream.read(4096)
    if head.startswith(b"PK\x03\x04") or b"\x00" in head:
        raise UploadRejected(_("The file is not a CSV text file."))
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        lines = _lines(text, limits)
        first = next(lines, "")
        # Excel in a Vietnamese locale writes semicolons; elsewhere commas.
        delimiter = ";" if first.count(";") > first.count(",") else ","
        rows = []
        for values in csv.reader(itertools.chain([first], lines), delimiter=delimiter):
            if len(rows) == limits.max_rows:
                raise _too_many_rows(limits)
            for column in range(len(values), limits.max_columns, -1):
                if values[column - 1].strip():
                    raise _too_many_columns(column, limits)
            rows.append(values[: limits.max_columns])
        return rows
    except UnicodeDecodeError as exc:
        raise UploadRejected(_("The CSV file is not in UTF-8 encoding. Save it as “CSV UTF-8” and retry.")) from exc
    except csv.Error as exc:
        raise UploadRejected(_("The CSV file is malformed: %(error)s") % {"error": exc}) from exc
    finally:
        text.detach()  # the upload stays open: closing it is its owner's business


def _lines(text: io.TextIOWrapper, limits: UploadLimits) -> Iterator[str]:
    """The file's lines, each read up to a length: a longer line is refused before it is held whole."""
    number = 0
    while line := text.readline(limits.max_line_chars + 1):
        number += 1
        if len(line) > limits.max_line_chars:
            raise UploadRejected(
                _("Line %(line)s of the CSV file is longer than %(limit)s characters.")
                % {"line": _number(number), "limit": _number(limits.max_line_chars)}
            )
        yield line


# --- Receiving the upload ---------------------------------------------------------------------------


class BoundedUploadHandler(FileUploadHandler):
    """First of FILE_UPLOAD_HANDLERS: once a file passes IMPORT_MAX_BYTES, its further bytes are
    counted and dropped instead of kept in memory or on disk, and the view receives an empty file of
    the size that arrived, which `read_rows` refuses with the size in its message."""

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0
        self.limit = UploadLimits.from_settings().max_bytes

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        return None if self.received > self.limit else raw_data

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if self.received <= self.limit:
            return None  # the next handler has the file
        return UploadedFile(
            io.BytesIO(), name=self.file_name, content_type=self.content_type, size=self.received, charset=self.charset
        )
