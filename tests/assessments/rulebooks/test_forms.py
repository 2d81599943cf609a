"""Form templates of both regimes: they load, they validate, and answers are checked against them."""

import copy
from datetime import date
from decimal import Decimal

import pytest

from assessments.rulebooks import (
    Answers,
    AnswersError,
    FormPurpose,
    FormTemplate,
    ItemKind,
    MemberFacts,
    Presence,
    SubjectKind,
    TaskStats,
    TemplateError,
    get_rulebook,
    score,
    validate_answers,
)

R2018, R2025 = get_rulebook("2018"), get_rulebook("2025")
HD16 = R2018.parameters({"guidance": "HD16"})

EVERY_TEMPLATE = [
    (rulebook.code, kind, purpose, variant)
    for rulebook in (R2018, R2025)
    for kind in SubjectKind
    for purpose in FormPurpose
    for variant in rulebook.form_variants(kind, purpose)
]


def template_of(code, kind, purpose=FormPurpose.SELF_REVIEW, variant=None, params=None):
    return get_rulebook(code).form_template(kind, purpose, variant, params)


@pytest.mark.parametrize(("code", "kind", "purpose", "variant"), EVERY_TEMPLATE, ids=lambda v: str(v))
def test_every_template_loads_validates_and_round_trips(code, kind, purpose, variant):
    template = template_of(code, kind, purpose, variant)
    assert template.regime == code and template.subject_kind == kind and template.purpose == purpose
    assert template.code and template.title_vi and template.title_en
    assert all(item.label_vi and item.label_en for item in template.items())
    assert any(item.kind == ItemKind.LEVEL and item.required for item in template.items())
    assert FormTemplate.from_dict(copy.deepcopy(template.to_dict())) == template
    assert validate_answers(template, {}) == []


def filled(template, author):
    """A valid value for every item of the sections `author` fills."""
    values = {
        ItemKind.TEXT: lambda item: "Nội dung",
        ItemKind.LEVEL: lambda item: "HTTNV",
        ItemKind.RATING: lambda item: "tot",
        ItemKind.POINTS: lambda item: item.max_points,
        ItemKind.CHECKLIST: lambda item: {entry.id: "absent" for entry in item.entries},
        ItemKind.SHARE: lambda item: "100",
    }
    return {
        item.id: values[item.kind](item)
        for section in template.sections
        if (section.filled_by or template.filled_by) == author
        for item in section.items
    }


@pytest.mark.parametrize(("code", "kind", "purpose", "variant"), EVERY_TEMPLATE, ids=lambda v: str(v))
def test_every_template_can_be_submitted_by_each_of_its_authors(code, kind, purpose, variant):
    template = template_of(code, kind, purpose, variant, HD16 if code == "2018" else None)
    authors = {section.filled_by or template.filled_by for section in template.sections}
    for author in authors:
        answers = filled(template, author)
        assert validate_answers(template, answers, submit=True, filled_by=author) == []
        required = [
            i.id
            for s in template.sections
            if (s.filled_by or template.filled_by) == author
            for i in s.items
            if i.required
        ]
        assert required, f"{author} has nothing to fill"
        for item_id in required:
            missing = {key: value for key, value in answers.items() if key != item_id}
            assert validate_answers(template, missing, submit=True, filled_by=author), item_id


def test_every_subject_kind_has_a_self_review_and_an_analysis_form_in_both_regimes():
    for rulebook in (R2018, R2025):
        for kind in SubjectKind:
            for purpose in FormPurpose:
                assert rulebook.form_variants(kind, purpose)


@pytest.mark.parametrize(("code", "kind", "purpose", "variant"), [t for t in EVERY_TEMPLATE if t[0] == "2025"])
def test_2025_forms_score_30_plus_70(code, kind, purpose, variant):
    template = template_of(code, kind, purpose, variant)
    assert template.total_points == 100
    assert sum(item.max_points for item in template.points_items("general")) == 30
    assert sum(item.max_points for item in template.points_items("results")) == 70


