"""The rule catalogue against the regime notes: every rule id is accounted for, and every implemented one is tested.

DOC_RULES copies the rule lists of the regime notes (data/regime-2018.md and data/regime-2025.md, §8) with
their marks; a rule whose mark differs by document (e.g. [V] for HD 21, [R] for HD 16) carries its main mark.
"""

import pytest

from assessments.rulebooks import RULES, AnswerError, Severity, get_rulebook

from .cases import check_case, hits
from .test_rules_2018 import CASES as CASES_2018
from .test_rules_2025 import CASES as CASES_2025

DOC_RULES = {
    "2018": {
        "R2018-ALL-LEVEL": "V", "R2018-M-EXEMPT-MIEN": "V", "R2018-M-EXEMPT-SUSP": "V", "R2018-M-CU-SUSP": "V",
        "R2018-M-NEW": "V", "R2018-M-PROBATION": "V", "R2018-O-NEW": "V", "R2018-M-SICK": "V",
        "R2018-M-MATERNITY": "V", "R2018-M-TRANSFER": "V", "R2018-M-TEMP": "V", "R2018-M-DISCIPLINE": "V",
        "R2018-M-DEGRADATION": "V", "R2018-M-TASKS50": "V", "R2018-M-CBCCVC-KHTNV": "V", "R2018-M-CBCCVC-XS": "V",
        "R2018-M-CBCCVC-CAP": "R", "R2018-M-XS-CRITERIA": "V", "R2018-M-CRITERIA": "R", "R2018-M-CHECKLIST": "V",
        "R2018-Q-MEMBER": "V", "R2018-Q-COLLECTIVE": "V", "R2018-Q-ORG": "R", "R2018-Q-LEADER": "R",
        "R2018-O-XS-CRITERIA": "V", "R2018-O-XS-SUB": "V", "R2018-O-XS-PEER": "V", "R2018-O-TT-CRITERIA": "V",
        "R2018-O-TT-SUB": "V", "R2018-O-TT-PEER": "V", "R2018-O-HTNV": "V", "R2018-O-DISCIPLINED": "V",
        "R2018-O-TASKS50": "V", "R2018-O-KHTNV20-CB": "V", "R2018-O-KHTNV20-DB": "R", "R2018-O-OTHER": "R",
        "R2018-C-CAP-ORG": "V", "R2018-C-DISCIPLINE": "V", "R2018-L-UNIT": "R", "R2018-L-NOT-ABOVE": "R",
        "R2018-P-ORDER": "R", "R2018-P-TIMING": "V", "R2018-P-CBCCVC-FIRST": "V", "R2018-M-TWO-YEARS": "V",
        "R2018-AWARD": "V",
    },
    "2025": {
        "R2025-S-SCORE": "V", "R2025-S-BANDS": "V", "R2025-S-COMBINE": "R", "R2025-C-XS": "V", "R2025-L-XS": "V",
        "R2025-M-XS": "V", "R2025-ALL-XS-FIX": "V", "R2025-ALL-TT": "V", "R2025-ALL-HTNV": "V",
        "R2025-Q-QUOTA": "V", "R2025-Q-EXCEPTION": "V", "R2025-C-K-PERSONNEL": "V", "R2025-C-K-DISC": "V",
        "R2025-C-K-DEGR": "V", "R2025-C-K-TASKS": "V", "R2025-L-K-TASKS": "V", "R2025-L-K-VOTE": "V",
        "R2025-L-K-DISC": "V", "R2025-L-K-DEGR": "V", "R2025-L-K-CORRUPT": "V", "R2025-M-K-CONDUCT": "V",
        "R2025-M-K-TASKS": "V", "R2025-ALL-MITIGATE": "V", "R2025-ALL-DISC-TIME": "V", "R2025-M-EXEMPT": "V",
        "R2025-ALL-REVIEW-CLASS": "V", "R2025-M-SICK": "V", "R2025-M-TEMP": "V", "R2025-M-CU-SUSP": "V",
        "R2025-C-SMALL": "V", "R2025-L-PLACES": "V", "R2025-O-BASIS": "V", "R2025-C-CAP-ORG": "R",
        "R2025-L-NOT-ABOVE": "R", "R2025-P-ORDER": "V", "R2025-P-MEETING": "V", "R2025-P-RECHECK": "V",
        "R2025-P-DEADLINES": "V", "R2025-P-REGRADE": "V", "R2025-P-PUBLISH": "V", "R2025-P-PERIODS": "V",
        "R2025-M-TWO-YEARS": "R",
    },
}  # fmt: skip
# Rules the catalogue adds to the notes' list: [R] by construction, each detailing a rule of the notes.
ADDED = {"2025": {"R2025-M-TRANSFER", "R2025-O-NEW", "R2025-O-CONDITIONS"}}
# Rules the project enforces outside the rulebook package (their `where`) and rules no machine checks.
ELSEWHERE = {
    "2018": {"R2018-P-ORDER", "R2018-AWARD"},
    "2025": {"R2025-ALL-REVIEW-CLASS", "R2025-P-ORDER", "R2025-P-RECHECK", "R2025-P-REGRADE"},
}
SKIPPED = {
    "2018": set(),
    "2025": {"R2025-L-PLACES", "R2025-P-PUBLISH", "R2025-P-PERIODS"},
}
CASES = CASES_2018 + CASES_2025


