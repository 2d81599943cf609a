"""The cell's meeting record: attendance, comments, the ballot count per member, its arithmetic, the
proposal it gives under the rulebook, and who may record it."""

import datetime
import io

import pytest
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from docx import Document

from assessments import meetings
from assessments.core import services
from assessments.meetings import COUNT_FIELDS, BallotCountForm, MinutesForm, proposal_from_counts
from assessments.models import Assessment, AuditEntry, BallotCount, Meeting, Period
from members.models import DisciplineDecision, Member
from tests.factories import MemberFactory, OrganizationFactory
from vocabulary import Level

pytestmark = pytest.mark.django_db

S = Assessment.State


@pytest.fixture
def period(city, personas):
    # Retired members need no civil-service rating: the rulebook then leaves their level open.
    Member.objects.update(occupation=Member.Occupation.RETIRED)
    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=period, user=personas.board)
    period.refresh_from_db()
    return period


@pytest.fixture
def forms(period, city):
    """The three members of cell A1, their self-reviews submitted, in Vietnamese order."""
    forms = list(
        Assessment.objects.filter(period=period, organization=city.cell_a1, member__isnull=False)
        .select_related("member")
        .order_by("member__sort_key", "pk")
    )
    Assessment.objects.filter(pk__in=[f.pk for f in forms]).update(state=S.SUBMITTED)
    for form in forms:
        form.refresh_from_db()
    return forms


def meeting_url(period, code="chi-bo-a1", name="meeting"):
    return reverse(f"assessments:{name}", args=[period.public_id, code])


YESTERDAY = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()


def minutes(forms, counts=None, *, version=0, held_on=YESTERDAY, total=3, present=3, absent=0, absentees=()):
    """A POST of the minutes: `counts` maps a form to its seven numbers (issued, received, valid, and the
    four levels best first) or to raw strings."""
    data = {
        "version": str(version),
        "held_on": held_on,
        "members_total": str(total),
        "present": str(present),
        "absent": str(absent),
        "absentees": [str(a.public_id) for a in absentees],
    }
    for form in forms:
        data[f"row-{form.public_id}-comments"] = f"Góp ý cho {form.member.full_name}"
        numbers = (counts or {}).get(form, ("",) * 7)
        for name, value in zip(COUNT_FIELDS, numbers, strict=True):
            data[f"row-{form.public_id}-{name}"] = str(value)
    return data


ALL_GOOD = (3, 3, 3, 1, 2, 0, 0)  # 3 valid: 1 HTXSNV + 2 HTTNV -> HTTNV (3 of 3 for HTTNV or better)


# --- The arithmetic, rule by rule ------------------------------------------------------------------------


def numbers(*values):
    return dict(zip(COUNT_FIELDS, values, strict=True))


@pytest.mark.parametrize(
    "values, present, fired",
    [
        ((3, 3, 3, 1, 2, 0, 0), 3, set()),
        ((3, 2, 2, 0, 1, 1, 0), 3, set()),  # a ballot not returned
        ((3, 3, 2, 0, 1, 1, 0), 3, set()),  # an invalid ballot
        (("",) * 7, 3, set()),  # not counted yet: nothing to check
        ((4, 3, 3, 1, 2, 0, 0), 3, {"issued"}),  # more ballots than members present
        ((3, 4, 3, 1, 2, 0, 0), 5, {"received"}),  # more received than issued
        ((3, 3, 4, 1, 2, 1, 0), 5, {"valid"}),  # more valid than received
        ((3, 3, 3, 1, 1, 0, 0), 3, {"line"}),  # the levels add up to 2, not 3
        ((3, 3, 2, 1, 1, 1, 0), 3, {"line"}),  # 3 for the levels, 2 valid: a blank ballot is invalid
        ((3, 3, 0, 0, 0, 0, 0), 3, {"valid"}),  # no valid ballot: nothing to propose
        ((3, 3, "", 1, 2, 0, 0), 3, {"valid", "line"}),  # a number missing in a line that was started
        ((3, 3, 3, "", "", "", ""), 3, set()),  # only the shared numbers: not counted yet, nothing to check
        ((3, 3, 3, 1, "", "", ""), 3, {"htnv", "httnv", "khtnv", "line"}),  # the levels started, not finished
        (("ba", 3, 3, "", "", "", ""), 3, set()),  # not counted yet: the shared numbers are not even read
        ((3, 3, 3, 1, 2, 0, 0), None, set()),  # the members present not known: the rest is still checked
        ((3, 4, 3, 1, 2, 0, 0), None, {"received"}),
    ],
)
def test_each_rule_of_the_arithmetic_fires_alone_and_stays_quiet_otherwise(values, present, fired):
    """The errors of one line's form, by field ("line" for the line as a whole)."""
    line = BallotCountForm({name: str(value) for name, value in numbers(*values).items()}, present=present)
    assert line.is_valid() == (not fired)
    assert {"line" if name == NON_FIELD_ERRORS else name for name in line.errors} == fired
    if not fired:
        counted = all(value != "" for value in values[3:])
        expected = {name: (value if counted else None) for name, value in numbers(*values).items()}
        assert {name: line.cleaned_data[name] for name in COUNT_FIELDS} == expected


