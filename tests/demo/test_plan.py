"""The demo's catalogue and planner, without a database: the default city of 7,300 members has the
shape of the article, other sizes scale it, and the generated names look Vietnamese."""

import random
import re
import unicodedata
from collections import Counter

import pytest
from django.utils import timezone

from demo.catalogue import COMMITTEES, GRASSROOTS_CELLS, PROFILES, REAL_NAMES, RESIDENTIAL_PROFILES
from demo.people import NameGenerator
from demo.plan import DEFAULT_MEMBERS, DEFAULT_SEED, MAX_CLUSTER_SIZE, MIN_MEMBERS, fit_sizes, plan_city
from members.models import Member
from organizations.models import Organization

from .conftest import SMALL

Kind = Organization.Kind
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def plan(total=DEFAULT_MEMBERS, seed=DEFAULT_SEED):
    return plan_city(total, random.Random(seed), timezone.localdate())


def committee_cells(committee):
    return [org for org in committee.walk() if org.kind == Kind.SUBORDINATE_CELL]


@pytest.mark.parametrize("seed", [DEFAULT_SEED, 1, 7])
def test_default_plan_has_the_shape_of_the_article(seed):
    city = plan(seed=seed).root
    kinds = Counter(org.kind for org in city.walk())
    assert (city.code, city.kind) == ("vinh-yen", Kind.CITY_COMMITTEE)
    assert kinds[Kind.CITY_COMMITTEE] == 1
    assert kinds[Kind.GRASSROOTS_COMMITTEE] == 20
    assert kinds[Kind.GRASSROOTS_CELL] == 19
    assert all(org.kind in Organization.GRASSROOTS_KINDS for org in city.children)
    for committee in (org for org in city.children if org.kind == Kind.GRASSROOTS_COMMITTEE):
        assert 3 <= len(committee_cells(committee)) <= 15, committee.name
    with_sections = [org for org in city.children if any(c.kind == Kind.SECTION_COMMITTEE for c in org.children)]
    assert 1 <= len(with_sections) <= 2
    for section in (org for org in city.walk() if org.kind == Kind.SECTION_COMMITTEE):
        assert len(section.children) >= 2 and all(c.kind == Kind.SUBORDINATE_CELL for c in section.children)


@pytest.mark.parametrize("seed", [DEFAULT_SEED, 1, 7])
def test_default_plan_holds_exactly_the_members_in_cells_of_5_to_60(seed):
    cells = plan(seed=seed).root.cells()
    assert sum(cell.size for cell in cells) == 7300
    assert all(5 <= cell.size <= 60 for cell in cells)
    assert all(cell.profile in PROFILES and cell.unit for cell in cells)
    assert 180 <= len(cells) <= 260


def test_retired_members_cells_in_wards_are_the_largest():
    cells = plan().root.cells()
    wards = [cell for cell in cells if cell.profile == "residential_ward"]
    assert max(cell.size for cell in wards) == max(cell.size for cell in cells)

    def mean(group):
        return sum(cell.size for cell in group) / len(group)

    others = [cell for cell in cells if cell.profile not in RESIDENTIAL_PROFILES]
    assert mean(wards) > 1.5 * mean(others)


def test_every_committee_of_the_catalogue_has_cells_for_its_whole_range():
    for spec in COMMITTEES:
        low, high = spec.cell_range
        assert 3 <= low <= high <= 15 and len(spec.cells) >= high, spec.name
        assert all(cell.profile in PROFILES for cell in spec.cells)
    assert all(spec.profile in PROFILES for spec in GRASSROOTS_CELLS)
    assert len(COMMITTEES) == 20 and len(GRASSROOTS_CELLS) == 19


def test_plan_uses_the_city_s_real_place_names():
    names = {org.name for org in plan().root.walk()}
    for place in ("Tích Sơn", "Liên Bảo", "Hội Hợp", "Đống Đa", "Ngô Quyền", "Đồng Tâm", "Khai Quang"):
        assert f"Đảng bộ phường {place}" in names
    assert {"Đảng bộ xã Định Trung", "Đảng bộ xã Thanh Trù"} <= names
    assert {"Đảng bộ Trường Cao đẳng Kinh tế - Kỹ thuật Vĩnh Phúc", "Chi bộ 3 phòng chức năng"} <= names


