"""Every rule of both regimes that reads a member's, a leader's, an organisation's or a collective's
records, at the screen where the level is decided, not only in the pure rulebook (tests/assessments/
rulebooks/): for each rule id a recipe that writes the records that make it fire and one that keeps it
quiet; the deciding role opens the screen (members and leaders on the decision screen as the committee
officer, organisations and collectives on the ranking screens as the board) and the row's evaluation has
the rule, or lacks it. A rule that blocks is then asked for the level just above its cap: refused (422,
the rule named) when it fires, not refused for it when quiet.

The rule ids not checked here are listed at the end (NOT_AT_THE_SCREENS) with where they are checked or
why no record carries their facts; a test keeps the table and the list together equal to the catalogues.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal

import pytest
from django.urls import reverse

from assessments.core import services
from assessments.models import Analysis, Assessment, BallotCount, Meeting, Period
from assessments.rulebooks import Severity, get_rulebook
from members.models import (
    CivilServiceRating,
    CommitteeSuspension,
    DegradationConclusion,
    DisciplineDecision,
    LeaderYear,
    LeavePeriod,
    Member,
    TemporaryAttachment,
    Transfer,
)
from organizations.models import OrganizationRecord, OrganizationYear
from tests.factories import MemberFactory
from tests.helpers import scored_2025
from vocabulary import Level

pytestmark = pytest.mark.django_db

YEAR = 2026
KINDS = ("member", "leader", "organization", "collective")


# --- The world of one case ----------------------------------------------------------------------------------


@dataclass
class World:
    city: object
    personas: object
    period: Period
    subject_kind: str
    organization_code: str = ""

    @property
    def subject(self) -> Assessment:
        if self.subject_kind == "member":
            return self.form(self.personas.member_record)
        if self.subject_kind == "leader":
            return self.form(self.personas.secretary_a1_record)
        organization = getattr(self.city, self.organization_code or "cell_c")
        return review(self.period, organization, self.subject_kind)

    def form(self, member) -> Assessment:
        return Assessment.objects.get(period=self.period, member=member)

    @property
    def person(self) -> Member:
        return self.personas.secretary_a1_record if self.subject_kind == "leader" else self.personas.member_record


def review(period, organization, kind="organization"):
    return Assessment.objects.get(period=period, organization=organization, subject_kind=kind)


def decided(queryset, level):
    queryset.update(decided_level=level, state=Assessment.State.DECIDED)


def members_of(world, organization):
    return Assessment.objects.filter(period=world.period, organization=organization, member__isnull=False)


def answers(assessment, **values):
    """The subject's form with `values` set (None: removed)."""
    merged = {**assessment.answers, **values}
    Assessment.objects.filter(pk=assessment.pk).update(answers={k: v for k, v in merged.items() if v is not None})


def shares(world, completed="100", on_time="100", exceeding="40"):
    answers(world.subject, tasks_completed=completed, tasks_on_time=on_time, tasks_exceeding=exceeding)


def analysis(world, **values):
    """An evaluator's analysis form on the subject, handed in."""
    Analysis.objects.create(
        assessment=world.subject,
        rater=world.personas.evaluator,
        answers=values,
        submitted_at=datetime.datetime(YEAR, 11, 1, tzinfo=datetime.UTC),
    )


MEMBER_CRITERIA = (
    "political_ideology",
    "ethics_lifestyle",
    "organizational_discipline",
    "working_style",
    "duty_results",
    "remedy_results",
)
ORGANIZATION_CRITERIA = (
    "political_ideological_work",
    "organization_personnel",
    "leading_government_front",
    "inspection_discipline",
    "programmes_into_action",
    "socio_economic_defence",
    "remedy_results",
)


def rated(world, criteria, rating="xuat_sac", **others):
    analysis(world, **{item: rating for item in criteria} | others)


