"""Property tests: over random records of a member, whatever level the decision screen accepts is one
the rulebook allows for the same facts, and each refusal cites the rule that refuses.

The facts are written to the database as a user would enter them (discipline, leave, conclusions,
civil-service rating, the paper form's total, the cell's task shares); the expected reading is computed
here from the same values with the pure rulebook, without the project's fact builder, so the property
checks the builder and the screen together."""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessments.core import services
from assessments.evaluations import PAPER_TOTAL
from assessments.models import Assessment, BallotCount, Meeting, Period
from assessments.rulebooks import Answers, Discipline, LeaderFacts, MemberFacts, TaskStats, get_rulebook
from members.models import CivilServiceRating, DegradationConclusion, DisciplineDecision, LeavePeriod, Member
from vocabulary import Level

pytestmark = pytest.mark.django_db

YEAR = 2026
RULE_ID = re.compile(r"R20(18|25)-[A-Z0-9-]+")
FORMS = ["reprimand", "warning", "dismissal", "expulsion"]
CONCLUSIONS = ["degradation", "prohibitions", "exemplary_duty"]

disciplines = st.lists(
    st.fixed_dictionaries(
        {
            "form": st.sampled_from(FORMS),
            "month": st.integers(1, 10),
            "in_official_duties": st.booleans(),
            "counted_in_earlier_year": st.booleans(),
            "reference": st.sampled_from(["", "KL-1", "KL-2"]),
        }
    ),
    max_size=2,
)
shares = st.one_of(
    st.none(),
    st.tuples(st.integers(0, 100), st.integers(0, 100), st.integers(0, 100)).map(
        lambda t: (max(t), min(t[1], max(t)), min(t[2], max(t)))
    ),
)
records = st.fixed_dictionaries(
    {
        "civil_servant": st.booleans(),
        "civil_level": st.one_of(st.none(), st.sampled_from(Level.codes())),
        "disciplines": disciplines,
        "sick_months": st.integers(0, 5),  # whole calendar months from 1 February
        "conclusions": st.lists(st.sampled_from(CONCLUSIONS), max_size=2, unique=True),
        "total": st.one_of(st.none(), st.decimals(0, 100, places=1)),
        "shares": shares,
        "level": st.sampled_from(Level.codes()),
        "unit_level": st.one_of(st.none(), st.sampled_from(Level.codes())),
    }
)


def write(member, assessment, data):
    """The records as a user enters them (admin, paper list, meeting); for a leader, the level decided
    for the cell they head."""
    if assessment.subject_kind == Assessment.SubjectKind.LEADER:
        Assessment.objects.filter(
            period=assessment.period, organization=member.cell, subject_kind="organization"
        ).update(decided_level=data["unit_level"] or "")
    occupation = Member.Occupation.CIVIL_SERVANT if data["civil_servant"] else Member.Occupation.RETIRED
    Member.objects.filter(pk=member.pk).update(occupation=occupation)
    if data["civil_level"]:
        CivilServiceRating.objects.create(member=member, year=YEAR, level=data["civil_level"])
    for d in data["disciplines"]:
        DisciplineDecision.objects.create(
            member=member,
            decided_on=datetime.date(YEAR, d["month"], 1),
            form=d["form"],
            reason="Vi phạm",
            in_official_duties=d["in_official_duties"],
            counted_in_earlier_year=d["counted_in_earlier_year"],
            violation_reference=d["reference"],
        )
    if data["sick_months"]:
        end = datetime.date(YEAR, 2 + data["sick_months"], 1) - datetime.timedelta(days=1)
        LeavePeriod.objects.create(member=member, kind="sick", starts_on=datetime.date(YEAR, 2, 1), ends_on=end)
    for kind in data["conclusions"]:
        DegradationConclusion.objects.create(
            member=member, kind=kind, concluded_on=datetime.date(YEAR, 6, 1), body="UBKT", summary="Kết luận"
        )
    answers = {}
    if data["total"] is not None:
        answers[PAPER_TOTAL] = str(data["total"])
    Assessment.objects.filter(pk=assessment.pk).update(answers=answers)
    if data["shares"] is not None:
        # The cell's view of the member's tasks, recorded on the meeting's line.
        completed, on_time, exceeding = data["shares"]
        meeting = Meeting.objects.create(
            period=assessment.period,
            organization=member.cell,
            held_on=datetime.date(YEAR, 11, 1),
            members_total=1,
            present=1,
            absent=0,
        )
        BallotCount.objects.create(
            meeting=meeting,
            assessment=assessment,
            tasks_completed=completed,
            tasks_on_time=on_time,
            tasks_exceeding=exceeding,
        )


