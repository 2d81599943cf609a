"""The demo members' year records: transfers, discipline, leave, degradation conclusions, civil-service ratings.

Each kind goes to a share of the population (demo.people.QUOTAS), the first picks from the demo
secretaries' cells so that the rules have something to show there; the wording is in
demo/data/records.json.
"""

from datetime import timedelta

from members.models import (
    CivilServiceRating,
    DegradationConclusion,
    DisciplineDecision,
    LeavePeriod,
    Member,
    Transfer,
)
from vocabulary import Level

from .bulk import insert_rows
from .catalogue import (
    DEGRADATION_BODY,
    DEGRADATION_SUMMARIES,
    DISCIPLINE_AT_OLD_UNIT,
    DISCIPLINE_BODIES,
    DISCIPLINE_CASES,
)
from .plan import random_day

Occupation = Member.Occupation
Gender = Member.Gender

# Civil-service ratings: roughly the published shape of the levels.
RATING_WEIGHTS = {Level.HTXSNV: 15, Level.HTTNV: 70, Level.HTNV: 13, Level.KHTNV: 2}
RATED_SHARE = 0.92  # civil servants with a civil-service rating for the current and previous year


def create_records(population):
    """Write the records of the population's members; returns how many."""
    active = [p for p in population.people if p.can_hold_post]
    working = [p for p in active if p.member.occupation != Occupation.RETIRED]
    transfers = _transfers(population, active)
    records = [
        *(transfer for _member, transfer in transfers),
        *_discipline(population, working, transfers),
        *_leave(population, working),
        *_conclusions(population, working),
    ]
    for model in (Transfer, DisciplineDecision, LeavePeriod, DegradationConclusion):
        model.objects.bulk_create([record for record in records if type(record) is model])
    ratings = insert_rows(CivilServiceRating, ("member_id", "year", "level"), _ratings(population))
    return len(records) + ratings


def _transfers(population, active):
    """Members who moved in from another cell: the member's cell is the transfer's destination.
    Pairs (member, Transfer)."""
    rng, today = population.rng, population.today
    cells = [population.orgs[cell.code].pk for cell in population.plan.root.cells()]
    transfers = []
    for person in population.pick(active, population.quota("transfer")):
        member = person.member
        source = rng.choice(cells)
        while source == member.cell_id:
            source = rng.choice(cells)
        transfers.append(
            (
                member,
                Transfer(
                    member_id=member.id,
                    transferred_on=random_day(
                        rng, max(member.official_date, today - timedelta(days=540)), today - timedelta(days=20)
                    ),
                    from_cell_id=source,
                    to_cell_id=member.cell_id,
                ),
            )
        )
    return transfers


def _discipline(population, working, transfers):
    rng, today = population.rng, population.today
    disciplined = [p.member for p in population.pick(working, population.quota("discipline"))]
    # One case the rules treat specially: disciplined at the new unit for a violation at the old one.
    movers = [(member, t) for member, t in transfers if member.occupation != Occupation.RETIRED]
    old_unit = next(((member, t) for member, t in movers if all(member is not m for m in disciplined)), None)
    if old_unit is not None and disciplined:
        disciplined[-1] = old_unit[0]
    decisions = []
    for member in disciplined:
        duty_case = member.occupation in (Occupation.CIVIL_SERVANT, Occupation.ARMED_FORCES)
        form, in_duties, reason = rng.choice([case for case in DISCIPLINE_CASES if case[1] == duty_case])
        note = rng.choice(DISCIPLINE_BODIES)
        earliest = max(member.admission_date, today - timedelta(days=500))
        if old_unit is not None and member is old_unit[0]:
            note += ". " + DISCIPLINE_AT_OLD_UNIT
            earliest = old_unit[1].transferred_on + timedelta(days=1)
        decisions.append(
            DisciplineDecision(
                member_id=member.id,
                decided_on=random_day(rng, earliest, today - timedelta(days=5)),
                form=form,
                reason=reason,
                in_official_duties=in_duties,
                note=note,
            )
        )
    return decisions


def _leave(population, working):
    rng, today = population.rng, population.today
    leaves = []
    for person in population.pick(working, population.quota("sick")):
        start = today - timedelta(days=rng.randint(30, 300))
        end = start + timedelta(days=rng.randint(14, 180))
        leaves.append(LeavePeriod(member_id=person.member.id, kind=LeavePeriod.Kind.SICK, starts_on=start, ends_on=end))
    mothers = [p for p in working if p.member.gender == Gender.FEMALE and 22 <= population.age(p) <= 42]
    for person in population.pick(mothers, population.quota("maternity")):
        start = today - timedelta(days=rng.randint(10, 330))
        end = start + timedelta(days=182)  # six months
        leaves.append(
            LeavePeriod(member_id=person.member.id, kind=LeavePeriod.Kind.MATERNITY, starts_on=start, ends_on=end)
        )
    return leaves


def _conclusions(population, working):
    rng, today = population.rng, population.today
    return [
        DegradationConclusion(
            member_id=person.member.id,
            concluded_on=today - timedelta(days=rng.randint(30, 300)),
            body=DEGRADATION_BODY,
            summary=rng.choice(DEGRADATION_SUMMARIES),
        )
        for person in population.pick(working, population.quota("degradation"))
    ]


def _ratings(population):
    """Most civil servants have their state-side rating for the previous and the current year: rows
    (member id, year, level), generated as they are written."""
    rng, year = population.rng, population.today.year
    levels, weights = list(RATING_WEIGHTS), list(RATING_WEIGHTS.values())
    return (
        (person.member.id, rated_year, rng.choices(levels, weights)[0])
        for person in population.people
        if person.member.occupation == Occupation.CIVIL_SERVANT and rng.random() < RATED_SHARE
        for rated_year in (year - 1, year)
    )