def ballot(world, completed):
    """The cell's meeting recorded the subject's share of tasks completed."""
    subject = world.subject
    meeting = Meeting.objects.create(
        period=world.period, organization=subject.organization, held_on=datetime.date(YEAR, 11, 1),
        members_total=3, present=3, absent=0,
    )  # fmt: skip
    BallotCount.objects.create(
        meeting=meeting, assessment=subject, tasks_completed=completed, tasks_on_time=completed, tasks_exceeding=0
    )


def sick(world, start, end, kind=LeavePeriod.Kind.SICK):
    LeavePeriod.objects.create(member=world.person, kind=kind, starts_on=start, ends_on=end)


def discipline(member, **fields):
    values = {"decided_on": datetime.date(YEAR, 4, 1), "form": "reprimand", "reason": "Vi phạm quy chế"} | fields
    DisciplineDecision.objects.create(member=member, **values)


def conclusion(member, kind=DegradationConclusion.Kind.DEGRADATION):
    DegradationConclusion.objects.create(
        member=member, kind=kind, concluded_on=datetime.date(YEAR, 5, 1), body="UBKT Thành ủy", summary="Kết luận"
    )


def transfer(world, comment=""):
    """Moved from Chi bộ B1 on 1 August: seven months of the year in the former cell."""
    Transfer.objects.create(
        member=world.person,
        transferred_on=datetime.date(YEAR, 8, 1),
        from_cell=world.city.cell_b1,
        to_cell=world.city.cell_a1,
        former_cell_comment=comment,
    )


def attachment(world, comment=""):
    TemporaryAttachment.objects.create(
        member=world.person, temporary_cell=world.city.cell_b1, starts_on=datetime.date(YEAR, 3, 1), comment=comment
    )


def civil_servant(world, level=None):
    Member.objects.filter(pk=world.person.pk).update(occupation=Member.Occupation.CIVIL_SERVANT)
    if level:
        CivilServiceRating.objects.create(member=world.person, year=YEAR, level=level)


def probationary(world, official=False):
    official_date = datetime.date(2000, 1, 1) if official else None
    Member.objects.filter(pk=world.person.pk).update(official_date=official_date)


def unit_decided(world, level):
    """The cell the leader (Chi bộ A1's secretary) heads decided at `level`."""
    decided(
        Assessment.objects.filter(period=world.period, organization=world.city.cell_a1, subject_kind="organization"),
        level,
    )


def leader_year(world, **values):
    LeaderYear.objects.create(member=world.person, year=YEAR, **values)


def organization_record(world, kind, decided_on=datetime.date(YEAR, 3, 1)):
    OrganizationRecord.objects.create(
        organization=world.city.cell_c, kind=kind, decided_on=decided_on, body="Ủy ban Kiểm tra Thành ủy", summary="x"
    )


def peers(world, government="HTXSNV", front="HTTNV", mass="HTTNV"):
    """The board's record of Chi bộ C's year: the levels of its same-level government, Front and mass
    organisations."""
    OrganizationYear.objects.create(
        organization=world.city.cell_c, year=YEAR, government_level=government, front_level=front,
        mass_organizations_level=mass,
    )  # fmt: skip


def unit_plan(world, share=None, targets_missed=False):
    """The board's record of Chi bộ C's year: the share of its plan the unit its collective leads completed."""
    OrganizationYear.objects.create(
        organization=world.city.cell_c, year=YEAR, unit_plan_share=share, basic_targets_missed=targets_missed
    )


def committee_suspension(world, year=YEAR):
    """The subject suspended from the activities of the committee they sit on (not from party activities)."""
    CommitteeSuspension.objects.create(
        member=world.person, year=year, suspended_on=datetime.date(year, 6, 1), body="Ban Thường vụ Đảng ủy"
    )


def post_holders(world, count=1):
    """`count` members of Chi bộ C's leadership collective (its chi ủy); the first is the fixture's member."""
    first = Member.objects.get(cell=world.city.cell_c)
    Member.objects.filter(pk=first.pk).update(party_post=Member.PartyPost.SECRETARY)
    for _ in range(count - 1):
        MemberFactory(
            cell=world.city.cell_c, party_post=Member.PartyPost.COMMITTEE_MEMBER, occupation=Member.Occupation.RETIRED
        )
    return first


