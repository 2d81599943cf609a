"""The planner: from a member count and a seeded random.Random, the demo city's tree and cell sizes.

Pure Python, no database: it decides the organisations (names, codes, kinds, sectors, clusters) and
how many members each cell holds, so that the shape is tested without writing a single row.
demo.loader turns a plan into rows.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from organizations.models import Organization

from .catalogue import CITY_CODE, CITY_NAME, CLUSTERS, COMMITTEES, GRASSROOTS_CELLS, PROFILES

Kind = Organization.Kind
Sector = Organization.Sector

DEFAULT_MEMBERS = 7300  # the article: "trên 7.300 đảng viên"
DEFAULT_SEED = 2018  # the article's year: any fixed value makes runs reproducible
MIN_MEMBERS = 100  # the smallest tree (3 committees, 2 grassroots cells) needs 5 members a cell
MIN_CELL_SIZE, MAX_CELL_SIZE = 5, 60  # design.md section 9
MIN_CELLS_PER_COMMITTEE, MAX_CELLS_PER_COMMITTEE = 3, 15
# Members per cell in the default city (7,300 members in about 215 cells); small runs aim at it.
MEAN_CELL_SIZE = 34
MAX_CLUSTER_SIZE = 12  # bigger runs split a cluster into numbered ones


# --- Dates ----------------------------------------------------------------------------------------


def add_years(day, years):
    """The same calendar day `years` later (28 February for a 29 February that does not exist)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def random_day(rng, start, end):
    """A day between `start` and `end`, both included."""
    return start + timedelta(days=rng.randint(0, max(0, (end - start).days)))


def age_on(born, day):
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


# --- The plan --------------------------------------------------------------------------------------


@dataclass
class OrgPlan:
    """One organisation to create; cells also carry their member profile, work unit and size."""

    name: str
    code: str
    kind: str
    sector: str
    founded_on: date
    cluster: str = ""  # a key of the plan's clusters
    profile: str = ""
    unit: str = ""
    posts: tuple = ()
    size: int = 0
    children: list = field(default_factory=list)

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def cells(self):
        return [org for org in self.walk() if org.kind in Organization.CELL_KINDS]


@dataclass
class CityPlan:
    root: OrgPlan
    clusters: dict  # cluster code -> name
    committee_a: str  # code of the committee of the committee officer and the first secretary
    committee_b: str  # code of the committee of the second secretary


def _founded(rng, after, today, latest_year=2015):
    start = max(after, date(1950, 1, 1))
    return random_day(rng, start, min(date(latest_year, 12, 31), today - timedelta(days=365)))


def _copy_suffix(copy):
    """Bigger runs repeat the catalogue; repeats get a number so that names and codes stay unique."""
    return ("", "") if copy == 1 else (f" ({copy})", f"-{copy}")


