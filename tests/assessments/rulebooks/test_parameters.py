"""Period parameters: defaults per regime, JSON round trip, and every bad value reported in both languages."""

import json
from decimal import Decimal

import pytest

from assessments.rulebooks import ParameterError, Severity, get_rulebook

R2018, R2025 = get_rulebook("2018"), get_rulebook("2025")


@pytest.mark.parametrize("code", ["2018", "2025"])
def test_defaults_survive_a_json_round_trip(code):
    rulebook = get_rulebook(code)
    params = rulebook.default_parameters()
    stored = json.loads(json.dumps(params.to_dict()))
    assert rulebook.parameters(stored) == params


def test_the_defaults_follow_the_texts():
    params = R2018.default_parameters()
    assert (params.quota_rate, params.quota_denominator, params.quota_rounding) == (Decimal("0.20"), "HTTNV", "down")
    assert (params.new_member_months, params.new_org_months, params.sick_leave_months, params.transfer_months) == (
        6,
        6,
        3,
        6,
    )
    assert params.transfer_comment_severity == Severity.BLOCK and params.tasks_threshold == Decimal("0.5")
    params = R2025.default_parameters()
    assert (params.band_htxsnv, params.band_httnv, params.band_htnv) == (90, 70, 50)
    assert params.quota_raised_rate == Decimal("0.25")


@pytest.mark.parametrize("code", ["2018", "2025"])
def test_every_r_rule_is_a_switch_on_as_a_warning_by_default(code):
    rulebook = get_rulebook(code)
    params = rulebook.default_parameters()
    r_rules = {rule_id for rule_id, spec in rulebook.rules.items() if spec.mark == "R" and spec.implemented}
    assert set(params.switches) == r_rules
    assert all(switch.enabled and switch.severity == Severity.WARN for switch in params.switches.values())


def test_a_partial_dict_keeps_the_other_defaults():
    params = R2018.parameters({"quota_rate": "0.25", "switches": {"R2018-O-OTHER": {"enabled": False}}})
    assert params.quota_rate == Decimal("0.25")
    assert params.new_member_months == 6
    assert params.switch("R2018-O-OTHER").enabled is False
    assert params.switch("R2018-L-UNIT").enabled is True


@pytest.mark.parametrize(
    ("rulebook", "data", "field"),
    [
        (R2018, {"quota_rate": "1.5"}, "quota_rate"),
        (R2018, {"quota_rate": 0.2}, "quota_rate"),
        (R2018, {"quota_rate": "twenty"}, "quota_rate"),
        (R2018, {"quota_denominator": "ALL"}, "quota_denominator"),
        (R2018, {"quota_rounding": "banker"}, "quota_rounding"),
        (R2018, {"quota_severity": "stop"}, "quota_severity"),
        (R2018, {"new_member_months": -1}, "new_member_months"),
        (R2018, {"new_member_months": "6"}, "new_member_months"),
        (R2018, {"sick_leave_months": True}, "sick_leave_months"),
        (R2018, {"guidance": "HD99"}, "guidance"),
        (R2018, {"org_xs_share": "0.4"}, "org_xs_share"),
        (R2018, {"band_htxsnv": "90"}, "band_htxsnv"),
        (R2018, {"switches": {"R2018-M-DISCIPLINE": {"enabled": False}}}, "switches.R2018-M-DISCIPLINE"),
        (R2018, {"switches": {"R2018-O-OTHER": {"severity": "fatal"}}}, "switches.R2018-O-OTHER"),
        (R2018, {"switches": {"R2018-O-OTHER": {"enabled": "yes"}}}, "switches.R2018-O-OTHER"),
        (R2018, {"switches": {"R2018-O-OTHER": {"colour": "red"}}}, "switches.R2018-O-OTHER"),
        (R2018, {"switches": ["R2018-O-OTHER"]}, "switches"),
        (R2025, {"band_httnv": "95"}, "band_htxsnv"),
        (R2025, {"band_htnv": "101"}, "band_htnv"),
        (R2025, {"quota_raised_rate": "0.1"}, "quota_raised_rate"),
        (R2025, {"gap_manual_decision": "yes"}, "gap_manual_decision"),
        (R2025, {"guidance": "HD21"}, "guidance"),
    ],
    ids=lambda value: json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else str(value)[:12],
)
def test_a_bad_value_is_reported_with_its_field_in_both_languages(rulebook, data, field):
    issues = rulebook.validate_parameters(data)
    assert [issue.field for issue in issues] == [field]
    assert issues[0].message_vi and issues[0].message_en and issues[0].message_vi != issues[0].message_en
    with pytest.raises(ParameterError, match=field.split(".")[0]):
        rulebook.parameters(data)


def test_every_problem_is_reported_at_once():
    issues = R2018.validate_parameters({"quota_rate": "2", "quota_rounding": "x", "nonsense": 1})
    assert {issue.field for issue in issues} == {"quota_rate", "quota_rounding", "nonsense"}


def test_the_quota_rate_message_names_the_range():
    (issue,) = R2018.validate_parameters({"quota_rate": "1.5"})
    assert issue.message_vi.startswith("Tỉ lệ khống chế HTXSNV: phải nằm trong khoảng 0 đến 1")
    assert issue.message_en.startswith("HTXSNV quota rate: must be between 0 and 1")


def test_valid_data_has_no_issues():
    assert R2025.validate_parameters({"quota_denominator": "HTTNV_OR_BETTER", "band_htxsnv": "92.5"}) == []


def test_the_board_form_can_list_the_fields_with_labels():
    fields = {row["name"]: row for row in R2025.parameters_class.describe()}
    assert fields["band_htxsnv"]["label_vi"] == "Điểm tối thiểu mức HTXSNV"
    assert fields["quota_denominator"]["choices"] == ("HTTNV", "HTTNV_OR_BETTER")
    assert "switches" not in fields


def test_2018_allows_no_exception_to_the_quota_unless_the_period_does():
    counts = {"HTTNV": 8, "HTXSNV": 2}
    assert R2018.default_parameters().quota_exception_allowed is False
    assert R2018.exception_quota(counts, R2018.default_parameters()) is None
    params = R2018.parameters({"quota_exception_allowed": True})
    raised = R2018.exception_quota(counts, params)
    assert (raised.rule_id, raised.cap_count, raised.within) == ("R2018-Q-MEMBER", 2, True)
    assert R2018.exception_rule("member") == "R2018-Q-MEMBER"
    params = R2018.parameters({"quota_exception_allowed": True, "quota_exception_rate": "0.30"})
    assert R2018.exception_quota({"HTTNV": 10}, params, subject_kind="organization").cap_count == 3


def test_the_2025_exception_is_the_raised_quota():
    raised = R2025.exception_quota({"HTTNV": 8, "HTXSNV": 3})
    assert (raised.rule_id, raised.cap_count, raised.within) == ("R2025-Q-EXCEPTION", 2, False)
    assert R2025.exception_rule("organization") == "R2025-Q-EXCEPTION"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"quota_exception_allowed": "yes"}, "quota_exception_allowed"),
        ({"quota_exception_rate": "1.5"}, "quota_exception_rate"),
        ({"quota_exception_rate": "0.10"}, "quota_exception_rate"),
    ],
)
def test_the_2018_exception_parameters_are_checked(data, field):
    with pytest.raises(ParameterError) as error:
        R2018.parameters(data)
    assert [issue.field for issue in error.value.issues] == [field]
    assert all(issue.message_vi and issue.message_en for issue in error.value.issues)
