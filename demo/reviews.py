"""The demo city's review periods: last year published, this year's open with forms in every state.

`seed_previous_year` writes last year's period, decided and published; `seed_reviews` opens this
year's and puts the member forms in a realistic mix of states; `seed_meeting_and_decisions` has the
demo secretary's cell meet and the demo officer's committee decide. The demo secretary's cell goes
through the services (with their audit entries); the rest is written in bulk, each change with its
audit entry. The wording is in demo/data/reviews.json.
"""

import datetime
import random
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from assessments.core import services
from assessments.decisions import services as decisions
from assessments.meetings import minutes
from assessments.models import Assessment, AuditEntry, Period
from assessments.reviews import formview
from assessments.reviews import services as review_services
from assessments.rulebooks import ItemKind, Rating, validate_answers
from organizations.models import Organization
from organizations.policy import SYSTEM

from .bulk import CHUNK, insert_rows, update_rows
from .catalogue import MEETING_COMMENT, RETURN_REASON, SELF_REVIEW_TEXTS

# What a self-review proposing each level typically gives: the share of the points (2025) and the
# shares of the year's tasks, in percent (completed, on time, beyond requirements), so that the rules
# read the same level as the one proposed.
DEMO_RESULTS = {
    "HTXSNV": (Decimal("0.95"), {"tasks.completed": "100", "tasks.on_time": "100", "tasks.exceeding": "35"}),
    "HTTNV": (Decimal("0.8"), {"tasks.completed": "100", "tasks.on_time": "100", "tasks.exceeding": "20"}),
    "HTNV": (Decimal("0.6"), {"tasks.completed": "100", "tasks.on_time": "90", "tasks.exceeding": "0"}),
    "KHTNV": (Decimal("0.4"), {"tasks.completed": "40", "tasks.on_time": "40", "tasks.exceeding": "0"}),
}


def demo_answers(assessment, template, rng, level="HTTNV"):
    """Answers to every item the subject fills, valid for submission, and in keeping with `level`."""
    share_of_points, shares = DEMO_RESULTS.get(level or "HTTNV", DEMO_RESULTS["HTTNV"])
    answers = formview.header_answers(template, assessment)  # the header, from the records
    for section in template.sections:
        if formview.section_author(template, section) != formview.SUBJECT:
            continue
        for item in section.items:
            if item.id in answers or item.prefill:
                continue
            if item.kind == ItemKind.TEXT:
                answers[item.id] = rng.choice(SELF_REVIEW_TEXTS)
            elif item.kind == ItemKind.LEVEL:
                answers[item.id] = level
            elif item.kind == ItemKind.RATING:
                answers[item.id] = Rating.TOT.value
            elif item.kind == ItemKind.POINTS:
                answers[item.id] = str((item.max_points * share_of_points).quantize(item.max_points))
            elif item.kind == ItemKind.CHECKLIST:
                answers[item.id] = {entry.id: "absent" for entry in item.entries}
            elif item.kind == ItemKind.SHARE:
                answers[item.id] = shares.get(item.measure, "100")
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
    opened = services.period_open(period=period, user=SYSTEM)
    period.refresh_from_db()

    forms = (
        Assessment.objects.filter(period=period, member__isnull=False, classified=True)
        .select_related("period", "member__cell", "organization")
        .order_by("pk")
    )
    templates = {}
    now = timezone.now()
    changed, entries = [], []
    for assessment in forms.iterator(chunk_size=2000):
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
        answers = demo_answers(assessment, template, rng, level)
        target = Assessment.State.DRAFT if roll < 0.6 else Assessment.State.SUBMITTED
        submitted_at = now if target == Assessment.State.SUBMITTED else assessment.submitted_at
        user_id = assessment.member.user_id
        changed.append((assessment.pk, answers, level, 1, user_id, target, submitted_at))
        entries.append(
            (period.pk, assessment.pk, user_id, "save", Assessment.State.NOT_STARTED, Assessment.State.DRAFT)
        )
        if target == Assessment.State.SUBMITTED:
            entries.append((period.pk, assessment.pk, user_id, "submit", Assessment.State.DRAFT, target))
        if len(changed) >= 2000:
            _write_forms(changed, entries)
            changed, entries = [], []
    _write_forms(changed, entries)
    if secretary is not None:
        _secretary_cell(period, secretary, rng)
    return opened


