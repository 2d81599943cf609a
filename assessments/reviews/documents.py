"""The .docx of a form, laid out like the official A4 paper: the national motto, the title, the
sections in order, the signature block."""

import io

from django.utils import timezone
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt

from vocabulary import Level

from ..rulebooks import ItemKind, Presence, Rating
from . import formview


def _value_text(item, value):
    if value in (None, "", {}):
        return "…………………………………………"
    if item.kind == ItemKind.LEVEL:
        try:
            level = Level.coerce(value)
        except ValueError:
            return str(value)
        return f"{level.label_vi} ({level.value})"
    if item.kind == ItemKind.RATING:
        try:
            return Rating.coerce(value).label_vi
        except ValueError:
            return str(value)
    if item.kind == ItemKind.SHARE:
        return formview.share_text(item, value)
    return str(value)


def assessment_document(assessment):
    """(bytes, filename) of the .docx of the assessment's self-review."""
    template = formview.template_for(assessment)
    sections = formview.build_sections(template, assessment, assessment.answers, editable=False)
    document = Document()
    for section in document.sections:
        section.page_height, section.page_width = Cm(29.7), Cm(21)
        section.left_margin = section.right_margin = Cm(2)
        section.top_margin = section.bottom_margin = Cm(2)
    style = document.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(13)

    header = document.add_table(rows=1, cols=2)
    left, right = header.rows[0].cells
    left.text = f"{assessment.period.organization.name.upper()}\n{assessment.organization.name}"
    right.text = "ĐẢNG CỘNG SẢN VIỆT NAM"
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER

    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(template.title_vi.upper())
    run.bold = True
    run.font.size = Pt(14)
    subtitle = document.add_paragraph(f"Năm {assessment.period.year}")
    subtitle.alignment = WD_ALIGN_PARAGRAPH.CENTER

    for view in sections:
        heading = document.add_paragraph()
        heading.add_run(view.label).bold = True
        for field in view.fields:
            item = field.item
            if item.kind == ItemKind.CHECKLIST:
                document.add_paragraph(field.label).runs[0].italic = True
                table = document.add_table(rows=1, cols=3)
                table.style = "Table Grid"
                cells = table.rows[0].cells
                cells[0].text, cells[1].text, cells[2].text = "Biểu hiện", "Có", "Không"
                for entry, _name, mark, label in field.entries:
                    row = table.add_row().cells
                    row[0].text = f"{entry.id}. {label}"
                    row[1].text = "✓" if mark == Presence.PRESENT else ""
                    row[2].text = "✓" if mark == Presence.ABSENT else ""
                continue
            paragraph = document.add_paragraph()
            paragraph.add_run(f"{field.label}: ").bold = item.kind != ItemKind.TEXT or not item.multiline
            if item.kind == ItemKind.SHARE:
                paragraph.add_run(_value_text(item, field.value))
                continue
            if item.kind == ItemKind.TEXT and item.multiline:
                document.add_paragraph(_value_text(item, field.value))
            else:
                paragraph.add_run(_value_text(item, field.value))

    today = timezone.localdate()
    signature = document.add_paragraph(f"………, ngày {today.day} tháng {today.month} năm {today.year}")
    signature.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    signer = document.add_paragraph("NGƯỜI TỰ KIỂM ĐIỂM\n(Ký, ghi rõ họ tên)\n\n\n" + assessment.subject_name)
    signer.alignment = WD_ALIGN_PARAGRAPH.RIGHT

    buffer = io.BytesIO()
    document.save(buffer)
    slug = "".join(ch if ch.isalnum() else "-" for ch in formview.fold_ascii(assessment.subject_name)).strip("-")
    return buffer.getvalue(), f"kiem-diem-{assessment.period.year}-{slug or 'mau'}.docx"
