"""The demo's people: generated names, and the members of every planned cell with their standing and posts.

`Population` generates the members cell by cell from the cell's profile (demo.catalogue), gives
some of them a special standing (excused, suspended, probationary) and every cell its secretary,
deputy and government posts, then writes them in bulk. demo.records and demo.accounts pick among
the same people.

The people are light objects (`Person`, with the member's fields as attributes, packed in the
population's columns, and the key the row will have), not model instances, and they are written as
plain rows through demo.bulk (COPY on PostgreSQL): a province of 100,000 members takes seconds, not
minutes. Their names and contact details are drawn again as they are written, never kept.
"""

import random
import unicodedata
from array import array
from collections.abc import Iterator
from datetime import date, timedelta

from members.models import Member
from organizations.vietnamese import fold, name_sort_key

from .bulk import insert_rows, reserve_ids
from .catalogue import (
    AGES,
    FAMILY_NAMES,
    GIVEN_NAMES,
    MIDDLE_NAMES,
    PHONE_PREFIXES,
    PROFILES,
    REAL_NAMES,
    RESIDENT_WORK_UNITS,
    RESIDENTIAL_PROFILES,
)
from .plan import OrgPlan, add_years, age_on, random_day

Occupation = Member.Occupation
Gender = Member.Gender
Status = Member.Status
PartyPost = Member.PartyPost

# Shares of the population (and minimums, so that a small run still has every case).
QUOTAS = {
    "excused": (0.015, 2),
    "suspended": (0.002, 1),
    "recent": (0.012, 2),  # admitted less than six months ago (probationary)
    "probationary": (0.013, 2),  # admitted six to twelve months ago
    "transfer": (0.012, 3),
    "discipline": (0.004, 2),
    "sick": (0.008, 2),
    "maternity": (0.004, 1),
    "degradation": (1 / 3650, 1),
}


class NameGenerator:
    """Vietnamese full names from weighted parts: family name, middle name by generation, given name."""

    def __init__(self, rng):
        self.rng = rng
        self._families = list(FAMILY_NAMES), list(FAMILY_NAMES.values())
        self._middles = {key: (list(parts), list(parts.values())) for key, parts in MIDDLE_NAMES.items()}

    def full_name(self, gender, born_year):
        rng = self.rng
        while True:
            family = rng.choices(*self._families)[0]
            middle = rng.choices(*self._middles[(gender, born_year < 1975)])[0]
            given = rng.choice(GIVEN_NAMES[gender])
            name = unicodedata.normalize("NFC", f"{family} {middle} {given}")
            if middle != given and name not in REAL_NAMES:
                return name


# The member's fields, in the order of the rows written (Population._completed); the others get their defaults.
MEMBER_FIELDS = (
    "id",
    "full_name",
    "gender",
    "date_of_birth",
    "card_number",
    "admission_date",
    "official_date",
    "cell_id",
    "work_unit",
    "occupation",
    "party_post",
    "government_post",
    "is_leader",
    "status",
    "status_since",
    "email",
    "phone",
)
MEMBER_COLUMNS = ("search_name", "sort_key", *MEMBER_FIELDS)
CARD = MEMBER_FIELDS.index("card_number")
# Drawn again as each member is written (Population._completed), never kept.
DRAWN_AT_WRITE = ("full_name", "email", "phone")


class _Coded:
    """A column of values from a small set (a choice, a work unit): four bytes a member."""

    def __init__(self) -> None:
        self.codes = array("I")
        self.values: list = []
        self.index: dict = {}

    def _code(self, value) -> int:
        code = self.index.get(value)
        if code is None:
            code = self.index[value] = len(self.values)
            self.values.append(value)
        return code

    def append(self, value) -> None:
        self.codes.append(self._code(value))

    def get(self, i: int):
        return self.values[self.codes[i]]

    def set(self, i: int, value) -> None:
        self.codes[i] = self._code(value)


class _Days(_Coded):
    """A column of dates (or None) as day numbers: four bytes a member."""

    def __init__(self) -> None:
        self.codes = array("i")

    def append(self, value: date | None) -> None:
        self.codes.append(0 if value is None else value.toordinal())

    def get(self, i: int) -> date | None:
        day = self.codes[i]
        return None if day == 0 else date.fromordinal(day)

    def set(self, i: int, value: date | None) -> None:
        self.codes[i] = 0 if value is None else value.toordinal()


