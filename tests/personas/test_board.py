"""The organisation board (Ban Tổ chức) runs the year from the Django admin and its own screens, as a
plain account given the BOARD role with `grant_role`: no superuser flag, no permission of its own.

Its part: it gives the other roles, creates the period with its deadlines and parameters, opens it,
reads the roster, returns a form, closes the period, decides a cell at its proposals, ranks the
grassroots organisations, finalises, reopens subjects with a reason, finalises the re-grading and
publishes; and it reads the audit trail, the ranking and every review. The other roles' steps are done
through the services."""

import datetime
import json

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from assessments import decisions
from assessments.core import services
from assessments.decisions import ranking
from assessments.models import Analysis, Assessment, AuditEntry, Period
from assessments.reviews import services as review_services
from assessments.reviews.admin import AnalysisInline, AuditEntryInline
from organizations.models import RoleAssignment
from organizations.policy import SYSTEM
from organizations.roles import BOARD_PERMISSIONS, ROLE_GROUPS, grant_role
from tests.helpers import scored_2025  # noqa: E402
from tests.jobs.helpers import run_jobs

from .steps import (
    REGIMES,
    ROLES,
    analysis_answers,
    create_period,
    decide_members,
    member_form,
    messages_of,
    own_review,
    period_trail,
    rank_below,
    record_minutes,
    submit_cell,
    submit_self_review,
    trail,
)

pytestmark = pytest.mark.django_db

Role = RoleAssignment.Role
S = Assessment.State
User = get_user_model()
PERIODS = "admin:assessments_period_changelist"
ASSESSMENTS = "admin:assessments_assessment_changelist"


@pytest.fixture
def board(town):
    """The board's clerk: a plain account, given the role the way an installation gives it."""
    user = town.user("ban_to_chuc")
    assert not (user.is_staff or user.is_superuser)
    grant_role(user=user, organization=town.city, role=Role.BOARD, actor=SYSTEM)
    return User.objects.get(pk=user.pk)


def period_action(client, period, action):
    return client.post(reverse(PERIODS), {"action": action, "_selected_action": [period.pk]}, follow=True)


def assessment_action(client, action, assessments, **extra):
    data = {"action": action, "_selected_action": [a.pk for a in assessments], **extra}
    return client.post(reverse(ASSESSMENTS), data)


def period_fields(period, **changes):
    """The period's change form as the board posts it."""
    data = {
        "organization": period.organization_id,
        "year": period.year,
        "quarter": "",
        "regime": period.regime,
        "self_review_due": period.self_review_due.isoformat(),
        "cell_meeting_due": period.cell_meeting_due.isoformat(),
        "grassroots_decision_due": period.grassroots_decision_due.isoformat(),
        "city_decision_due": period.city_decision_due.isoformat(),
        "parameters": json.dumps(period.parameters),
    }
    data.update(changes)
    return data


def test_the_board_holds_its_permissions_through_its_group_alone(town, board):
    assert not board.is_superuser and board.is_staff
    assert board.user_permissions.count() == 0
    assert list(board.groups.values_list("name", flat=True)) == [ROLE_GROUPS[Role.BOARD][0]]
    assert all(board.has_perm(name) for name in BOARD_PERMISSIONS)
    # Never the permissions to change accounts or groups: whoever may do that may make themselves superuser.
    for forbidden in ("auth.change_user", "auth.add_user", "auth.change_group", "auth.add_permission"):
        assert not board.has_perm(forbidden)