def plan_city(total, rng, today):
    """Decide the whole tree for `total` members: pure Python, no database.

    The city of the article has 20 grassroots committees and 19 grassroots cells for about 7,300
    members; other totals scale those counts. Each committee draws its number of cells from its
    usual range, thinned out for small runs so that cells keep realistic sizes, and the member
    counts are then fitted to exactly `total` within 5 to 60 a cell.
    """
    if total < MIN_MEMBERS:
        raise ValueError(f"at least {MIN_MEMBERS} members are needed, not {total}")
    factor = total / DEFAULT_MEMBERS
    n_committees = max(3, round(20 * factor))
    n_grassroots_cells = max(2, round(19 * factor))

    committees = [(COMMITTEES[i % len(COMMITTEES)], i // len(COMMITTEES) + 1) for i in range(n_committees)]
    drawn = [rng.randint(*spec.cell_range) for spec, _copy in committees]
    # A run far below the default would otherwise give cells of 5; keep about the default's mean.
    wanted = total / MEAN_CELL_SIZE - n_grassroots_cells
    thinning = min(1.0, wanted / sum(drawn))
    counts = [min(MAX_CELLS_PER_COMMITTEE, max(MIN_CELLS_PER_COMMITTEE, round(n * thinning))) for n in drawn]

    founded = random_day(rng, date(1947, 1, 1), date(1950, 12, 31))
    root = OrgPlan(CITY_NAME, CITY_CODE, Kind.CITY_COMMITTEE, Sector.OTHER, founded)
    for (spec, copy), count in zip(committees, counts, strict=True):
        name_suffix, code_suffix = _copy_suffix(copy)
        committee = OrgPlan(
            spec.name + name_suffix,
            spec.code + code_suffix,
            Kind.GRASSROOTS_COMMITTEE,
            spec.sector,
            _founded(rng, root.founded_on, today, 2010),
            cluster=spec.cluster,
        )
        root.children.append(committee)
        _plan_committee_cells(committee, spec, spec.cells[:count], rng, today)

    for i in range(n_grassroots_cells):
        spec, copy = GRASSROOTS_CELLS[i % len(GRASSROOTS_CELLS)], i // len(GRASSROOTS_CELLS) + 1
        name_suffix, code_suffix = _copy_suffix(copy)
        name = spec.name + name_suffix
        root.children.append(
            OrgPlan(
                name,
                spec.code + code_suffix,
                Kind.GRASSROOTS_CELL,
                spec.sector,
                _founded(rng, root.founded_on, today),
                cluster=spec.cluster,
                profile=spec.profile,
                unit=spec.name.removeprefix("Chi bộ ") + name_suffix,
                posts=spec.posts or PROFILES[spec.profile].posts,
            )
        )

    cells = root.cells()
    sizes = fit_sizes([rng.randint(*PROFILES[cell.profile].sizes) for cell in cells], total)
    for cell, size in zip(cells, sizes, strict=True):
        cell.size = size
    clusters = _split_clusters(root)
    return CityPlan(root, clusters, committee_a=root.children[0].code, committee_b=root.children[1].code)


def _plan_committee_cells(committee, spec, cell_specs, rng, today):
    # Codes: the committee's code, then "-bp" and a number for a section, "-c" and a number for a cell
    # (a letter, so that "tich-son-11", the 11th copy of a committee, never meets its 11th cell).
    # A section committee only makes sense with at least two cells under it.
    in_section = {}
    for cell_spec in cell_specs:
        if cell_spec.section:
            in_section.setdefault(cell_spec.section, []).append(cell_spec)
    sections = {}
    for number, (section_name, members) in enumerate(in_section.items(), start=1):
        if len(members) >= 2:
            section = OrgPlan(
                section_name,
                f"{committee.code}-bp{number}",
                Kind.SECTION_COMMITTEE,
                spec.sector,
                _founded(rng, committee.founded_on, today),
            )
            sections[section_name] = section
            committee.children.append(section)
    for number, cell_spec in enumerate(cell_specs, start=1):
        parent = sections.get(cell_spec.section, committee)
        short = cell_spec.name.removeprefix("Chi bộ ")
        parent.children.append(
            OrgPlan(
                cell_spec.name,
                f"{committee.code}-c{number:02d}",
                Kind.SUBORDINATE_CELL,
                spec.sector,
                _founded(rng, parent.founded_on, today),
                profile=cell_spec.profile,
                unit=f"{short}, {spec.place}" if spec.place else short,
                posts=cell_spec.posts or PROFILES[cell_spec.profile].posts,
            )
        )


def fit_sizes(wanted, total, low=MIN_CELL_SIZE, high=MAX_CELL_SIZE):
    """Scale the wanted cell sizes to sum to exactly `total`, each within [low, high].

    Proportional scaling keeps big cells big (the wards' residential cells stay the largest). A
    cell pushed past a bound stays at the bound and the others are scaled again to make up for it;
    the rounding remainder then goes one member at a time to different cells with room.
    """
    if not low * len(wanted) <= total <= high * len(wanted):
        raise ValueError(f"{total} members do not fit {len(wanted)} cells of {low} to {high}")
    pinned = {}  # index -> bound it is held at
    while free := [i for i in range(len(wanted)) if i not in pinned]:
        scale = (total - sum(pinned.values())) / sum(wanted[i] for i in free)
        exact = {i: wanted[i] * scale for i in free}
        beyond = {i: (high if size > high else low) for i, size in exact.items() if not low <= size <= high}
        if not beyond:
            break
        pinned.update(beyond)
    sizes = [pinned[i] if i in pinned else round(exact[i]) for i in range(len(wanted))]
    by_size = sorted(range(len(sizes)), key=lambda i: -wanted[i])
    while (gap := total - sum(sizes)) != 0:
        step = 1 if gap > 0 else -1
        for i in by_size:
            if low <= sizes[i] + step <= high:
                sizes[i] += step
                gap -= step
                if gap == 0:
                    break
    return sizes


def _split_clusters(root):
    """Assign each grassroots organisation a cluster; groups above MAX_CLUSTER_SIZE are split in turn."""
    groups = {}
    for org in root.children:
        groups.setdefault(org.cluster, []).append(org)
    clusters = {}
    for key, orgs in groups.items():
        parts = -(-len(orgs) // MAX_CLUSTER_SIZE)
        for i, org in enumerate(orgs):
            number = i % parts + 1
            code, name = (key, CLUSTERS[key]) if parts == 1 else (f"{key}-{number}", f"{CLUSTERS[key]} số {number}")
            clusters[code] = name
            org.cluster = code
    return clusters