@pytest.mark.parametrize(
    ("code", "kind", "purpose", "variant"), [t for t in EVERY_TEMPLATE if t[0] == "2018" and t[2] == "analysis"]
)
def test_2018_analysis_forms_rate_criteria_on_four_steps(code, kind, purpose, variant):
    template = template_of(code, kind, purpose, variant)
    assert template.rating_items()
    assert template.rating_items("results")
    assert not template.points_items()


def test_the_2018_member_self_review_has_the_stable_sections_and_both_proposed_levels():
    template = template_of("2018", "member")
    assert [s.id for s in template.sections][:9] == [
        "header",
        "I",
        "II",
        "III",
        "IV",
        "VI",
        "VII",
        "cell_comment",
        "committee_decision",
    ]
    assert {"full_name", "date_of_birth", "party_post", "government_post", "work_unit", "cell"} <= set(
        template.item_ids
    )
    assert template.item("proposed_level_civil_servant").kind == ItemKind.LEVEL
    assert template.item("proposed_level_member").required
    assert template.section_of("cell_comment").filled_by == "cell"


def test_a_leaders_self_review_adds_the_unit_results_and_the_collective_responsibility():
    member, leader = template_of("2018", "member"), template_of("2018", "leader")
    assert "V" in [s.id for s in leader.sections] and "V" not in [s.id for s in member.sections]
    assert "strengths_unit_results" in leader.item_ids and "strengths_unit_results" not in member.item_ids


def test_the_hd16_self_review_carries_the_27_manifestations_and_hd21_does_not():
    assert "manifestations_checklist" not in template_of("2018", "member").item_ids
    checklist = template_of("2018", "member", params=HD16).item("manifestations_checklist")
    assert (checklist.kind, checklist.required, checklist.rule_id) == (ItemKind.CHECKLIST, True, "R2018-M-CHECKLIST")
    assert len(checklist.entries) == 27
    assert [entry.group for entry in checklist.entries].count("B") == 9


def test_manifestations_without_the_official_wording_are_flagged_and_labelled_as_keywords():
    entries = {e.id: e for e in template_of("2018", "member", params=HD16).item("manifestations_checklist").entries}
    keyword = entries["A7"]
    assert keyword.awaiting_official_wording
    assert "chưa có nguyên văn" in keyword.label_vi and keyword.keyword_vi in keyword.label_vi
    assert entries["A5"].awaiting_official_wording and "chưa đủ nguyên văn" in entries["A5"].label_vi
    verified = entries["A1"]
    assert not verified.awaiting_official_wording
    assert verified.label_vi.startswith("Phai nhạt lý tưởng cách mạng")
    assert sum(e.awaiting_official_wording for e in entries.values()) == 17


def test_the_2025_self_review_relates_to_the_manifestations_in_free_text():
    template = template_of("2025", "member", variant="2B")
    item = template.item("strengths_conduct")
    assert (item.kind, item.reference) == (ItemKind.TEXT, "manifestations_27")
    assert not [i for i in template.items() if i.kind == ItemKind.CHECKLIST]
    assert len([m for group in R2025.manifestations() for m in group["items"]]) == 27


def test_the_2025_variants_pick_their_annex_and_wording():
    b, c, a = (
        template_of("2025", "member", variant="2B"),
        template_of("2025", "member", variant="2C"),
        template_of("2025", "leader"),
    )
    assert "g2_competence" in b.item_ids and "r1_member_duties" in c.item_ids and "r2_leadership" in a.item_ids
    assert "quyền và nghĩa vụ của đảng viên" in c.item("strengths_duties").label_vi
    assert "task_results_appendix" in b.item_ids and "task_results_appendix" not in c.item_ids
    assert "party_post" in a.item_ids and "party_post" not in b.item_ids
    assert (a.code, b.code, c.code) == ("Mẫu 02A-HD KĐ.ĐG 2025", "Mẫu 2B-HD KĐ.ĐG 2025", "Mẫu 2C-HD KĐ.ĐG 2025")


def test_the_organisation_analysis_marks_party_building_and_results_criteria():
    template = template_of("2018", "organization", "analysis")
    assert {i.id for i in template.rating_items("party_building")} == {
        "political_ideological_work",
        "organization_personnel",
        "leading_government_front",
        "inspection_discipline",
    }
    assert {i.id for i in template.rating_items("results")} == {
        i.id for i in template.rating_items("party_building")
    } | {"socio_economic_defence"}
    assert template.code == "Mẫu 03-HD KĐ.ĐG"


