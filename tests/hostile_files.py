"""Spreadsheets built by hand: the hostile uploads of issue 11, and the workbook parts of a
spreadsheet program that openpyxl does not write (shared strings, rich text, custom date formats).

Used by the tests (tests/members/test_hostile_uploads.py) and by bench/hostile_uploads.py, which
measures a worker's time and memory on each. Every builder returns the file's bytes; nothing is
written to disk. The zip is written here too, so that a part can declare what it likes.
"""

import struct
import zlib
from xml.sax.saxutils import escape

from members.importing import MEMBER_COLUMNS

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MEMBER_HEADERS = [header for header, _name in MEMBER_COLUMNS]


# --- The zip ------------------------------------------------------------------------------------------


def _deflate(data):
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def _gf2_times(matrix, vector):
    total, row = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[row]
        vector >>= 1
        row += 1
    return total


def _gf2_square(matrix):
    return [_gf2_times(matrix, matrix[n]) for n in range(32)]


def crc32_combine(crc1, crc2, length2):
    """The CRC-32 of A + B from those of A and B and B's length (zlib's crc32_combine): the CRC of
    gigabytes of padding without reading them."""
    if length2 <= 0:
        return crc1
    odd = [0xEDB88320] + [1 << n for n in range(31)]
    even = _gf2_square(odd)
    odd = _gf2_square(even)
    while True:
        even = _gf2_square(odd)
        if length2 & 1:
            crc1 = _gf2_times(even, crc1)
        length2 >>= 1
        if not length2:
            break
        odd = _gf2_square(even)
        if length2 & 1:
            crc1 = _gf2_times(odd, crc1)
        length2 >>= 1
        if not length2:
            break
    return crc1 ^ crc2


class Part:
    """One file of the zip: its deflated bytes, CRC and size, as the zip will declare them."""

    def __init__(self, name, data=b"", *, compressed=None, crc=None, size=None):
        self.name = name
        self.compressed = _deflate(data) if compressed is None else compressed
        self.crc = zlib.crc32(data) if crc is None else crc
        self.size = len(data) if size is None else size


def zip_bytes(parts):
    """A zip of deflated parts, each declaring its own size and CRC (which a hostile file may fake)."""
    out, directory = bytearray(), bytearray()
    for part in parts:
        name = part.name.encode()
        offset = len(out)
        fields = (20, 0, 8, 0, 0x21, part.crc, len(part.compressed), part.size, len(name), 0)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields) + name + part.compressed
        directory += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, *fields, 0, 0, 0, 0, offset) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(parts), len(parts), len(directory), len(out), 0)
    return bytes(out + directory + end)


# --- A workbook -------------------------------------------------------------------------------------------


def _cell(reference, value):
    if isinstance(value, str):
        return f'<c r="{reference}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
    return f'<c r="{reference}"><v>{value}</v></c>'


def row_xml(number, values):
    from openpyxl.utils import get_column_letter

    cells = "".join(_cell(f"{get_column_letter(n)}{number}", value) for n, value in enumerate(values, 1))
    return f'<row r="{number}">{cells}</row>'


def sheet_xml(rows_xml, dimension="A1", prolog=""):
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n{prolog}'
        f'<worksheet xmlns="{MAIN}" xmlns:r="{DOC_RELS}"><dimension ref="{dimension}"/>'
        f"<sheetData>{rows_xml}</sheetData></worksheet>"
    ).encode()