@pytest.mark.parametrize("regime", REGIMES)
def test_the_board_runs_the_year_from_the_admin_without_being_superuser(town, board, client, regime):
    client.force_login(board)
    assert client.get(reverse("admin:index")).status_code == 200

    # 1. It gives the other roles in the admin's RoleAssignment form, finding each person by name.
    add_role = reverse("admin:organizations_roleassignment_add")
    assert client.get(add_role).status_code == 200
    found = client.get(
        reverse("admin:autocomplete"),
        {"term": "can_bo", "app_label": "organizations", "model_name": "roleassignment", "field_name": "user"},
    )
    assert found.status_code == 200
    assert {row["text"] for row in found.json()["results"]} == {"can_bo_a", "can_bo_b", "can_bo_c"}
    found = client.get(
        reverse("admin:autocomplete"),
        {
            "term": "Tích Sơn",
            "app_label": "organizations",
            "model_name": "roleassignment",
            "field_name": "organization",
        },
    )
    assert [row["id"] for row in found.json()["results"]] == [str(town.committee_a.pk)]
    # A secretary's role on a committee is refused with the model's message.
    refused = client.post(
        add_role,
        {"user": town.user("bi_thu_a1").pk, "role": Role.CELL_SECRETARY, "organization": town.committee_a.pk},
    )
    assert refused.status_code == 200 and refused.context["adminform"].form.errors
    assert not RoleAssignment.objects.filter(user=town.user("bi_thu_a1")).exists()
    for username, role, organization in ROLES:
        if role == Role.BOARD:
            continue
        user = town.user(username)
        response = client.post(
            add_role, {"user": user.pk, "role": role, "organization": getattr(town, organization).pk}
        )
        assert response.status_code == 302, (username, response.context and response.context["adminform"].form.errors)
        assert RoleAssignment.objects.filter(user=user, role=role, organization=getattr(town, organization)).exists()
        user.refresh_from_db()
        # The role brings its group and no admin: these roles work in the application's screens.
        assert list(user.groups.values_list("name", flat=True)) == [ROLE_GROUPS[role][0]]
        assert not user.is_staff and not user.is_superuser and user.user_permissions.count() == 0
    # A role given by mistake is taken back from the admin: its group goes with it.
    mistaken = town.user("pham_duc_anh")
    client.post(add_role, {"user": mistaken.pk, "role": Role.EVALUATOR, "organization": town.committee_a.pk})
    assignment = RoleAssignment.objects.get(user=mistaken)
    assert mistaken.groups.filter(name=ROLE_GROUPS[Role.EVALUATOR][0]).exists()
    delete = reverse("admin:organizations_roleassignment_delete", args=[assignment.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert not RoleAssignment.objects.filter(user=mistaken).exists() and not mistaken.groups.exists()
    officer_a, officer_b, officer_c = (town.user(name) for name in ("can_bo_a", "can_bo_b", "can_bo_c"))
    secretary, evaluator, member = town.user("bi_thu_a1"), town.user("mat_tran"), town.user("dang_vien")

    # 2. It creates the period: bad parameters are refused with a message and save nothing.
    add_period = reverse("admin:assessments_period_add")
    page = client.get(add_period)
    assert page.status_code == 200
    assert {code for code, _label in page.context["adminform"].form.fields["regime"].choices} >= set(REGIMES)
    found = client.get(
        reverse("admin:autocomplete"),
        {"term": "thị xã", "app_label": "assessments", "model_name": "period", "field_name": "organization"},
    )
    assert [row["id"] for row in found.json()["results"]] == [str(town.city.pk)]
    today = timezone.localdate()
    fields = {
        "organization": town.city.pk,
        "year": today.year,
        "quarter": "",
        "regime": regime,
        "parameters": json.dumps({"quota_rate": "2"}),
        **{
            name: (today + datetime.timedelta(days=days)).isoformat()
            for name, days in [
                ("self_review_due", 14),
                ("cell_meeting_due", 21),
                ("grassroots_decision_due", 28),
                ("city_decision_due", 35),
            ]
        },
    }
    refused = client.post(add_period, fields)
    assert refused.status_code == 200 and "parameters" in refused.context["adminform"].form.errors
    assert not Period.objects.exists()
    response = client.post(add_period, {**fields, "parameters": json.dumps({"quota_rate": "0.20"})})
    assert response.status_code == 302
    period = Period.objects.get()
    assert (period.organization, period.regime, period.state) == (town.city, regime, Period.State.PREPARING)

    # 3. It edits the parameters while the period is being prepared.
    change_period = reverse("admin:assessments_period_change", args=[period.pk])
    assert client.get(change_period).status_code == 200
    response = client.post(change_period, period_fields(period, parameters=json.dumps({"ballot_quorum": "0.5"})))
    assert response.status_code == 302
    period.refresh_from_db()
    assert period.parameters == {"ballot_quorum": "0.5"}

    # 4. It opens the period: the roster is taken, one form per member and per organisation.
    # A background job: the action leads to its progress page; the worker runs it (tests/jobs/).
    response = period_action(client, period, "open_periods")
    job_page = response.redirect_chain[-1][0]
    assert job_page.startswith("/jobs/") and response.status_code == 200
    run_jobs()
    # 12 members, 6 organisations and the leadership collectives of the 3 grassroots; 1 not classified.
    summary = client.get(job_page).content.decode()
    assert "21" in summary and " 1 " in summary
    period.refresh_from_db()
    assert period.state == Period.State.OPEN and period.opened_by == board
    [opened] = period_trail(period, "open")
    assert opened.actor == board and (opened.from_state, opened.to_state) == ("preparing", "open")
    assert Assessment.objects.filter(period=period, member__isnull=False).count() == 12
    excused = member_form(period, town.member("excused"))
    assert not excused.classified and excused.exclusion_reason

    # 5. It reads the roster: who is not classified, and why.
    roster = client.get(reverse("assessments:roster", args=[period.public_id]))
    assert roster.status_code == 200
    assert [row.member for row in roster.context["rows"]] == [town.member("excused")]
    assert "Hoàng Văn Kiên" in roster.content.decode()

    # 6. It edits the parameters of the open period; the organisation and the regime stay as they were.
    other_regime = next(code for code in REGIMES if code != regime)
    response = client.post(
        change_period,
        period_fields(
            period,
            organization=town.committee_a.pk,
            regime=other_regime,
            parameters=json.dumps({"ballot_quorum": "0.5", "quota_rate": "0.25"}),
        ),
    )
    assert response.status_code == 302
    period.refresh_from_db()
    assert (period.organization, period.regime) == (town.city, regime)
    assert period.parameters == {"ballot_quorum": "0.5", "quota_rate": "0.25"}

    # The members write; the board returns one form from the admin, with the reason.
    own = member_form(period, town.member("member"))
    submit_self_review(own, member)
    data = {"action": "return_forms", "_selected_action": [own.pk]}
    page = client.post(reverse(ASSESSMENTS), data)
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()
    client.post(reverse(ASSESSMENTS), {**data, "apply": "1", "reason": ""})
    own.refresh_from_db()
    assert own.state == S.SUBMITTED  # no reason, no return
    response = client.post(reverse(ASSESSMENTS), {**data, "apply": "1", "reason": "Bổ sung phần khắc phục hạn chế"})
    assert response.status_code == 302
    own.refresh_from_db()
    assert (own.state, own.return_reason) == (S.RETURNED, "Bổ sung phần khắc phục hạn chế")
    [returned] = trail(own, "return")
    assert returned.actor == board and returned.on_behalf_of is None and returned.reason == own.return_reason

    # The rest of the year's forms, through the services: the member submits again, the secretary the
    # others of cell A1 and the minutes (all HTTNV), the officers the other cells; the evaluator hands in
    # an analysis of committee B.
    submit_self_review(own, member)
    submit_cell(period, town.cell_a1, secretary)
    record_minutes(period, town.cell_a1, secretary, "HTTNV")
    submit_cell(period, town.cell_a2, officer_a)
    submit_cell(period, town.cell_b1, officer_b)
    submit_cell(period, town.cell_c, officer_c)
    review_b = own_review(period, town.committee_b)
    review_services.analysis_save(
        assessment=review_b,
        user=evaluator,
        answers=analysis_answers(review_b, "HTTNV", rater="Ủy ban MTTQ xã Định Trung"),
        proposed_level="HTTNV",
        base_version=0,
        submit=True,
    )

    # 7. It closes the period: the forms can no longer change.
    period_action(client, period, "close_periods")
    period.refresh_from_db()
    assert period.state == Period.State.CLOSED
    assert period_trail(period, "close")[0].actor == board

    # Finalising too early is refused, with what stands in the way; nothing changes.
    response = period_action(client, period, "finalise_periods")
    assert any("quyết định" in message or "decide" in message for message in messages_of(response))
    period.refresh_from_db()
    assert period.state == Period.State.CLOSED and not period_trail(period, "finalise")

    # 8. It decides cell A1's members at the cell's proposals, from the admin, after the quota page.
    a1 = list(
        Assessment.objects.filter(period=period, organization=town.cell_a1, member__isnull=False, classified=True)
    )
    assert {a.cell_proposed_level for a in a1} == {"HTTNV"}
    page = assessment_action(client, "decide_as_proposed", a1)
    assert page.status_code == 200 and page.context["groups"][0]["organization"] == town.committee_a
    assert not Assessment.objects.filter(pk__in=[a.pk for a in a1]).exclude(decided_level="").exists()
    response = assessment_action(client, "decide_as_proposed", a1, apply="1", reason="")
    assert response.status_code == 302
    for assessment in a1:
        assessment.refresh_from_db()
        assert (assessment.state, assessment.decided_level, assessment.decided_by) == (S.DECIDED, "HTTNV", board)
        assert trail(assessment, "decide")[0].actor == board

    # The officers decide the rest of their members and their cells (through the services).
    decide_members(period, town.committee_a, officer_a)
    decide_members(period, town.committee_b, officer_b)
    decide_members(period, town.cell_c, officer_c)
    rank_below(period, town.committee_a, officer_a)
    rank_below(period, town.committee_b, officer_b)

    # 9. It decides their leadership collectives, on the ranking screen's second tab (in 2025 before
    # the organisations: QĐ 366 Điều 7), then ranks the grassroots organisations. (In 2025 each needs
    # the score of its review: those not written here carry the one their paper gave.)
    if period.regime == "2025":
        reviews = Assessment.objects.filter(period=period, member__isnull=True, organization__depth=2)
        scored_2025(reviews.exclude(state=Assessment.State.SUBMITTED), total="75")
    collectives = reverse("assessments:rank_collectives", args=[period.public_id, town.city.code])
    page = client.get(collectives)
    assert page.status_code == 200
    rows = {row.assessment.organization: row for row in page.context["rows"]}
    assert set(rows) == {town.committee_a, town.committee_b, town.cell_c}
    response = client.post(collectives, {f"level-{row.assessment.pk}": "HTNV" for row in rows.values()})
    assert response.status_code == 302, messages_of(response)
    for organization in rows:
        review = own_review(period, organization, Assessment.SubjectKind.COLLECTIVE)
        assert (review.decided_level, review.decided_by) == ("HTNV", board)
    rank = reverse("assessments:rank", args=[period.public_id, town.city.code])
    page = client.get(rank)
    assert page.status_code == 200
    rows = {row.assessment.organization: row for row in page.context["rows"]}
    assert set(rows) == {town.committee_a, town.committee_b, town.cell_c}
    assert rows[town.committee_b].evaluations["count"] == 1  # the evaluator's form is beside it
    chosen = {town.committee_a: "HTTNV", town.committee_b: "HTNV", town.cell_c: "HTTNV"}
    response = client.post(rank, {f"level-{rows[org].assessment.pk}": level for org, level in chosen.items()})
    assert response.status_code == 302, messages_of(response)
    for organization, level in chosen.items():
        review = own_review(period, organization)
        assert (review.decided_level, review.decided_by) == (level, board)
        assert trail(review, "decide")[-1].actor == board

    # 10. It finalises: everything is decided and within the quota (the collectives too, at step 9).
    response = period_action(client, period, "finalise_periods")
    period.refresh_from_db()
    assert period.state == Period.State.FINALISED, messages_of(response)
    assert period_trail(period, "finalise")[0].actor == board

    # 11. It reopens a member's level from the form page, and a cell's from the admin, each with a reason.
    own.refresh_from_db()
    form_page = reverse("assessments:form", args=[own.public_id])
    assert client.get(form_page).context["can_reopen"] is True
    client.post(reverse("assessments:reopen", args=[own.public_id]), {"reason": ""})
    own.refresh_from_db()
    assert not own.reopened
    response = client.post(reverse("assessments:reopen", args=[own.public_id]), {"reason": "Đơn thư phản ánh"})
    assert response.status_code == 302
    own.refresh_from_db()
    assert own.reopened and trail(own, "reopen")[0].actor == board
    cell_b1 = own_review(period, town.cell_b1)
    page = assessment_action(client, "reopen_subjects", [cell_b1])
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()
    assessment_action(client, "reopen_subjects", [cell_b1], apply="1", reason="Sai sót khi tổng hợp")
    cell_b1.refresh_from_db()
    assert cell_b1.reopened
    [reopened] = trail(cell_b1, "reopen")
    assert (reopened.actor, reopened.reason) == (board, "Sai sót khi tổng hợp")

    # Finalising again waits for the new decisions, which the officers make (through the services).
    period_action(client, period, "finalise_periods")
    assert len(period_trail(period, "finalise")) == 1
    decisions.decisions_record(
        period=period, organization=town.committee_a, user=officer_a, choices={own.pk: ("HTNV", "Đã xác minh")}
    )
    ranking.ranking_record(
        period=period, parent=town.committee_b, user=officer_b, choices={cell_b1.pk: ("HTNV", "Đã xác minh")}
    )

    # 12. It finalises the re-grading, then publishes: every member sees their level.
    period_action(client, period, "finalise_periods")
    period.refresh_from_db()
    again = period_trail(period, "finalise")
    assert period.state == Period.State.FINALISED and len(again) == 2
    assert again[1].actor == board and again[1].data == {"again": True, "reopened_so_far": 2}
    period_action(client, period, "publish_periods")
    period.refresh_from_db()
    assert period.state == Period.State.PUBLISHED
    assert period_trail(period, "publish")[0].actor == board
    assert not Assessment.objects.filter(period=period, state=S.DECIDED).exists()
    own.refresh_from_db()
    assert (own.state, own.decided_level) == (S.PUBLISHED, "HTNV")

    # 13. It reads the audit trail, the ranking and each review with its evaluators' forms.
    audit = client.get(reverse("admin:assessments_auditentry_changelist"), {"action": "reopen"})
    assert audit.status_code == 200 and audit.context["cl"].result_count == 2
    ranking_page = client.get(reverse("admin:assessments_organizationreview_changelist"))
    assert ranking_page.status_code == 200
    assert {r.organization for r in ranking_page.context["cl"].result_list} >= {town.committee_a, town.cell_b1}
    review_page = client.get(reverse("admin:assessments_assessment_change", args=[review_b.pk]))
    assert review_page.status_code == 200
    inlines = {type(formset.opts) for formset in review_page.context["inline_admin_formsets"]}
    assert AuditEntryInline in inlines
    assert AnalysisInline in inlines, "the board cannot read the evaluators' forms on a review in the admin"
    assert Analysis.objects.get(assessment=review_b).rater == evaluator

    # And the year's outputs for the whole city: the statistics and the spreadsheets.
    for name in ("assessments:stats", "assessments:export"):
        assert client.get(reverse(name, args=[period.public_id, town.city.code])).status_code == 200, name

    # A finalised period's settings are locked, for the board too.
    locked = client.post(change_period, period_fields(period, parameters=json.dumps({"quota_rate": "0.5"})))
    assert locked.status_code == 200
    period.refresh_from_db()
    assert period.parameters == {"ballot_quorum": "0.5", "quota_rate": "0.25"}

    # All of it without superuser rights or any permission of its own.
    board.refresh_from_db()
    assert not board.is_superuser and board.user_permissions.count() == 0
    assert set(AuditEntry.objects.filter(period=period, actor=board).values_list("action", flat=True)) == {
        "open",
        "close",
        "return",
        "decide",
        "finalise",
        "reopen",
        "publish",
    }


def test_the_board_cannot_change_accounts_groups_or_the_audit_trail(town, board, client):
    client.force_login(board)
    # It finds people (to give them roles) but changes no account: not even its own.
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 200
    own_account = reverse("admin:auth_user_change", args=[board.pk])
    response = client.post(own_account, {"username": board.username, "is_superuser": "on", "is_staff": "on"})
    assert response.status_code == 403
    board.refresh_from_db()
    assert not board.is_superuser
    assert client.get(reverse("admin:auth_user_add")).status_code == 403
    group = Group.objects.get(name=ROLE_GROUPS[Role.BOARD][0])
    assert client.get(reverse("admin:auth_group_change", args=[group.pk])).status_code == 403
    # The trail cannot be written or deleted, nor can a form be changed behind the workflow's back.
    period = create_period(town, "2025")
    services.period_open(period=period, user=board)
    entry = AuditEntry.objects.get(action="open")
    response = client.post(reverse("admin:assessments_auditentry_delete", args=[entry.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()
    form = member_form(period, town.member("member"))
    assert client.post(reverse("admin:assessments_assessment_change", args=[form.pk]), {}).status_code == 403


def test_every_admin_list_the_board_may_view_opens_for_it_and_no_other(town, board, client):
    period = create_period(town, "2018")
    services.period_open(period=period, user=board)
    client.force_login(board)
    index = client.get(reverse("admin:index"))
    listed = {model["object_name"] for app in index.context["app_list"] for model in app["models"]}
    for model in admin.site._registry:
        label = f"{model._meta.app_label}_{model._meta.model_name}"
        viewable = board.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")
        response = client.get(reverse(f"admin:{label}_changelist"))
        assert response.status_code == (200 if viewable else 403), label
        assert (model._meta.object_name in listed) == viewable, label