class _Numbers(_Coded):
    """A column of whole numbers (keys, card numbers): eight bytes a member."""

    def __init__(self) -> None:
        self.codes = array("q")

    def append(self, value: int | None) -> None:
        self.codes.append(value or 0)

    def get(self, i: int) -> int:
        return self.codes[i]

    def set(self, i: int, value: int) -> None:
        self.codes[i] = value


def _columns() -> dict:
    numbers, days = (
        ("id", "card_number", "cell_id"),
        ("date_of_birth", "admission_date", "official_date", "status_since"),
    )
    return {
        name: _Numbers() if name in numbers else _Days() if name in days else _Coded()
        for name in MEMBER_FIELDS
        if name not in DRAWN_AT_WRITE
    }


class Person:
    """A member being generated, with the cell plan it belongs to; compared and hashed by identity (a person
    is picked at most once per case).

    The member's fields are attributes (`person.member.status`, the names of Member's columns) kept in the
    population's columns, packed (a few dozen bytes a member, not a few hundred for objects): the seed's
    memory stays small at any size. The name and contact details are drawn as the member is written."""

    __slots__ = ("plan", "index", "columns")

    def __init__(self, plan: OrgPlan, index: int, columns: dict) -> None:
        self.plan, self.index, self.columns = plan, index, columns

    @property
    def member(self) -> "Person":
        return self

    @property
    def can_hold_post(self) -> bool:
        return self.status == Status.ACTIVE and self.official_date is not None


def _field(name: str) -> property:
    def get(person: Person):
        return person.columns[name].get(person.index)

    def set(person: Person, value) -> None:
        person.columns[name].set(person.index, value)

    return property(get, set)


for _name in _columns():
    setattr(Person, _name, _field(_name))


class _Keys(dict):
    """The folded search name and the sort key of each full name, computed once (names repeat a lot)."""

    def __missing__(self, name):
        self[name] = keys = (fold(name), name_sort_key(name))
        return keys


KEYS_KEPT = 20_000


def saved(member):
    """The Member row written for a Person."""
    return Member.objects.select_related("cell").get(pk=member.id)


