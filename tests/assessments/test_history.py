"""The history of a form: in the reader's language, people by their full names, and "on behalf of"
only for what a secretary writes in a member's place."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from assessments.core import services
from assessments.models import Assessment, AuditEntry, Period, label_for_action
from assessments.reviews import services as review_services
from organizations.models import RoleAssignment
from tests.factories import UserFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def period(city, personas):
    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=period, user=personas.board)
    period.refresh_from_db()
    return period


@pytest.fixture
def form(period, personas):
    return Assessment.objects.get(period=period, member=personas.member_record)


def history_rows(response):
    """The text of each row of the history table, whitespace folded."""
    html = response.content.decode()
    table = html[html.index('class="table table-sm history"') :]
    table = table[: table.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", table[table.index("<tbody>") :], re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]


def save(form, user, text="Nội dung"):
    form.refresh_from_db()
    return review_services.assessment_save(
        assessment=form, user=user, answers={"shortcomings": text}, base_version=form.version
    )


def submit(form, user):
    form.refresh_from_db()
    return review_services.assessment_submit(assessment=form, user=user, base_version=form.version)


def record_decision(form, user, level):
    """A decision as the decision screens write it: the level on the form, an entry in the trail."""
    Assessment.objects.filter(pk=form.pk).update(decided_level=level, state=Assessment.State.DECIDED)
    AuditEntry.objects.create(
        period=form.period,
        assessment=form,
        actor=user,
        action="decide",
        from_state=Assessment.State.SUBMITTED,
        to_state=Assessment.State.DECIDED,
        data={"level": level},
    )


@pytest.fixture
def returned(form, personas):
    """The member saves and submits; the cell secretary returns the form with a reason."""
    save(form, personas.member)
    submit(form, personas.member)
    form.refresh_from_db()
    review_services.assessment_return(assessment=form, user=personas.secretary_a1, reason="Bổ sung phần khắc phục")
    return form


def test_the_history_speaks_vietnamese_with_full_names(returned, personas, client_for):
    response = client_for(personas.secretary_a1).get(reverse("assessments:form", args=[returned.public_id]))
    saved, submitted, sent_back = history_rows(response)
    assert "Lê Thị Hoa" in saved and "Lưu bản nháp" in saved
    assert "Lê Thị Hoa" in submitted and "Nộp bản kiểm điểm" in submitted
    assert "Trần Văn Bình (Bí thư chi bộ)" in sent_back
    assert "Trả lại để bổ sung" in sent_back and "Bổ sung phần khắc phục" in sent_back
    for row in (saved, submitted, sent_back):
        assert "ghi hộ" not in row
        assert re.search(r"\d\d:\d\d ngày \d\d/\d\d/\d{4}", row), row
    text = " ".join((saved, submitted, sent_back))
    assert "secretary_a1" not in text and "member" not in text
    for english in ("Saved", "Submitted", "Returned for revision", "on behalf of"):
        assert english not in text


def test_the_history_in_english_uses_the_english_labels(returned, personas, client_for):
    response = client_for(personas.member).get(
        reverse("assessments:form", args=[returned.public_id]), HTTP_ACCEPT_LANGUAGE="en"
    )
    saved, submitted, sent_back = history_rows(response)
    assert "Lê Thị Hoa" in saved and "Draft saved" in saved
    assert "Submitted" in submitted
    assert "Trần Văn Bình (Cell secretary)" in sent_back and "Returned for revision" in sent_back
    assert re.search(r"\d\d:\d\d on \d\d/\d\d/\d{4}", sent_back)
    assert "on behalf of" not in " ".join((saved, submitted, sent_back))


def test_a_return_by_the_secretary_is_their_own_act(returned, personas):
    entry = AuditEntry.objects.get(assessment=returned, action="return")
    assert entry.actor == personas.secretary_a1
    assert entry.on_behalf_of is None


def test_a_save_and_a_submission_by_the_secretary_are_for_the_member(form, personas, client_for):
    save(form, personas.secretary_a1)
    submit(form, personas.secretary_a1)
    for entry in AuditEntry.objects.filter(assessment=form):
        assert entry.actor == personas.secretary_a1 and entry.on_behalf_of == personas.member_record
    rows = history_rows(client_for(personas.member).get(reverse("assessments:form", args=[form.public_id])))
    assert len(rows) == 2
    for row in rows:
        assert "Trần Văn Bình (Bí thư chi bộ)" in row and "ghi hộ đồng chí Lê Thị Hoa" in row


def test_an_older_return_recorded_for_the_member_is_not_shown_as_on_their_behalf(form, personas, client_for):
    # Entries written before the fix carried the member on a return too.
    AuditEntry.objects.create(
        period=form.period,
        assessment=form,
        actor=personas.secretary_a1,
        on_behalf_of=personas.member_record,
        action="return",
        from_state="submitted",
        to_state="returned",
        reason="Viết lại",
    )
    (row,) = history_rows(client_for(personas.member).get(reverse("assessments:form", args=[form.public_id])))
    assert "ghi hộ" not in row and "Trả lại để bổ sung" in row


def test_a_decision_shows_the_level_to_managers_and_to_the_member_only_once_published(returned, personas, client_for):
    record_decision(returned, personas.officer_a, "HTTNV")
    address = reverse("assessments:form", args=[returned.public_id])
    decided = history_rows(client_for(personas.officer_a).get(address))[-1]
    assert "Quyết định xếp loại" in decided and "Hoàn thành tốt nhiệm vụ (HTTNV)" in decided
    assert "Cán bộ đảng ủy cơ sở" in decided
    # The member sees that a decision was taken, not which level, until the period is published.
    before = history_rows(client_for(personas.member).get(address))[-1]
    assert "Quyết định xếp loại" in before and "HTTNV" not in before
    Period.objects.filter(pk=returned.period_id).update(state=Period.State.PUBLISHED)
    after = history_rows(client_for(personas.member).get(address))[-1]
    assert "Hoàn thành tốt nhiệm vụ (HTTNV)" in after


def test_a_person_without_a_member_record_is_named_by_their_account(form, personas, city, client_for):
    named = UserFactory(username="ban_to_chuc_2", first_name="Hương", last_name="Nguyễn Thị")
    grant(named, RoleAssignment.Role.BOARD, form.period.organization)
    record_decision(form, named, "HTNV")
    record_decision(form, personas.board, "HTTNV")  # first name only
    unnamed = UserFactory(username="canbo_moi")
    grant(unnamed, RoleAssignment.Role.COMMITTEE_OFFICER, city.committee_a)
    record_decision(form, unnamed, "HTTNV")
    rows = history_rows(client_for(personas.board).get(reverse("assessments:form", args=[form.public_id])))
    assert "Nguyễn Thị Hương (Ban Tổ chức Thành ủy)" in rows[0]
    assert "Ban Tổ chức (Ban Tổ chức Thành ủy)" in rows[1]
    assert "canbo_moi (Cán bộ đảng ủy cơ sở)" in rows[2]


def test_the_history_costs_the_same_queries_for_a_long_trail(returned, personas, client_for, django_assert_num_queries):
    client = client_for(personas.secretary_a1)
    address = reverse("assessments:form", args=[returned.public_id])
    # The form (13, tests/assessments/test_views.py) and the roles of the people in the trail (1).
    with django_assert_num_queries(14):
        client.get(address)
    for number in range(5):
        grant(UserFactory(username=f"officer_{number}"), RoleAssignment.Role.CELL_SECRETARY, returned.organization)
        record_decision(returned, RoleAssignment.objects.last().user, "HTTNV")
    with django_assert_num_queries(14):
        client.get(address)


def test_the_trail_takes_only_actions_with_a_label(period, personas):
    """Every entry is written through `log_action` / `audit_fields`, which refuse an action that is not
    an `AuditEntry.Action` (so every entry has a label in the history and the admin)."""
    from assessments.core.transitions import audit_fields, log_action

    with pytest.raises(ValueError):
        log_action("something_new", actor=personas.board, period=period)
    with pytest.raises(ValueError):
        audit_fields("decided", actor=personas.board, period=period)
    entry = log_action(AuditEntry.Action.REMIND, actor=personas.board, period=period)
    assert entry.action_label == AuditEntry.Action.REMIND.label


def test_no_service_writes_the_trail_but_through_log_action():
    """A direct AuditEntry.objects.create (or an entry without audit_fields) would skip the check."""
    for path in Path(settings.BASE_DIR).glob("*/**/*.py"):
        if {"migrations", ".venv", "tests", "demo"} & set(path.parts) or path.name in ("transitions.py", "demo.py"):
            continue
        text = path.read_text()
        assert "AuditEntry.objects.create" not in text, path
        assert not re.search(r"AuditEntry\(\s*(?!\*\*audit_fields)[a-z_]+=", text), path


def test_every_label_is_translated_and_unknown_actions_show_as_they_are():
    from django.utils import translation

    with translation.override("vi"):
        for action in AuditEntry.Action.values:
            with translation.override("en"):
                english = str(label_for_action(action))
            assert str(label_for_action(action)) != english, action
        assert label_for_action("something_new") == "something_new"


def test_the_admin_lists_the_trail_with_labels(returned, personas, client):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    address = reverse("admin:assessments_auditentry_changelist")
    html = client.get(address).content.decode()
    assert "Trả lại để bổ sung" in html and "Đã nộp → Đã trả lại để sửa" in html
    assert "Lưu bản nháp" in html  # in the list and in the filter
    filtered = client.get(address, {"action": "return"})
    assert [e.action for e in filtered.context["cl"].result_list] == ["return"]
    entry = AuditEntry.objects.get(assessment=returned, action="return")
    page = client.get(reverse("admin:assessments_auditentry_change", args=[entry.pk]))
    assert "Trả lại để bổ sung" in page.content.decode()
