"""The demo city's catalogue, read from the data files in demo/data/ (described in demo/data/README.md).

Place names are the city's real wards and communes (design.md section 9 allows it); every person is
generated from the name parts in names.json, and the few real people named in the source article are
never produced. The files hold the values only; this module turns them into the specs the planner
and the loader use, with the models' choices in place of their plain values.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from members.models import DisciplineDecision, Member
from organizations.models import Organization

DATA = Path(__file__).resolve().parent / "data"

Sector = Organization.Sector
Occupation = Member.Occupation
Gender = Member.Gender


def read(name):
    with open(DATA / name, encoding="utf-8") as file:
        return json.load(file)


# --- What a cell's members look like (profiles.json) -------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """The people of one kind of cell: how many, what they do, which government posts they hold."""

    sizes: tuple  # the usual number of members (before scaling to the requested total)
    occupations: dict  # Occupation -> weight
    female: float  # share of women
    posts: tuple = ()  # government posts held in the unit, most senior first
    posts_lead: bool = True  # whether those posts make their holders leaders or managers

    def pick_occupation(self, rng):
        return rng.choices(list(self.occupations), weights=list(self.occupations.values()))[0]


def _profiles(data):
    return {
        key: Profile(
            tuple(entry["sizes"]),
            {Occupation(occupation): weight for occupation, weight in entry["occupations"].items()},
            entry["female"],
            tuple(entry.get("posts", ())),
            entry.get("posts_lead", True),
        )
        for key, entry in data["profiles"].items()
    }


_people = read("profiles.json")
PROFILES = _profiles(_people)
# Residential cells (tổ dân phố, thôn) hold the retired: the largest cells of the city.
RESIDENTIAL_PROFILES = tuple(_people["residential"])
# Age ranges by occupation (years, inclusive); the retired are aged in demo.people.
AGES = {Occupation(occupation): tuple(ages) for occupation, ages in _people["ages"].items()}


# --- The organisations (organisations.json) ----------------------------------------------------------


@dataclass(frozen=True)
class CellSpec:
    name: str
    profile: str
    posts: tuple = ()  # overrides the profile's government posts
    section: str = ""  # the section committee (đảng bộ bộ phận) it sits under, if any


@dataclass(frozen=True)
class CommitteeSpec:
    """A grassroots committee (đảng bộ cơ sở) and its possible cells, the first ones used first."""

    name: str
    code: str
    sector: str
    cluster: str
    place: str  # appended to a cell's unit for the work unit of its members ("" for none)
    cells: tuple
    cell_range: tuple  # how many cells it usually has


@dataclass(frozen=True)
class GrassrootsCellSpec:
    """A grassroots cell (chi bộ cơ sở) directly under the city."""

    name: str
    code: str
    sector: str
    cluster: str
    profile: str
    posts: tuple = ()


def _local_cells(place, template):
    """The cells of a ward or commune: mostly residential, with its office, forces and schools.

    Residential cells come first so that a small run still has the retired; two of the schools
    come last, so that a ward of 13 to 15 cells has nine to eleven residential ones.
    """
    area = [CellSpec(f"Chi bộ {name}", template["profile"]) for name in template["areas"]]
    own = place.split(" ", 1)[1]  # "phường Tích Sơn" -> "Tích Sơn"
    office = CellSpec(f"Chi bộ Cơ quan {place}", "local_office")
    military = CellSpec(f"Chi bộ Quân sự {place}", "local_military")
    police = CellSpec(f"Chi bộ Công an {place}", "local_police")
    primary = CellSpec(f"Chi bộ Trường Tiểu học {own}", "local_school")
    nursery = CellSpec(f"Chi bộ Trường Mầm non {own}", "local_school")
    secondary = CellSpec(f"Chi bộ Trường Trung học cơ sở {own}", "local_school")
    return (area[0], office, area[1], military, police, *area[2:4], primary, *area[4:10], nursery, area[10], secondary)


def _committee(entry, local):
    """A committee of the file: a ward or commune made from its template ("local"), or spelled out."""
    if "local" in entry:
        template = local[entry["local"]]
        place = f"{template['prefix']} {entry['name']}"
        return CommitteeSpec(
            f"Đảng bộ {place}",
            entry["code"],
            Sector(template["sector"]),
            template["cluster"],
            place,
            _local_cells(place, template),
            tuple(template["cell_range"]),
        )
    cells = tuple(
        CellSpec(
            cell["name"], cell.get("profile", entry["profile"]), tuple(cell.get("posts", ())), cell.get("section", "")
        )
        for cell in entry["cells"]
    )
    return CommitteeSpec(
        entry["name"],
        entry["code"],
        Sector(entry["sector"]),
        entry["cluster"],
        entry["place"],
        cells,
        tuple(entry["cell_range"]),
    )


_organisations = read("organisations.json")
CITY_CODE = _organisations["city"]["code"]
CITY_NAME = _organisations["city"]["name"]
CLUSTERS = _organisations["clusters"]  # code -> name; bigger runs split a cluster into numbered ones
# In the order a small run takes them: the first three give a ward, an agency and a committee with
# a section committee, so that every kind and every record has somewhere to live.
COMMITTEES = tuple(_committee(entry, _organisations["local"]) for entry in _organisations["committees"])
GRASSROOTS_CELLS = tuple(
    GrassrootsCellSpec(
        entry["name"],
        entry["code"],
        Sector(entry["sector"]),
        entry["cluster"],
        entry["profile"],
        tuple(entry.get("posts", ())),
    )
    for entry in _organisations["grassroots_cells"]
)


# --- Names (names.json) ------------------------------------------------------------------------------

_names = read("names.json")
# Northern frequencies (Vĩnh Phúc): Hoàng and Vũ rather than the southern Huỳnh and Võ.
FAMILY_NAMES = _names["family"]
# Middle names changed with the generations: Văn and Thị dominate before about 1975.
# Keyed by (gender, born before 1975).
MIDDLE_NAMES = {
    (Gender(gender), generation == "born_before_1975"): parts
    for gender, generations in _names["middle"].items()
    for generation, parts in generations.items()
}
GIVEN_NAMES = {Gender(gender): tuple(names) for gender, names in _names["given"].items()}
# Real people named in the source article: a generated name never equals one of these.
REAL_NAMES = frozenset(_names["never"])


# --- The wording of the year records (records.json) --------------------------------------------------

_records = read("records.json")
# (form, in official duties, reason): the reasons read like decisions of an inspection committee.
DISCIPLINE_CASES = tuple(
    (DisciplineDecision.Form(case["form"]), case["in_official_duties"], case["reason"])
    for case in _records["discipline_cases"]
)
DISCIPLINE_BODIES = tuple(_records["discipline_bodies"])
DISCIPLINE_AT_OLD_UNIT = _records["discipline_at_old_unit"]
DEGRADATION_BODY = _records["degradation_body"]
DEGRADATION_SUMMARIES = tuple(_records["degradation_summaries"])
# Where residents who still work do so (residential cells hold people who work elsewhere).
RESIDENT_WORK_UNITS = tuple(_records["resident_work_units"])
PHONE_PREFIXES = tuple(_records["phone_prefixes"])


# --- The wording of the reviews (reviews.json) -------------------------------------------------------

_reviews = read("reviews.json")
SELF_REVIEW_TEXTS = tuple(_reviews["self_review_texts"])
RETURN_REASON = _reviews["return_reason"]
MEETING_COMMENT = _reviews["meeting_comment"]
