"""The period's dates against the regimes' deadlines: R2018-P-TIMING, R2025-P-DEADLINES, R2025-P-MEETING."""

from datetime import date

from assessments.rulebooks import Schedule, Severity, get_rulebook

RB2018 = get_rulebook("2018")
RB2025 = get_rulebook("2025")


def warned(findings, rule_id):
    return [f for f in findings if f.rule_id == rule_id and f.severity == Severity.WARN]


def late_2025(**dates):
    return warned(RB2025.schedule_findings(Schedule(2025, **dates)), "R2025-P-DEADLINES")


def test_2018_warns_each_review_stage_due_after_the_end_of_the_year_and_names_it():
    schedule = Schedule(2018, self_review_due=date(2019, 1, 2), cell_meeting_due=date(2019, 1, 8))
    findings = warned(RB2018.schedule_findings(schedule), "R2018-P-TIMING")
    assert [f.message_en.split(" is ")[0] for f in findings] == [
        "The self-review due date",
        "The cell-meeting due date",
    ]
    assert "08/01/2019, after 31/12/2018" in findings[1].message_en
    assert findings[1].message_vi.startswith("Hạn họp chi bộ là ngày 08/01/2019, sau ngày 31/12/2018")


def test_2018_leaves_the_decisions_to_january_and_a_period_without_dates_alone():
    schedule = Schedule(2018, grassroots_decision_due=date(2019, 1, 20), city_decision_due=date(2019, 2, 20))
    assert RB2018.schedule_findings(schedule) == ()
    assert RB2018.schedule_findings(Schedule(2018)) == ()


def test_2025_the_review_deadline_is_31_december_inclusive():
    assert late_2025(cell_meeting_due=date(2025, 12, 31)) == []
    assert len(late_2025(cell_meeting_due=date(2026, 1, 1))) == 1
    assert len(late_2025(self_review_due=date(2026, 1, 1), grassroots_decision_due=date(2026, 1, 2))) == 2


def test_2025_a_special_unit_has_until_15_january():
    params = RB2025.parameters({"special_unit": True})
    schedule = Schedule(2025, grassroots_decision_due=date(2026, 1, 15))
    assert warned(RB2025.schedule_findings(schedule, params), "R2025-P-DEADLINES") == []
    schedule = Schedule(2025, grassroots_decision_due=date(2026, 1, 16))
    (finding,) = warned(RB2025.schedule_findings(schedule, params), "R2025-P-DEADLINES")
    assert "by 15/01/2026" in finding.message_en


def test_2025_the_decision_above_the_grassroots_must_leave_time_for_the_dossier_by_1_february():
    assert late_2025(city_decision_due=date(2026, 2, 1)) == []
    (finding,) = late_2025(city_decision_due=date(2026, 2, 2))
    assert "dossier (form 04)" in finding.message_en and "01/02/2026" in finding.message_en
    assert "Mẫu 04" in finding.message_vi and finding.message_vi.endswith("(HD 43-HD/BTCTW, mục 4)")


def test_2025_notes_what_the_meeting_rule_cannot_check_without_warning():
    findings = RB2025.schedule_findings(Schedule(2025))
    (note,) = [f for f in findings if f.rule_id == "R2025-P-MEETING"]
    assert note.severity == Severity.INFO and "3 working days" in note.message_en


def test_a_quarterly_period_has_no_deadline_findings():
    schedule = Schedule(2025, quarter=3, self_review_due=date(2026, 3, 1), city_decision_due=date(2026, 3, 1))
    assert RB2025.schedule_findings(schedule) == ()
    assert RB2018.schedule_findings(Schedule(2018, quarter=4, cell_meeting_due=date(2019, 2, 1))) == ()


def test_2025_a_meeting_is_late_only_after_the_period_s_due_date_and_2018_has_no_such_rule():
    schedule = Schedule(2025, cell_meeting_due=date(2025, 12, 15))
    assert RB2025.meeting_findings(date(2025, 12, 15), schedule) == ()
    (finding,) = RB2025.meeting_findings(date(2025, 12, 16), schedule)
    assert finding.severity == Severity.WARN and "held on 16/12/2025, after 15/12/2025" in finding.message_en
    assert RB2025.meeting_findings(date(2025, 12, 16), Schedule(2025)) == ()
    assert RB2018.meeting_findings(date(2019, 3, 1), Schedule(2018, cell_meeting_due=date(2018, 12, 1))) == ()