def expected(period, member, data):
    """The rulebook's reading of the same values, built here from them (not from the database)."""
    decisions = [
        Discipline(
            decided_on=datetime.date(YEAR, d["month"], 1),
            form=d["form"],
            in_official_duties=d["in_official_duties"],
            violation_key=d["reference"] or None,
        )
        for d in data["disciplines"]
    ]
    counted = {disc.key for disc, d in zip(decisions, data["disciplines"], strict=True) if d["counted_in_earlier_year"]}
    sick_days = 0
    if data["sick_months"]:
        end = datetime.date(YEAR, 2 + data["sick_months"], 1) - datetime.timedelta(days=1)
        sick_days = (end - datetime.date(YEAR, 2, 1)).days + 1
    leader = member.is_leader
    facts = (LeaderFacts if leader else MemberFacts)(
        **({"unit_level": data["unit_level"]} if leader else {}),
        is_leader=leader,
        admission_date=member.admission_date,
        status=member.status,
        official_date=member.official_date,
        occupation="civil_servant" if data["civil_servant"] else "retired",
        civil_service_level=data["civil_level"],
        disciplines=tuple(decisions),
        counted_violation_keys=frozenset(counted),
        degradation_concluded="degradation" in data["conclusions"],
        violated_prohibitions="prohibitions" in data["conclusions"],
        breached_exemplary_duty="exemplary_duty" in data["conclusions"],
        sick_leave_days=sick_days,
        sick_leave_months=Decimal(data["sick_months"]),
        party_post=member.party_post,
    )
    tasks = None
    if data["shares"] is not None:
        completed, on_time, exceeding = (Decimal(v) / 100 for v in data["shares"])
        tasks = TaskStats(completed=completed, on_time=on_time, exceeding=exceeding)
    answers = Answers(tasks=tasks, total=data["total"] if period.regime == "2025" else None)
    rulebook = get_rulebook(period.regime)
    params = rulebook.parameters(period.parameters, year=period.year)
    kind = "leader" if leader else "member"
    return rulebook.evaluate(kind, facts, answers, params, variant=rulebook.choose_variant(kind, facts))


def check_the_screen(client, period, committee, assessment, member, data):
    address = reverse("assessments:decide", args=[period.public_id, committee.code])
    level = data["level"]
    response = client.post(
        address,
        {f"level-{assessment.pk}": level, f"note-{assessment.pk}": "Căn cứ kết quả thực hiện nhiệm vụ."},
        HTTP_HX_REQUEST="true",
    )
    evaluation = expected(period, member, data)
    decided = Assessment.objects.get(pk=assessment.pk).decided_level
    if response.status_code == 200:
        # A note is always written: the findings the deciding level may set aside with it (2025: a KHTNV
        # trigger, R2025-ALL-MITIGATE) do not hold the level; nothing else may be above.
        assert decided == level
        setaside = {f.rule_id for f in evaluation.findings if f.mitigable}
        assert evaluation.allowed(level, setaside), (level, [f.rule_id for f in evaluation.explain(level)])
    else:
        assert response.status_code == 422 and decided == ""
        assert not evaluation.allowed(level, {f.rule_id for f in evaluation.findings if f.mitigable})
        text = response.content.decode()
        assert all(f.rule_id in text for f in evaluation.explain(level)), evaluation.explain(level)
        assert RULE_ID.search(text)


