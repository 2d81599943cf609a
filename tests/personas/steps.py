"""What the persona tests share: the POSTs the screens send, and the steps of the year that the other
roles take, done through the services to set the scene for the persona under test."""

import datetime
import random
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib.messages import get_messages
from django.http import QueryDict
from django.utils import timezone

from assessments import decisions, meetings
from assessments.core import services
from assessments.decisions import ranking
from assessments.meetings import COUNT_FIELDS, LEVEL_NAMES
from assessments.models import Assessment, AuditEntry, Period
from assessments.reviews import formview
from assessments.reviews import services as review_services
from assessments.rulebooks import ItemKind
from demo.reviews import demo_answers
from organizations.models import RoleAssignment
from tests.helpers import scored_2025

REGIMES = ["2018", "2025"]
S = Assessment.State
Role = RoleAssignment.Role

# (username, role, organisation attribute of the town) of every role the persona tests hand out.
ROLES = [
    ("ban_to_chuc", Role.BOARD, "city"),
    ("can_bo_a", Role.COMMITTEE_OFFICER, "committee_a"),
    ("can_bo_b", Role.COMMITTEE_OFFICER, "committee_b"),
    ("can_bo_c", Role.COMMITTEE_OFFICER, "cell_c"),
    ("bi_thu_a1", Role.CELL_SECRETARY, "cell_a1"),
    ("mat_tran", Role.EVALUATOR, "committee_b"),
]


# --- Reading the database ------------------------------------------------------------------------------------


def member_form(period, member):
    return Assessment.objects.select_related("period", "member", "organization").get(period=period, member=member)


def own_review(period, organization, kind=Assessment.SubjectKind.ORGANIZATION):
    return Assessment.objects.select_related("period", "organization").get(
        period=period, organization=organization, member__isnull=True, subject_kind=kind
    )


def classified_forms(period, cell):
    return list(
        Assessment.objects.filter(period=period, organization=cell, member__isnull=False, classified=True)
        .select_related("period", "member", "organization")
        .order_by("member__sort_key", "pk")
    )


def trail(assessment, action):
    """The audit entries of one action on one assessment, oldest first."""
    return list(AuditEntry.objects.filter(assessment=assessment, action=action).order_by("at", "pk"))


def period_trail(period, action):
    return list(AuditEntry.objects.filter(period=period, assessment__isnull=True, action=action).order_by("at", "pk"))


def messages_of(response):
    """The messages the page shows (after a followed redirect) or that wait in the session."""
    if response.context is not None and "messages" in response.context:
        return [str(m) for m in response.context["messages"]]
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- The POSTs of the screens --------------------------------------------------------------------------------


def as_post(answers):
    """Answers (item id -> value) as the form page posts them: `item-<id>`, checklists one field per entry."""
    data = {}
    for item_id, value in answers.items():
        if isinstance(value, dict):
            for entry, mark in value.items():
                data[f"item-{item_id}-{entry}"] = mark
        else:
            data[f"item-{item_id}"] = str(value)
    return data


def answers_for(assessment, level):
    """Answers to every item the subject fills, valid for submission, in the period's regime."""
    return demo_answers(assessment, formview.template_for(assessment), random.Random(assessment.pk), level)


def form_post(assessment, level="HTTNV", **overrides):
    """The POST of a form page (save or submit) with every item answered and `level` proposed."""
    return {"version": str(assessment.version), **as_post(answers_for(assessment, level)), **overrides}


def analysis_answers(assessment, level, *, rater=""):
    """Answers to the analysis form: every criterion rated "tot" (2018) or scored at 80% (2025), a
    comment, `level` proposed."""
    template = formview.template_for(assessment, "analysis")
    answers = {}
    for section in template.sections:
        if formview.section_author(template, section) != template.filled_by:
            continue
        for item in section.items:
            if item.prefill:
                continue
            if item.kind == ItemKind.TEXT:
                answers[item.id] = "Lãnh đạo đoàn kết, hoàn thành các chỉ tiêu chủ yếu của năm."
            elif item.kind == ItemKind.LEVEL:
                answers[item.id] = level
            elif item.kind == ItemKind.RATING:
                answers[item.id] = "tot"
            elif item.kind == ItemKind.POINTS:
                answers[item.id] = str((item.max_points * Decimal("0.8")).quantize(Decimal(1)))
    if rater:
        answers["rater"] = rater
    return answers


def analysis_post(assessment, level, *, version=0, submit=True, rater=""):
    """The POST of the analysis form with `analysis_answers`; `submit` hands it in."""
    data = {"version": str(version), **as_post(analysis_answers(assessment, level, rater=rater))}
    if submit:
        data["submit"] = "1"
    return data


