"""organizations.uploads: the spreadsheet reader reads what openpyxl reads, and each of its limits
fires just beyond its bound and stays quiet at it. The hostile files at the import screen are in
tests/members/test_hostile_uploads.py."""

import datetime
import io
import zipfile

import openpyxl.xml
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.utils import translation
from openpyxl import Workbook, load_workbook

from organizations.uploads import BoundedUploadHandler, UploadRejected, read_rows
from tests import hostile_files as hostile
from tests.hostile_files import MAIN, Part, row_xml, sheet_xml, workbook, workbook_parts, zip_bytes


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def read(name, data):
    return read_rows(SimpleUploadedFile(name, data))


def refused(name, data):
    with pytest.raises(UploadRejected) as caught:
        read(name, data)
    return str(caught.value)


def openpyxl_rows(data):
    """What openpyxl's read-only reader gives, with trailing empty cells left out as ours does."""
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    rows = []
    for values in book.worksheets[0].iter_rows(values_only=True):
        values = list(values)
        while values and values[-1] is None:
            values.pop()
        rows.append(values)
    book.close()
    return rows


# --- The values: those openpyxl reads --------------------------------------------------------------


STYLES = (
    f'<styleSheet xmlns="{MAIN}"><numFmts count="2"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/>'
    '<numFmt numFmtId="165" formatCode="[h]:mm:ss"/></numFmts>'
    # A date format inside a differential style is not a cell's format.
    '<dxfs count="1"><dxf><numFmt numFmtId="166" formatCode="yyyy"/></dxf></dxfs>'
    '<cellStyleXfs count="1"><xf numFmtId="14"/></cellStyleXfs>'
    '<cellXfs count="5"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/><xf numFmtId="165"/>'
    '<xf numFmtId="166"/></cellXfs></styleSheet>'
).encode()

SHARED = (
    f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="4" uniqueCount="4">'
    "<si><t>Nguyễn Thị Hà</t></si>"
    # Rich text: its runs joined; the phonetic guide left out.
    '<si><r><rPr><b/></rPr><t>Chi bộ </t></r><r><t xml:space="preserve">A1 </t></r>'
    '<rPh sb="0" eb="1"><t>x</t></rPh></si>'
    "<si><t>a &amp; b &lt; c</t></si>"
    "<si><t/></si></sst>"
).encode()

SHEET = sheet_xml(
    '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c>'
    '<c r="D1" t="s"><v>3</v></c><c r="E1" t="inlineStr"><is><t>Đảng viên</t></is></c></row>'
    '<row r="2"><c r="A2"><v>42</v></c><c r="B2"><v>2.5</v></c><c r="C2"><v>1E3</v></c><c r="D2" t="b"><v>1</v></c>'
    '<c r="E2" t="e"><v>#N/A</v></c><c r="F2" t="str"><f>A2&amp;""</f><v>42</v></c>'
    '<c r="G2" t="d"><v>2024-05-19T00:00:00</v></c></row>'
    # Row 3 missing; then dates, a time and a duration by their styles, and cells without a reference.
    '<row r="4"><c r="A4" s="1"><v>45000</v></c><c r="B4" s="2"><v>29221.5</v></c><c r="C4" s="1"><v>0.25</v></c>'
    '<c r="D4" s="3"><v>1.5</v></c><c r="E4" s="4"><v>2024</v></c><c r="F4"/><c r="H4"><v>8</v></c></row>'
    "<row><c><v>1</v></c><c/><c><v>3</v></c></row>",
    dimension="A1:H5",
)


@pytest.mark.parametrize("date1904", [False, True])
def test_a_spreadsheet_programs_workbook_reads_as_openpyxl_reads_it(date1904):
    data = workbook(SHEET, shared_strings=SHARED, styles=STYLES, date1904=date1904)
    rows = read("book.xlsx", data)
    assert rows == openpyxl_rows(data)
    assert rows[0] == ["Nguyễn Thị Hà", "Chi bộ A1 ", "a & b < c", "", "Đảng viên"]
    assert rows[2] == []  # the missing row 3 keeps row 4 in its place
    assert rows[3][0] == datetime.datetime(2027 if date1904 else 2023, 3, 15 if not date1904 else 16)


def test_a_workbook_written_by_openpyxl_reads_as_openpyxl_reads_it():
    book = Workbook()
    sheet = book.active
    sheet.append(["Họ và tên", "Ngày sinh", "Số thẻ", "Có", "Điểm"])
    sheet.append(["Trần Văn Ba", datetime.datetime(1980, 3, 15), "0100200300", True, 87.5])
    sheet.append([None, datetime.date(2001, 1, 2), 100200300, False, -3])
    sheet["J7"] = "xa"
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()
    assert read("book.xlsx", data) == openpyxl_rows(data)