class Population:
    """The members of a planned city. `orgs` maps each plan code to its saved Organization."""

    def __init__(self, *, plan, orgs, total, rng, contact_rng, names, today):
        self.plan = plan
        self.orgs = orgs
        self.total = total
        self.rng = rng
        # Contact details draw from their own sequence: adding them changed nothing else of the demo.
        self.contact_rng = contact_rng
        self.names = names
        self.today = today
        self.people = []
        self.columns = _columns()  # the members' fields, packed (see Person)
        self.drawn = 0
        self.by_cell = {}

    def create(self):
        """Generate and write every member; returns how many.

        Two passes over the same random sequence keep memory small at any size: the first draws every
        person and keeps only what the later choices read (dates, occupation, cell; no name, no
        contact details), the second draws the same people again from a copy of the generator's
        starting state, chunk by chunk as they are written, for their names and contact details."""
        start = self.rng.getstate()
        for cell in self.plan.root.cells():
            crowd = [self._person(cell, self.rng, self.names) for _ in range(cell.size)]
            self.by_cell[cell.code] = crowd
            self.people.extend(crowd)
        self._card_numbers()
        committees = {org.code: org for org in self.plan.root.children}
        # The cells of the two secretary accounts get one of each special case, to demo them.
        self.demo_cells = [
            min(committees[code].cells(), key=lambda cell: cell.code)
            for code in (self.plan.committee_a, self.plan.committee_b)
        ]
        self._statuses()
        for crowd in self.by_cell.values():
            self._posts(crowd)
        for person, pk in zip(self.people, reserve_ids(Member, len(self.people)), strict=True):
            person.member.id = pk
        return insert_rows(Member, MEMBER_COLUMNS, self._completed(start))

    def _completed(self, start: tuple) -> Iterator[tuple]:
        """Each member's row as written (MEMBER_COLUMNS): the person of the first pass, with the name drawn
        again from a copy of the generator started at `start` (the same draws give the same name), the
        contact details, and the keys Member.fill_derived() would compute."""
        rng = random.Random()
        rng.setstate(start)
        names = NameGenerator(rng)
        keys = _Keys()
        for cell in self.plan.root.cells():
            for person in self.by_cell[cell.code]:
                full_name = self._person(cell, rng, names, named=True)
                phone, email = self._contact(full_name, person.occupation)
                drawn = {"full_name": full_name, "phone": phone, "email": email}
                if len(keys) > KEYS_KEPT:  # a province draws more names than are worth keeping
                    keys.clear()
                values = [drawn[name] if name in drawn else getattr(person, name) for name in MEMBER_FIELDS]
                values[CARD] = str(values[CARD])  # kept as a number, written as its digits
                yield (*keys[full_name], *values)

    def secretary(self, cell):
        """The saved Member who is the secretary of the planned `cell`."""
        return saved(next(p.member for p in self.by_cell[cell.code] if p.member.party_post == PartyPost.SECRETARY))

    def quota(self, key):
        share, minimum = QUOTAS[key]
        return max(minimum, round(self.total * share))

    def age(self, person):
        return age_on(person.member.date_of_birth, self.today)

    def pick(self, pool, count, exclusive=False):
        """`count` people of `pool` at random, the first ones from the demo cells when they have candidates.

        An exclusive pick changes the person's standing (status, probation): nobody gets two, and
        every cell keeps three people able to hold its party posts (secretary, deputy, one more).
        """
        candidates = [p for p in pool if not (exclusive and p in self.special)]
        first = []
        for cell in self.demo_cells:
            local = [p for p in candidates if p.plan is cell]
            if local:
                first.append(self.rng.choice(local))
        rest = [p for p in candidates if p not in first]
        self.rng.shuffle(rest)
        chosen = []
        for person in first + rest:
            if len(chosen) == count:
                break
            if exclusive:
                if self.can_hold_post[person.plan.code] <= 3:
                    continue
                self.can_hold_post[person.plan.code] -= 1
                self.special.add(person)
            chosen.append(person)
        return chosen

    # One member.

    def _person(self, cell: OrgPlan, rng: random.Random, names: NameGenerator, named: bool = False) -> "Person | str":
        """A new Person of `cell` drawn from `rng` (its name drawn too, so that the draws stay the same, but
        not kept); with `named`, only the drawn full name."""
        today = self.today
        profile = PROFILES[cell.profile]
        occupation = profile.pick_occupation(rng)
        gender = Gender.FEMALE if rng.random() < profile.female else Gender.MALE
        if occupation == Occupation.RETIRED:
            youngest = 55 if gender == Gender.FEMALE else 60  # retired women from 55, men from 60
            age = round(rng.triangular(youngest, 92, youngest + 3))  # more young retirees than very old ones
        else:
            age = rng.randint(*AGES[occupation])
        born = add_years(today, -age) - timedelta(days=rng.randint(0, 364))
        # Admitted at 18 or later, mostly in their twenties, and over a year ago (official since).
        earliest = add_years(born, 18) + timedelta(days=1)
        latest = add_years(today, -1) - timedelta(days=30)
        admitted = earliest + timedelta(days=int(rng.expovariate(1 / 6) * 365.25))
        if admitted > latest:
            admitted = random_day(rng, earliest, latest)
        work_unit = cell.unit
        if cell.profile in RESIDENTIAL_PROFILES:  # residents work elsewhere, or not at all
            if occupation in (Occupation.RETIRED, Occupation.FARMER):
                work_unit = ""
            else:
                work_unit = rng.choice(RESIDENT_WORK_UNITS)
        full_name = " ".join(names.full_name(gender, born.year).split())
        if named:
            return full_name
        values = {
            "id": None,  # reserved once everyone is drawn
            "gender": gender,
            "date_of_birth": born,
            "card_number": None,  # drawn once everyone is drawn
            "admission_date": admitted,
            "official_date": add_years(admitted, 1),
            "cell_id": self.orgs[cell.code].pk,
            "work_unit": work_unit,
            "occupation": occupation,
            "party_post": "",
            "government_post": "",
            "is_leader": False,
            "status": Status.ACTIVE,
            "status_since": None,
        }
        for name, column in self.columns.items():
            column.append(values[name])
        person = Person(cell, self.drawn, self.columns)
        self.drawn += 1
        return person

    def _contact(self, full_name, occupation):
        """A mobile number for most members (none for about one in ten, mostly the old); an e-mail
        address for a third of those at work, never for the retired. Generated, like the names; the
        addresses are on the reserved example.vn domain."""
        rng = self.contact_rng
        retired = occupation == Occupation.RETIRED
        phone = ""
        if rng.random() > (0.15 if retired else 0.04):
            prefix = rng.choice(PHONE_PREFIXES)
            digits = f"{rng.randrange(10_000_000):07d}"
            phone = f"{prefix}{digits[0]} {digits[1:4]} {digits[4:]}"
        email = ""
        if not retired and rng.random() < 0.33:
            folded = unicodedata.normalize("NFD", full_name.replace("Đ", "D").replace("đ", "d"))
            ascii_name = "".join(ch for ch in folded if ch.isascii()).lower().split()
            email = (
                f"{ascii_name[-1]}.{''.join(part[0] for part in ascii_name[:-1])}{rng.randrange(100, 999)}@example.vn"
            )
        return phone, email

    def _card_numbers(self):
        """Unique 8-digit numbers, never one that a member already in the database holds."""
        existing = set(Member.objects.values_list("card_number", flat=True))
        numbers = self.rng.sample(range(10_000_000, 100_000_000), len(self.people) + len(existing))
        # Kept as numbers (the row writes their digits): the sample holds them already.
        fresh = (number for number in numbers if str(number) not in existing)
        for person, number in zip(self.people, fresh, strict=False):  # more numbers than people
            person.member.card_number = number

    # Standing and posts.

    def _statuses(self):
        rng, today = self.rng, self.today
        self.special = set()
        self.can_hold_post = {code: len(crowd) for code, crowd in self.by_cell.items()}
        retired = [p for p in self.people if p.member.occupation == Occupation.RETIRED]
        working = [p for p in self.people if p.member.occupation != Occupation.RETIRED]

        # Excused from work and party activities (miễn công tác và sinh hoạt đảng): the old and frail.
        old = [p for p in retired if self.age(p) >= 70] or retired
        for person in self.pick(old, self.quota("excused"), exclusive=True):
            person.member.status = Status.EXCUSED
            person.member.status_since = random_day(rng, today - timedelta(days=5 * 365), today - timedelta(days=30))

        working_age = [p for p in working if self.age(p) < 58]
        for person in self.pick(working_age, self.quota("suspended"), exclusive=True):
            person.member.status = Status.SUSPENDED
            person.member.status_since = today - timedelta(days=rng.randint(20, 200))

        # Probationary (dự bị): admitted within the last twelve months, some within the last six.
        young = [p for p in working if 20 <= self.age(p) <= 40]
        for key, days in (("recent", (7, 170)), ("probationary", (190, 355))):
            for person in self.pick(young, self.quota(key), exclusive=True):
                person.member.admission_date = today - timedelta(days=rng.randint(*days))
                person.member.official_date = None

    def _posts(self, crowd):
        """A secretary and a deputy in every cell, a cell committee (chi ủy) from nine members, government posts."""
        rng = self.rng
        plan = crowd[0].plan
        profile = PROFILES[plan.profile]
        eligible = [p for p in crowd if p.can_hold_post]
        rng.shuffle(eligible)
        # Posts go to people in the prime of their careers; retirees are further down the list.
        seniors = sorted(eligible, key=lambda p: abs(self.age(p) - 52))
        post_holders = [p for p in seniors if p.member.occupation not in (Occupation.RETIRED, Occupation.STUDENT)]
        for post, person in zip(plan.posts, post_holders, strict=False):  # a small cell may lack holders
            person.member.government_post = post
            person.member.is_leader = profile.posts_lead
        # The head of an agency is often its party secretary too.
        if plan.posts and post_holders and profile.posts_lead and rng.random() < 0.6:
            secretary = post_holders[0]
        else:
            secretary = seniors[0]
        others = [p for p in seniors if p is not secretary]
        secretary.member.party_post = PartyPost.SECRETARY
        others[0].member.party_post = PartyPost.DEPUTY_SECRETARY
        if len(crowd) >= 9:
            for person in others[1 : 1 + rng.randint(1, 3)]:
                person.member.party_post = PartyPost.COMMITTEE_MEMBER