def test_an_unknown_variant_or_form_is_refused():
    with pytest.raises(ValueError, match="variant"):
        R2025.form_template("member", "self_review", "2A")
    with pytest.raises(ValueError):
        R2018.form_template("member", "self_review", "2B")
    with pytest.raises(ValueError):
        R2018.form_template("citizen")


# --- Answers ---------------------------------------------------------------------------------------


def codes(errors):
    return sorted((error.item_id, error.code) for error in errors)


def test_answer_errors_name_the_item_and_the_problem():
    template = template_of("2025", "member", variant="2B")
    errors = validate_answers(
        template,
        {
            "nonsense": "x",
            "g1_politics_ethics": "21",
            "g2_competence": -1,
            "g3_self_criticism": "two",
            "proposed_level": "EXCELLENT",
            "shortcomings": 42,
        },
    )
    assert codes(errors) == [
        ("g1_politics_ethics", "points_above_max"),
        ("g2_competence", "points_negative"),
        ("g3_self_criticism", "points_invalid"),
        ("nonsense", "unknown_item"),
        ("proposed_level", "unknown_level"),
        ("shortcomings", "wrong_type"),
    ]
    above = next(e for e in errors if e.code == "points_above_max")
    assert "vượt quá điểm tối đa 20" in above.message_vi and "exceed the maximum of 20" in above.message_en


def test_points_at_the_maximum_and_decimals_are_accepted():
    template = template_of("2025", "member", variant="2B")
    assert validate_answers(template, {"g1_politics_ethics": "20", "g2_competence": Decimal("7.5")}) == []


def test_an_unknown_rating_is_refused():
    template = template_of("2018", "member", "analysis")
    assert codes(validate_answers(template, {"duty_results": "excellent"})) == [("duty_results", "unknown_rating")]


def test_required_items_are_checked_on_submit_only_for_the_author():
    template = template_of("2018", "member")
    draft = {"full_name": "Nguyễn Văn An"}
    assert validate_answers(template, draft) == []
    missing = {item_id for item_id, code in codes(validate_answers(template, draft, submit=True)) if code == "required"}
    assert "proposed_level_member" in missing and "plan" in missing
    assert "cell_comment" not in missing and "decided_level" not in missing and "explanations" not in missing
    cell_missing = {e.item_id for e in validate_answers(template, draft, submit=True, filled_by="cell")}
    assert cell_missing == {"cell_comment", "cell_proposed_level"}


def test_a_blank_text_does_not_count_as_an_answer():
    template = template_of("2018", "member")
    errors = validate_answers(template, {"plan": "   "}, submit=True)
    assert ("plan", "required") in codes(errors)


def test_the_checklist_must_be_complete_on_submit_and_marked_present_or_absent():
    template = template_of("2018", "member", params=HD16)
    partial = {"A1": Presence.ABSENT, "A2": "present"}
    assert validate_answers(template, {"manifestations_checklist": partial}) == []
    (incomplete,) = [
        e
        for e in validate_answers(template, {"manifestations_checklist": partial}, submit=True)
        if e.item_id == "manifestations_checklist"
    ]
    assert (incomplete.code, incomplete.rule_id) == ("checklist_incomplete", "R2018-M-CHECKLIST")
    assert "25 biểu hiện" in incomplete.message_vi
    bad = validate_answers(template, {"manifestations_checklist": {"A1": "maybe", "Z9": "absent"}})
    assert codes(bad) == [
        ("manifestations_checklist", "checklist_invalid_value"),
        ("manifestations_checklist", "checklist_unknown_entry"),
    ]
    empty = validate_answers(template, {}, submit=True)
    assert ("manifestations_checklist", "required") in codes(empty)


def test_score_adds_the_groups_and_lists_the_missing_items():
    template = template_of("2025", "member", variant="2C")
    result = score(template, {"g1_conduct": "18.5", "r1_member_duties": 30, "r2_study_participation": 20})
    assert (result.general, result.results, result.total) == (Decimal("18.5"), 50, Decimal("68.5"))
    assert result.missing == ("g2_self_criticism", "r3_extra_tasks")


