"""Why a subject is not classified, stored as the rule that excludes it instead of its Vietnamese message.

An assessment kept its reason as the rule's Vietnamese message (or the board's own words), so the English
pages showed Vietnamese and the year-end workbook could not count by reason. Now it keeps the reason
(`exclusion_reason`, a code), the rule's id (`exclusion_rule`) and the values the message cites
(`exclusion_values`), from which the message is written in either language; the board's words go to
`exclusion_note`.

The existing rows: a message of one of the rules, as the rulebooks wrote it when this migration was
written (copied below, so that later changes of the wording do not change what this migration reads),
becomes its rule, reason and values; any other text is kept as the board's note. The next migration
narrows `exclusion_reason` to a code.
"""

import re

from django.db import migrations, models

# (rule id, reason, the Vietnamese message with its source, as the rulebooks wrote it).
KNOWN_MESSAGES = [
    ("R2018-M-EXEMPT-MIEN", "excused", "Đảng viên được miễn công tác và sinh hoạt đảng: không xếp loại chất lượng (HD 16-HD/BTCTW; HD 21-HD/BTCTW)"),
    ("R2018-M-EXEMPT-SUSP", "suspended", "Đảng viên bị đình chỉ sinh hoạt đảng: không xếp loại chất lượng (HD 21-HD/BTCTW)"),
    ("R2018-M-NEW", "new_member", "Đảng viên vào Đảng ngày {admitted}, chưa đủ {months} tháng: kiểm điểm (tính từ ngày vào Đảng) nhưng không xếp loại chất lượng (HD 21-HD/BTCTW)"),
    ("R2018-O-NEW", "new_organization", "Thành lập ngày {founded}, chưa đủ {months} tháng: không xếp loại chất lượng (HD 21-HD/BTCTW)"),
    ("R2025-M-EXEMPT", "excused", "Đảng viên được miễn công tác và sinh hoạt đảng: không kiểm điểm, không xếp loại chất lượng (QĐ 366-QĐ/TW, Điều 5 khoản 2; Điều 3)"),
    ("R2025-M-EXEMPT", "suspended", "Đảng viên bị đình chỉ sinh hoạt đảng: không kiểm điểm, không xếp loại chất lượng (QĐ 366-QĐ/TW, Điều 5 khoản 2; Điều 3)"),
    ("R2025-M-EXEMPT", "new_member", "Đảng viên vào Đảng ngày {admitted}, chưa đủ {months} tháng: không kiểm điểm, không xếp loại chất lượng (QĐ 366-QĐ/TW, Điều 5 khoản 2; Điều 3)"),
    ("R2025-O-NEW", "new_organization", "Thành lập ngày {founded}, chưa đủ {months} tháng: không xếp loại chất lượng (HD 21-HD/BTCTW; QĐ 366, HD 43 chưa quy định)"),
]

# What each placeholder matches: a date as the messages write it, or a whole number of months.
PLACEHOLDERS = {"admitted": r"\d{2}/\d{2}/\d{4}", "founded": r"\d{2}/\d{2}/\d{4}", "months": r"\d+"}


def _pattern(message):
    pattern = re.escape(message)
    for name, value in PLACEHOLDERS.items():
        pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{name}>{value})")
    return re.compile(pattern)


PATTERNS = [(rule_id, reason, _pattern(message)) for rule_id, reason, message in KNOWN_MESSAGES]
MESSAGES = {(rule_id, reason): message for rule_id, reason, message in KNOWN_MESSAGES}


def read_reason(text):
    """{exclusion fields} for the stored text: its rule, reason and values if it is a known message,
    else the text as the board's note."""
    text = text.strip()
    for rule_id, reason, pattern in PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            return {
                "exclusion_reason": reason,
                "exclusion_rule": rule_id,
                "exclusion_values": match.groupdict(),
                "exclusion_note": "",
            }
    return {"exclusion_reason": "", "exclusion_rule": "", "exclusion_values": {}, "exclusion_note": text}


def write_reason(assessment):
    """The stored text again, from the rule or the note (the way back)."""
    parts = []
    message = MESSAGES.get((assessment.exclusion_rule, assessment.exclusion_reason))
    if message is not None:
        parts.append(message.format(**assessment.exclusion_values))
    if assessment.exclusion_note:
        parts.append(assessment.exclusion_note)
    return "; ".join(parts)[:255]


FIELDS = ["exclusion_reason", "exclusion_rule", "exclusion_values", "exclusion_note"]


def forward(apps, schema_editor):
    Assessment = apps.get_model("assessments", "Assessment")
    batch = []
    for assessment in Assessment.objects.exclude(exclusion_reason="").only("pk", *FIELDS).iterator(chunk_size=1000):
        for name, value in read_reason(assessment.exclusion_reason).items():
            setattr(assessment, name, value)
        batch.append(assessment)
        if len(batch) == 1000:
            Assessment.objects.bulk_update(batch, FIELDS)
            batch = []
    Assessment.objects.bulk_update(batch, FIELDS)


def backward(apps, schema_editor):
    Assessment = apps.get_model("assessments", "Assessment")
    changed = Assessment.objects.exclude(exclusion_rule="", exclusion_note="")
    batch = []
    for assessment in changed.only("pk", *FIELDS).iterator(chunk_size=1000):
        assessment.exclusion_reason = write_reason(assessment)
        batch.append(assessment)
        if len(batch) == 1000:
            Assessment.objects.bulk_update(batch, ["exclusion_reason"])
            batch = []
    Assessment.objects.bulk_update(batch, ["exclusion_reason"])


class Migration(migrations.Migration):

    dependencies = [
        ('assessments', '0009_self_review_on_paper'),
    ]

    operations = [
        migrations.AddField(
            model_name='assessment',
            name='exclusion_rule',
            field=models.CharField(blank=True, help_text='The rule of the regulation that keeps the subject out of the classification.', max_length=40, verbose_name='rule'),
        ),
        migrations.AddField(
            model_name='assessment',
            name='exclusion_values',
            field=models.JSONField(blank=True, default=dict, help_text='The date of admission or founding and the number of months, as the reason cites them.', verbose_name='cited in the reason'),
        ),
        migrations.AddField(
            model_name='assessment',
            name='exclusion_note',
            field=models.CharField(blank=True, help_text='Written by the board when it decides who is classified against the rules.', max_length=255, verbose_name="the board's reason"),
        ),
        migrations.RunPython(forward, backward),
    ]