def workbook_parts(sheet, shared_strings=None, styles=None, date1904=False):
    """The parts of a workbook of one sheet: a spreadsheet program's minimum."""
    overrides = [
        ("/xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
        ("/xl/worksheets/sheet1.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"),
    ]
    relations = [("rId1", "worksheet", "worksheets/sheet1.xml")]
    extra = []
    if shared_strings is not None:
        overrides.append(
            ("/xl/sharedStrings.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml")
        )
        relations.append(("rId2", "sharedStrings", "sharedStrings.xml"))
        extra.append(Part("xl/sharedStrings.xml", shared_strings))
    if styles is not None:
        overrides.append(("/xl/styles.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"))
        relations.append(("rId3", "styles", "styles.xml"))
        extra.append(Part("xl/styles.xml", styles))
    types = "".join(f'<Override PartName="{name}" ContentType="{kind}"/>' for name, kind in overrides)
    links = "".join(
        f'<Relationship Id="{rid}" Type="{DOC_RELS}/{kind}" Target="{target}"/>' for rid, kind, target in relations
    )
    properties = '<workbookPr date1904="1"/>' if date1904 else ""
    return [
        Part(
            "[Content_Types].xml",
            (
                '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
                f'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>{types}</Types>'
            ).encode(),
        ),
        Part(
            "_rels/.rels",
            (
                f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}"><Relationship Id="rId1" '
                f'Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
            ).encode(),
        ),
        Part(
            "xl/workbook.xml",
            (
                f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}">{properties}'
                '<sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>'
            ).encode(),
        ),
        Part(
            "xl/_rels/workbook.xml.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}">{links}</Relationships>'.encode(),
        ),
        Part("xl/worksheets/sheet1.xml", sheet),
        *extra,
    ]


def workbook(sheet, **kwargs):
    return zip_bytes(workbook_parts(sheet, **kwargs))


def header_sheet(extra_rows=""):
    return sheet_xml(row_xml(1, MEMBER_HEADERS) + extra_rows, dimension="A1:O1")


# --- The hostile files ------------------------------------------------------------------------------------


def far_cell_xlsx():
    """A few kilobytes declaring, and holding, a cell at XFD200000 (what drove a worker to 3.2 GB)."""
    sheet = sheet_xml(
        row_xml(1, MEMBER_HEADERS) + '<row r="200000"><c r="XFD200000"><v>1</v></c></row>',
        dimension="A1:XFD200000",
    )
    return workbook(sheet)


def far_cell_undeclared_xlsx():
    """The same cell at XFD200000 under a dimension that says A1:O1: the actual rows are checked too."""
    return workbook(header_sheet('<row r="200000"><c r="XFD200000"><v>1</v></c></row>'))


def wide_declared_xlsx():
    """A sheet declaring data up to column XFD on its first row only."""
    return workbook(sheet_xml(row_xml(1, MEMBER_HEADERS), dimension="A1:XFD1"))


SPACES = b" " * (1024 * 1024)


def _padding_part(name, head, tail, megabytes):
    """A part of `head`, `megabytes` MB of spaces and `tail`, deflated without building the spaces:
    blocks cut by a full flush are independent, so one deflated megabyte is repeated."""
    first = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = first.compress(head) + first.flush(zlib.Z_FULL_FLUSH)
    block_compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = block_compressor.compress(SPACES) + block_compressor.flush(zlib.Z_FULL_FLUSH)
    last = zlib.compressobj(9, zlib.DEFLATED, -15)
    end = last.compress(tail) + last.flush()
    block_crc, padding_crc, padding_size = zlib.crc32(SPACES), 0, 0
    for bit in reversed(range(megabytes.bit_length())):  # the CRC of the padding by doubling
        padding_crc = crc32_combine(padding_crc, padding_crc, padding_size)
        padding_size *= 2
        if megabytes >> bit & 1:
            padding_crc = crc32_combine(padding_crc, block_crc, len(SPACES))
            padding_size += len(SPACES)
    crc = crc32_combine(crc32_combine(zlib.crc32(head), padding_crc, padding_size), zlib.crc32(tail), len(tail))
    return Part(
        name,
        compressed=start + block * megabytes + end,
        crc=crc,
        size=len(head) + padding_size + len(tail),
    )


def compression_bomb_xlsx(megabytes=2150):
    """About 4.5 MB holding 4.5 GB: the sheet and its shared strings each padded with gigabytes of
    spaces between two elements, valid XML a parser would read to the end."""
    rows = row_xml(1, MEMBER_HEADERS).encode()
    sheet = _padding_part(
        "xl/worksheets/sheet1.xml",
        sheet_xml("").split(b"<sheetData>")[0] + b"<sheetData>" + rows,
        b"</sheetData></worksheet>",
        megabytes,
    )
    strings = _padding_part(
        "xl/sharedStrings.xml",
        f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}"><si><t>a</t></si>'.encode(),
        b"</sst>",
        megabytes,
    )
    parts = [part for part in workbook_parts(b"", shared_strings=b"") if part.name not in (sheet.name, strings.name)]
    return zip_bytes([*parts, sheet, strings])