def cell_member_decided(world, level):
    decided(members_of(world, world.city.cell_c), level)


def cells_of_committee_a_decided(world, a1, a2):
    decided(members_of(world, world.city.cell_a1), a1)
    decided(members_of(world, world.city.cell_a2), a2)
    decided(
        Assessment.objects.filter(period=world.period, organization=world.city.cell_a1, subject_kind="organization"), a1
    )
    decided(
        Assessment.objects.filter(period=world.period, organization=world.city.cell_a2, subject_kind="organization"), a2
    )


def organization_decided(world, level):
    """Chi bộ C, whose collective is the subject, decided at `level`."""
    decided(Assessment.objects.filter(pk=review(world.period, world.city.cell_c).pk), level)


def counted_earlier(world):
    """A violation of last year, disciplined this year, already counted in last year's level."""
    discipline(world.person, violation_reference="KL-01", violation_year=YEAR - 1, counted_in_earlier_year=True)


def nothing(world):
    pass


# --- The table ----------------------------------------------------------------------------------------------


Recipe = Callable[[World], None]


@dataclass(frozen=True)
class Case:
    rule: str
    kind: str  # the subject kind the case decides
    fires: Recipe
    quiet: Recipe
    organization: str = ""  # the organisation or collective reviewed, by its City attribute (default cell_c)
    parameters: dict = field(default_factory=dict)
    severity: Severity | None = None  # None: the catalogue's default (V blocks, R warns)

    @property
    def regime(self) -> str:
        return self.rule[1:5]

    @property
    def id(self) -> str:
        return self.rule


