"""The data migration that turned the stored Vietnamese reasons into rule ids (0010_exclusion_rule_ids)."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from assessments.models import Assessment, Period
from tests.factories import MemberFactory, OrganizationFactory

BEFORE = [("assessments", "0009_self_review_on_paper")]
AFTER = [("assessments", "0011_exclusion_reason_code")]
NEW_MEMBER = (
    "Đảng viên vào Đảng ngày 02/06/2018, chưa đủ 6 tháng: kiểm điểm (tính từ ngày vào Đảng) nhưng không xếp "
    "loại chất lượng (HD 21-HD/BTCTW)"
)
EXCUSED_2025 = (
    "Đảng viên được miễn công tác và sinh hoạt đảng: không kiểm điểm, không xếp loại chất lượng "
    "(QĐ 366-QĐ/TW, Điều 5 khoản 2; Điều 3)"
)


def at_0011():
    """The assessments through the current model, with only the columns the schema has at AFTER: the
    fields added by later migrations are not read."""
    return Assessment.objects.only(
        "period",
        "subject_kind",
        "classified",
        "exclusion_reason",
        "exclusion_rule",
        "exclusion_values",
        "exclusion_note",
    )


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def migrate_to_latest():
    """On to the latest schema (the later migrations leave these fields alone), so that the current
    model, with its methods and the fields added since, reads what the migration wrote."""
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.fixture(autouse=True)
def back_to_the_latest_schema():
    """Whatever happens in a test, the database ends on the latest migrations, as the next tests expect."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_known_messages_become_rule_ids_and_other_text_the_board_s_note():
    cell = OrganizationFactory()
    period = Period.objects.create(organization=cell, year=2018, regime="2018")
    forms = [
        Assessment.objects.create(
            period=period, subject_kind="member", member=MemberFactory(cell=cell), organization=cell
        )
        for _ in range(4)
    ]
    old = migrate(BEFORE).get_model("assessments", "Assessment")
    texts = [NEW_MEMBER, EXCUSED_2025, "Ốm dài ngày, điều trị ở nước ngoài", ""]
    for form, text in zip(forms, texts, strict=True):
        old.objects.filter(pk=form.pk).update(classified=not text, exclusion_reason=text)

    migrate(AFTER)
    migrate_to_latest()

    new_member, excused, sick, classified = (at_0011().get(pk=form.pk) for form in forms)
    assert (new_member.exclusion_rule, new_member.exclusion_reason) == ("R2018-M-NEW", "new_member")
    assert new_member.exclusion_values == {"admitted": "02/06/2018", "months": "6"}
    assert new_member.exclusion_note == ""
    assert new_member.exclusion_text_in("vi") == NEW_MEMBER
    assert new_member.exclusion_text_in("en").startswith("Member admitted on 02/06/2018, less than 6 months ago")
    assert (excused.exclusion_rule, excused.exclusion_reason, excused.exclusion_values) == (
        "R2025-M-EXEMPT",
        "excused",
        {},
    )
    assert excused.exclusion_text_in("vi") == EXCUSED_2025
    assert (sick.exclusion_rule, sick.exclusion_reason) == ("", "")
    assert sick.exclusion_note == sick.exclusion_text_in("en") == "Ốm dài ngày, điều trị ở nước ngoài"
    assert (classified.exclusion_rule, classified.exclusion_reason, classified.exclusion_note) == ("", "", "")


@pytest.mark.django_db(transaction=True)
def test_going_back_writes_the_vietnamese_text_again():
    cell = OrganizationFactory(founded_on=datetime.date(2018, 7, 1))
    period = Period.objects.create(organization=cell, year=2018, regime="2018")
    rule = Assessment.objects.create(
        period=period,
        subject_kind="organization",
        organization=cell,
        classified=False,
        exclusion_reason="new_organization",
        exclusion_rule="R2018-O-NEW",
        exclusion_values={"founded": "01/07/2018", "months": "6"},
    )
    note = Assessment.objects.create(
        period=period, subject_kind="collective", organization=cell, classified=False, exclusion_note="Sáp nhập"
    )
    old = migrate(BEFORE).get_model("assessments", "Assessment")
    assert old.objects.get(pk=rule.pk).exclusion_reason == (
        "Thành lập ngày 01/07/2018, chưa đủ 6 tháng: không xếp loại chất lượng (HD 21-HD/BTCTW)"
    )
    assert old.objects.get(pk=note.pk).exclusion_reason == "Sáp nhập"
    migrate(AFTER)
    migrate_to_latest()
    assert Assessment.objects.get(pk=rule.pk).exclusion_rule == "R2018-O-NEW"
