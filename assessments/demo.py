"""Demo reviews for the demo city: the current year's period open, with forms in every state."""

import datetime
import random

from django.db import connection
from django.utils import timezone

from organizations.models import Organization

from . import formview, services
from .models import Assessment, AuditEntry, Period
from .rulebooks import ItemKind, Rating, validate_answers

SAMPLE_TEXT = [
    "Luôn giữ vững lập trường tư tưởng chính trị, chấp hành nghiêm chủ trương của Đảng, chính sách, pháp luật "
    "của Nhà nước.",
    "Hoàn thành các nhiệm vụ được giao đúng tiến độ, bảo đảm chất lượng.",
    "Thực hiện tốt cam kết tu dưỡng, rèn luyện, phấn đấu đầu năm.",
    "Có lúc chưa mạnh dạn trong tự phê bình và phê bình; nguyên nhân chủ yếu do chủ quan.",
    "Đã khắc phục cơ bản các hạn chế được chỉ ra ở kỳ kiểm điểm trước.",
    "Tiếp tục học tập, nâng cao trình độ; mạnh dạn đấu tranh, phê bình.",
]


def demo_answers(assessment, template, rng, level="HTTNV"):
    """Answers to every item the subject fills, valid for submission."""
    answers = formview.parse_answers(template, {}, {}, assessment)  # the header, from the records
    for section in template.sections:
        if formview.section_author(template, section) != formview.SUBJECT:
            continue
        for item in section.items:
            if item.id in answers or item.prefill:
                continue
            if item.kind == ItemKind.TEXT:
                answers[item.id] = rng.choice(SAMPLE_TEXT)
            elif item.kind == ItemKind.LEVEL:
                answers[item.id] = level
            elif item.kind == ItemKind.RATING:
                answers[item.id] = Rating.TOT.value
            elif item.kind == ItemKind.POINTS:
                answers[item.id] = str((item.max_points * 8 / 10).quantize(item.max_points))
            elif item.kind == ItemKind.CHECKLIST:
                answers[item.id] = {entry.id: "absent" for entry in item.entries}
    return answers


def seed_reviews(*, year=None, regime="2025", secretary=None, seed=2018):
    """Open the year's period for the first root and put the member forms in a realistic mix of states.

    The demo secretary's cell gets its forms through the services (with their audit entries); the
    rest of the city is written in bulk, each change with its audit entry."""
    rng = random.Random(seed)
    today = timezone.localdate()
    year = year or today.year
    root = Organization.objects.get_root_nodes().first()
    if root is None or Period.objects.filter(organization=root, year=year).exists():
        return None
    period = Period.objects.create(
        organization=root,
        year=year,
        regime=regime,
        self_review_due=max(today + datetime.timedelta(days=14), datetime.date(year, 12, 15)),
        cell_meeting_due=max(today + datetime.timedelta(days=21), datetime.date(year, 12, 20)),
        grassroots_decision_due=max(today + datetime.timedelta(days=28), datetime.date(year, 12, 25)),
        city_decision_due=max(today + datetime.timedelta(days=35), datetime.date(year, 12, 31)),
    )
    opened = services.period_open(period=period, user=None)
    period.refresh_from_db()

    forms = list(
        Assessment.objects.filter(period=period, member__isnull=False, classified=True)
        .select_related("period", "member__cell", "organization")
        .order_by("pk")
    )
    templates = {}
    now = timezone.now()
    changed, entries = [], []
    for assessment in forms:
        if secretary is not None and assessment.organization_id == secretary.cell_id:
            continue  # done below, through the services
        roll = rng.random()
        if roll < 0.45:
            continue  # not started
        key = (assessment.subject_kind, assessment.form_variant)
        if key not in templates:
            templates[key] = formview.template_for(assessment)
        template = templates[key]
        level = "HTXSNV" if rng.random() < 0.18 else ("HTNV" if rng.random() < 0.08 else "HTTNV")
        assessment.answers = demo_answers(assessment, template, rng, level)
        assessment.self_level = level
        assessment.version = 1
        assessment.filled_by_id = assessment.member.user_id
        target = Assessment.State.DRAFT if roll < 0.6 else Assessment.State.SUBMITTED
        assessment.state = target
        if target == Assessment.State.SUBMITTED:
            assessment.submitted_at = now
        changed.append(assessment)
        entries.append(_entry(period, assessment, "save", Assessment.State.NOT_STARTED, Assessment.State.DRAFT))
        if target == Assessment.State.SUBMITTED:
            entries.append(_entry(period, assessment, "submit", Assessment.State.DRAFT, target))
    Assessment.objects.bulk_update(
        changed, ["answers", "self_level", "version", "filled_by", "state", "submitted_at"], batch_size=500
    )
    AuditEntry.objects.bulk_create(entries, batch_size=1000)
    if secretary is not None:
        _secretary_cell(period, secretary, rng)
    return opened


def _entry(period, assessment, action, from_state, to_state):
    return AuditEntry(
        period=period,
        assessment=assessment,
        actor_id=assessment.member.user_id,
        action=action,
        from_state=from_state,
        to_state=to_state,
    )


def _secretary_cell(period, secretary, rng):
    """The demo secretary's cell: a few submitted, one returned, one filled in on a member's behalf."""
    forms = list(
        Assessment.objects.filter(
            period=period, organization_id=secretary.cell_id, classified=True, member__isnull=False
        )
        .select_related("period", "member__cell", "member__user", "organization")
        .order_by("member__sort_key")
    )
    user = secretary.user
    for number, assessment in enumerate(forms[:8]):
        if assessment.member_id == secretary.pk:
            continue  # the secretary's own form stays for them to try
        template = formview.template_for(assessment)
        answers = demo_answers(assessment, template, rng)
        assert not validate_answers(template, answers, submit=True)
        actor = assessment.member.user or user
        saved = services.assessment_save(
            assessment=assessment, user=actor, answers=answers, self_level="HTTNV", base_version=0
        )
        if number % 4 == 3:
            continue  # left as a draft
        submitted = services.assessment_submit(assessment=saved, user=actor, base_version=saved.version)
        if number == 2:
            services.assessment_return(
                assessment=submitted,
                user=user,
                reason="Đề nghị đồng chí bổ sung kết quả khắc phục hạn chế đã được chỉ ra năm trước.",
            )


def delete_reviews():
    """Remove every period, assessment and audit entry: for --reset of the demo database only.

    The audit trail refuses deletes through the application (and, on PostgreSQL, through a trigger);
    emptying the tables is the one way, and it is meant for a demo database."""
    tables = [
        # The meetings and ballots refer to the assessments and periods: they go first.
        "assessments_votermark",
        "assessments_ballottally",
        "assessments_ballot_eligible_voters",
        "assessments_ballot",
        "assessments_ballotcount",
        "assessments_meeting_absentees",
        "assessments_meeting",
        "assessments_auditentry",
        "assessments_analysis",
        "assessments_assessment",
        "assessments_period",
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Rows written earlier in this transaction leave deferred foreign-key checks pending, and
            # TRUNCATE refuses to run over them: run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {', '.join(tables)}")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")
