"""An exclusion is stored as its rule id, its reason and the values its message cites; from those three
`exclusion_message` writes the message again, in either language, word for word."""

from datetime import date

import pytest

from assessments.rulebooks import CollectiveFacts, OrganizationFacts, exclusion_message, get_rulebook
from vocabulary import ExclusionReason

from .cases import REFERENCE, REFERENCE_2025, member

HD21 = {"guidance": "HD21"}
CASES = [
    ("2018", member(status="excused"), REFERENCE, "R2018-M-EXEMPT-MIEN", ExclusionReason.EXCUSED),
    ("2018", member(status="suspended"), REFERENCE, "R2018-M-EXEMPT-SUSP", ExclusionReason.SUSPENDED),
    ("2018", member(admission_date=date(2018, 6, 2)), REFERENCE, "R2018-M-NEW", ExclusionReason.NEW_MEMBER),
    (
        "2018",
        OrganizationFacts(founded_on=date(2018, 7, 1)),
        REFERENCE,
        "R2018-O-NEW",
        ExclusionReason.NEW_ORGANIZATION,
    ),
    ("2025", member(status="excused"), REFERENCE_2025, "R2025-M-EXEMPT", ExclusionReason.EXCUSED),
    ("2025", member(status="suspended"), REFERENCE_2025, "R2025-M-EXEMPT", ExclusionReason.SUSPENDED),
    ("2025", member(admission_date=date(2025, 6, 2)), REFERENCE_2025, "R2025-M-EXEMPT", ExclusionReason.NEW_MEMBER),
    (
        "2025",
        CollectiveFacts(founded_on=date(2025, 7, 1)),
        REFERENCE_2025,
        "R2025-O-NEW",
        ExclusionReason.NEW_ORGANIZATION,
    ),
]


@pytest.mark.parametrize(("regime", "facts", "reference", "rule_id", "reason"), CASES, ids=lambda v: str(v)[:20])
def test_the_stored_rule_reason_and_values_write_the_same_message_in_both_languages(
    regime, facts, reference, rule_id, reason
):
    rulebook = get_rulebook(regime)
    exclusion = rulebook.exclusion(facts, reference, rulebook.parameters(HD21 if regime == "2018" else {}))
    assert (exclusion.rule_id, exclusion.reason) == (rule_id, reason)
    assert isinstance(exclusion.reason, ExclusionReason)
    for lang in ("vi", "en"):
        assert exclusion_message(exclusion.rule_id, exclusion.reason, exclusion.values, lang) == exclusion.message(lang)
    # Stored as JSON: plain strings in, the same message out.
    stored = {key: str(value) for key, value in exclusion.values.items()}
    assert exclusion_message(rule_id, str(reason), stored, "vi") == exclusion.message_vi


def test_the_values_are_written_as_the_message_cites_them():
    exclusion = get_rulebook("2018").exclusion(member(admission_date=date(2018, 6, 2)), REFERENCE)
    assert exclusion.values == {"admitted": "02/06/2018", "months": "6"}
    assert "02/06/2018" in exclusion.message_vi and "02/06/2018" in exclusion.message_en


def test_the_2025_rule_has_one_message_per_reason():
    rulebook = get_rulebook("2025")
    excused = rulebook.exclusion(member(status="excused"), REFERENCE_2025)
    suspended = rulebook.exclusion(member(status="suspended"), REFERENCE_2025)
    assert excused.rule_id == suspended.rule_id == "R2025-M-EXEMPT"
    assert "miễn công tác" in excused.message_vi and "đình chỉ" in suspended.message_vi
    assert "excused" in excused.message_en and "suspended" in suspended.message_en


def test_a_rule_no_regime_has_any_more_gives_its_id():
    assert exclusion_message("R1999-GONE", "excused", {}, "en") == "R1999-GONE"