def test_a_line_with_only_the_shared_numbers_is_pending_and_saves_no_number():
    line = BallotCountForm({"issued": "3", "received": "3", "valid": "3", "comments": "Tốt\r\nđúng"})
    assert line.is_valid()
    assert line.cleaned_data["pending"] is True and line.cleaned_data["valid"] is None
    assert line.cleaned_data["comments"] == "Tốt\nđúng"
    empty = BallotCountForm({"comments": "Tốt"})
    assert empty.is_valid() and empty.cleaned_data["pending"] is False and empty.cleaned_data["issued"] is None


@pytest.mark.parametrize(
    "raw, message",
    [
        ("-1", "Số không được âm."),
        ("ba", "Xin nhập số nguyên."),
        ("2.5", "Xin nhập số nguyên."),
        ("2.0", "Xin nhập số nguyên."),
        ("10000", "Số quá lớn (tối đa 9999)."),
        ("", "Xin nhập số này."),
    ],
)
def test_a_number_that_is_not_a_count_is_refused_with_its_message_in_vietnamese(
    period, forms, raw, message, vietnamese
):
    roster = list(
        Assessment.objects.filter(period=period, member__in=[f.member for f in forms]).select_related("member")
    )
    data = {"held_on": YESTERDAY, "members_total": "3", "present": raw, "absent": "0"}
    form = MinutesForm(data, roster=roster, year=period.year)
    assert not form.is_valid()
    assert form.errors["present"] == [message]
    line = BallotCountForm(dict(zip(COUNT_FIELDS, [raw or "3", "3", "3", "1", "2", "0", "0"], strict=True)))
    assert not line.is_valid() if raw else line.is_valid()
    if raw:
        assert line.errors["issued"] == [message]


def test_the_proposal_at_the_majority_boundary():
    H, T, N, K = Level.HTXSNV, Level.HTTNV, Level.HTNV, Level.KHTNV
    # Exactly half is not a majority: 5 of 10 for HTXSNV, the 10 for HTTNV or better are.
    assert proposal_from_counts({H: 5, T: 5}, 10) == T
    assert proposal_from_counts({H: 6, T: 4}, 10) == H
    # An odd number of ballots: 5 of 9 is more than half.
    assert proposal_from_counts({H: 5, T: 4}, 9) == H
    assert proposal_from_counts({H: 4, T: 1, N: 4}, 9) == T
    # Ballots for better levels count towards a lower one: 3 + 2 is not more than half of 10, 3 + 2 + 5 is.
    assert proposal_from_counts({H: 3, T: 2, N: 5}, 10) == N
    assert proposal_from_counts({H: 1, T: 1, N: 1, K: 7}, 10) == K
    assert proposal_from_counts({}, 0) is None


def test_attendance_must_add_up_and_match_the_names_ticked(period, forms, vietnamese):
    roster = list(
        Assessment.objects.filter(period=period, member__in=[f.member for f in forms]).select_related("member")
    )

    def errors(**data):
        form = MinutesForm(data, roster=roster, year=period.year)
        form.is_valid()
        return form.errors

    good = errors(held_on=YESTERDAY, members_total="3", present="2", absent="1", absentees=[str(forms[0].public_id)])
    assert good == {}
    bad = errors(held_on=YESTERDAY, members_total="3", present="3", absent="1")
    assert set(bad) == {"members_total", "absentees"}
    assert bad["absentees"] == [
        "Đồng chí đã đánh dấu 0 đảng viên vắng mặt, nhưng số vắng mặt là 1. Xin đánh dấu đủ từng đảng viên vắng mặt."
    ]
    future = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()
    assert set(errors(held_on=future, members_total="3", present="3", absent="0")) == {"held_on"}
    assert set(errors(held_on=YESTERDAY, members_total="0", present="0", absent="0")) == {"members_total"}
    stranger = errors(held_on=YESTERDAY, members_total="3", present="2", absent="1", absentees=["not-a-member"])
    assert stranger["absentees"] == ["Có đảng viên trong danh sách không thuộc chi bộ này."]


