"""The task shares on the forms (item kind "share"): where they are, what an answer may be, and how the
rulebook reads them (Answers.tasks, Answers.shortcomings_fixed). And no message carries a note meant
for the developers."""

import copy
from datetime import date
from decimal import Decimal

import pytest

from assessments.rulebooks import (
    SHARE_NONE,
    Answers,
    FormPurpose,
    FormTemplate,
    ItemKind,
    MemberFacts,
    SubjectKind,
    TaskStats,
    TemplateError,
    get_rulebook,
    task_shares,
    validate_answers,
)
from assessments.rulebooks.catalogue import DEVELOPER_NOTE_MARKERS, load_catalogue

from .test_forms import EVERY_TEMPLATE, template_of

R2018, R2025 = get_rulebook("2018"), get_rulebook("2025")
TASKS = ("tasks.completed", "tasks.on_time", "tasks.exceeding")
ALL_2025 = (*TASKS, "shortcomings_fixed")


@pytest.mark.parametrize(
    ("kind", "purpose", "variant"),
    [
        (SubjectKind.LEADER, FormPurpose.SELF_REVIEW, "2A"),
        (SubjectKind.MEMBER, FormPurpose.SELF_REVIEW, "2B"),
        (SubjectKind.MEMBER, FormPurpose.SELF_REVIEW, "2C"),
        (SubjectKind.COLLECTIVE, FormPurpose.SELF_REVIEW, "01"),
        (SubjectKind.ORGANIZATION, FormPurpose.SELF_REVIEW, "01"),
        (SubjectKind.LEADER, FormPurpose.ANALYSIS, "2A"),
        (SubjectKind.MEMBER, FormPurpose.ANALYSIS, "2B"),
        (SubjectKind.MEMBER, FormPurpose.ANALYSIS, "2C"),
        (SubjectKind.COLLECTIVE, FormPurpose.ANALYSIS, "01"),
        (SubjectKind.ORGANIZATION, FormPurpose.ANALYSIS, "01"),
    ],
)
def test_every_2025_self_review_and_analysis_form_asks_for_the_four_shares(kind, purpose, variant):
    template = template_of("2025", kind, purpose, variant)
    shares = template.share_items()
    assert sorted(shares) == sorted(ALL_2025)
    assert [shares[m].id for m in ALL_2025] == [
        "tasks_completed",
        "tasks_on_time",
        "tasks_exceeding",
        "shortcomings_fixed",
    ]
    assert all(item.kind == ItemKind.SHARE for item in shares.values())
    assert shares["shortcomings_fixed"].allows_none and not shares["tasks.completed"].allows_none
    # The subject (self-review) or the rater (analysis) types them.
    section = template.section_of("tasks_completed")
    assert (section.filled_by or template.filled_by) == template.filled_by


def test_a_leader_gives_the_shares_of_the_units_they_lead():
    item = template_of("2025", SubjectKind.LEADER, FormPurpose.SELF_REVIEW, "2A").item("tasks_completed")
    assert "trực tiếp lãnh đạo, quản lý" in item.label_vi and "directly lead" in item.label_en


def test_the_2018_analysis_forms_ask_for_the_share_completed_where_the_rules_read_it():
    for kind, item_id, rule_id in (
        (SubjectKind.MEMBER, "tasks_completed", "R2018-M-TASKS50"),
        (SubjectKind.LEADER, "tasks_completed", "R2018-M-TASKS50"),
        (SubjectKind.ORGANIZATION, "targets_completed", "R2018-O-TASKS50"),
    ):
        shares = template_of("2018", kind, FormPurpose.ANALYSIS).share_items()
        assert list(shares) == ["tasks.completed"]
        assert (shares["tasks.completed"].id, shares["tasks.completed"].rule_id) == (item_id, rule_id)
    assert not template_of("2018", SubjectKind.COLLECTIVE, FormPurpose.ANALYSIS).share_items()


def _member_form():
    return template_of("2025", SubjectKind.MEMBER, FormPurpose.SELF_REVIEW, "2B")