D = datetime.date
CASES_2018 = [
    Case("R2018-M-SICK", "member", lambda w: sick(w, D(YEAR, 2, 10), D(YEAR, 5, 9)),
         lambda w: sick(w, D(YEAR, 2, 10), D(YEAR, 3, 9))),
    Case("R2018-M-MATERNITY", "member", lambda w: sick(w, D(YEAR, 2, 1), D(YEAR, 7, 31), LeavePeriod.Kind.MATERNITY),
         lambda w: sick(w, D(YEAR, 2, 1), D(YEAR, 2, 20))),
    Case("R2018-M-TRANSFER", "member", transfer, lambda w: transfer(w, "Chấp hành tốt sinh hoạt chi bộ.")),
    Case("R2018-M-TEMP", "member", attachment, lambda w: attachment(w, "Chấp hành tốt sinh hoạt tại chi bộ.")),
    Case("R2018-M-DISCIPLINE", "member", lambda w: discipline(w.person),
         lambda w: discipline(w.person, violation_year=YEAR - 1, counted_in_earlier_year=True)),
    Case("R2018-M-DEGRADATION", "member", lambda w: conclusion(w.person),
         lambda w: conclusion(w.person, DegradationConclusion.Kind.PROHIBITIONS)),
    Case("R2018-M-TASKS50", "member", lambda w: ballot(w, Decimal("40")), lambda w: ballot(w, Decimal("80"))),
    Case("R2018-M-CBCCVC-KHTNV", "member", lambda w: civil_servant(w, "KHTNV"), lambda w: civil_servant(w, "HTTNV")),
    Case("R2018-M-CBCCVC-XS", "member", lambda w: civil_servant(w, "HTTNV"), lambda w: civil_servant(w, "HTXSNV")),
    Case("R2018-M-CBCCVC-CAP", "member", lambda w: civil_servant(w, "HTNV"), lambda w: civil_servant(w, "HTXSNV")),
    Case("R2018-P-CBCCVC-FIRST", "member", civil_servant, lambda w: civil_servant(w, "HTXSNV")),
    Case("R2018-M-XS-CRITERIA", "member", lambda w: rated(w, MEMBER_CRITERIA, duty_results="tot"),
         lambda w: rated(w, MEMBER_CRITERIA)),
    Case("R2018-M-CRITERIA", "member", lambda w: rated(w, MEMBER_CRITERIA, "tot", working_style="trung_binh"),
         lambda w: rated(w, MEMBER_CRITERIA, "tot")),
    Case("R2018-M-PROBATION", "member", probationary, lambda w: probationary(w, official=True)),
    Case("R2018-M-CU-SUSP", "member", committee_suspension, lambda w: committee_suspension(w, YEAR - 1)),
    Case("R2018-L-UNIT", "leader", lambda w: unit_decided(w, "KHTNV"), lambda w: unit_decided(w, "HTXSNV")),
    Case("R2018-L-NOT-ABOVE", "leader", lambda w: unit_decided(w, "HTNV"), lambda w: unit_decided(w, "HTXSNV")),
    Case("R2018-C-CAP-ORG", "collective", lambda w: organization_decided(w, "HTNV"),
         lambda w: organization_decided(w, "HTXSNV")),
    Case("R2018-C-DISCIPLINE", "collective", lambda w: discipline(post_holders(w), form="warning"),
         lambda w: discipline(post_holders(w), form="reprimand")),
    Case("R2018-O-XS-CRITERIA", "organization", lambda w: rated(w, ORGANIZATION_CRITERIA, socio_economic_defence="tot"),
         lambda w: rated(w, ORGANIZATION_CRITERIA)),
    Case("R2018-O-TT-CRITERIA", "organization",
         lambda w: rated(w, ORGANIZATION_CRITERIA, socio_economic_defence="trung_binh"),
         lambda w: rated(w, ORGANIZATION_CRITERIA)),
    Case("R2018-O-HTNV", "organization", lambda w: rated(w, ORGANIZATION_CRITERIA, programmes_into_action="kem"),
         lambda w: rated(w, ORGANIZATION_CRITERIA)),
    Case("R2018-O-XS-PEER", "organization", lambda w: peers(w, front="HTNV"), peers),
    Case("R2018-O-TT-PEER", "organization", lambda w: peers(w, mass="KHTNV"), lambda w: peers(w, front="HTNV")),
    Case("R2018-O-TASKS50", "organization", lambda w: analysis(w, targets_completed="40"),
         lambda w: analysis(w, targets_completed="80")),
    Case("R2018-O-XS-SUB", "organization", lambda w: cell_member_decided(w, "HTNV"), nothing),
    Case("R2018-O-TT-SUB", "organization", lambda w: cell_member_decided(w, "HTNV"), nothing),
    Case("R2018-O-KHTNV20-CB", "organization", lambda w: cell_member_decided(w, "KHTNV"), nothing),
    Case("R2018-O-KHTNV20-DB", "organization", lambda w: cells_of_committee_a_decided(w, "KHTNV", "HTNV"),
         lambda w: cells_of_committee_a_decided(w, "HTTNV", "HTTNV"), organization="committee_a"),
    Case("R2018-O-DISCIPLINED", "organization", lambda w: organization_record(w, OrganizationRecord.Kind.DISCIPLINED),
         lambda w: organization_record(w, OrganizationRecord.Kind.DISCIPLINED, D(YEAR - 1, 12, 31))),
    Case("R2018-O-OTHER", "organization", lambda w: organization_record(w, OrganizationRecord.Kind.CORRUPTION),
         lambda w: organization_record(w, OrganizationRecord.Kind.DISCIPLINED)),
]  # fmt: skip