# --- The size ---------------------------------------------------------------------------------------


def test_a_file_at_the_size_limit_is_read_and_one_byte_more_is_refused(settings):
    data = b"a,b\n" + b"1,2\n" * 24
    settings.IMPORT_MAX_BYTES = len(data)
    assert len(read("a.csv", data)) == 25
    message = f"The file is too large ({len(data) + 1:,} bytes); the limit is {len(data):,} bytes."
    assert refused("a.csv", data + b"\n") == message


def test_the_upload_handler_drops_the_bytes_beyond_the_limit(settings):
    settings.IMPORT_MAX_BYTES = 100
    handler = BoundedUploadHandler()
    handler.new_file("file", "big.csv", "text/csv", None)
    assert handler.receive_data_chunk(b"x" * 60, 0) == b"x" * 60
    assert handler.receive_data_chunk(b"x" * 40, 60) == b"x" * 40  # 100 bytes: at the limit, kept
    assert handler.receive_data_chunk(b"x" * 60, 100) is None  # beyond: not passed on to be stored
    assert handler.receive_data_chunk(b"x" * 60, 160) is None
    upload = handler.file_complete(220)
    assert isinstance(upload, UploadedFile) and upload.size == 220 and upload.name == "big.csv"
    assert upload.read() == b""
    assert "220" in str(pytest.raises(UploadRejected, read_rows, upload).value)


def test_the_upload_handler_passes_a_file_within_the_limit_on(settings):
    settings.IMPORT_MAX_BYTES = 100
    handler = BoundedUploadHandler()
    handler.new_file("file", "small.csv", "text/csv", None)
    assert handler.receive_data_chunk(b"x" * 100, 0) == b"x" * 100
    assert handler.file_complete(100) is None  # the next handler keeps the file


# --- .xlsx: the archive ------------------------------------------------------------------------------


def _sheet_of(rows):
    return sheet_xml("".join(row_xml(number, values) for number, values in enumerate(rows, 1)), dimension="A1")


def test_a_part_compressed_beyond_the_ratio_is_refused_and_within_it_read(settings):
    # 1.3 MB of the same row: a ratio of some hundreds, which a spreadsheet program's sheets never reach.
    row = "<row>" + '<c t="inlineStr"><is><t>same text</t></is></c>' * 20 + "</row>"
    data = workbook(sheet_xml(row * 1500))
    assert refused("a.xlsx", data).startswith("The workbook's part xl/worksheets/sheet1.xml is compressed")
    settings.IMPORT_XLSX_MAX_RATIO = 1000
    assert len(read("a.xlsx", data)) == 1500


def test_parts_beyond_the_uncompressed_total_are_refused(settings):
    data = workbook(_sheet_of([["a", "b"]] * 100))
    assert len(read("a.xlsx", data)) == 100
    settings.IMPORT_XLSX_MAX_UNCOMPRESSED_BYTES = 4000
    assert "more than 0 MB once uncompressed" in refused("a.xlsx", data)


def test_too_many_parts_are_refused_before_the_directory_is_read():
    parts = workbook_parts(_sheet_of([["a"]]))
    parts += [Part(f"xl/media/image{n}.png", b"x") for n in range(1001 - len(parts))]
    assert "too many parts (1,001)" in refused("a.xlsx", zip_bytes(parts))
    assert read("a.xlsx", zip_bytes(parts[:1000])) == [["a"]]


def test_an_encrypted_part_is_refused():
    data = bytearray(workbook(_sheet_of([["a"]])))
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        position = data.find(signature)
        data[position + flags_at] |= 1
    assert refused("a.xlsx", bytes(data)) == "The workbook is protected by a password. Remove the password and retry."


def test_a_zip_without_a_workbook_is_refused():
    assert refused("a.xlsx", zip_bytes([Part("hello.txt", b"hello")])).startswith("The file is not a valid .xlsx")


# --- .xlsx: rows, columns and the declared dimension --------------------------------------------------


def test_rows_at_the_limit_are_read_and_one_more_is_refused(settings):
    settings.IMPORT_MAX_ROWS = 5
    assert len(read("a.xlsx", workbook(_sheet_of([["x"]] * 5)))) == 5
    assert refused("a.xlsx", workbook(_sheet_of([["x"]] * 6))).startswith("The file has more than 5 rows")


