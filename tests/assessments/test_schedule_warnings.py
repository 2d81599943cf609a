"""The board's pages of a period show the rulebook's warnings on the period's dates and its cell meetings'
dates (R2018-P-TIMING, R2025-P-DEADLINES, R2025-P-MEETING); the cells' and committees' pages do not."""

import datetime

import pytest
from django.urls import reverse

from assessments.core.selectors import schedule_warnings
from assessments.models import Meeting, Period

pytestmark = pytest.mark.django_db

SECTION = 'class="card mb-4 border-warning schedule-warnings"'


def make_period(city, regime="2025", **dates):
    return Period.objects.create(organization=city.city, year=2025, regime=regime, **dates)


def meeting(period, cell, held_on):
    return Meeting.objects.create(
        period=period, organization=cell, held_on=held_on, members_total=3, present=3, absent=0
    )


def test_a_2025_period_due_after_31_december_warns_with_the_dates(city):
    period = make_period(city, grassroots_decision_due=datetime.date(2026, 1, 10))
    warnings = schedule_warnings(period, "en")
    late = [w for w in warnings if not w.note]
    assert [w.message for w in late] == [
        "The grassroots decision due date is 10/01/2026, after 31/12/2025: the review and classification "
        "must be done by 31/12/2025 (HD 43-HD/BTCTW, mục 4)"
    ]
    assert [w for w in warnings if w.note]  # what the meeting rule cannot check is said, as a note


def test_a_special_unit_period_has_until_15_january(city):
    period = make_period(city, grassroots_decision_due=datetime.date(2026, 1, 10))
    period.parameters = {"special_unit": True}
    assert [w for w in schedule_warnings(period, "en") if not w.note] == []


def test_cell_meetings_held_after_the_due_date_are_warned_by_cell_in_the_order_of_the_tree(city):
    period = make_period(city, cell_meeting_due=datetime.date(2025, 12, 15))
    meeting(period, city.cell_b1, datetime.date(2025, 12, 20))
    meeting(period, city.cell_a2, datetime.date(2025, 12, 16))
    meeting(period, city.cell_a1, datetime.date(2025, 12, 15))
    late = [w for w in schedule_warnings(period, "vi") if not w.note]
    assert [w.cell for w in late] == ["Chi bộ A2", "Chi bộ B1"]
    assert late[1].message.startswith("Hội nghị kiểm điểm họp ngày 20/12/2025, sau ngày 15/12/2025")


def test_a_2018_period_warns_self_reviews_due_after_the_year_but_not_its_meetings(city):
    period = make_period(
        city, regime="2018", self_review_due=datetime.date(2026, 1, 3), cell_meeting_due=datetime.date(2025, 12, 1)
    )
    meeting(period, city.cell_a1, datetime.date(2025, 12, 20))
    warnings = schedule_warnings(period, "en")
    assert len(warnings) == 1 and warnings[0].cell == ""
    assert "year-end work summary (QĐ 132-QĐ/TW, Điều 14)" in warnings[0].message


def test_a_period_within_its_deadlines_has_nothing_to_warn(city):
    period = make_period(
        city,
        regime="2018",
        self_review_due=datetime.date(2025, 12, 1),
        cell_meeting_due=datetime.date(2025, 12, 20),
        grassroots_decision_due=datetime.date(2026, 1, 10),
    )
    meeting(period, city.cell_a1, datetime.date(2025, 12, 20))
    assert schedule_warnings(period, "en") == []


@pytest.mark.parametrize("language, text", [("vi", "sau ngày 31/12/2025"), ("en", "after 31/12/2025")])
def test_the_board_sees_the_warnings_on_the_roster_and_on_the_period_s_progress_page(
    city, personas, client_for, language, text
):
    period = make_period(city, cell_meeting_due=datetime.date(2026, 1, 5))
    board = client_for(personas.board)
    for url in (
        reverse("assessments:roster", args=[period.public_id]),
        reverse("assessments:dashboard", args=[period.public_id, city.city.code]),
    ):
        page = board.get(url, HTTP_ACCEPT_LANGUAGE=language)
        content = page.content.decode()
        assert page.status_code == 200 and SECTION in content and text in content, url


def test_a_committee_officer_s_progress_page_does_not_carry_the_period_s_warnings(city, personas, client_for):
    period = make_period(city, cell_meeting_due=datetime.date(2026, 1, 5))
    page = client_for(personas.officer_a).get(
        reverse("assessments:dashboard", args=[period.public_id, city.committee_a.code])
    )
    assert page.status_code == 200 and SECTION not in page.content.decode()


def test_a_period_within_its_deadlines_shows_no_warning_section(city, personas, client_for):
    period = make_period(city, regime="2018", self_review_due=datetime.date(2025, 12, 1))
    page = client_for(personas.board).get(reverse("assessments:roster", args=[period.public_id]))
    assert page.status_code == 200 and SECTION not in page.content.decode()