def lying_bomb_xlsx(megabytes=1000):
    """A compression bomb whose directory declares a small size: zipfile stops at what is declared."""
    parts = workbook_parts(b"", shared_strings=b"")
    sheet = _padding_part(
        "xl/worksheets/sheet1.xml", sheet_xml("").split(b"<sheetData>")[0] + b"<sheetData>", b"", megabytes
    )
    sheet.size = 100_000
    return zip_bytes([*[part for part in parts if part.name != sheet.name], sheet])


def _shared_strings(prolog, text):
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{prolog}<sst xmlns="{MAIN}" count="1" uniqueCount="1">'
        f"<si><t>{text}</t></si></sst>"
    ).encode()


def _sheet_of_shared_string():
    return sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>')


def xxe_xlsx():
    """Shared strings that would pull /etc/passwd into the first cell (XML external entity)."""
    prolog = '<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    return workbook(_sheet_of_shared_string(), shared_strings=_shared_strings(prolog, "&xxe;"))


def billion_laughs_xlsx():
    """Shared strings whose one entity expands to a billion "lol"s."""
    entities = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{n} "{("&lol%s;" % ("" if n == 1 else n - 1)) * 10}">' for n in range(1, 10)
    ]
    prolog = f"<!DOCTYPE sst [{''.join(entities)}]>"
    return workbook(_sheet_of_shared_string(), shared_strings=_shared_strings(prolog, "&lol9;"))


def xxe_in_sheet_xlsx():
    prolog = '<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    return workbook(sheet_xml(row_xml(1, MEMBER_HEADERS) + '<row r="2"><c r="A2"><v>&xxe;</v></c></row>', "A1", prolog))


def comment_xlsx():
    """An XML comment in the sheet: the parser would hold a long one whole."""
    return workbook(sheet_xml(row_xml(1, MEMBER_HEADERS), prolog="<!-- " + "x" * 1000 + " -->"))


def long_tag_xlsx():
    """One start tag of a megabyte of attributes: the parser holds a tag whole."""
    attributes = " ".join(f'a{n}="1"' for n in range(150_000))
    return workbook(sheet_xml(f'<row r="1" {attributes}><c r="A1"><v>1</v></c></row>'))


def unknown_elements_xlsx(count=2_100_000):
    """A sheet of `count` elements that no reader knows (<q a="1"/>), each with its own number so
    that the part compresses like a real one: openpyxl's read-only reader keeps every one of them in
    memory to the end of the sheet; this site's reader counts them against its budget."""
    elements = "".join(f'<q a="{n}"/>' for n in range(count))
    return workbook(sheet_xml(row_xml(1, MEMBER_HEADERS) + elements))


def not_a_zip_xlsx():
    """A PDF renamed .xlsx."""
    return b"%PDF-1.4\n" + b"0" * 4000


def short_lines_csv(size=5_000_000):
    """A CSV of the headers and then short lines up to `size` bytes: far more rows than the limit."""
    header = (",".join(MEMBER_HEADERS) + "\n").encode()
    line = b"1,2\n"
    return header + line * ((size - len(header)) // len(line))


def long_line_csv(size=10 * 1024 * 1024):
    """A CSV whose second line is `size` bytes long."""
    return (",".join(MEMBER_HEADERS) + "\n").encode() + b"x" * size + b"\n"


# name: (file name, builder); what bench/hostile_uploads.py measures, in the order of the README.
HOSTILE = {
    "far_cell": ("xfd200000.xlsx", far_cell_xlsx),
    "compression_bomb": ("bomb.xlsx", compression_bomb_xlsx),
    "short_lines_csv": ("short-lines.csv", short_lines_csv),
    "long_line_csv": ("long-line.csv", long_line_csv),
    "long_line_1mb_csv": ("long-line-1mb.csv", lambda: long_line_csv(1024 * 1024)),
    "xxe": ("xxe.xlsx", xxe_xlsx),
    "billion_laughs": ("billion-laughs.xlsx", billion_laughs_xlsx),
    "unknown_elements": ("unknown-elements.xlsx", unknown_elements_xlsx),
    "not_a_zip": ("renamed.xlsx", not_a_zip_xlsx),
    "empty_xlsx": ("empty.xlsx", lambda: b""),
    "empty_csv": ("empty.csv", lambda: b""),
}