def test_a_declared_dimension_beyond_the_limits_is_refused_and_at_them_read(settings):
    settings.IMPORT_MAX_ROWS = 5
    one_row = row_xml(1, ["x"])
    assert read("a.xlsx", workbook(sheet_xml(one_row, dimension="A1:AX5"))) == [["x"]]
    assert refused("a.xlsx", workbook(sheet_xml(one_row, dimension="A1:A6"))).startswith("The file has more than 5")
    assert refused("a.xlsx", workbook(sheet_xml(one_row, dimension="A1:AY1"))).startswith(
        "The file has data in column AY; the limit is 50 columns."
    )


def test_a_value_beyond_the_last_column_is_refused_and_an_empty_cell_there_ignored():
    assert read("a.xlsx", workbook(sheet_xml('<row r="1"><c r="AX1"><v>1</v></c><c r="AY1" s="1"/></row>'))) == [
        [None] * 49 + [1]
    ]
    message = refused("a.xlsx", workbook(sheet_xml('<row r="1"><c r="AY1"><v>1</v></c></row>')))
    assert message.startswith("The file has data in column AY")


def test_rows_out_of_order_are_refused():
    data = workbook(sheet_xml('<row r="3"><c r="A3"><v>1</v></c></row><row r="2"><c r="A2"><v>1</v></c></row>'))
    assert refused("a.xlsx", data).startswith("The file is not a valid .xlsx")


def test_a_full_workbook_at_the_row_limit_is_within_the_budgets(settings):
    """The budgets scale with IMPORT_MAX_ROWS: a workbook of the members' 15 columns, every cell filled,
    at the row limit, as openpyxl writes it (inline strings) and as Excel does (shared strings)."""
    settings.IMPORT_MAX_ROWS = 1000
    values = ["Nguyễn Thị Thu Hương", "Nữ", "15/03/1980", "0100200300", "19/05/2005", "19/05/2006"]
    values += ["chi-bo-phuong-1", "Ủy ban nhân dân phường Phúc Xá", "Cán bộ, công chức, viên chức"]
    values += ["Phó Bí thư", "Phó Chủ tịch", "Có", "Đang sinh hoạt", "huong.nguyen@example.com", "0912345678"]
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    for number in range(1000):
        sheet.append([f"{value} {number}" for value in values])
    out = io.BytesIO()
    book.save(out)
    assert len(read("a.xlsx", out.getvalue())) == 1000

    strings = [f"{value} {number}" for number in range(1000) for value in values]
    shared = "".join(f"<si><t>{text}</t></si>" for text in strings)
    cells = "".join(
        f'<row r="{r + 1}" spans="1:15">'
        + "".join(f'<c r="{chr(65 + c)}{r + 1}" s="1" t="s"><v>{r * 15 + c}</v></c>' for c in range(15))
        + "</row>"
        for r in range(1000)
    )
    data = workbook(
        sheet_xml(cells, dimension="A1:O1000"),
        shared_strings=f'<?xml version="1.0"?><sst xmlns="{MAIN}">{shared}</sst>'.encode(),
        styles=STYLES,
    )
    rows = read("a.xlsx", data)
    assert len(rows) == 1000 and rows[999][14] == "0912345678 999"


# --- .xlsx: the XML -----------------------------------------------------------------------------------


def test_openpyxl_parses_with_defusedxml():
    # Installed (requirements.txt), openpyxl's own reading of workbooks refuses entities as well.
    assert openpyxl.xml.DEFUSEDXML is True


@pytest.mark.parametrize(
    "prolog,allowed",
    [
        ("", True),
        ("<!-- a comment -->", False),
        ("<?mso-application progid='Excel.Sheet'?>", False),
    ],
)
def test_comments_and_processing_instructions_are_refused(prolog, allowed):
    data = workbook(sheet_xml(row_xml(1, ["x"]), prolog=prolog))
    if allowed:
        assert read("a.xlsx", data) == [["x"]]
    else:
        assert "comments, processing instructions or CDATA" in refused("a.xlsx", data)


def test_a_cdata_section_is_refused():
    data = workbook(sheet_xml('<row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[x]]></t></is></c></row>'))
    assert "CDATA" in refused("a.xlsx", data)


def test_a_long_text_is_read_and_a_longer_tag_refused():
    text = "ệ" * 32767  # Excel's longest cell: 98 KB of UTF-8
    assert read("a.xlsx", workbook(sheet_xml(row_xml(1, [text])))) == [[text]]
    assert "too large or too complex" in refused("a.xlsx", hostile.long_tag_xlsx())