# --- Recording through the page --------------------------------------------------------------------------


def test_secretary_records_the_meeting_and_the_proposals_go_on_the_forms(period, forms, personas, client_for):
    client = client_for(personas.secretary_a1)
    counts = {forms[0]: (3, 3, 3, 2, 1, 0, 0), forms[1]: ALL_GOOD, forms[2]: (3, 3, 3, 0, 1, 2, 0)}
    response = client.post(meeting_url(period), minutes(forms, counts))
    assert response.status_code == 302
    meeting = Meeting.objects.get(period=period, organization=forms[0].organization)
    assert (meeting.members_total, meeting.present, meeting.absent, meeting.version) == (3, 3, 0, 1)
    assert meeting.recorded_by == personas.secretary_a1
    expected = {forms[0].pk: "HTXSNV", forms[1].pk: "HTTNV", forms[2].pk: "HTNV"}
    for form in forms:
        form.refresh_from_db()
        assert (form.state, form.cell_proposed_level) == (S.CELL_REVIEWED, expected[form.pk])
        entry = AuditEntry.objects.get(assessment=form, action="record_proposal")
        assert (entry.actor, entry.from_state, entry.to_state) == (personas.secretary_a1, S.SUBMITTED, S.CELL_REVIEWED)
        assert entry.data["level"] == expected[form.pk]
    row = BallotCount.objects.get(meeting=meeting, assessment=forms[0])
    assert (row.issued, row.received, row.valid, row.htxsnv, row.httnv, row.htnv, row.khtnv) == (3, 3, 3, 2, 1, 0, 0)
    assert row.comments == f"Góp ý cho {forms[0].member.full_name}" and row.proposed_level == "HTXSNV"
    assert AuditEntry.objects.filter(period=period, action="meeting_record", actor=personas.secretary_a1).count() == 1
    page = client.get(meeting_url(period)).content.decode()
    assert "Hoàn thành xuất sắc nhiệm vụ (HTXSNV)" in page and "Hoàn thành nhiệm vụ (HTNV)" in page


def test_absent_members_are_recorded_by_name(period, forms, personas, client_for):
    client = client_for(personas.secretary_a1)
    data = minutes(forms, total=3, present=2, absent=1, absentees=[forms[2]])
    assert client.post(meeting_url(period), data).status_code == 302
    meeting = Meeting.objects.get(period=period)
    assert list(meeting.absentees.all()) == [forms[2].member]


def test_one_bad_number_saves_nothing_and_says_what_is_wrong_in_vietnamese(period, forms, personas, client_for):
    client = client_for(personas.secretary_a1)
    counts = {forms[0]: ALL_GOOD, forms[1]: ALL_GOOD, forms[2]: (5, 3, 3, 1, 2, 0, 0)}
    response = client.post(meeting_url(period), minutes(forms, counts, present=3))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Số phiếu phát ra (5) không được nhiều hơn số đảng viên có mặt (3)." in page
    assert "chưa lưu được" in page  # nothing was saved
    assert not Meeting.objects.exists() and not BallotCount.objects.exists()
    for form in forms:
        form.refresh_from_db()
        assert form.state == S.SUBMITTED and form.cell_proposed_level == ""
    assert not AuditEntry.objects.filter(action__in=["record_proposal", "meeting_record"]).exists()
    # The typed numbers come back for correction.
    assert f'name="row-{forms[2].public_id}-issued" id="row-{forms[2].public_id}-issued" value="5"' in page


def test_every_bad_field_gets_its_own_message(period, forms, personas, client_for):
    client = client_for(personas.secretary_a1)
    counts = {forms[0]: (-1, 3, 3, 1, 2, 0, 0), forms[1]: ("ba", 3, 3, 1, 2, 0, 0), forms[2]: (3, 3, 3, 1, 1, 0, 0)}
    response = client.post(meeting_url(period), minutes(forms, counts, total=4))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Số không được âm." in page
    assert "Xin nhập số nguyên." in page
    assert "phải bằng số phiếu hợp lệ" in page
    assert "Số có mặt (3) cộng số vắng mặt (0) phải bằng tổng số đảng viên của chi bộ (4)." in page
    assert not Meeting.objects.exists()


