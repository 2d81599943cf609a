"""The workflow table and the services that enforce it: states, actors, deadlines, conflicts, audit."""

import datetime
import itertools

import pytest
from django.core.exceptions import ValidationError

from assessments.core import services
from assessments.core.workflow import ACTIONS, available, state_allows
from assessments.models import Assessment, AuditEntry, Period
from assessments.reviews import services as review_services

pytestmark = pytest.mark.django_db

S = Assessment.State


@pytest.fixture
def period(city):
    return Period.objects.create(organization=city.city, year=2026, regime="2018", state=Period.State.OPEN)


@pytest.fixture
def form(period, personas, city):
    return Assessment.objects.create(
        period=period, subject_kind="member", member=personas.member_record, organization=city.cell_a1
    )


# The workflow of a member's form, written out by hand from the brief (design.md, "Workflow"), not
# derived from the code's table: a wrong row in `ASSESSMENT` fails here.
STEPS_FROM = {
    S.NOT_STARTED: {"save", "submit", "decide"},
    S.DRAFT: {"save", "submit", "decide"},
    S.SUBMITTED: {"return", "record_proposal", "decide"},
    S.RETURNED: {"save", "submit", "decide"},
    S.CELL_REVIEWED: {"record_proposal", "decide"},
    S.DECIDED: {"decide"},
    S.PUBLISHED: set(),
}
LEADS_TO = {
    "save": S.DRAFT,
    "submit": S.SUBMITTED,
    "return": S.RETURNED,
    "record_proposal": S.CELL_REVIEWED,
    "decide": S.DECIDED,
}


def test_the_table_allows_exactly_the_steps_of_the_brief():
    assert set(STEPS_FROM) == set(S.values)
    assert set(ACTIONS) == set(LEADS_TO)
    for state, name in itertools.product(S.values, ACTIONS):
        assert state_allows(name, state) == (name in STEPS_FROM[state]), (state, name)
    for name, target in LEADS_TO.items():
        assert ACTIONS[name].target == target, name
    assert not state_allows("no-such-action", S.DRAFT)


def test_only_a_return_needs_a_reason():
    assert [name for name, step in ACTIONS.items() if step.needs_reason] == ["return"]


@pytest.mark.parametrize(
    ("who", "state", "expected"),
    [
        ("member", S.NOT_STARTED, ["save", "submit"]),
        ("member", S.DRAFT, ["save", "submit"]),
        ("member", S.SUBMITTED, []),
        ("member", S.RETURNED, ["save", "submit"]),
        ("secretary_a1", S.DRAFT, ["save", "submit"]),
        ("secretary_a1", S.SUBMITTED, ["return"]),
        ("officer_a", S.SUBMITTED, ["return"]),
        ("board", S.SUBMITTED, ["return"]),
        ("secretary_b1", S.DRAFT, []),  # another committee's cell
        ("evaluator", S.SUBMITTED, []),  # evaluators see organisations, not people
        ("outsider", S.DRAFT, []),
        ("member", S.CELL_REVIEWED, []),
        ("secretary_a1", S.DECIDED, []),
    ],
)
def test_the_buttons_each_role_sees_on_a_members_form(form, personas, who, state, expected):
    form.state = state
    form.save()
    assert available(form, getattr(personas, who)) == expected


def test_after_the_deadline_the_member_sees_no_button_and_the_secretary_still_can(form, personas, period):
    period.self_review_due = datetime.date(2020, 1, 1)
    period.save()
    form.refresh_from_db()
    assert available(form, personas.member) == []
    assert available(form, personas.secretary_a1) == ["save", "submit"]


def test_nothing_is_available_in_a_closed_or_finalised_period(form, personas, period):
    for state in (Period.State.CLOSED, Period.State.FINALISED):
        period.state = state
        period.save()
        form.refresh_from_db()
        assert available(form, personas.secretary_a1) == []


def test_member_saves_a_draft_and_submits(form, personas):
    saved = review_services.assessment_save(
        assessment=form, user=personas.member, answers={"II": "Còn chậm"}, self_level="HTTNV", base_version=0
    )
    assert (saved.state, saved.version, saved.answers) == (S.DRAFT, 1, {"II": "Còn chậm"})
    submitted = review_services.assessment_submit(assessment=saved, user=personas.member, base_version=1)
    assert submitted.state == S.SUBMITTED and submitted.submitted_at
    entries = list(AuditEntry.objects.filter(assessment=form).values_list("action", "from_state", "to_state"))
    assert entries == [("save", S.NOT_STARTED, S.DRAFT), ("submit", S.DRAFT, S.SUBMITTED)]


def test_a_submitted_form_cannot_be_changed_by_the_member(form, personas):
    review_services.assessment_submit(assessment=form, user=personas.member, base_version=0)
    with pytest.raises(services.WorkflowError):
        review_services.assessment_save(assessment=form, user=personas.member, answers={"x": "y"}, base_version=1)
    form.refresh_from_db()
    assert form.answers == {} and form.state == S.SUBMITTED


def test_a_stale_save_is_refused_and_the_newer_text_survives(form, personas):
    review_services.assessment_save(assessment=form, user=personas.member, answers={"I": "bản mới"}, base_version=0)
    with pytest.raises(review_services.ConflictError):
        review_services.assessment_save(assessment=form, user=personas.member, answers={"I": "bản cũ"}, base_version=0)
    form.refresh_from_db()
    assert form.answers == {"I": "bản mới"} and form.version == 1