CASES_2025 = [
    Case("R2025-S-SCORE", "member", lambda w: answers(w.subject, paper_total=None), nothing),
    Case("R2025-S-BANDS", "member", lambda w: answers(w.subject, paper_total="69.5"), nothing),
    Case("R2025-S-COMBINE", "member",
         lambda w: answers(w.subject, tasks_completed=None, tasks_on_time=None, tasks_exceeding=None), nothing),
    Case("R2025-M-XS", "member", lambda w: shares(w, exceeding="10"), nothing),
    Case("R2025-L-XS", "leader", lambda w: shares(w, exceeding="10"), nothing),
    Case("R2025-C-XS", "collective", lambda w: shares(w, exceeding="10"), nothing),
    Case("R2025-ALL-XS-FIX", "member", lambda w: answers(w.subject, shortcomings_fixed="50"),
         lambda w: answers(w.subject, shortcomings_fixed="100")),
    Case("R2025-ALL-TT", "member", lambda w: shares(w, on_time="90"), nothing),
    Case("R2025-ALL-HTNV", "member", lambda w: shares(w, completed="90", on_time="90"), nothing),
    Case("R2025-M-K-CONDUCT", "member", lambda w: conclusion(w.person, DegradationConclusion.Kind.PROHIBITIONS),
         lambda w: discipline(w.person)),
    Case("R2025-M-K-TASKS", "member", lambda w: shares(w, completed="40", on_time="40", exceeding="0"),
         lambda w: shares(w, completed="90", on_time="90", exceeding="0")),
    Case("R2025-ALL-DISC-TIME", "member",
         counted_earlier,
         lambda w: discipline(w.person, violation_reference="KL-01")),
    Case("R2025-M-SICK", "member", lambda w: sick(w, D(YEAR, 2, 10), D(YEAR, 5, 9)),
         lambda w: sick(w, D(YEAR, 2, 10), D(YEAR, 3, 9))),
    Case("R2025-M-TEMP", "member", attachment, lambda w: attachment(w, "Chấp hành tốt sinh hoạt tại chi bộ.")),
    Case("R2025-M-TRANSFER", "member", transfer, lambda w: transfer(w, "Chấp hành tốt sinh hoạt chi bộ.")),
    Case("R2025-M-CU-SUSP", "member", committee_suspension, lambda w: committee_suspension(w, YEAR - 1)),
    Case("R2025-L-K-TASKS", "leader", lambda w: leader_year(w, unit_plan_share=Decimal("65")),
         lambda w: leader_year(w, unit_plan_share=Decimal("95"))),
    Case("R2025-L-K-VOTE", "leader", lambda w: leader_year(w, low_confidence_share=Decimal("55")),
         lambda w: leader_year(w, low_confidence_share=Decimal("10"))),
    Case("R2025-L-K-DISC", "leader", lambda w: discipline(w.person, in_official_duties=True),
         lambda w: discipline(w.person, in_official_duties=False)),
    Case("R2025-L-K-DEGR", "leader", lambda w: conclusion(w.person),
         lambda w: conclusion(w.person, DegradationConclusion.Kind.PROHIBITIONS)),
    Case("R2025-L-K-CORRUPT", "leader", lambda w: leader_year(w, remit_corruption_disciplined=True),
         lambda w: leader_year(w, remit_corruption_disciplined=False)),
    Case("R2025-L-NOT-ABOVE", "leader", lambda w: unit_decided(w, "HTNV"), lambda w: unit_decided(w, "HTXSNV")),
    Case("R2025-C-K-PERSONNEL", "collective",
         lambda w: organization_record(w, OrganizationRecord.Kind.PERSONNEL_OR_DISUNITY),
         lambda w: organization_record(w, OrganizationRecord.Kind.DISCIPLINED)),
    Case("R2025-C-K-DISC", "collective", lambda w: discipline(post_holders(w, 3), in_official_duties=True),
         lambda w: discipline(post_holders(w, 3), in_official_duties=False)),
    Case("R2025-C-K-DEGR", "collective", lambda w: conclusion(post_holders(w, 3)), lambda w: post_holders(w, 3)),
    Case("R2025-C-K-TASKS", "collective", lambda w: unit_plan(w, Decimal("65")),
         lambda w: unit_plan(w, Decimal("70"))),
    Case("R2025-C-SMALL", "collective", lambda w: post_holders(w, 2), lambda w: post_holders(w, 3)),
    Case("R2025-C-CAP-ORG", "collective",
         lambda w: organization_decided(w, "HTNV"),
         lambda w: organization_decided(w, "HTXSNV")),
    Case("R2025-O-BASIS", "organization", nothing,
         lambda w: decided(Assessment.objects.filter(period=w.period, organization=w.city.cell_c), "")),
    Case("R2025-O-CONDITIONS", "organization", lambda w: shares(w, on_time="90"), nothing),
]  # fmt: skip