@pytest.mark.parametrize(
    ("answers", "code", "item_id"),
    [
        ({"tasks_completed": "120"}, "share_out_of_range", "tasks_completed"),
        ({"tasks_completed": "-5"}, "share_out_of_range", "tasks_completed"),
        ({"tasks_on_time": "nhiều"}, "share_invalid", "tasks_on_time"),
        ({"tasks_completed": SHARE_NONE}, "share_none_not_allowed", "tasks_completed"),
        ({"tasks_completed": "80", "tasks_on_time": "90"}, "shares_inconsistent", "tasks_on_time"),
        ({"tasks_completed": "80", "tasks_exceeding": "85"}, "shares_inconsistent", "tasks_exceeding"),
    ],
)
def test_a_bad_share_is_refused_with_its_reason_in_both_languages(answers, code, item_id):
    errors = validate_answers(_member_form(), answers)
    assert [(e.code, e.item_id) for e in errors] == [(code, item_id)]
    assert errors[0].message_vi != errors[0].message_en and "%" in errors[0].message_vi + errors[0].message_en


def test_the_shares_that_do_not_add_up_say_so():
    (error,) = validate_answers(_member_form(), {"tasks_completed": "80", "tasks_on_time": "90"})
    assert error.message_vi.startswith("Các tỉ lệ không khớp nhau") and "90%" in error.message_vi
    assert error.message_en.startswith("The shares do not add up")


@pytest.mark.parametrize("value", ["0", "100", "92,5", "92.5", "92.5 %", 50])
def test_a_percentage_from_0_to_100_is_accepted_as_typed(value):
    assert validate_answers(_member_form(), {"tasks_completed": value}) == []


def test_there_were_no_earlier_shortcomings_is_an_answer():
    assert validate_answers(_member_form(), {"shortcomings_fixed": SHARE_NONE}) == []
    assert task_shares(_member_form(), {"shortcomings_fixed": SHARE_NONE}) == (None, None)


def test_the_shares_reach_the_rulebook_as_fractions():
    tasks, fixed = task_shares(
        _member_form(),
        {"tasks_completed": "100", "tasks_on_time": "92,5", "tasks_exceeding": "30", "shortcomings_fixed": "75"},
    )
    assert tasks == TaskStats(completed=Decimal(1), on_time=Decimal("0.925"), exceeding=Decimal("0.3"))
    assert fixed == Decimal("0.75")


def test_shares_left_empty_or_bad_are_left_out():
    form = _member_form()
    assert task_shares(form, {}) == (None, None)
    assert task_shares(form, {"tasks_on_time": "90"}) == (None, None)  # no share completed: no TaskStats
    assert task_shares(form, {"tasks_completed": "80", "tasks_on_time": "90"}) == (None, None)
    assert task_shares(form, {"tasks_completed": "150", "shortcomings_fixed": "50"}) == (None, Decimal("0.5"))


def test_a_template_with_a_share_item_without_measure_or_with_two_alike_is_refused():
    data = copy.deepcopy(_member_form().to_dict())
    tasks = next(s for s in data["sections"] if s["id"] == "B.tasks")
    tasks["items"][0]["measure"] = None
    with pytest.raises(TemplateError, match="needs a measure"):
        FormTemplate.from_dict(data)
    tasks["items"][0]["measure"] = "tasks.on_time"
    with pytest.raises(TemplateError, match="more than one share item measures 'tasks.on_time'"):
        FormTemplate.from_dict(data)
    text = next(s for s in data["sections"] if s["id"] == "A.II")["items"][0]
    text["measure"] = "tasks.completed"
    with pytest.raises(TemplateError, match="not a share item"):
        FormTemplate.from_dict(data)


def test_92_points_and_half_the_tasks_completed_cannot_be_htxsnv():
    """The issue's case: 92 points, HTXSNV proposed, but only 50% of the tasks completed."""
    form = _member_form()
    points = {item.id: item.max_points for item in form.points_items()}
    scale = Decimal(92) / sum(points.values())
    points = {key: value * scale for key, value in points.items()}
    tasks, fixed = task_shares(form, {"tasks_completed": "50", "tasks_on_time": "50", "tasks_exceeding": "0"})
    facts = MemberFacts(admission_date=date(2000, 1, 1), official_date=date(2001, 1, 1))
    answers = Answers(points=points, tasks=tasks, shortcomings_fixed=fixed)
    evaluation = R2025.evaluate_member(facts, answers, template=form)
    assert evaluation.score.total == 92
    assert not evaluation.allowed("HTXSNV")
    assert {f.rule_id for f in evaluation.explain("HTXSNV")} >= {"R2025-M-XS", "R2025-ALL-HTNV"}