def test_the_secretary_fills_in_on_behalf_of_the_member_and_it_is_recorded(form, personas):
    review_services.assessment_save(
        assessment=form, user=personas.secretary_a1, answers={"I": "ghi hộ"}, base_version=0
    )
    entry = AuditEntry.objects.get(assessment=form)
    assert entry.actor == personas.secretary_a1
    assert entry.on_behalf_of == personas.member_record
    form.refresh_from_db()
    assert form.filled_by == personas.secretary_a1


def test_the_secretary_returns_a_submitted_form_with_a_reason(form, personas):
    review_services.assessment_submit(assessment=form, user=personas.member, base_version=0)
    with pytest.raises(services.WorkflowError):
        review_services.assessment_return(assessment=form, user=personas.secretary_a1, reason="  ")
    returned = review_services.assessment_return(assessment=form, user=personas.secretary_a1, reason="Bổ sung mục II")
    assert returned.state == S.RETURNED and returned.return_reason == "Bổ sung mục II"
    assert AuditEntry.objects.filter(assessment=form, action="return", reason="Bổ sung mục II").exists()
    # The member can edit and submit again.
    review_services.assessment_save(assessment=form, user=personas.member, answers={"II": "đã bổ sung"}, base_version=2)
    review_services.assessment_submit(assessment=form, user=personas.member, base_version=3)


def test_a_member_cannot_return_their_own_form(form, personas):
    review_services.assessment_submit(assessment=form, user=personas.member, base_version=0)
    with pytest.raises(services.WorkflowError):
        review_services.assessment_return(assessment=form, user=personas.member, reason="tự trả")


@pytest.mark.parametrize("persona", ["secretary_b1", "officer_a", "outsider", "evaluator"])
def test_only_the_member_and_those_who_manage_the_cell_may_act(form, personas, persona):
    user = getattr(personas, persona)
    if persona == "officer_a":  # the officer of the committee above the cell manages it
        review_services.assessment_save(assessment=form, user=user, answers={}, base_version=0)
        return
    with pytest.raises(services.WorkflowError):
        review_services.assessment_save(assessment=form, user=user, answers={"I": "x"}, base_version=0)


@pytest.mark.parametrize("state", [Period.State.PREPARING, Period.State.CLOSED, Period.State.FINALISED])
def test_nothing_is_saved_when_the_period_is_not_open(form, personas, state):
    Period.objects.filter(pk=form.period_id).update(state=state)
    form.refresh_from_db()
    with pytest.raises(services.WorkflowError):
        review_services.assessment_save(assessment=form, user=personas.member, answers={"I": "x"}, base_version=0)
    form.refresh_from_db()
    assert form.answers == {} and form.version == 0


def test_after_the_deadline_the_member_is_refused_but_the_secretary_may_still_fill_in(form, personas):
    Period.objects.filter(pk=form.period_id).update(self_review_due=datetime.date(2020, 1, 1))
    form.refresh_from_db()
    with pytest.raises(services.WorkflowError) as excinfo:
        review_services.assessment_save(assessment=form, user=personas.member, answers={"I": "x"}, base_version=0)
    assert "01/01/2020" in excinfo.value.message
    review_services.assessment_save(assessment=form, user=personas.secretary_a1, answers={"I": "x"}, base_version=0)


def test_the_audit_trail_cannot_be_edited_or_deleted(form, personas):
    review_services.assessment_save(assessment=form, user=personas.member, answers={}, base_version=0)
    entry = AuditEntry.objects.get(assessment=form)
    entry.reason = "sửa"
    with pytest.raises(ValidationError):
        entry.save()
    with pytest.raises(ValidationError):
        entry.delete()
    with pytest.raises(ValidationError):
        AuditEntry.objects.filter(pk=entry.pk).update(reason="sửa")
    with pytest.raises(ValidationError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.get(pk=entry.pk).reason == ""


def test_the_database_itself_refuses_to_change_an_audit_row(form, personas):
    from django.db import DatabaseError, connection, transaction

    review_services.assessment_save(assessment=form, user=personas.member, answers={}, base_version=0)
    entry = AuditEntry.objects.get(assessment=form)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE assessments_auditentry SET reason = 'x' WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).reason == ""


def test_each_step_of_the_period_and_the_ballot_says_why_it_is_refused_from_another_state():
    from assessments.core.transitions import PERIOD, step_refusal
    from assessments.meetings.ballot import BALLOT

    for steps, states in ((PERIOD, Period.State.values), (BALLOT, ["", "open", "closed"])):
        for name, step in steps.items():
            assert step.wrong_state, name
            for state in states:
                expected = None if state in step.sources else str(step.wrong_state)
                assert step_refusal(steps, name, state, None, None) == expected, (name, state)


def test_opening_an_open_period_again_is_refused_with_the_tables_message(period, personas):
    with pytest.raises(services.WorkflowError) as error:
        services.period_open(period=period, user=personas.board)
    from assessments.core.transitions import PERIOD

    assert error.value.message == str(PERIOD["open"].wrong_state)
    assert error.value.message != str(PERIOD["close"].wrong_state)