def test_the_rulebook_caps_a_member_disciplined_this_year_whatever_the_votes(period, forms, personas, client_for):
    disciplined = forms[1]
    DisciplineDecision.objects.create(
        member=disciplined.member, decided_on=datetime.date(2026, 3, 1), form="reprimand", reason="Vi phạm"
    )
    client = client_for(personas.secretary_a1)
    unanimous = (3, 3, 3, 3, 0, 0, 0)
    response = client.post(meeting_url(period), minutes(forms, {f: unanimous for f in forms}))
    assert response.status_code == 302
    disciplined.refresh_from_db()
    assert disciplined.cell_proposed_level == "KHTNV"
    assert AuditEntry.objects.get(assessment=disciplined, action="record_proposal").data["majority"] == "HTXSNV"
    others = Assessment.objects.filter(pk__in=[forms[0].pk, forms[2].pk])
    assert set(others.values_list("cell_proposed_level", flat=True)) == {"HTXSNV"}
    page = client.get(meeting_url(period)).content.decode()
    assert "Bị kỷ luật trong năm" in page  # the finding, beside the member
    assert "Tối đa: Không hoàn thành nhiệm vụ" in page


def test_a_stale_copy_is_refused_and_the_newer_minutes_survive(period, forms, personas, client_for):
    client = client_for(personas.secretary_a1)
    assert client.post(meeting_url(period), minutes(forms, {forms[0]: ALL_GOOD})).status_code == 302
    # Another window still holds version 0.
    stale = minutes(forms, {forms[0]: (3, 3, 3, 3, 0, 0, 0)}, version=0)
    response = client.post(meeting_url(period), stale)
    assert response.status_code == 409
    assert "tải lại" in response.content.decode().lower()
    row = BallotCount.objects.get(assessment=forms[0])
    assert (row.htxsnv, row.httnv) == (1, 2)
    assert Meeting.objects.get().version == 1


def test_correcting_the_minutes_records_the_new_proposal_once(period, forms, personas, client_for):
    client = client_for(personas.secretary_a1)
    client.post(meeting_url(period), minutes(forms, {forms[0]: ALL_GOOD}))
    client.post(meeting_url(period), minutes(forms, {forms[0]: ALL_GOOD}, version=1))
    assert AuditEntry.objects.filter(assessment=forms[0], action="record_proposal").count() == 1
    response = client.post(meeting_url(period), minutes(forms, {forms[0]: (3, 3, 3, 0, 1, 2, 0)}, version=2))
    assert response.status_code == 302
    forms[0].refresh_from_db()
    assert forms[0].cell_proposed_level == "HTNV" and forms[0].state == S.CELL_REVIEWED
    entries = list(AuditEntry.objects.filter(assessment=forms[0], action="record_proposal").order_by("pk"))
    assert [(e.from_state, e.data["level"]) for e in entries] == [(S.SUBMITTED, "HTTNV"), (S.CELL_REVIEWED, "HTNV")]
    # A recorded count cannot be emptied again.
    response = client.post(meeting_url(period), minutes(forms, {}, version=3))
    assert response.status_code == 400
    assert BallotCount.objects.get(assessment=forms[0]).issued == 3


def test_a_form_not_submitted_keeps_its_state_and_the_secretary_is_told(period, forms, personas, client_for):
    Assessment.objects.filter(pk=forms[0].pk).update(state=S.DRAFT)
    client = client_for(personas.secretary_a1)
    response = client.post(meeting_url(period), minutes(forms, {f: ALL_GOOD for f in forms}), follow=True)
    forms[0].refresh_from_db()
    assert forms[0].state == S.DRAFT and forms[0].cell_proposed_level == ""
    assert "chưa nộp" in response.content.decode()
    assert BallotCount.objects.get(assessment=forms[0]).proposed_level == "HTTNV"
    forms[1].refresh_from_db()
    assert forms[1].state == S.CELL_REVIEWED


def test_once_a_level_is_decided_its_count_cannot_change(period, forms, personas, client_for):
    client = client_for(personas.secretary_a1)
    client.post(meeting_url(period), minutes(forms, {forms[0]: ALL_GOOD}))
    Assessment.objects.filter(pk=forms[0].pk).update(state=S.DECIDED, decided_level="HTTNV")
    response = client.post(meeting_url(period), minutes(forms, {forms[0]: (3, 3, 3, 3, 0, 0, 0)}, version=1))
    assert response.status_code == 400
    assert BallotCount.objects.get(assessment=forms[0]).htxsnv == 1
    # The page shows the decided count without inputs; saving the rest of the minutes keeps it.
    page = client.get(meeting_url(period)).content.decode()
    assert f'name="row-{forms[0].public_id}-issued"' not in page
    response = client.post(meeting_url(period), minutes(forms[1:], {forms[1]: ALL_GOOD}, version=1))
    assert response.status_code == 302
    assert BallotCount.objects.get(assessment=forms[0]).htxsnv == 1
    forms[1].refresh_from_db()
    assert forms[1].cell_proposed_level == "HTTNV"