@pytest.mark.parametrize("total", [MIN_MEMBERS, SMALL, DEFAULT_MEMBERS, 100_000])
def test_codes_are_unique_ascii_slugs_and_names_are_clean(total):
    orgs = list(plan(total).root.walk())
    codes = [org.code for org in orgs]
    assert len(codes) == len(set(codes))
    assert all(SLUG.match(code) and len(code) <= 40 for code in codes), [c for c in codes if not SLUG.match(c)]
    assert all(unicodedata.is_normalized("NFC", org.name) for org in orgs)
    for org in orgs:
        sibling_names = [child.name for child in org.children]
        assert len(sibling_names) == len(set(sibling_names)), org.name


def test_plan_scales_with_the_number_of_members():
    province = plan(100_000)
    kinds = Counter(org.kind for org in province.root.walk())
    assert kinds[Kind.GRASSROOTS_COMMITTEE] == round(20 * 100_000 / 7300)
    assert kinds[Kind.GRASSROOTS_CELL] == round(19 * 100_000 / 7300)
    cells = province.root.cells()
    assert sum(cell.size for cell in cells) == 100_000
    assert all(5 <= cell.size <= 60 for cell in cells)
    # Clusters are split so that none grows beyond a dozen organisations.
    per_cluster = Counter(org.cluster for org in province.root.children)
    assert max(per_cluster.values()) <= MAX_CLUSTER_SIZE
    assert set(per_cluster) == set(province.clusters)


def test_small_plan_keeps_realistic_cells():
    small = plan(SMALL)
    kinds = Counter(org.kind for org in small.root.walk())
    assert kinds[Kind.GRASSROOTS_COMMITTEE] >= 3 and kinds[Kind.GRASSROOTS_CELL] >= 2
    assert kinds[Kind.SECTION_COMMITTEE] >= 1
    cells = small.root.cells()
    assert sum(cell.size for cell in cells) == SMALL
    assert 20 <= SMALL / len(cells) <= 50  # about the default's mean, not 400 members in 200 cells


def test_plan_is_reproducible_from_its_seed():
    def shape(p):
        return [(org.code, org.name, org.size, org.founded_on) for org in p.root.walk()]

    assert shape(plan(seed=3)) == shape(plan(seed=3))
    assert shape(plan(seed=3)) != shape(plan(seed=4))


def test_plan_refuses_too_few_members():
    with pytest.raises(ValueError):
        plan(MIN_MEMBERS - 1)


def test_fit_sizes_hits_the_total_within_bounds_and_keeps_the_order():
    wanted = [58, 55, 40, 30, 20, 12, 8, 6]
    for total in (40, 100, 229, 300, 480):
        sizes = fit_sizes(wanted, total)
        assert sum(sizes) == total
        assert all(5 <= size <= 60 for size in sizes)
        assert sizes == sorted(sizes, reverse=True)
    with pytest.raises(ValueError):
        fit_sizes(wanted, 481)
    with pytest.raises(ValueError):
        fit_sizes(wanted, 39)


def test_generated_names_look_vietnamese_and_are_never_the_article_s_people():
    generator = NameGenerator(random.Random(5))
    names = [
        generator.full_name(gender, year)
        for gender in (Member.Gender.MALE, Member.Gender.FEMALE)
        for year in (1950, 1995)
        for _ in range(5000)
    ]
    assert not set(names) & REAL_NAMES
    assert all(len(name.split()) == 3 and unicodedata.is_normalized("NFC", name) for name in names)
    families = Counter(name.split()[0] for name in names)
    assert families.most_common(1)[0][0] == "Nguyễn"
    assert 0.25 < families["Nguyễn"] / len(names) < 0.4
    assert {"Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đỗ", "Bùi", "Đặng", "Ngô", "Dương"} <= set(families)
    older_women = names[10000:15000]
    assert sum(name.split()[1] == "Thị" for name in older_women) > len(older_women) / 2