AUDIT_COLUMNS = ("period_id", "assessment_id", "actor_id", "action", "from_state", "to_state")


def _write_forms(changed, entries):
    """The forms' new answers and states (rows: pk, answers, self level, version, filled by, state,
    submitted at) and their audit entries (rows in the order of AUDIT_COLUMNS)."""
    update_rows(Assessment, ("answers", "self_level", "version", "filled_by_id", "state", "submitted_at"), changed)
    insert_rows(AuditEntry, AUDIT_COLUMNS, entries)


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
        saved = review_services.assessment_save(
            assessment=assessment, user=actor, answers=answers, self_level="HTTNV", base_version=0
        )
        if number % 4 == 3:
            continue  # left as a draft
        submitted = review_services.assessment_submit(assessment=saved, user=actor, base_version=saved.version)
        if number == 2:
            review_services.assessment_return(
                assessment=submitted,
                user=user,
                reason=RETURN_REASON,
            )


def delete_reviews():
    """Remove every period, assessment and audit entry: for --reset of the demo database only.

    The audit trail refuses deletes through the application (and, on PostgreSQL, through a trigger);
    emptying the tables is the one way, and it is meant for a demo database."""
    tables = [
        # The background jobs refer to the periods (their files stay on disk, unreferenced).
        "jobs_job",
        # The meetings and ballots refer to the assessments and periods: they go first.
        "assessments_votermark",
        "assessments_ballottally",
        "assessments_ballot_eligible_voters",
        "assessments_ballot_recorded_voters",
        "assessments_ballot",
        "assessments_ballotcount",
        "assessments_meeting_absentees",
        "assessments_meeting",
        # The matters to re-check refer to the assessments too.
        "assessments_recheck",
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


# --- The story around the current year: last year published, this year's meeting and decisions -----------


def seed_previous_year(*, year, regime="2025", seed=2018):
    """Last year's period, opened, decided and published, in bulk (each change with its audit entry):
    about 15% HTXSNV within the quota of each grassroots organisation, 75% HTTNV, 9% HTNV, few KHTNV."""
    rng = random.Random(seed + 1)
    root = Organization.objects.get_root_nodes().first()
    if root is None or Period.objects.filter(organization=root, year=year).exists():
        return None
    period = Period.objects.create(
        organization=root,
        year=year,
        regime=regime,
        self_review_due=datetime.date(year, 12, 10),
        cell_meeting_due=datetime.date(year, 12, 15),
        grassroots_decision_due=datetime.date(year, 12, 20),
        city_decision_due=datetime.date(year, 12, 28),
    )
    # The roster as it stands today: good enough for a demo of last year.
    services.period_open(period=period, user=SYSTEM, reference_date=datetime.date(year, 12, 10))
    grassroots = set(root.subtree().filter(kind__in=Organization.GRASSROOTS_KINDS).values_list("path", flat=True))
    lengths = sorted({len(path) for path in grassroots})  # a form's grassroots: the prefix of its path
    groups = {}
    forms = Assessment.objects.filter(period=period, member__isnull=False, classified=True).values_list(
        "pk", "organization__path"
    )
    for pk, path in forms.iterator(chunk_size=5000):
        key = next((path[:n] for n in lengths if path[:n] in grassroots), None)
        groups.setdefault(key, []).append(pk)
    decided_at = timezone.make_aware(datetime.datetime(year, 12, 20, 9, 0))
    data = {"level": None, "demo": True}
    columns = ("decided_level", "self_level", "cell_proposed_level", "state", "decided_at")
    audit_columns = ("period_id", "assessment_id", "action", "from_state", "to_state", "data")
    changed, entries = [], []
    for members in groups.values():
        if len(changed) >= CHUNK:  # written a chunk at a time: memory stays flat in the size
            update_rows(Assessment, columns, changed)
            insert_rows(AuditEntry, audit_columns, entries)
            changed, entries = [], []
        levels = []
        for _ in members:
            roll = rng.random()
            levels.append("KHTNV" if roll < 0.008 else "HTNV" if roll < 0.1 else "HTTNV")
        # HTXSNV within 20% of HTTNV, rounded down, for each grassroots organisation.
        httnv = [i for i, level in enumerate(levels) if level == "HTTNV"]
        best = int(len(httnv) * 0.2 / 1.2)
        for i in rng.sample(httnv, best):
            levels[i] = "HTXSNV"
        for pk, level in zip(members, levels, strict=True):
            changed.append((pk, level, level, level, Assessment.State.PUBLISHED, decided_at))
            entries.append(
                (
                    period.pk,
                    pk,
                    "decide",
                    Assessment.State.NOT_STARTED,
                    Assessment.State.DECIDED,
                    {**data, "level": level},
                )
            )
    update_rows(Assessment, columns, changed)
    insert_rows(AuditEntry, audit_columns, entries)
    del changed, entries, groups
    organizations = Assessment.objects.filter(period=period, member__isnull=True, classified=True)
    published = []
    for pk in organizations.values_list("pk", flat=True):
        roll = rng.random()
        level = "HTXSNV" if roll < 0.15 else "HTNV" if roll > 0.92 else "HTTNV"
        published.append((pk, level, level, Assessment.State.PUBLISHED, decided_at))
    update_rows(Assessment, columns[:2] + columns[3:], published)
    for action, to_state in (("finalise", Period.State.FINALISED), ("publish", Period.State.PUBLISHED)):
        AuditEntry.objects.create(period=period, action=action, to_state=to_state, data={"demo": True})
    Period.objects.filter(pk=period.pk).update(state=Period.State.PUBLISHED)
    return period


def seed_meeting_and_decisions(*, period, secretary, officer_user):
    """This year's story: the demo secretary's cell has met (paper ballots counted for the members who
    submitted), and the demo officer's committee has decided those members."""
    if secretary is None:
        return
    cell = secretary.cell
    forms = list(
        Assessment.objects.filter(period=period, organization=cell, member__isnull=False, classified=True)
        .select_related("member")
        .order_by("member__sort_key")
    )
    submitted = [a for a in forms if a.state == Assessment.State.SUBMITTED]
    if not submitted:
        return
    members_total = len(forms)
    absent = forms[-2:] if members_total > 6 else []
    present = members_total - len(absent)
    lines = {}
    for number, assessment in enumerate(submitted):
        best = "httnv" if number % 5 else "htxsnv"
        counts = {"issued": present, "received": present, "valid": present, "htxsnv": 0, "httnv": 0, "htnv": 0}
        counts["khtnv"] = 0
        counts[best] = present - 2
        counts["htnv"] += 2
        lines[str(assessment.public_id)] = {
            "comments": MEETING_COMMENT,
            **counts,
        }
    held = {
        "held_on": timezone.localdate(),
        "members_total": members_total,
        "present": present,
        "absent": len(absent),
        "absentees": [str(a.public_id) for a in absent],
    }
    minutes.meeting_record(
        period=period, organization=cell, user=secretary.user, minutes=held, lines=lines, base_version=0
    )
    if officer_user is None:
        return
    committee = Organization.objects.get_parent(cell)
    if committee is None or committee.kind not in Organization.GRASSROOTS_KINDS:
        return
    # The HTXSNV proposals are left to the officer: with so few decided yet, the quota refuses them,
    # which is what the decision screen is there to show.
    proposed = (
        Assessment.objects.filter(period=period, organization=cell)
        .exclude(cell_proposed_level="")
        .exclude(cell_proposed_level="HTXSNV")
    )
    choices = {a.pk: (a.cell_proposed_level, "") for a in proposed}
    try:
        decisions.decisions_record(period=period, organization=committee, user=officer_user, choices=choices)
    except decisions.DecisionError:
        pass  # a record of the demo data the rules refuse stays for the officer to decide