# --- Who may record, and when ------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["outsider", "member", "secretary_b1", "evaluator"])
def test_those_who_do_not_lead_the_cell_get_404_and_change_nothing(period, forms, personas, client_for, persona):
    client = client_for(getattr(personas, persona))
    for name in ("meeting", "meeting_print", "meeting_docx"):
        assert client.get(meeting_url(period, name=name)).status_code == 404, name
    assert client.post(meeting_url(period), minutes(forms, {forms[0]: ALL_GOOD})).status_code == 404
    assert client.post(meeting_url(period, name="ballot_open")).status_code == 404
    assert not Meeting.objects.exists()


@pytest.mark.parametrize("persona", ["officer_a", "board"])
def test_the_officer_above_and_the_board_may_record(period, forms, personas, client_for, persona):
    client = client_for(getattr(personas, persona))
    assert client.get(meeting_url(period)).status_code == 200
    assert client.post(meeting_url(period), minutes(forms, {forms[0]: ALL_GOOD})).status_code == 302
    forms[0].refresh_from_db()
    assert forms[0].cell_proposed_level == "HTTNV"


def test_a_committee_has_no_meeting_page(period, personas, client_for):
    client = client_for(personas.officer_a)
    assert client.get(meeting_url(period, code="dang-bo-a")).status_code == 404


def held(members_total=3, present=3, absent=0, absentees=()):
    """The minutes as the minutes form cleans them."""
    return {
        "held_on": datetime.date.fromisoformat(YESTERDAY),
        "members_total": members_total,
        "present": present,
        "absent": absent,
        "absentees": [str(a.public_id) for a in absentees],
    }


def test_the_service_refuses_someone_who_does_not_lead_the_cell(period, forms, personas):
    with pytest.raises(services.WorkflowError):
        meetings.meeting_record(
            period=period,
            organization=forms[0].organization,
            user=personas.secretary_b1,
            minutes=held(),
            lines={},
            base_version=0,
        )
    assert not Meeting.objects.exists()


@pytest.mark.parametrize("state", [Period.State.FINALISED, Period.State.PUBLISHED, Period.State.PREPARING])
def test_a_locked_or_unopened_period_refuses_the_minutes(period, forms, personas, client_for, state):
    Period.objects.filter(pk=period.pk).update(state=state)
    client = client_for(personas.secretary_a1)
    response = client.post(meeting_url(period), minutes(forms, {forms[0]: ALL_GOOD}))
    assert response.status_code == 400
    assert not Meeting.objects.exists()
    forms[0].refresh_from_db()
    assert forms[0].state == S.SUBMITTED
    page = client.get(meeting_url(period))
    assert page.status_code == 200 and page.context["editable"] is False
    assert f'name="row-{forms[0].public_id}-issued"' not in page.content.decode()


def test_a_closed_period_still_takes_the_minutes(period, forms, personas, client_for):
    Period.objects.filter(pk=period.pk).update(state=Period.State.CLOSED)
    client = client_for(personas.secretary_a1)
    assert client.post(meeting_url(period), minutes(forms, {forms[0]: ALL_GOOD})).status_code == 302
    forms[0].refresh_from_db()
    assert forms[0].state == S.CELL_REVIEWED


def test_the_dashboard_of_a_cell_links_to_its_meeting(period, personas, client_for):
    page = client_for(personas.secretary_a1).get(reverse("assessments:dashboard", args=[period.public_id, "chi-bo-a1"]))
    assert meeting_url(period) in page.content.decode()


# --- Outputs ---------------------------------------------------------------------------------------------