# --- Template validation ----------------------------------------------------------------------------


def edited(mutate):
    data = copy.deepcopy(template_of("2025", "member", variant="2B").to_dict())
    mutate(data)
    return data


def _section(data, section_id):
    return next(s for s in data["sections"] if s["id"] == section_id)


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda d: _section(d, "B.I.1")["items"][0].update(max_points="25"), "add up to 35"),
        (lambda d: _section(d, "B.I.1").update(max_points="40"), "scored groups add up to 110"),
        (lambda d: _section(d, "A.II")["items"].append(dict(_section(d, "A.III")["items"][0])), "duplicate item id"),
        (lambda d: _section(d, "A.II")["items"][0].update(max_points="5"), "not a points item but has max_points"),
        (lambda d: _section(d, "B.I.1")["items"][0].update(max_points=None), "needs a positive max_points"),
        (lambda d: _section(d, "A.II")["items"][0].update(label_en=""), "needs label_vi and label_en"),
        (lambda d: _section(d, "A.II").update(items=[]), "has no items"),
        (lambda d: _section(d, "A.II")["items"][0].update(kind="checklist"), "has no entries"),
        (lambda d: d.update(total_points=None), "needs total_points"),
        (
            lambda d: _section(d, "B.I.2")["items"].append(
                {"id": "note", "kind": "text", "label_vi": "a", "label_en": "b"}
            ),
            "only points items",
        ),
        (lambda d: _section(d, "A.II")["items"][0].update(kind="essay"), "malformed"),
    ],
    ids=[
        "items above the group maximum",
        "groups above the total",
        "duplicate ids",
        "max on a text item",
        "points without max",
        "missing English label",
        "empty section",
        "checklist without entries",
        "points without a total",
        "text in a scored group",
        "unknown kind",
    ],
)
def test_a_template_edited_badly_is_refused_with_the_reason(mutate, problem):
    with pytest.raises(TemplateError, match=problem):
        FormTemplate.from_dict(edited(mutate))


def test_the_2025_regime_refuses_a_template_that_moves_points_between_the_groups():
    def shift(data):
        _section(data, "B.I.1").update(max_points="40")
        _section(data, "B.I.1")["items"][0]["max_points"] = "30"
        _section(data, "B.I.2").update(max_points="60")
        _section(data, "B.I.2")["items"][0]["max_points"] = "15"

    template = FormTemplate.from_dict(edited(shift))  # consistent in itself
    with pytest.raises(TemplateError, match="general group carries 40 points; this regime requires 30"):
        R2025.check_template(template)
    facts = MemberFacts(admission_date=date(2000, 1, 1), occupation="civil_servant")
    with pytest.raises(TemplateError):
        R2025.evaluate_member(facts, Answers(points={"g1_politics_ethics": 1}), template=template)
    with pytest.raises(TemplateError, match="regime '2018'"):
        R2025.check_template(template_of("2018", "member"))
    assert R2018.check_template(template_of("2018", "member")).regime == "2018"


def test_a_board_edited_template_with_new_weights_is_accepted_and_used_for_scoring():
    def reweigh(data):
        general = _section(data, "B.I.1")["items"]
        general[0]["max_points"], general[1]["max_points"], general[2]["max_points"] = "15", "10", "5"

    template = FormTemplate.from_dict(edited(reweigh))
    assert template.item("g1_politics_ethics").max_points == 15
    assert codes(validate_answers(template, {"g1_politics_ethics": 16})) == [("g1_politics_ethics", "points_above_max")]
    points = {item.id: item.max_points for item in template.points_items()}
    points["g1_politics_ethics"] = Decimal(5)  # 10 off: 90 in all
    facts = MemberFacts(admission_date=date(2000, 1, 1), official_date=date(2001, 1, 1), occupation="civil_servant")
    answers = Answers(points=points, tasks=TaskStats(1, 1, "0.5"))
    assert R2025.evaluate_member(facts, answers, template=template).score.total == 90
    with pytest.raises(AnswersError):
        R2025.evaluate_member(facts, answers)  # the shipped weights cap g2_competence at 8, not 10