# Where the finding is not the catalogue's default: notes (INFO), and a severity the period's parameters set
# (2025: the temporary cell's comment missing warns, `temporary_comment_severity`).
SEVERITIES = {
    "R2018-M-MATERNITY": Severity.INFO,
    "R2018-M-PROBATION": Severity.INFO,
    "R2018-M-CU-SUSP": Severity.INFO,
    "R2025-ALL-DISC-TIME": Severity.INFO,
    "R2025-M-SICK": Severity.INFO,
    "R2025-M-CU-SUSP": Severity.INFO,
    "R2025-C-SMALL": Severity.INFO,
    "R2025-O-BASIS": Severity.INFO,
    "R2025-M-TEMP": Severity.WARN,
}
CASES = [replace(case, severity=SEVERITIES.get(case.rule)) for case in CASES_2018 + CASES_2025]


# --- Opening the screen -------------------------------------------------------------------------------------


def open_world(city, personas, case: Case) -> World:
    Member.objects.update(occupation=Member.Occupation.RETIRED)  # no civil-service rating needed unless asked
    if case.kind == "leader":
        Member.objects.filter(pk=personas.secretary_a1_record.pk).update(is_leader=True)
    period = Period.objects.create(organization=city.city, year=YEAR, regime=case.regime, parameters=case.parameters)
    services.period_open(period=period, user=personas.board)
    if case.regime == "2025":
        scored_2025(period.assessments.all())  # a score of 95 and every task share: up to HTXSNV
    world = World(city, personas, period, case.kind, case.organization)
    if case.kind in ("organization", "collective"):
        # What the order asks before an organisation (its members; in 2025 its collective first).
        cell_member_decided(world, "HTTNV")
        if case.kind == "organization" and case.regime == "2025":
            decided(Assessment.objects.filter(pk=review(period, city.cell_c, "collective").pk), "HTTNV")
    return world


def screen(world):
    """(the deciding role's client user, the screen's address)"""
    period, city = world.period, world.city
    if world.subject_kind in ("member", "leader"):
        return world.personas.officer_a, reverse("assessments:decide", args=[period.public_id, city.committee_a.code])
    name = "assessments:rank_collectives" if world.subject_kind == "collective" else "assessments:rank"
    return world.personas.board, reverse(name, args=[period.public_id, city.city.code])


def row_at_the_screen(client, address, subject):
    """The subject's row on the screen (members: their cell's page)."""
    query = {"cell": subject.organization.code} if subject.member_id else {}
    page = client.get(address, query)
    assert page.status_code == 200
    rows = [row for row in page.context["rows"] if row.assessment.pk == subject.pk]
    assert rows, f"{subject} is not on the screen"
    return rows[0]


def expected_severity(case):
    if case.severity is not None:
        return case.severity
    return Severity.BLOCK if get_rulebook(case.regime).rules[case.rule].mark == "V" else Severity.WARN


def above(cap) -> str:
    """The level just above `cap` (no cap: the lowest level, since a capless block forbids every level)."""
    if cap is None:
        return Level.KHTNV.value
    order = list(reversed(Level.best_first()))  # KHTNV, HTNV, HTTNV, HTXSNV
    return order[order.index(Level(cap)) + 1].value


