"""The ballot minutes (biên bản kiểm phiếu) as an A4 .docx, in the official layout and in Vietnamese."""

import io

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt

from ..core.text import fold_ascii
from .sheet import COUNT_FIELDS


def _vietnamese_date(day):
    return f"ngày {day.day:02d} tháng {day.month:02d} năm {day.year}" if day else "ngày … tháng … năm ……"


def turnout_lines_vi(sheet):
    """The turnout of the online ballot as the minutes state it, in Vietnamese (the official language of
    the minutes whatever the screen's); empty for paper ballots."""
    turnout = sheet.turnout
    if turnout is None:
        return []
    lines = [
        "Hình thức: bỏ phiếu kín trực tuyến.",
        f"Số đảng viên chính thức của chi bộ: {turnout.official}. "
        f"Số đảng viên có quyền bỏ phiếu trực tuyến (có mặt, có tài khoản): {turnout.eligible}. "
        f"Số đảng viên đã bỏ phiếu: {turnout.voted}. "
        f"Số phiếu tối thiểu để kết thúc bỏ phiếu: {turnout.needed} "
        f"(trên {turnout.official} đảng viên chính thức).",
    ]
    if sheet.ballot_open:
        lines.append(
            "Cuộc bỏ phiếu đang mở: chưa kiểm phiếu; kết quả chỉ có sau khi kết thúc bỏ phiếu và đủ số phiếu tối thiểu."
        )
    return lines


def minutes_document(sheet, *, parent=None):
    """(bytes, filename) of the ballot minutes (biên bản kiểm phiếu) as an A4 .docx, in the official
    layout: the heading, the attendance, every member's counts and proposal, the comments, signatures.

    Official documents are written in Vietnamese whatever the language of the screen."""
    meeting, organization, period = sheet.meeting, sheet.organization, sheet.period
    document = Document()
    for section in document.sections:
        section.page_height, section.page_width = Cm(29.7), Cm(21)
        section.left_margin, section.right_margin = Cm(3), Cm(2)
        section.top_margin = section.bottom_margin = Cm(2)
    style = document.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(13)

    header = document.add_table(rows=1, cols=2)
    left, right = header.rows[0].cells
    superior = (parent.name if parent else period.organization.name).upper()
    left.text = f"{superior}\n{organization.name.upper()}\n*"
    right.text = f"ĐẢNG CỘNG SẢN VIỆT NAM\n……, {_vietnamese_date(meeting.held_on if meeting else None)}"
    for cell in (left, right):
        for paragraph in cell.paragraphs:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    left.paragraphs[0].runs[0].bold = True
    right.paragraphs[0].runs[0].bold = True

    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run("BIÊN BẢN KIỂM PHIẾU")
    run.bold = True
    run.font.size = Pt(14)
    subtitle = document.add_paragraph(f"Đánh giá, xếp loại chất lượng đảng viên năm {period.year}")
    subtitle.alignment = WD_ALIGN_PARAGRAPH.CENTER
    subtitle.runs[0].bold = True

    absent_names = [a.member.full_name for a in sheet.roster if a.member_id in sheet.absentee_ids]
    if meeting is not None:
        document.add_paragraph(
            f"Hội nghị {organization.name} họp {_vietnamese_date(meeting.held_on)} để kiểm điểm, đánh giá, "
            f"xếp loại chất lượng đảng viên năm {period.year}."
        )
        document.add_paragraph(
            f"Tổng số đảng viên của chi bộ: {meeting.members_total}. Có mặt: {meeting.present}. "
            f"Vắng mặt: {meeting.absent}" + (f" ({', '.join(absent_names)})." if absent_names else ".")
        )
        for text in turnout_lines_vi(sheet):
            document.add_paragraph(text)
    else:
        document.add_paragraph(f"Hội nghị {organization.name} họp ngày … tháng … năm ……")
        document.add_paragraph("Tổng số đảng viên: ……  Có mặt: ……  Vắng mặt: …… (………………………………)")

    document.add_paragraph().add_run("Kết quả kiểm phiếu:").bold = True
    headings = ["TT", "Họ và tên", "Phiếu phát ra", "Phiếu thu về", "Phiếu hợp lệ", "HTXSNV", "HTTNV", "HTNV", "KHTNV"]
    headings.append("Chi bộ đề xuất")
    table = document.add_table(rows=1, cols=len(headings))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headings, strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
    for number, line in enumerate(sheet.lines, start=1):
        cells = table.add_row().cells
        values = [str(number), line.member.full_name]
        for name in COUNT_FIELDS:
            value = getattr(line.count, name) if line.counted else None
            values.append("" if value is None else str(value))
        values.append(line.proposal.value if line.proposal else "")
        for cell, text in zip(cells, values, strict=True):
            cell.text = text
    document.add_paragraph(
        "Mức đề xuất: mức cao nhất được quá nửa số phiếu hợp lệ (tính cả số phiếu cho các mức cao hơn), "
        "trong giới hạn mức tối đa theo quy định."
    )
    comments = [
        (line.member.full_name, line.count.comments) for line in sheet.lines if line.count and line.count.comments
    ]
    if comments:
        document.add_paragraph().add_run("Ý kiến góp ý của chi bộ:").bold = True
        for name, text in comments:
            paragraph = document.add_paragraph()
            paragraph.add_run(f"{name}: ").bold = True
            paragraph.add_run(text)
    if sheet.not_classified:
        document.add_paragraph().add_run("Đảng viên không xếp loại:").bold = True
        for assessment in sheet.not_classified:
            document.add_paragraph(f"{assessment.member.full_name}: {assessment.exclusion_text_in('vi')}")

    signatures = document.add_table(rows=1, cols=2)
    signatures.rows[0].cells[0].text = "TỔ KIỂM PHIẾU\n(Ký, ghi rõ họ tên)"
    signatures.rows[0].cells[1].text = "T/M CHI BỘ\nBÍ THƯ\n(Ký, ghi rõ họ tên)"
    for cell in signatures.rows[0].cells:
        for paragraph in cell.paragraphs:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        cell.paragraphs[0].runs[0].bold = True

    buffer = io.BytesIO()
    document.save(buffer)
    slug = "".join(ch if ch.isalnum() else "-" for ch in fold_ascii(organization.name)).strip("-")
    return buffer.getvalue(), f"bien-ban-kiem-phieu-{period.year}-{slug or 'chi-bo'}.docx"
