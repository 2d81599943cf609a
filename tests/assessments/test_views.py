"""The review forms in the browser's terms: pages, saves, submissions, returns, print and .docx."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape
from docx import Document

from assessments.models import Assessment, AuditEntry, Period
from assessments.reviews import formview
from assessments.reviews.forms import SelfReviewForm
from assessments.rulebooks import ItemKind, get_rulebook
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

S = Assessment.State


@pytest.fixture
def period(city, personas):
    from assessments.core import services

    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=period, user=personas.board)
    period.refresh_from_db()
    return period


@pytest.fixture
def form(period, personas):
    return Assessment.objects.get(period=period, member=personas.member_record)


def complete_post(assessment, **overrides):
    """A POST that answers every item the member fills: text, levels, the checklist."""
    template = formview.template_for(assessment)
    data = {"version": str(assessment.version)}
    for section in template.sections:
        if formview.section_author(template, section) != formview.SUBJECT:
            continue
        for item in section.items:
            if item.prefill:
                continue
            name = f"item-{item.id}"
            if item.kind == ItemKind.TEXT:
                data[name] = f"Trả lời cho {item.id}"
            elif item.kind == ItemKind.LEVEL:
                data[name] = "HTTNV"
            elif item.kind == ItemKind.CHECKLIST:
                for entry in item.entries:
                    data[f"{name}-{entry.id}"] = "absent"
    data.update(overrides)
    return data


def url(name, assessment):
    return reverse(f"assessments:{name}", args=[assessment.public_id])


def test_member_sees_their_form_in_vietnamese(form, personas, client_for):
    response = client_for(personas.member).get(url("form", form))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Bản kiểm điểm" in content and "Lê Thị Hoa" in content
    assert 'name="item-strengths_conduct"' in content


def test_my_reviews_lists_the_members_own_forms_only(form, personas, client_for):
    response = client_for(personas.member).get(reverse("assessments:mine"))
    assert list(response.context["assessments"]) == [form]


def test_autosave_answers_json_with_the_new_version(form, personas, client_for):
    client = client_for(personas.member)
    response = client.post(
        url("save", form),
        {"version": "0", "item-strengths_conduct": "Giữ vững lập trường"},
        HTTP_X_REQUESTED_WITH="fetch",
    )
    assert response.status_code == 200
    assert response.json()["version"] == 1
    form.refresh_from_db()
    assert form.answers["strengths_conduct"] == "Giữ vững lập trường" and form.state == S.DRAFT
    # The header is stored as the records stood when the member wrote.
    assert form.answers["full_name"] == "Lê Thị Hoa" and form.answers["cell"] == "Chi bộ A1"


def test_a_stale_tab_gets_a_conflict_and_the_newer_text_survives(form, personas, client_for):
    client = client_for(personas.member)
    client.post(url("save", form), {"version": "0", "item-shortcomings": "bản mới"}, HTTP_X_REQUESTED_WITH="fetch")
    response = client.post(
        url("save", form), {"version": "0", "item-shortcomings": "bản cũ"}, HTTP_X_REQUESTED_WITH="fetch"
    )
    assert response.status_code == 409
    assert "reload" in response.json()["error"].lower() or "tải lại" in response.json()["error"].lower()
    form.refresh_from_db()
    assert form.answers["shortcomings"] == "bản mới"
    # The same without the page's script: the page again, with the message, nothing saved.
    response = client.post(url("save", form), {"version": "0", "item-shortcomings": "bản cũ"})
    assert response.status_code == 409
    form.refresh_from_db()
    assert form.answers["shortcomings"] == "bản mới"


def test_html_and_script_are_stored_as_typed_and_shown_escaped(form, personas, client_for):
    client = client_for(personas.member)
    typed = '<script>alert("x")</script><b>đậm</b>'
    client.post(url("save", form), {"version": "0", "item-shortcomings": typed})
    form.refresh_from_db()
    assert form.answers["shortcomings"] == typed
    content = client.get(url("form", form)).content.decode()
    assert typed not in content
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in content


def test_over_long_text_is_refused_at_its_item_and_nothing_changes(form, personas, client_for):
    client = client_for(personas.member)
    response = client.post(url("save", form), {"version": "0", "item-shortcomings": "x" * 20001})
    assert response.status_code == 400
    assert response.context["form"].errors["item-shortcomings"] == [
        "Câu trả lời dài quá 20000 ký tự. Xin viết ngắn lại."
    ]
    page = response.content.decode()
    item = page[page.index('id="wrap-item-shortcomings"') :]
    assert item.index("Câu trả lời dài quá 20000 ký tự.") < item.index('class="mb-4 form-item')  # under its item
    form.refresh_from_db()
    assert form.answers == {} and form.version == 0
    # The page's script is told the same, and what it was.
    response = client.post(
        url("save", form), {"version": "0", "item-shortcomings": "x" * 20001}, HTTP_X_REQUESTED_WITH="fetch"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == ["Câu trả lời dài quá 20000 ký tự. Xin viết ngắn lại."]


def test_an_unknown_level_is_refused_and_nothing_changes(form, personas, client_for):
    client = client_for(personas.member)
    response = client.post(url("save", form), {"version": "0", "item-proposed_level_member": "SIEU_XUAT_SAC"})
    assert response.status_code == 400
    assert "item-proposed_level_member" in response.content.decode()
    [message] = response.context["form"].errors["item-proposed_level_member"]
    assert "mức xếp loại 'SIEU_XUAT_SAC' không hợp lệ" in message
    assert escape(message) in response.content.decode()
    form.refresh_from_db()
    assert form.answers == {}


def test_what_was_typed_comes_back_when_a_save_is_refused(form, personas, client_for):
    client = client_for(personas.member)
    data = {"version": "0", "item-shortcomings": "Còn chậm\r\nđổi mới", "item-proposed_level_member": "XYZ"}
    response = client.post(url("save", form), data)
    assert response.status_code == 400
    assert "Còn chậm\nđổi mới</textarea>" in response.content.decode()


def test_a_checklist_is_read_entry_by_entry_and_a_wrong_mark_is_refused(form, vietnamese):
    rulebook = get_rulebook("2018")
    template = rulebook.form_template("member", "self_review", None, rulebook.parameters({"guidance": "HD16"}))
    checklist = template.item("manifestations_checklist")
    first, second = checklist.entries[:2]
    data = {"version": "0", f"item-{checklist.id}-{first.id}": "present", f"item-{checklist.id}-{second.id}": "co"}
    refused = SelfReviewForm(data, template=template, assessment=form)
    assert not refused.is_valid()
    [message] = refused.errors[f"item-{checklist.id}"]
    assert f"biểu hiện {second.id} phải đánh dấu" in message
    del data[f"item-{checklist.id}-{second.id}"]
    draft = SelfReviewForm(data, template=template, assessment=form)
    assert draft.is_valid()
    assert draft.cleaned_data["answers"][checklist.id] == {first.id: "present"}
    # Submitted, every entry must be marked.
    submitted = SelfReviewForm(data, template=template, assessment=form, submit=True)
    assert not submitted.is_valid()
    assert any("chưa đánh dấu" in m for m in submitted.errors[f"item-{checklist.id}"])


def test_a_return_without_a_reason_is_refused(form, personas, client_for):
    client_for(personas.member).post(url("submit", form), complete_post(form))
    response = client_for(personas.secretary_a1).post(url("return", form), {"reason": "  "}, follow=True)
    assert "Xin ghi rõ lý do trả lại bản kiểm điểm." in response.content.decode()
    form.refresh_from_db()
    assert form.state == S.SUBMITTED


def test_submit_needs_every_required_item(form, personas, client_for):
    client = client_for(personas.member)
    response = client.post(url("submit", form), {"version": "0", "item-shortcomings": "chỉ một mục"})
    assert response.status_code == 400
    form.refresh_from_db()
    assert form.state == S.NOT_STARTED


def test_member_submits_and_can_then_read_but_not_change(form, personas, client_for):
    client = client_for(personas.member)
    response = client.post(url("submit", form), complete_post(form))
    assert response.status_code == 302
    form.refresh_from_db()
    assert form.state == S.SUBMITTED and form.self_level == "HTTNV"
    page = client.get(url("form", form))
    assert page.context["editable"] is False
    assert 'name="item-shortcomings"' not in page.content.decode()
    response = client.post(url("save", form), {"version": str(form.version), "item-shortcomings": "sửa"})
    assert response.status_code == 400
    form.refresh_from_db()
    assert form.answers["shortcomings"] == "Trả lời cho shortcomings"


def test_secretary_returns_a_form_and_the_member_sees_the_reason(form, personas, client_for):
    client_for(personas.member).post(url("submit", form), complete_post(form))
    secretary = client_for(personas.secretary_a1)
    response = secretary.post(url("return", form), {"reason": "Bổ sung phần khắc phục"})
    assert response.status_code == 302
    member = client_for(personas.member)
    content = member.get(url("form", form)).content.decode()
    assert "Bổ sung phần khắc phục" in content
    assert member.get(url("form", form)).context["editable"] is True


def test_return_without_a_reason_changes_nothing(form, personas, client_for):
    client_for(personas.member).post(url("submit", form), complete_post(form))
    client_for(personas.secretary_a1).post(url("return", form), {"reason": ""})
    form.refresh_from_db()
    assert form.state == S.SUBMITTED


def test_secretary_fills_in_on_behalf_of_a_member(form, personas, client_for):
    client = client_for(personas.secretary_a1)
    page = client.get(url("form", form))
    assert page.context["is_proxy"] is True
    client.post(url("save", form), {"version": "0", "item-shortcomings": "ghi hộ"})
    entry = AuditEntry.objects.get(assessment=form)
    assert entry.actor == personas.secretary_a1 and entry.on_behalf_of == personas.member_record


def test_posting_after_the_period_closed_is_refused(form, personas, client_for):
    Period.objects.filter(pk=form.period_id).update(state=Period.State.CLOSED)
    response = client_for(personas.member).post(url("save", form), {"version": "0", "item-shortcomings": "muộn"})
    assert response.status_code == 400
    form.refresh_from_db()
    assert form.answers == {}


def test_the_level_check_explains_a_cap(form, personas, client_for):
    from members.models import DisciplineDecision

    DisciplineDecision.objects.create(
        member=personas.member_record, decided_on="2026-03-01", form="reprimand", reason="Vi phạm"
    )
    client = client_for(personas.member)
    response = client.post(
        url("save", form), {"version": "0", "item-proposed_level_member": "HTTNV"}, HTTP_X_REQUESTED_WITH="fetch"
    )
    check = response.json()["level_check"]
    assert check["cap"] == "KHTNV" and check["blocking"]


def test_print_view_and_docx_hold_the_answers(form, personas, client_for):
    client = client_for(personas.member)
    client.post(url("save", form), {"version": "0", "item-shortcomings": "Còn chậm đổi mới"})
    page = client.get(url("print", form))
    assert page.status_code == 200 and "Còn chậm đổi mới" in page.content.decode()
    response = client.get(url("docx", form))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    document = Document(io.BytesIO(response.content))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Còn chậm đổi mới" in text and "Lê Thị Hoa" in text


def test_the_cell_dashboard_shows_every_member_and_their_state(form, personas, client_for, period):
    client_for(personas.member).post(url("submit", form), complete_post(form))
    response = client_for(personas.secretary_a1).get(
        reverse("assessments:dashboard", args=[period.public_id, "chi-bo-a1"])
    )
    forms = response.context["forms"]
    assert [a.member.full_name for a in forms] == ["Phạm Đức Anh", "Trần Văn Bình", "Lê Thị Hoa"]
    assert {a.member.full_name: a.state for a in forms}["Lê Thị Hoa"] == S.SUBMITTED


def test_the_committee_dashboard_shows_the_progress_of_each_cell(form, personas, client_for, period):
    client_for(personas.member).post(url("submit", form), complete_post(form))
    response = client_for(personas.officer_a).get(
        reverse("assessments:dashboard", args=[period.public_id, "dang-bo-a"])
    )
    progress = {child.code: totals for child, totals, _levels, _review in response.context["children"]}
    assert progress["chi-bo-a1"] == {"total": 3, "submitted": 1, "returned": 0, "pending": 2}
    assert progress["chi-bo-a2"]["total"] == 2


def test_reminders_go_to_those_with_an_address_and_list_the_others(
    form, personas, client_for, period, mailoutbox, django_capture_on_commit_callbacks
):
    from members.models import Member

    Member.objects.filter(pk=personas.member_record.pk).update(email="hoa@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(personas.secretary_a1).post(
            reverse("assessments:remind", args=[period.public_id, "chi-bo-a1"])
        )
    assert response.status_code == 302
    assert [m.to for m in mailoutbox] == [["hoa@example.org"]]
    assert AuditEntry.objects.filter(period=period, action="remind").exists()


def test_a_member_cannot_read_another_members_form(period, personas, client_for):
    other = Assessment.objects.get(period=period, member=personas.member_a1_other)
    assert client_for(personas.member).get(url("form", other)).status_code == 404
    assert client_for(personas.secretary_b1).get(url("form", other)).status_code == 404


def _queries(client, address):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(address)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_form_and_dashboard_query_counts_are_the_same_for_a_cell_of_5_and_of_60(city, personas, client_for):
    from assessments.core import services

    for _ in range(2):
        MemberFactory(cell=city.cell_a1)
    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=period, user=personas.board)
    form = Assessment.objects.get(period=period, member=personas.member_record)
    client = client_for(personas.secretary_a1)
    dashboard = reverse("assessments:dashboard", args=[period.public_id, "chi-bo-a1"])
    small = (_queries(client, url("form", form)), _queries(client, dashboard))
    # A second period for a cell of 60.
    for _ in range(55):
        MemberFactory(cell=city.cell_a1)
    period2 = Period.objects.create(organization=city.city, year=2027, regime="2018")
    services.period_open(period=period2, user=personas.board)
    form2 = Assessment.objects.get(period=period2, member=personas.member_record)
    dashboard2 = reverse("assessments:dashboard", args=[period2.public_id, "chi-bo-a1"])
    large = (_queries(client, url("form", form2)), _queries(client, dashboard2))
    # The form: session, user, the assessment with its period, member and cell, the role assignments,
    # the history, the seven kinds of member record the level check reads and last year's level (13). The dashboard:
    # session, user, role assignments, the organisation, the period, its own reviews, the forms (7).
    assert small == large == (13, 7)