def post(client, address, subject, level):
    return client.post(address, {f"level-{subject.pk}": level}, HTTP_HX_REQUEST="true")


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_the_rule_fires_at_the_screen(city, personas, client_for, case):
    world = open_world(city, personas, case)
    case.fires(world)
    user, address = screen(world)
    client = client_for(user)
    row = row_at_the_screen(client, address, world.subject)
    found = row.evaluation.by_rule(case.rule)
    assert found, f"{case.rule} does not fire: {sorted(row.evaluation.rule_ids)}"
    assert {f.severity for f in found} == {expected_severity(case)}
    blocking = [f for f in found if f.severity == Severity.BLOCK and not f.unchecked]
    if blocking:
        level = above(min((f.cap for f in blocking if f.cap is not None), default=None))
        response = post(client, address, world.subject, level)
        assert response.status_code == 422 and case.rule in response.content.decode()
        assert Assessment.objects.get(pk=world.subject.pk).decided_level != level


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_the_rule_is_quiet_at_the_screen(city, personas, client_for, case):
    world = open_world(city, personas, case)
    case.quiet(world)
    user, address = screen(world)
    client = client_for(user)
    row = row_at_the_screen(client, address, world.subject)
    assert not row.evaluation.by_rule(case.rule), f"{case.rule} fires: {row.evaluation.by_rule(case.rule)}"
    # A rule that blocks when it fires does not refuse any level when quiet: not even the highest.
    if get_rulebook(case.regime).rules[case.rule].mark == "V":
        response = post(client, address, world.subject, Level.HTXSNV.value)
        assert response.status_code in (200, 422) and case.rule not in response.content.decode()


# --- What is not checked at the screens, and why ------------------------------------------------------------

QUOTA = "a quota over a group, not a row's rule: tests/assessments/test_quota_exception.py, test_decisions.py"
EXCLUSION = "who is classified, settled when the period opens: tests/assessments/test_period_open.py"
PROCEDURE = "a rule on the year's procedure (dates, meetings, order), not on a subject's records"

NOT_AT_THE_SCREENS = {
    "R2018-ALL-LEVEL": "every reviewed subject decided before the round closes: tests/assessments/test_closing.py",
    "R2018-M-EXEMPT-MIEN": EXCLUSION,
    "R2018-M-EXEMPT-SUSP": EXCLUSION,
    "R2018-M-NEW": EXCLUSION,
    "R2018-O-NEW": EXCLUSION,
    "R2018-M-CHECKLIST": "a rule of the self-review form's checklist, checked on the form, not at the decision",
    "R2018-Q-MEMBER": QUOTA,
    "R2018-Q-COLLECTIVE": QUOTA,
    "R2018-Q-ORG": QUOTA,
    "R2018-Q-LEADER": QUOTA,
    "R2018-P-TIMING": PROCEDURE + ": tests/assessments/test_schedule_warnings.py",
    "R2018-M-TWO-YEARS": "a flag on the year-end lists (khtnv_two_years_running), not a finding of the row",
    "R2025-Q-QUOTA": QUOTA,
    "R2025-Q-EXCEPTION": QUOTA,
    "R2025-ALL-MITIGATE": "the note of a trigger set aside with a reason: test_facts_at_decision.py (audit entry)",
    "R2025-M-EXEMPT": EXCLUSION,
    "R2025-O-NEW": EXCLUSION,
    "R2025-P-MEETING": PROCEDURE + ": tests/assessments/test_schedule_warnings.py, test_meeting.py",
    "R2025-P-DEADLINES": PROCEDURE + ": tests/assessments/test_schedule_warnings.py",
    "R2025-M-TWO-YEARS": "a flag on the year-end lists (khtnv_two_years_running), not a finding of the row",
}


def test_every_rule_of_a_subject_is_at_the_screens_or_listed_with_its_reason():
    covered = [case.rule for case in CASES]
    assert len(covered) == len(set(covered)), "a rule id twice in the table"
    assert not set(covered) & set(NOT_AT_THE_SCREENS), "a rule id both in the table and in NOT_AT_THE_SCREENS"
    assert all(reason.strip() for reason in NOT_AT_THE_SCREENS.values())
    implemented = {
        rule_id
        for code in ("2018", "2025")
        for rule_id, spec in get_rulebook(code).implemented_rules.items()
        if set(spec.subjects) & set(KINDS)
    }
    accounted = set(covered) | set(NOT_AT_THE_SCREENS)
    assert implemented - accounted == set(), "rules neither tested at the screens nor listed with a reason"
    assert accounted - implemented == set(), "ids tested or listed that no catalogue implements"
    for case in CASES:
        assert case.kind in get_rulebook(case.regime).implemented_rules[case.rule].subjects, case.rule