def test_the_docx_opens_and_holds_every_members_counts(period, forms, personas, client_for):
    client = client_for(personas.secretary_a1)
    counts = {forms[0]: (3, 3, 3, 2, 1, 0, 0), forms[1]: (3, 2, 2, 0, 1, 1, 0), forms[2]: (3, 3, 3, 0, 0, 1, 2)}
    client.post(meeting_url(period), minutes(forms, counts))
    response = client.get(meeting_url(period, name="meeting_docx"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="bien-ban-kiem-phieu-2026-')
    document = Document(io.BytesIO(response.content))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "BIÊN BẢN KIỂM PHIẾU" in text and "Có mặt: 3" in text
    table = document.tables[1]
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert rows[0][:3] == ["TT", "Họ và tên", "Phiếu phát ra"]
    by_name = {row[1]: row[2:] for row in rows[1:]}
    assert by_name[forms[0].member.full_name] == ["3", "3", "3", "2", "1", "0", "0", "HTXSNV"]
    # 2 valid: 1 for HTTNV is not more than half; with the HTNV ballot, 2 of 2 are HTNV or better.
    assert by_name[forms[1].member.full_name] == ["3", "2", "2", "0", "1", "1", "0", "HTNV"]
    assert by_name[forms[2].member.full_name] == ["3", "3", "3", "0", "0", "1", "2", "KHTNV"]
    assert f"Góp ý cho {forms[1].member.full_name}" in text


def test_the_print_view_is_the_official_a4_minutes(period, forms, personas, client_for):
    client = client_for(personas.secretary_a1)
    blank = client.get(meeting_url(period, name="meeting_print"))
    assert blank.status_code == 200 and "ngày … tháng … năm" in blank.content.decode()
    client.post(meeting_url(period), minutes(forms, {forms[0]: (3, 3, 3, 2, 1, 0, 0)}))
    page = client.get(meeting_url(period, name="meeting_print")).content.decode()
    assert "css/print.css" in page and "BIÊN BẢN KIỂM PHIẾU" in page and "ĐẢNG CỘNG SẢN VIỆT NAM" in page
    assert "ĐẢNG BỘ A" in page  # the superior organisation heads the minutes
    assert f'<td class="name">{forms[0].member.full_name}</td><td>3</td><td>3</td><td>3</td><td>2</td>' in page


def test_the_minutes_give_the_reason_for_not_classifying_in_vietnamese_and_the_screen_in_its_language(
    period, forms, personas, client_for
):
    Assessment.objects.filter(pk=forms[2].pk).update(
        classified=False, exclusion_reason="excused", exclusion_rule="R2018-M-EXEMPT-MIEN"
    )
    client = client_for(personas.secretary_a1)
    vietnamese = "Đảng viên được miễn công tác và sinh hoạt đảng: không xếp loại chất lượng"
    english = "Member excused from work and party activities: not classified"
    name = forms[2].member.full_name
    docx = client.get(meeting_url(period, name="meeting_docx"), HTTP_ACCEPT_LANGUAGE="en")
    text = "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    assert f"{name}: {vietnamese}" in text and english not in text
    printed = client.get(meeting_url(period, name="meeting_print"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"{name}: {vietnamese}" in printed and english not in printed
    screen = client.get(meeting_url(period), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"{name}: {english}" in screen and vietnamese not in screen


# --- Cost ------------------------------------------------------------------------------------------------


def _queries(client, address):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(address)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_meeting_page_costs_the_same_for_a_cell_of_5_and_of_30(city, personas, client_for):
    small = OrganizationFactory(code="chi-bo-nho", name="Chi bộ nhỏ", parent=city.committee_a)
    large = OrganizationFactory(code="chi-bo-lon", name="Chi bộ lớn", parent=city.committee_a)
    for cell, size in ((small, 5), (large, 30)):
        for _number in range(size):
            member = MemberFactory(cell=cell)
            DisciplineDecision.objects.create(member=member, decided_on="2026-03-01", form="reprimand", reason="x")
    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=period, user=personas.board)
    period.refresh_from_db()
    for cell in (small, large):
        forms = list(Assessment.objects.filter(period=period, organization=cell, member__isnull=False))
        Assessment.objects.filter(pk__in=[f.pk for f in forms]).update(state=S.SUBMITTED)
        lines = {str(f.public_id): dict(zip(COUNT_FIELDS, (3, 3, 3, 1, 2, 0, 0), strict=True)) for f in forms}
        meetings.meeting_record(
            period=period,
            organization=cell,
            user=personas.officer_a,
            minutes=held(len(forms), len(forms) - 1, 1, absentees=[forms[0]]),
            lines=lines,
            base_version=0,
        )
    client = client_for(personas.officer_a)
    # Session, user, role assignments, the cell, the period, the meeting with its ballot and recorder,
    # the absentees, the roster with the members, the counts, the seven kinds of member record, last
    # year's levels, the analysis forms handed in, the task shares of the meeting, and the transfers
    # into or out of the cell (20).
    assert (
        _queries(client, meeting_url(period, "chi-bo-nho")) == _queries(client, meeting_url(period, "chi-bo-lon")) == 20
    )
    # The print view adds the parent organisation; the .docx too.
    assert _queries(client, meeting_url(period, "chi-bo-nho", "meeting_print")) == _queries(
        client, meeting_url(period, "chi-bo-lon", "meeting_print")
    )


# --- "Fill in for every member", the date, and refused minutes that keep what was typed -------------------


def filled_for_all(forms, *, issued=3, received=3, counted=None):
    """The minutes as "Fill in for every member" leaves them: ballots issued, received and valid in every
    line, and the four level counts typed only for the members in `counted` ({form: four numbers})."""
    counts = {}
    for form in forms:
        levels = (counted or {}).get(form, ("", "", "", ""))
        counts[form] = (issued, received, received, *levels)
    return minutes(forms, counts)


def test_after_fill_in_for_every_member_the_minutes_save_and_the_members_still_to_count_are_named(
    period, forms, personas, client_for
):
    client = client_for(personas.secretary_a1)
    response = client.post(meeting_url(period), filled_for_all(forms, counted={forms[1]: (1, 2, 0, 0)}), follow=True)
    assert response.redirect_chain and response.status_code == 200
    rows = {c.assessment_id: c for c in BallotCount.objects.all()}
    assert (rows[forms[1].pk].issued, rows[forms[1].pk].valid, rows[forms[1].pk].httnv) == (3, 3, 2)
    # The lines with only the shared numbers are saved without numbers (comments kept), and named.
    for form in (forms[0], forms[2]):
        assert not rows[form.pk].counted and rows[form.pk].comments == f"Góp ý cho {form.member.full_name}"
    page = response.content.decode()
    assert "2 đảng viên chưa được kiểm phiếu" in page
    assert forms[0].member.full_name in page and forms[2].member.full_name in page
    forms[1].refresh_from_db()
    assert forms[1].cell_proposed_level == "HTTNV"


def test_a_line_with_some_level_counts_says_exactly_which_numbers_it_lacks(period, forms, personas, client_for):
    client = client_for(personas.secretary_a1)
    data = filled_for_all(forms, counted={forms[0]: (1, 2, "", "")})
    response = client.post(meeting_url(period), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Dòng này còn thiếu: HTNV, KHTNV." in page
    # The top message names the member whose line is wrong, and only that kind of problem.
    refusal = response.context["refusal"]
    assert forms[0].member.full_name in refusal and "ngày họp" not in refusal
    assert [p["label"] for p in response.context["problems"]] == [forms[0].member.full_name]
    assert not Meeting.objects.exists()


@pytest.mark.parametrize(
    ("held_on", "message"),
    [
        ((datetime.date.today() + datetime.timedelta(days=3)).strftime("%d/%m/%Y"), "sau ngày hôm nay"),
        ("31/02/2026", "không phải là một ngày"),
        ("hôm qua", "không phải là một ngày"),
        ("", "Xin nhập ngày họp"),
        ("15/06/2025", "trước năm kiểm điểm (2026)"),
    ],
    ids=["future", "no such day", "words", "missing", "before the year"],
)
def test_a_wrong_date_is_its_own_message_at_the_top_and_at_the_field_and_the_typing_is_kept(
    period, forms, personas, client_for, held_on, message
):
    client = client_for(personas.secretary_a1)
    counts = {forms[0]: (2, 2, 2, 1, 1, 0, 0)}
    data = minutes(forms, counts, held_on=held_on, total=3, present=2, absent=1, absentees=[forms[2]])
    response = client.post(meeting_url(period), data)
    assert response.status_code == 400
    assert not Meeting.objects.exists()
    refusal = response.context["refusal"]
    assert "chưa lưu được. Xin sửa: ngày họp. Mọi số liệu đã nhập vẫn còn trên trang" in refusal
    problems = response.context["problems"]
    assert [p["label"] for p in problems] == ["Ngày họp"] and message in problems[0]["messages"][0]
    assert response.context["attendance_errors"]["held_on"] == problems[0]["messages"]
    page = response.content.decode()
    assert page.index('id="refusal"') < page.index('id="id_held_on"')
    # Everything typed is still there: the date as typed, the attendance, the ticks, the counts, the comments.
    assert f'id="id_held_on" value="{held_on}"' in page
    assert 'id="id_present" value="2"' in page and 'id="id_absent" value="1"' in page
    assert f'value="{forms[2].public_id}" id="absent-{forms[2].public_id}" checked' in page
    assert f'name="row-{forms[0].public_id}-htxsnv" id="row-{forms[0].public_id}-htxsnv" value="1"' in page
    assert f"Góp ý cho {forms[1].member.full_name}</textarea>" in page


def test_the_date_can_be_typed_day_month_year(period, forms, personas, client_for):
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    client = client_for(personas.secretary_a1)
    typed = f"{yesterday.day}/{yesterday.month}/{yesterday.year}"
    assert client.post(meeting_url(period), minutes(forms, held_on=typed)).status_code == 302
    assert Meeting.objects.get().held_on == yesterday
    page = client.get(meeting_url(period)).content.decode()
    assert f'id="id_held_on" value="{yesterday:%d/%m/%Y}"' in page


def test_the_top_message_names_each_kind_of_problem(period, forms, personas, client_for):
    client = client_for(personas.secretary_a1)
    future = (datetime.date.today() + datetime.timedelta(days=1)).isoformat()
    counts = {forms[0]: (3, 3, 3, 1, 1, 0, 0), forms[2]: (3, 3, 3, 3, 0, 0, "")}
    response = client.post(meeting_url(period), minutes(forms, counts, held_on=future, total=4))
    assert response.status_code == 400
    refusal = response.context["refusal"]
    assert "chưa lưu được" in refusal
    for kind in ("ngày họp", "số đảng viên, số có mặt và vắng mặt", "dòng của 2 đảng viên"):
        assert kind in refusal
    assert forms[0].member.full_name in refusal and forms[2].member.full_name in refusal
    labels = [p["label"] for p in response.context["problems"]]
    assert labels == ["Ngày họp", "Tổng số đảng viên của chi bộ", forms[0].member.full_name, forms[2].member.full_name]


def test_a_decided_members_count_stays_on_the_page_when_the_minutes_are_refused(period, forms, personas, client_for):
    client = client_for(personas.secretary_a1)
    client.post(meeting_url(period), minutes(forms, {forms[0]: ALL_GOOD}))
    Assessment.objects.filter(pk=forms[0].pk).update(state=S.DECIDED, decided_level="HTTNV")
    response = client.post(meeting_url(period), minutes(forms, {}, version=1, total=9))
    assert response.status_code == 400
    cells = next(line.cells for line in response.context["sheet"].lines if line.assessment.pk == forms[0].pk)
    assert [cell["value"] for cell in cells] == list(ALL_GOOD)


# --- The forms of the page ---------------------------------------------------------------------------------


def test_a_line_of_someone_outside_the_cell_is_refused_and_nothing_is_saved(period, forms, city, personas, client_for):
    client = client_for(personas.secretary_a1)
    data = minutes(forms, {forms[0]: ALL_GOOD})
    stranger = Assessment.objects.filter(period=period, organization=city.cell_b1, member__isnull=False).first()
    data |= {f"row-{stranger.public_id}-{name}": str(value) for name, value in zip(COUNT_FIELDS, ALL_GOOD, strict=True)}
    response = client.post(meeting_url(period), data)
    assert response.status_code == 400
    assert "Có đảng viên trong danh sách không thuộc chi bộ này." in response.content.decode()
    assert not Meeting.objects.exists() and not BallotCount.objects.exists()


def test_a_number_typed_wrong_is_named_at_the_top_with_its_column(period, forms, personas, client_for):
    client = client_for(personas.secretary_a1)
    response = client.post(meeting_url(period), minutes(forms, {forms[1]: ("ba", 3, 3, 1, 2, 0, 0)}))
    assert response.status_code == 400
    problems = response.context["problems"]
    assert problems == [
        {
            "label": forms[1].member.full_name,
            "messages": ["Số phiếu phát ra: Xin nhập số nguyên."],
            "anchor": f"line-{forms[1].public_id}",
        }
    ]
    page = response.content.decode()
    # The message sits under its own input, which is marked.
    name = f"row-{forms[1].public_id}-issued"
    assert f'is-invalid" type="number" min="0" inputmode="numeric" name="{name}" id="{name}" value="ba"' in page
    assert not Meeting.objects.exists()


def test_a_line_left_out_of_the_request_keeps_its_comments(period, forms, personas, client_for):
    client = client_for(personas.secretary_a1)
    assert client.post(meeting_url(period), minutes(forms, {forms[0]: ALL_GOOD})).status_code == 302
    response = client.post(meeting_url(period), minutes(forms[1:], {forms[1]: ALL_GOOD}, version=1))
    assert response.status_code == 302
    assert BallotCount.objects.get(assessment=forms[0]).comments == f"Góp ý cho {forms[0].member.full_name}"