def test_elements_nested_too_deep_are_refused():
    nested = "<q>" * 40 + "</q>" * 40
    assert "too large or too complex" in refused("a.xlsx", workbook(sheet_xml(row_xml(1, ["x"]) + nested)))
    shallow = "<q>" * 20 + "</q>" * 20
    assert read("a.xlsx", workbook(sheet_xml(row_xml(1, ["x"]) + shallow))) == [["x"]]


def test_text_beyond_the_budget_is_refused(settings):
    settings.IMPORT_MAX_ROWS = 2  # 1,600 characters of text
    assert read("a.xlsx", workbook(_sheet_of([["x" * 700], ["y" * 700]]))) == [["x" * 700], ["y" * 700]]
    assert "too large or too complex" in refused("a.xlsx", workbook(_sheet_of([["x" * 900], ["y" * 900]])))


def test_shared_strings_beyond_the_count_are_refused(settings):
    settings.IMPORT_MAX_ROWS = 2
    settings.IMPORT_MAX_COLUMNS = 2  # four shared strings at most

    def book(count):
        strings = "".join(f"<si><t>{n}</t></si>" for n in range(count))
        sst = f'<?xml version="1.0"?><sst xmlns="{MAIN}">{strings}</sst>'.encode()
        return workbook(sheet_xml('<row r="1"><c r="A1" t="s"><v>3</v></c></row>'), shared_strings=sst)

    assert read("a.xlsx", book(4)) == [["3"]]
    assert "sharedStrings.xml is too large or too complex" in refused("a.xlsx", book(5))


def test_entities_are_refused_by_defusedxml():
    assert "not allowed (a document type or entities)" in refused("a.xlsx", hostile.xxe_xlsx())
    assert "not allowed (a document type or entities)" in refused("a.xlsx", hostile.billion_laughs_xlsx())


def test_a_part_cut_short_is_refused():
    data = workbook(b'<?xml version="1.0"?><worksheet xmlns="' + MAIN.encode() + b'"><sheetData><row r="1">')
    assert refused("a.xlsx", data).startswith("The file is not a valid .xlsx")


def test_the_reader_never_returns_more_than_a_part_declares():
    """zipfile stops at a part's declared size: the bounds on declared sizes bound what is read."""
    data = hostile.lying_bomb_xlsx(50)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        with pytest.raises(zipfile.BadZipFile):  # 100,000 bytes read, then the CRC does not match
            archive.read("xl/worksheets/sheet1.xml")
    assert refused("a.xlsx", data).startswith("The file is not a valid .xlsx")


# --- .csv ---------------------------------------------------------------------------------------------


def test_csv_rows_at_the_limit_are_read_and_one_more_is_refused(settings):
    settings.IMPORT_MAX_ROWS = 5
    assert len(read("a.csv", b"a\n" * 5)) == 5
    assert refused("a.csv", b"a\n" * 6).startswith("The file has more than 5 rows")


def test_a_csv_line_at_the_limit_is_read_and_a_longer_one_refused(settings):
    settings.IMPORT_MAX_LINE_CHARS = 100
    line = "ệ" * 99 + "\n"  # 100 characters, 298 bytes
    assert read("a.csv", line.encode()) == [["ệ" * 99]]
    assert refused("a.csv", b"a\n" + ("ệ" * 100 + "\n").encode()) == (
        "Line 2 of the CSV file is longer than 100 characters."
    )


def test_a_csv_column_beyond_the_limit_is_refused_when_it_holds_a_value():
    assert read("a.csv", b"a" + b";" * 80 + b"\n") == [["a"] + [""] * 49]
    assert refused("a.csv", b"a" + b";" * 50 + b"b\n").startswith("The file has data in column AY")


def test_a_csv_encoding_error_after_the_first_lines_is_a_message():
    data = "Họ và tên\n".encode() * 5000 + "Nguyên\n".encode("cp1258")
    assert "not in UTF-8" in refused("a.csv", data)


def test_a_zip_or_binary_renamed_csv_is_refused():
    assert refused("a.csv", workbook(_sheet_of([["a"]]))) == "The file is not a CSV text file."
    assert refused("a.csv", b"a\x00b") == "The file is not a CSV text file."


def test_a_file_that_is_no_spreadsheet_is_refused_by_its_name():
    assert refused("a.pdf", b"%PDF") == "The file is not a spreadsheet: upload an .xlsx or a .csv file."