@pytest.mark.parametrize("subject", ["member", "leader"])
@pytest.mark.parametrize("regime", ["2018", "2025"])
def test_no_level_above_the_rulebooks_cap_is_accepted_and_every_refusal_cites_its_rule(
    regime, subject, city, personas, client_for
):
    Member.objects.update(occupation=Member.Occupation.RETIRED)
    if subject == "leader":
        # The secretary of cell A1 is a leader, held to the cell's level where the period makes it law.
        Member.objects.filter(pk=personas.secretary_a1_record.pk).update(is_leader=True)
    switches = {f"R{regime}-L-UNIT": {"enabled": True, "severity": "block"}} if regime == "2018" else {}
    switches[f"R{regime}-L-NOT-ABOVE"] = {"enabled": True, "severity": "block"}
    period = Period.objects.create(organization=city.city, year=YEAR, regime=regime, parameters={"switches": switches})
    services.period_open(period=period, user=personas.board)
    member = personas.secretary_a1_record if subject == "leader" else personas.member_record
    assessment = Assessment.objects.get(period=period, member=member)
    client = client_for(personas.officer_a)

    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(records)
    def property_holds(data):
        with transaction.atomic():
            write(member, assessment, data)
            member.refresh_from_db()
            check_the_screen(client, period, city.committee_a, assessment, member, data)
            transaction.set_rollback(True)

    property_holds()


cells = st.fixed_dictionaries(
    {
        "members": st.lists(st.sampled_from(Level.codes()), min_size=3, max_size=3),
        "total": st.one_of(st.none(), st.decimals(0, 100, places=1)),
        "level": st.sampled_from(Level.codes()),
    }
)


@pytest.mark.parametrize("regime", ["2018", "2025"])
def test_no_organisation_level_above_the_rulebooks_cap_is_accepted(regime, city, personas, client_for):
    """Cell A1 (three members) decided by its committee on the ranking screen, its members' levels drawn
    at random: the level accepted is one the rulebook allows for those levels and the cell's own score."""
    from assessments.rulebooks import OrganizationFacts

    Member.objects.update(occupation=Member.Occupation.RETIRED)
    period = Period.objects.create(organization=city.city, year=YEAR, regime=regime)
    services.period_open(period=period, user=personas.board)
    review = Assessment.objects.get(period=period, organization=city.cell_a1, subject_kind="organization")
    members = list(Assessment.objects.filter(period=period, organization=city.cell_a1, member__isnull=False))
    client = client_for(personas.officer_a)
    address = reverse("assessments:rank", args=[period.public_id, city.committee_a.code])
    rulebook = get_rulebook(regime)
    params = rulebook.parameters(period.parameters, year=period.year)

    @settings(
        max_examples=30,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(cells)
    def property_holds(data):
        with transaction.atomic():
            for form, level in zip(members, data["members"], strict=True):
                Assessment.objects.filter(pk=form.pk).update(decided_level=level, state="decided")
            answers = {PAPER_TOTAL: str(data["total"])} if data["total"] is not None else {}
            Assessment.objects.filter(pk=review.pk).update(answers=answers)
            level = data["level"]
            response = client.post(
                address, {f"level-{review.pk}": level, f"note-{review.pk}": "Căn cứ kết quả."}, HTTP_HX_REQUEST="true"
            )
            counts = {}
            for code in data["members"]:
                counts[Level(code)] = counts.get(Level(code), 0) + 1
            facts = OrganizationFacts(kind="cell", founded_on=city.cell_a1.founded_on, member_levels=counts)
            total = data["total"] if regime == "2025" else None
            evaluation = rulebook.evaluate_organization(facts, Answers(total=total), params)
            decided = Assessment.objects.get(pk=review.pk).decided_level
            setaside = {f.rule_id for f in evaluation.findings if f.mitigable}
            if response.status_code == 200:
                assert decided == level and evaluation.allowed(level, setaside), evaluation.explain(level)
            else:
                assert response.status_code == 422 and decided == ""
                assert not evaluation.allowed(level, setaside)
                assert all(f.rule_id in response.content.decode() for f in evaluation.explain(level))
            transaction.set_rollback(True)

    property_holds()