@pytest.mark.parametrize("code", ["2018", "2025"])
def test_the_catalogue_lists_every_rule_of_the_notes_with_its_mark(code):
    rules = get_rulebook(code).rules
    assert set(rules) == set(DOC_RULES[code]) | ADDED.get(code, set())
    for rule_id, mark in DOC_RULES[code].items():
        assert rules[rule_id].mark == mark, rule_id
    assert all(rules[rule_id].mark == "R" for rule_id in ADDED.get(code, ()))


@pytest.mark.parametrize("code", ["2018", "2025"])
def test_skipped_rules_are_exactly_the_procedural_ones_and_say_why(code):
    rules = get_rulebook(code).rules
    assert {rule_id for rule_id, spec in rules.items() if spec.status == "skipped"} == SKIPPED[code]
    assert all(rules[rule_id].reason for rule_id in SKIPPED[code])
    assert {rule_id for rule_id, spec in rules.items() if spec.status == "elsewhere"} == ELSEWHERE[code]
    assert all(rules[rule_id].where for rule_id in ELSEWHERE[code])


@pytest.mark.parametrize("code", ["2018", "2025"])
def test_every_implemented_rule_is_in_the_registry_with_its_source_and_mark(code):
    for rule_id, spec in get_rulebook(code).implemented_rules.items():
        assert RULES[rule_id] is spec
        assert spec.source and spec.mark in ("V", "R") and spec.title_vi and spec.title_en
        assert spec.messages["default"][0] and spec.messages["default"][1]
    assert not (SKIPPED[code] | ELSEWHERE[code]) & set(RULES)


def test_every_implemented_rule_has_a_firing_and_a_quiet_test():
    implemented = {rule_id for code in ("2018", "2025") for rule_id in get_rulebook(code).implemented_rules}
    firing = {case.rule_id for case in CASES if case.fires}
    calm = {case.rule_id for case in CASES if not case.fires}
    assert implemented - firing == set(), "rules without a firing case"
    assert implemented - calm == set(), "rules without a quiet case"
    assert (firing | calm) - implemented == set(), "cases of unknown rules"


R_FIRING = [case for case in CASES if case.fires and RULES[case.rule_id].mark == "R"]


@pytest.mark.parametrize("case", R_FIRING, ids=str)
def test_an_r_rule_falls_silent_when_the_board_switches_it_off(case):
    params = get_rulebook(case.regime).default_parameters().with_switch(case.rule_id, enabled=False)
    found = hits(case.result(params), case.rule_id)
    assert all(getattr(item, "severity", Severity.INFO) == Severity.INFO for item in found), found


@pytest.mark.parametrize("case", [c for c in R_FIRING if c.severity != Severity.INFO], ids=str)
def test_an_r_rule_warns_by_default_and_blocks_only_when_the_board_says_so(case):
    check_case(case)
    default = hits(case.result(), case.rule_id)
    assert all(getattr(item, "severity", Severity.WARN) == Severity.WARN for item in default)
    params = get_rulebook(case.regime).default_parameters().with_switch(case.rule_id, severity="block")
    found = hits(case.result(params), case.rule_id)
    assert found and all(getattr(item, "severity", Severity.BLOCK) == Severity.BLOCK for item in found)


@pytest.mark.parametrize("case", [c for c in CASES if c.fires], ids=str)
def test_every_finding_has_both_messages_citing_the_source(case):
    spec = RULES[case.rule_id]
    for item in hits(case.result(), case.rule_id):
        assert item.message_vi and item.message_en and item.message_vi != item.message_en
        assert "{" not in item.message_vi and "{" not in item.message_en
        if not isinstance(item, AnswerError):  # form errors quote the item, not the rule's source
            assert item.message_vi.endswith(f"({spec.source})") and item.message_en.endswith(f"({spec.source})")