# --- No note for the developers in what users read ------------------------------------------------------


@pytest.mark.parametrize("code", ["2018", "2025"])
def test_no_rule_cites_a_note_meant_for_the_developers(code):
    rulebook = get_rulebook(code)
    for spec in rulebook.rules.values():
        assert not any(marker in spec.source for marker in DEVELOPER_NOTE_MARKERS), spec.id
    assert rulebook.rules[f"R{code}-M-CRITERIA" if code == "2018" else "R2025-S-COMBINE"].note


def test_the_missing_shares_warning_cites_the_article_only():
    facts = MemberFacts(admission_date=date(2000, 1, 1), official_date=date(2001, 1, 1))
    form = _member_form()
    answers = Answers(points={item.id: item.max_points for item in form.points_items()})
    (finding,) = [f for f in R2025.evaluate_member(facts, answers, template=form).findings if f.unchecked]
    assert finding.rule_id == "R2025-S-COMBINE"
    assert finding.message_vi.endswith("(QĐ 366-QĐ/TW, Điều 11)")
    assert "đối chiếu" not in finding.message_vi and "verified" not in finding.message_en


def test_a_catalogue_with_a_note_in_its_source_is_refused(tmp_path):
    path = tmp_path / "rules.json"
    path.write_text(
        '{"regime": "x", "rules": [{"id": "R-X", "mark": "R", "source": "HD 1, chưa đối chiếu nguyên văn",'
        ' "title_vi": "a", "title_en": "b", "messages": {"default": {"vi": "a", "en": "b"}}}]}',
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="goes in `note`"):
        load_catalogue(path, "x")


@pytest.mark.parametrize(("code", "kind", "purpose", "variant"), EVERY_TEMPLATE, ids=lambda v: str(v))
def test_no_form_shows_a_note_meant_for_the_developers(code, kind, purpose, variant):
    template = template_of(code, kind, purpose, variant)
    texts = [template.title_vi, template.title_en, template.help_vi, template.help_en]
    for section in template.sections:
        texts += [section.label_vi, section.label_en, section.help_vi, section.help_en]
        for item in section.items:
            texts += [item.label_vi, item.label_en, item.help_vi, item.help_en]
    assert not [text for text in texts if any(marker in text for marker in DEVELOPER_NOTE_MARKERS)]


@pytest.mark.parametrize("kind", list(SubjectKind))
@pytest.mark.parametrize("purpose", list(FormPurpose))
def test_a_warning_about_missing_shares_comes_only_with_a_form_that_has_them(kind, purpose):
    """The 2025 rules warn when the shares are not given: every form of the subject has their fields."""
    from assessments.rulebooks import CollectiveFacts, LeaderFacts, OrganizationFacts

    facts = {
        SubjectKind.MEMBER: MemberFacts(admission_date=date(2000, 1, 1), official_date=date(2001, 1, 1)),
        SubjectKind.LEADER: LeaderFacts(admission_date=date(2000, 1, 1), official_date=date(2001, 1, 1)),
        SubjectKind.COLLECTIVE: CollectiveFacts(),
        SubjectKind.ORGANIZATION: OrganizationFacts(),
    }[kind]
    for variant in R2025.form_variants(kind, purpose):
        template = R2025.form_template(kind, purpose, variant)
        points = {item.id: item.max_points for item in template.points_items()}
        evaluation = R2025.evaluate(kind, facts, Answers(points=points), template=template)
        asks = [f for f in evaluation.findings if f.rule_id == "R2025-S-COMBINE" and f.unchecked]
        if asks:
            assert set(TASKS) <= set(template.share_items()), (kind, purpose, variant)