def minutes_post(period, cell, level, *, version=0, held_on=None, counted=True):
    """The POST of the meeting page: every member present but those not classified (absent), and, when
    `counted`, every present member's ballots all for `level` on every line."""
    roster = meetings.meeting_sheet(period, cell).roster
    absent = [a for a in roster if not a.classified]
    present = len(roster) - len(absent)
    data = {
        "version": str(version),
        "held_on": (held_on or timezone.localdate()).isoformat(),
        "members_total": str(len(roster)),
        "present": str(present),
        "absent": str(len(absent)),
        "absentees": [str(a.public_id) for a in absent],
    }
    for assessment in roster:
        if not assessment.classified:
            continue
        data[f"row-{assessment.public_id}-comments"] = f"Chi bộ góp ý cho đồng chí {assessment.member.full_name}."
        numbers = dict.fromkeys(COUNT_FIELDS, "")
        if counted:
            numbers.update({"issued": present, "received": present, "valid": present})
            numbers.update({name: 0 for name in LEVEL_NAMES})
            numbers[level.lower()] = present
        for name, value in numbers.items():
            data[f"row-{assessment.public_id}-{name}"] = str(value)
    return data


# --- The other roles' steps, through the services -------------------------------------------------------------


def create_period(town, regime, **fields):
    today = timezone.localdate()
    values = {
        "organization": town.city,
        "year": today.year,
        "regime": regime,
        "self_review_due": today + datetime.timedelta(days=14),
        "cell_meeting_due": today + datetime.timedelta(days=21),
        "grassroots_decision_due": today + datetime.timedelta(days=28),
        "city_decision_due": today + datetime.timedelta(days=35),
        **fields,
    }
    return Period.objects.create(**values)


def open_period(town, regime):
    """The board creates and opens the period (its own screens are tested in test_board.py)."""
    period = create_period(town, regime)
    services.period_open(period=period, user=town.user("ban_to_chuc"))
    period.refresh_from_db()
    return period


def submit_self_review(assessment, user, level="HTTNV"):
    """Save every answer and submit, as the form page does."""
    assessment = member_form(assessment.period, assessment.member) if assessment.member_id else assessment
    answers = answers_for(assessment, level)
    item = formview.self_level_item(formview.template_for(assessment))
    saved = review_services.assessment_save(
        assessment=assessment,
        user=user,
        answers=answers,
        self_level=answers.get(item.id, "") if item else "",
        base_version=assessment.version,
    )
    return review_services.assessment_submit(assessment=saved, user=user, base_version=saved.version)


def submit_cell(period, cell, user, level="HTTNV"):
    """Every classified self-review of the cell not yet in, submitted by `user` (the secretary)."""
    for assessment in classified_forms(period, cell):
        if assessment.state in (S.NOT_STARTED, S.DRAFT, S.RETURNED):
            submit_self_review(assessment, user, level)


def record_minutes(period, cell, user, level="HTTNV", *, counted=True):
    """The secretary's minutes, as the meeting page posts them: every member present counted all for
    `level` (or, not `counted`, only the attendance, before an online ballot)."""
    meeting = meetings.meeting_sheet(period, cell).meeting
    data = minutes_post(period, cell, level, version=meeting.version if meeting else 0, counted=counted)
    roster = meetings.meeting_sheet(period, cell).roster
    form, formset = meetings.minutes_forms(
        QueryDict(urlencode(data, doseq=True)),
        sheet_roster=roster,
        lines=[str(a.public_id) for a in roster if a.classified],
        year=period.year,
    )
    assert form.is_valid() and formset.is_valid(), (form.errors, formset.errors)
    return meetings.meeting_record(
        period=period,
        organization=cell,
        user=user,
        minutes=form.cleaned_data,
        lines=formset.cleaned_by_key(),
        base_version=int(data["version"]),
    )


def decide_members(period, group, user, level="HTTNV"):
    """The grassroots organisation decides every classified member under it at `level` (in 2025 those
    with no score get the one their paper form would give)."""
    forms = decisions.member_assessments(period, group).filter(classified=True)
    if period.regime == "2025":
        scored_2025(forms.exclude(answers__has_key="paper_total").exclude(state__in=("submitted", "cell_reviewed")))
    return decisions.decisions_record(
        period=period, organization=group, user=user, choices={f.pk: (level, "") for f in forms}
    )


def rank_below(period, parent, user, level="HTTNV"):
    """`parent` decides the organisations below it (a committee its cells, the board the grassroots),
    their leadership collectives first (QĐ 366 Điều 7, in 2025), at the same level (in 2025 the reviews
    not submitted get the score their paper would give)."""
    if period.regime == "2025":
        below = Assessment.objects.filter(
            period=period, member__isnull=True, organization__path__startswith=parent.path
        )
        scored_2025(below.exclude(state__in=("submitted", "cell_reviewed")))
    decide_collectives(period, parent, user, level)
    forms = ranking.organization_assessments(period, parent).filter(classified=True)
    return ranking.ranking_record(period=period, parent=parent, user=user, choices={f.pk: (level, "") for f in forms})


def decide_collectives(period, parent, user, level="HTNV"):
    """`parent` decides the leadership collectives of the organisations below it, on the ranking screen's
    second tab (through the service)."""
    forms = ranking.collective_assessments(period, parent).filter(classified=True)
    return ranking.ranking_record(
        period=period,
        parent=parent,
        user=user,
        choices={f.pk: (level, "") for f in forms},
        subject_kind="collective",
    )
