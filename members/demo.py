"""Demo data: a city party organisation shaped like Thành ủy Vĩnh Yên, its members and demo accounts.

Two halves. `plan_city` is pure Python: from a member count and a seeded `random.Random` it decides
the tree (names, codes, kinds, sectors, clusters) and how many members each cell holds, so the shape
is tested without a database. `DemoLoader` turns a plan into rows with bulk inserts, generates the
people and their year records, and creates one account per role.

Place names are the city's real wards and communes (design.md section 9 allows it); every person is
generated from name parts, and the few real people named in the source article are never produced.
"""

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext as _

from organizations.models import Cluster, Organization, RoleAssignment
from organizations.roles import sync_user_groups
from organizations.vietnamese import title_sort_key
from vocabulary import Level

from .models import (
    CivilServiceRating,
    DegradationConclusion,
    DisciplineDecision,
    LeavePeriod,
    Member,
    Transfer,
)

Kind = Organization.Kind
Sector = Organization.Sector
Occupation = Member.Occupation
Gender = Member.Gender
Status = Member.Status
PartyPost = Member.PartyPost
Role = RoleAssignment.Role

CITY_CODE = "vinh-yen"
CITY_NAME = "Đảng bộ thành phố Vĩnh Yên"
DEFAULT_MEMBERS = 7300  # the article: "trên 7.300 đảng viên"
DEFAULT_SEED = 2018  # the article's year: any fixed value makes runs reproducible
MIN_MEMBERS = 100  # the smallest tree (3 committees, 2 grassroots cells) needs 5 members a cell
MIN_CELL_SIZE, MAX_CELL_SIZE = 5, 60  # design.md section 9
MIN_CELLS_PER_COMMITTEE, MAX_CELLS_PER_COMMITTEE = 3, 15
# Members per cell in the default city (7,300 members in about 215 cells); small runs aim at it.
MEAN_CELL_SIZE = 34

DEMO_PASSWORD = "demo12345"
# One account per role (see DemoLoader._create_accounts); this is the order of the printed table.
DEMO_USERNAMES = ("admin", "bantochuc", "canbo", "bithu", "bithu2", "dangvien", "danhgia")

# Real people named in the source article: a generated name never equals one of these.
REAL_NAMES = frozenset({"Đỗ Trung Hiếu", "Nguyễn Văn Đạt", "Hoàng Duy Hân", "Trường Khanh"})


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


# --- What a cell's members look like --------------------------------------------------------------


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


PROFILES = {
    # Residential cells (tổ dân phố, thôn) hold the retired: the largest cells of the city.
    "residential_ward": Profile(
        (38, 58),
        {
            Occupation.RETIRED: 60,
            Occupation.PRIVATE_SECTOR: 14,
            Occupation.OTHER: 11,
            Occupation.WORKER: 8,
            Occupation.CIVIL_SERVANT: 4,
            Occupation.FARMER: 3,
        },
        0.45,
        ("Tổ trưởng tổ dân phố",),
        posts_lead=False,
    ),
    "residential_commune": Profile(
        (30, 58),
        {
            Occupation.FARMER: 42,
            Occupation.RETIRED: 33,
            Occupation.WORKER: 10,
            Occupation.PRIVATE_SECTOR: 8,
            Occupation.OTHER: 5,
            Occupation.CIVIL_SERVANT: 2,
        },
        0.42,
        ("Trưởng thôn",),
        posts_lead=False,
    ),
    "local_office": Profile(
        (15, 30),
        {Occupation.CIVIL_SERVANT: 92, Occupation.OTHER: 8},
        0.45,
        ("Chủ tịch Ủy ban nhân dân", "Phó Chủ tịch Ủy ban nhân dân", "Phó Chủ tịch Ủy ban nhân dân"),
    ),
    "local_military": Profile(
        (6, 14), {Occupation.ARMED_FORCES: 100}, 0.1, ("Chỉ huy trưởng Ban Chỉ huy quân sự", "Chỉ huy phó")
    ),
    "local_police": Profile((8, 16), {Occupation.ARMED_FORCES: 100}, 0.15, ("Trưởng Công an", "Phó Trưởng Công an")),
    "local_school": Profile((10, 25), {Occupation.CIVIL_SERVANT: 100}, 0.8, ("Hiệu trưởng", "Phó Hiệu trưởng")),
    "agency": Profile(
        (10, 28), {Occupation.CIVIL_SERVANT: 96, Occupation.OTHER: 4}, 0.5, ("Trưởng phòng", "Phó Trưởng phòng")
    ),
    "military": Profile(
        (12, 32),
        {Occupation.ARMED_FORCES: 94, Occupation.CIVIL_SERVANT: 6},
        0.1,
        ("Chỉ huy trưởng", "Chính trị viên", "Chỉ huy phó"),
    ),
    "police": Profile(
        (18, 40), {Occupation.ARMED_FORCES: 100}, 0.15, ("Đội trưởng", "Phó Đội trưởng", "Phó Đội trưởng")
    ),
    "school": Profile(
        (15, 38), {Occupation.CIVIL_SERVANT: 95, Occupation.OTHER: 5}, 0.62, ("Trưởng khoa", "Phó Trưởng khoa")
    ),
    "students": Profile((5, 15), {Occupation.STUDENT: 85, Occupation.CIVIL_SERVANT: 15}, 0.55),
    "health": Profile(
        (15, 42), {Occupation.CIVIL_SERVANT: 95, Occupation.OTHER: 5}, 0.68, ("Trưởng khoa", "Phó Trưởng khoa")
    ),
    "state_enterprise": Profile(
        (15, 42), {Occupation.WORKER: 55, Occupation.OTHER: 45}, 0.4, ("Giám đốc", "Phó Giám đốc", "Trưởng phòng")
    ),
    "private_enterprise": Profile(
        (8, 30), {Occupation.PRIVATE_SECTOR: 55, Occupation.WORKER: 45}, 0.45, ("Giám đốc", "Phó Giám đốc")
    ),
    "cooperative": Profile(
        (8, 25),
        {Occupation.FARMER: 70, Occupation.OTHER: 30},
        0.4,
        ("Giám đốc hợp tác xã", "Phó Giám đốc hợp tác xã"),
    ),
}

RESIDENTIAL_PROFILES = ("residential_ward", "residential_commune")

# Age ranges by occupation (years, inclusive); retired women from 55, men from 60.
AGES = {
    Occupation.CIVIL_SERVANT: (24, 60),
    Occupation.ARMED_FORCES: (22, 55),
    Occupation.WORKER: (22, 55),
    Occupation.FARMER: (28, 72),
    Occupation.STUDENT: (20, 23),
    Occupation.PRIVATE_SECTOR: (25, 58),
    Occupation.OTHER: (25, 62),
}


# --- The catalogue of the city --------------------------------------------------------------------


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


def _cells(profile, *names, section=""):
    return tuple(CellSpec(name, profile, section=section) for name in names)


def _local_cells(place, residential, area_names):
    """The cells of a ward or commune: mostly residential, with its office, forces and schools.

    Residential cells come first so that a small run still has the retired; two of the schools
    come last, so that a ward of 13 to 15 cells has nine to eleven residential ones.
    """
    area = [CellSpec(f"Chi bộ {name}", residential) for name in area_names]
    own = place.split(" ", 1)[1]  # "phường Tích Sơn" -> "Tích Sơn"
    office = CellSpec(f"Chi bộ Cơ quan {place}", "local_office")
    military = CellSpec(f"Chi bộ Quân sự {place}", "local_military")
    police = CellSpec(f"Chi bộ Công an {place}", "local_police")
    primary = CellSpec(f"Chi bộ Trường Tiểu học {own}", "local_school")
    nursery = CellSpec(f"Chi bộ Trường Mầm non {own}", "local_school")
    secondary = CellSpec(f"Chi bộ Trường Trung học cơ sở {own}", "local_school")
    return (area[0], office, area[1], military, police, *area[2:4], primary, *area[4:10], nursery, area[10], secondary)


def _ward(name, code):
    place = f"phường {name}"
    return CommitteeSpec(
        f"Đảng bộ {place}",
        code,
        Sector.WARD,
        "xa-phuong",
        place,
        _local_cells(place, "residential_ward", [f"Tổ dân phố số {n}" for n in range(1, 12)]),
        (14, 15),
    )


def _commune(name, code):
    place = f"xã {name}"
    villages = ["Đông", "Đoài", "Nam", "Bắc", "Trung", "Thượng", "Hạ", "Tiền", "Hậu", "Tân Lập", "Tân Phú"]
    return CommitteeSpec(
        f"Đảng bộ {place}",
        code,
        Sector.COMMUNE,
        "xa-phuong",
        place,
        _local_cells(place, "residential_commune", [f"thôn {village}" for village in villages]),
        (12, 14),
    )


KT_KT = "Trường Cao đẳng Kinh tế - Kỹ thuật Vĩnh Phúc"
KT_KT_SECTION = "Đảng bộ bộ phận các khoa"
POLICE_SECTION = "Đảng bộ bộ phận Cảnh sát"

# In the order a small run takes them: the first three give a ward, an agency and a committee with
# a section committee, so that every kind and every record has somewhere to live.
COMMITTEES = (
    _ward("Tích Sơn", "tich-son"),
    CommitteeSpec(
        "Đảng bộ Cơ quan Chính quyền thành phố",
        "co-quan-chinh-quyen",
        Sector.PARTY_STATE_AGENCY,
        "co-quan",
        "",
        (
            *_cells(
                "agency",
                "Chi bộ Văn phòng Hội đồng nhân dân và Ủy ban nhân dân",
                "Chi bộ Phòng Nội vụ",
                "Chi bộ Phòng Tài chính - Kế hoạch",
                "Chi bộ Phòng Tư pháp",
                "Chi bộ Phòng Tài nguyên và Môi trường",
                "Chi bộ Phòng Quản lý đô thị",
                "Chi bộ Phòng Kinh tế",
                "Chi bộ Phòng Giáo dục và Đào tạo",
                "Chi bộ Phòng Lao động - Thương binh và Xã hội",
                "Chi bộ Phòng Văn hóa và Thông tin",
                "Chi bộ Phòng Y tế",
            ),
            CellSpec("Chi bộ Thanh tra thành phố", "agency", ("Chánh Thanh tra", "Phó Chánh Thanh tra")),
            CellSpec("Chi bộ Trung tâm Hành chính công", "agency", ("Giám đốc", "Phó Giám đốc")),
        ),
        (8, 13),
    ),
    CommitteeSpec(
        f"Đảng bộ {KT_KT}",
        "cd-kinh-te-ky-thuat",
        Sector.SCHOOL,
        "giao-duc-y-te",
        KT_KT,
        (
            CellSpec("Chi bộ 3 phòng chức năng", "school", ("Trưởng phòng", "Phó Trưởng phòng")),
            *_cells("school", "Chi bộ Khoa Kinh tế", "Chi bộ Khoa Cơ khí - Động lực", section=KT_KT_SECTION),
            CellSpec("Chi bộ Ban Giám hiệu", "school", ("Hiệu trưởng", "Phó Hiệu trưởng")),
            CellSpec("Chi bộ Học sinh - Sinh viên", "students"),
            *_cells(
                "school",
                "Chi bộ Khoa Điện - Điện tử",
                "Chi bộ Khoa Công nghệ thông tin",
                "Chi bộ Khoa Khoa học cơ bản",
                section=KT_KT_SECTION,
            ),
            *_cells("school", "Chi bộ Trung tâm Tuyển sinh và Quan hệ doanh nghiệp", "Chi bộ Thư viện - Ký túc xá"),
        ),
        (6, 10),
    ),
    CommitteeSpec(
        "Đảng bộ Công an thành phố",
        "cong-an",
        Sector.POLICE,
        "noi-chinh",
        "Công an thành phố Vĩnh Yên",
        (
            CellSpec(
                "Chi bộ Tham mưu - Tổng hợp", "police", ("Trưởng Công an thành phố", "Phó Trưởng Công an thành phố")
            ),
            *_cells(
                "police",
                "Chi bộ Đội Cảnh sát hình sự",
                "Chi bộ Đội Cảnh sát giao thông - trật tự",
                section=POLICE_SECTION,
            ),
            CellSpec("Chi bộ Đội An ninh", "police"),
            *_cells(
                "police",
                "Chi bộ Đội Cảnh sát điều tra tội phạm về ma túy",
                "Chi bộ Đội Cảnh sát điều tra tội phạm về kinh tế",
                "Chi bộ Đội Cảnh sát quản lý hành chính về trật tự xã hội",
                "Chi bộ Đội Cảnh sát phòng cháy chữa cháy",
                section=POLICE_SECTION,
            ),
            *_cells(
                "police",
                "Chi bộ Đội Thi hành án hình sự và hỗ trợ tư pháp",
                "Chi bộ Nhà tạm giữ",
                "Chi bộ Đội Xây dựng phong trào",
            ),
        ),
        (7, 11),
    ),
    _commune("Định Trung", "dinh-trung"),
    _ward("Liên Bảo", "lien-bao"),
    CommitteeSpec(
        "Đảng bộ Các cơ quan Đảng - Mặt trận - Đoàn thể thành phố",
        "co-quan-dang-doan-the",
        Sector.PARTY_STATE_AGENCY,
        "co-quan",
        "",
        (
            CellSpec("Chi bộ Văn phòng Thành ủy", "agency", ("Chánh Văn phòng", "Phó Chánh Văn phòng")),
            CellSpec("Chi bộ Ban Tổ chức Thành ủy", "agency", ("Trưởng ban", "Phó Trưởng ban")),
            CellSpec("Chi bộ Ủy ban Kiểm tra Thành ủy", "agency", ("Chủ nhiệm", "Phó Chủ nhiệm")),
            CellSpec("Chi bộ Ban Tuyên giáo Thành ủy", "agency", ("Trưởng ban", "Phó Trưởng ban")),
            CellSpec("Chi bộ Ban Dân vận Thành ủy", "agency", ("Trưởng ban", "Phó Trưởng ban")),
            CellSpec("Chi bộ Trung tâm Chính trị thành phố", "agency", ("Giám đốc", "Phó Giám đốc")),
            CellSpec("Chi bộ Ủy ban Mặt trận Tổ quốc thành phố", "agency", ("Chủ tịch", "Phó Chủ tịch")),
            CellSpec("Chi bộ Hội Liên hiệp Phụ nữ thành phố", "agency", ("Chủ tịch", "Phó Chủ tịch")),
            CellSpec("Chi bộ Thành đoàn", "agency", ("Bí thư Thành đoàn", "Phó Bí thư Thành đoàn")),
            CellSpec("Chi bộ Hội Cựu chiến binh thành phố", "agency", ("Chủ tịch", "Phó Chủ tịch")),
            CellSpec("Chi bộ Hội Nông dân thành phố", "agency", ("Chủ tịch", "Phó Chủ tịch")),
            CellSpec("Chi bộ Liên đoàn Lao động thành phố", "agency", ("Chủ tịch", "Phó Chủ tịch")),
        ),
        (6, 12),
    ),
    _ward("Hội Hợp", "hoi-hop"),
    CommitteeSpec(
        "Đảng bộ Quân sự thành phố",
        "quan-su",
        Sector.MILITARY,
        "noi-chinh",
        "Ban Chỉ huy quân sự thành phố Vĩnh Yên",
        (
            CellSpec("Chi bộ Ban Chỉ huy", "military"),
            *_cells(
                "military",
                "Chi bộ Cơ quan Tham mưu",
                "Chi bộ Cơ quan Chính trị - Hậu cần",
                "Chi bộ Trung đội Dân quân cơ động",
                "Chi bộ Kho vũ khí",
            ),
        ),
        (3, 5),
    ),
    _ward("Đống Đa", "dong-da"),
    CommitteeSpec(
        "Đảng bộ Trung tâm Y tế thành phố",
        "trung-tam-y-te",
        Sector.HEALTH,
        "giao-duc-y-te",
        "Trung tâm Y tế thành phố Vĩnh Yên",
        (
            CellSpec("Chi bộ Ban Giám đốc - Phòng chức năng", "health", ("Giám đốc", "Phó Giám đốc", "Trưởng phòng")),
            *_cells(
                "health",
                "Chi bộ Khoa Nội",
                "Chi bộ Khoa Ngoại",
                "Chi bộ Khoa Sản",
                "Chi bộ Khoa Nhi",
                "Chi bộ Khoa Khám bệnh",
                "Chi bộ Khoa Kiểm soát bệnh tật",
                "Chi bộ Khoa Dược - Cận lâm sàng",
                "Chi bộ Phòng khám đa khoa khu vực",
            ),
        ),
        (5, 9),
    ),
    _ward("Ngô Quyền", "ngo-quyen"),
    CommitteeSpec(
        "Đảng bộ Trường Cao đẳng Sư phạm Vĩnh Phúc",
        "cd-su-pham",
        Sector.SCHOOL,
        "giao-duc-y-te",
        "Trường Cao đẳng Sư phạm Vĩnh Phúc",
        (
            CellSpec("Chi bộ Ban Giám hiệu - Phòng chức năng", "school", ("Hiệu trưởng", "Phó Hiệu trưởng")),
            *_cells("school", "Chi bộ Khoa Tự nhiên", "Chi bộ Khoa Xã hội", "Chi bộ Khoa Tiểu học - Mầm non"),
            CellSpec("Chi bộ Sinh viên", "students"),
            *_cells("school", "Chi bộ Khoa Ngoại ngữ - Tin học", "Chi bộ Trường Thực hành sư phạm"),
        ),
        (4, 7),
    ),
    _ward("Đồng Tâm", "dong-tam"),
    CommitteeSpec(
        "Đảng bộ Công ty Cổ phần Môi trường và Dịch vụ đô thị Vĩnh Yên",
        "moi-truong-do-thi",
        Sector.STATE_ENTERPRISE,
        "doanh-nghiep",
        "Công ty Cổ phần Môi trường và Dịch vụ đô thị Vĩnh Yên",
        _cells(
            "state_enterprise",
            "Chi bộ Văn phòng công ty",
            "Chi bộ Đội Vệ sinh môi trường số 1",
            "Chi bộ Đội Vệ sinh môi trường số 2",
            "Chi bộ Đội Cây xanh - Chiếu sáng",
            "Chi bộ Đội Xe - Máy",
            "Chi bộ Đội Quản lý nghĩa trang",
        ),
        (3, 6),
    ),
    _ward("Khai Quang", "khai-quang"),
    CommitteeSpec(
        "Đảng bộ Công ty Cổ phần Cơ khí và Lắp máy Khai Quang",
        "co-khi-khai-quang",
        Sector.PRIVATE_ENTERPRISE,
        "doanh-nghiep",
        "Công ty Cổ phần Cơ khí và Lắp máy Khai Quang",
        _cells(
            "private_enterprise",
            "Chi bộ Khối văn phòng",
            "Chi bộ Xưởng cơ khí số 1",
            "Chi bộ Xưởng cơ khí số 2",
            "Chi bộ Xưởng lắp máy",
            "Chi bộ Phòng Kỹ thuật - KCS",
            "Chi bộ Đội Xe - Kho vận",
        ),
        (3, 6),
    ),
    _commune("Thanh Trù", "thanh-tru"),
    CommitteeSpec(
        "Đảng bộ Ngân hàng Nông nghiệp và Phát triển nông thôn Chi nhánh Vĩnh Yên",
        "agribank-vinh-yen",
        Sector.STATE_ENTERPRISE,
        "doanh-nghiep",
        "Ngân hàng Nông nghiệp và Phát triển nông thôn Chi nhánh Vĩnh Yên",
        (
            CellSpec(
                "Chi bộ Ban Giám đốc - Phòng Kế hoạch kinh doanh", "state_enterprise", ("Giám đốc", "Phó Giám đốc")
            ),
            *_cells(
                "state_enterprise",
                "Chi bộ Phòng Kế toán - Ngân quỹ",
                "Chi bộ Phòng giao dịch Liên Bảo",
                "Chi bộ Phòng giao dịch Khai Quang",
                "Chi bộ Phòng giao dịch Đồng Tâm",
            ),
        ),
        (3, 5),
    ),
    CommitteeSpec(
        "Đảng bộ Công ty Cổ phần Xây dựng và Phát triển hạ tầng Vĩnh Yên",
        "xay-dung-ha-tang",
        Sector.PRIVATE_ENTERPRISE,
        "doanh-nghiep",
        "Công ty Cổ phần Xây dựng và Phát triển hạ tầng Vĩnh Yên",
        _cells(
            "private_enterprise",
            "Chi bộ Văn phòng công ty",
            "Chi bộ Đội Xây dựng số 1",
            "Chi bộ Đội Xây dựng số 2",
            "Chi bộ Đội Xây dựng số 3",
            "Chi bộ Ban Quản lý dự án",
            "Chi bộ Xí nghiệp Vật liệu xây dựng",
        ),
        (3, 6),
    ),
)

_HEADS = ("Giám đốc", "Phó Giám đốc")
_SUB_DEPT = ("Chi cục trưởng", "Phó Chi cục trưởng")
_SCHOOL_HEADS = ("Hiệu trưởng", "Phó Hiệu trưởng", "Tổ trưởng chuyên môn")
GRASSROOTS_CELLS = (
    GrassrootsCellSpec(
        "Chi bộ Chi cục Thuế thành phố",
        "chi-cuc-thue",
        Sector.PARTY_STATE_AGENCY,
        "co-quan",
        "agency",
        (*_SUB_DEPT, "Đội trưởng"),
    ),
    GrassrootsCellSpec(
        "Chi bộ Trường Trung học phổ thông Vĩnh Yên",
        "thpt-vinh-yen",
        Sector.SCHOOL,
        "giao-duc-y-te",
        "school",
        _SCHOOL_HEADS,
    ),
    GrassrootsCellSpec(
        "Chi bộ Điện lực Vĩnh Yên",
        "dien-luc",
        Sector.STATE_ENTERPRISE,
        "doanh-nghiep",
        "state_enterprise",
        (*_HEADS, "Đội trưởng"),
    ),
    GrassrootsCellSpec(
        "Chi bộ Tòa án nhân dân thành phố",
        "toa-an",
        Sector.PARTY_STATE_AGENCY,
        "noi-chinh",
        "agency",
        ("Chánh án", "Phó Chánh án"),
    ),
    GrassrootsCellSpec(
        "Chi bộ Kho bạc Nhà nước Vĩnh Yên", "kho-bac", Sector.PARTY_STATE_AGENCY, "co-quan", "agency", _HEADS
    ),
    GrassrootsCellSpec(
        "Chi bộ Viện Kiểm sát nhân dân thành phố",
        "vien-kiem-sat",
        Sector.PARTY_STATE_AGENCY,
        "noi-chinh",
        "agency",
        ("Viện trưởng", "Phó Viện trưởng"),
    ),
    GrassrootsCellSpec(
        "Chi bộ Trung tâm Văn hóa - Thông tin - Thể thao thành phố",
        "trung-tam-van-hoa",
        Sector.PUBLIC_SERVICE,
        "co-quan",
        "agency",
        _HEADS,
    ),
    GrassrootsCellSpec(
        "Chi bộ Trường Trung học phổ thông Trần Phú",
        "thpt-tran-phu",
        Sector.SCHOOL,
        "giao-duc-y-te",
        "school",
        _SCHOOL_HEADS,
    ),
    GrassrootsCellSpec(
        "Chi bộ Chi cục Thống kê thành phố",
        "chi-cuc-thong-ke",
        Sector.PARTY_STATE_AGENCY,
        "co-quan",
        "agency",
        _SUB_DEPT,
    ),
    GrassrootsCellSpec(
        "Chi bộ Chi cục Thi hành án dân sự thành phố",
        "thi-hanh-an",
        Sector.PARTY_STATE_AGENCY,
        "noi-chinh",
        "agency",
        _SUB_DEPT,
    ),
    GrassrootsCellSpec(
        "Chi bộ Bảo hiểm xã hội thành phố", "bao-hiem-xa-hoi", Sector.PARTY_STATE_AGENCY, "co-quan", "agency", _HEADS
    ),
    GrassrootsCellSpec(
        "Chi bộ Ban Quản lý dự án đầu tư xây dựng thành phố",
        "ban-quan-ly-du-an",
        Sector.PUBLIC_SERVICE,
        "co-quan",
        "agency",
        _HEADS,
    ),
    GrassrootsCellSpec(
        "Chi bộ Trường Trung học cơ sở Vĩnh Yên",
        "thcs-vinh-yen",
        Sector.SCHOOL,
        "giao-duc-y-te",
        "school",
        _SCHOOL_HEADS,
    ),
    GrassrootsCellSpec(
        "Chi bộ Trung tâm Phát triển quỹ đất thành phố",
        "phat-trien-quy-dat",
        Sector.PUBLIC_SERVICE,
        "co-quan",
        "agency",
        _HEADS,
    ),
    GrassrootsCellSpec(
        "Chi bộ Ngân hàng Chính sách xã hội thành phố",
        "ngan-hang-chinh-sach",
        Sector.STATE_ENTERPRISE,
        "doanh-nghiep",
        "state_enterprise",
        _HEADS,
    ),
    GrassrootsCellSpec(
        "Chi bộ Trung tâm Giáo dục nghề nghiệp - Giáo dục thường xuyên thành phố",
        "gdnn-gdtx",
        Sector.SCHOOL,
        "giao-duc-y-te",
        "school",
        _HEADS,
    ),
    GrassrootsCellSpec(
        "Chi bộ Trung tâm Dân số - Kế hoạch hóa gia đình thành phố",
        "dan-so-khhgd",
        Sector.HEALTH,
        "giao-duc-y-te",
        "health",
        _HEADS,
    ),
    GrassrootsCellSpec(
        "Chi bộ Công ty TNHH May mặc Hội Hợp",
        "may-mac-hoi-hop",
        Sector.PRIVATE_ENTERPRISE,
        "doanh-nghiep",
        "private_enterprise",
    ),
    GrassrootsCellSpec(
        "Chi bộ Hợp tác xã Dịch vụ nông nghiệp Thanh Trù", "htx-thanh-tru", Sector.OTHER, "doanh-nghiep", "cooperative"
    ),
)

CLUSTERS = {
    "xa-phuong": "Cụm thi đua xã, phường",
    "co-quan": "Cụm thi đua khối cơ quan Đảng, chính quyền, đoàn thể",
    "noi-chinh": "Cụm thi đua khối nội chính",
    "giao-duc-y-te": "Cụm thi đua khối giáo dục - y tế",
    "doanh-nghiep": "Cụm thi đua khối doanh nghiệp",
}
MAX_CLUSTER_SIZE = 12  # bigger runs split a cluster into numbered ones

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


# --- Names -----------------------------------------------------------------------------------------

# Northern frequencies (Vĩnh Phúc): Hoàng and Vũ rather than the southern Huỳnh and Võ.
FAMILY_NAMES = {
    "Nguyễn": 310, "Trần": 100, "Lê": 80, "Phạm": 70, "Hoàng": 50, "Vũ": 50, "Đỗ": 40, "Bùi": 30,
    "Đặng": 30, "Phan": 28, "Ngô": 20, "Dương": 20, "Phùng": 15, "Đào": 15, "Đinh": 15, "Hà": 10,
    "Trịnh": 10, "Cao": 6, "Lưu": 8, "Tạ": 6, "Lương": 6, "Mai": 5, "Chu": 5, "Hồ": 5, "Lý": 4,
    "Triệu": 4, "Tô": 4, "Kiều": 3, "Nghiêm": 3, "Khổng": 3, "Kim": 3, "Văn": 3, "Đồng": 3,
}  # fmt: skip
# Middle names changed with the generations: Văn and Thị dominate before about 1975.
MIDDLE_NAMES = {
    (Gender.MALE, True): {
        "Văn": 45, "Đức": 8, "Quang": 6, "Xuân": 6, "Hữu": 6, "Đình": 6, "Minh": 5, "Ngọc": 4,
        "Công": 4, "Mạnh": 3, "Thanh": 3, "Trọng": 3, "Tiến": 3, "Duy": 2, "Hồng": 2, "Kim": 1,
    },
    (Gender.MALE, False): {
        "Văn": 20, "Đức": 10, "Minh": 10, "Quang": 7, "Duy": 5, "Tuấn": 4, "Anh": 4, "Hoàng": 4,
        "Thành": 4, "Trung": 4, "Hữu": 4, "Xuân": 4, "Tiến": 4, "Ngọc": 3, "Mạnh": 3, "Thế": 3,
        "Hải": 3, "Việt": 3, "Gia": 2, "Bảo": 2,
    },
    (Gender.FEMALE, True): {
        "Thị": 70, "Thu": 4, "Thanh": 4, "Ngọc": 3, "Kim": 3, "Hồng": 3, "Minh": 2, "Thúy": 2,
        "Bích": 2, "Phương": 2,
    },
    (Gender.FEMALE, False): {
        "Thị": 35, "Thu": 6, "Thanh": 5, "Ngọc": 5, "Phương": 5, "Minh": 4, "Thùy": 4, "Hồng": 3,
        "Mai": 3, "Khánh": 3, "Hải": 3, "Quỳnh": 3, "Kim": 2, "Bảo": 2, "Diệu": 2, "Lan": 2,
    },
}  # fmt: skip
GIVEN_NAMES = {
    Gender.MALE: (
        "Hùng", "Dũng", "Tuấn", "Hải", "Thắng", "Long", "Nam", "Sơn", "Cường", "Hưng", "Bình", "Thành",
        "Khánh", "Toàn", "Phúc", "Hiếu", "Trung", "Quân", "Minh", "Hoàng", "Huy", "Tùng", "Đạt", "Kiên",
        "Lâm", "Lợi", "Chiến", "Thịnh", "Vinh", "Tâm", "Nghĩa", "Hòa", "Tiến", "Việt", "Phong", "Quang",
        "Thái", "Thuận", "Đông", "Hậu", "Duy", "An", "Lực", "Quyết", "Thọ", "Tú", "Bảo", "Công",
    ),
    Gender.FEMALE: (
        "Lan", "Hương", "Hoa", "Mai", "Hằng", "Hạnh", "Thủy", "Nga", "Linh", "Trang", "Huyền", "Thảo",
        "Hà", "Phương", "Nhung", "Yến", "Oanh", "Ngọc", "Dung", "Loan", "Vân", "Anh", "Thu", "Hiền",
        "Hồng", "Liên", "Tuyết", "Hòa", "Nhàn", "Thơm", "Hảo", "Xuân", "Ly", "Quyên", "Giang", "Chi",
        "Nhi", "Thanh", "Tâm", "Bích", "Sen", "Cúc", "Huệ", "Lựa", "Vy", "Trâm",
    ),
}  # fmt: skip


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


# --- Year records: realistic wording ---------------------------------------------------------------

# (form, in official duties, reason): the reasons read like decisions of an inspection committee.
DISCIPLINE_CASES = (
    (
        DisciplineDecision.Form.REPRIMAND,
        True,
        "Thiếu trách nhiệm trong thực hiện nhiệm vụ được giao, để xảy ra sai sót trong thẩm định hồ sơ cấp giấy "
        "chứng nhận quyền sử dụng đất.",
    ),
    (
        DisciplineDecision.Form.REPRIMAND,
        True,
        "Vi phạm quy định về kê khai tài sản, thu nhập: kê khai không đầy đủ, không kịp thời.",
    ),
    (
        DisciplineDecision.Form.REPRIMAND,
        False,
        "Vi phạm quy định về nồng độ cồn khi điều khiển phương tiện giao thông, ảnh hưởng đến uy tín của đảng viên.",
    ),
    (
        DisciplineDecision.Form.REPRIMAND,
        False,
        "Nhiều lần không tham gia sinh hoạt chi bộ không có lý do chính đáng.",
    ),
    (
        DisciplineDecision.Form.WARNING,
        True,
        "Thiếu trách nhiệm trong lãnh đạo, chỉ đạo để xảy ra vi phạm trong quản lý, sử dụng kinh phí của đơn vị.",
    ),
    (
        DisciplineDecision.Form.WARNING,
        False,
        "Vi phạm những điều đảng viên không được làm: tham gia hoạt động cho vay lãi nặng.",
    ),
    (
        DisciplineDecision.Form.DISMISSAL,
        True,
        "Vi phạm quy định về quản lý đầu tư xây dựng, gây thất thoát ngân sách nhà nước.",
    ),
)
DISCIPLINE_BODIES = ("Ủy ban Kiểm tra Thành ủy Vĩnh Yên", "Ban Thường vụ Thành ủy Vĩnh Yên")
DEGRADATION_SUMMARIES = (
    "Có biểu hiện suy thoái về tư tưởng chính trị: né tránh trách nhiệm, làm việc qua loa, đại khái, kém hiệu "
    "quả; không làm tròn chức trách, nhiệm vụ được giao.",
    "Có biểu hiện suy thoái về đạo đức, lối sống: kê khai tài sản, thu nhập không trung thực; thiếu gương mẫu "
    "trong sinh hoạt nơi cư trú.",
)
# Civil-service ratings: roughly the published shape of the levels.
RATING_WEIGHTS = {Level.HTXSNV: 15, Level.HTTNV: 70, Level.HTNV: 13, Level.KHTNV: 2}

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
RATED_SHARE = 0.92  # civil servants with a civil-service rating for the current and previous year


# --- Loading ---------------------------------------------------------------------------------------


class DemoConflict(Exception):
    """Rows the demo would create already exist (organisation or cluster codes, usernames)."""

    def __init__(self, codes, usernames):
        super().__init__(codes, usernames)
        self.codes = codes
        self.usernames = usernames


class DemoInUse(Exception):
    """Other data (reviews, for instance) still refers to the organisations or members to delete."""


@dataclass(eq=False)  # compared and hashed by identity: a person is picked at most once per case
class Person:
    """A member being generated, with the cell plan it belongs to."""

    member: Member
    plan: OrgPlan

    @property
    def can_hold_post(self):
        return self.member.status == Status.ACTIVE and self.member.official_date is not None


def demo_loaded():
    return Organization.objects.filter(code=CITY_CODE).exists()


def delete_demo():
    """Delete every organisation, cluster, member (with their records) and role, and the demo accounts."""
    try:
        Member.objects.all().delete()
        Organization.objects.all().delete()  # treebeard's delete keeps the tree consistent
    except (ProtectedError, RestrictedError) as exc:
        raise DemoInUse(str(exc)) from exc
    Cluster.objects.all().delete()
    get_user_model().objects.filter(username__in=DEMO_USERNAMES).delete()


class DemoLoader:
    """Writes one demo city; call `load()` inside a transaction."""

    def __init__(self, total=DEFAULT_MEMBERS, seed=DEFAULT_SEED, today=None):
        self.total = total
        self.rng = random.Random(seed)
        # Contact details draw from their own sequence: adding them changed nothing else of the demo.
        self.contact_rng = random.Random(seed + 1)
        self.today = today or timezone.localdate()
        self.names = NameGenerator(self.rng)
        self.counts = {}

    def load(self):
        """Create everything; returns the counts of what was created."""
        self.plan = plan_city(self.total, self.rng, self.today)
        self._check_free()
        self._create_clusters()
        self._create_organizations()
        self._create_people()
        self._create_records()
        self._create_accounts()
        return self.counts

    def _check_free(self):
        codes = [org.code for org in self.plan.root.walk()]
        taken = list(Organization.objects.filter(code__in=codes).values_list("code", flat=True)[:5])
        taken += Cluster.objects.filter(code__in=list(self.plan.clusters)).values_list("code", flat=True)[:5]
        users = list(get_user_model().objects.filter(username__in=DEMO_USERNAMES).values_list("username", flat=True))
        if taken or users:
            raise DemoConflict(codes=taken, usernames=sorted(users))

    # The tree.

    def _create_clusters(self):
        created = Cluster.objects.bulk_create(
            Cluster(code=code, name=name) for code, name in self.plan.clusters.items()
        )
        self.clusters = {cluster.code: cluster for cluster in created}
        self.counts["clusters"] = len(created)

    def _new_org(self, plan):
        org = Organization(
            name=plan.name,
            code=plan.code,
            kind=plan.kind,
            sector=plan.sector,
            founded_on=plan.founded_on,
            cluster=self.clusters.get(plan.cluster),
            numchild=len(plan.children),
        )
        org.fill_derived()  # save() computes the search and sort keys; bulk_create does not call save()
        return org

    def _create_organizations(self):
        """The root through treebeard (other roots may exist), the rest with computed paths.

        Hundreds to thousands of add_child() calls would each lock, count and shift siblings; the
        paths are simple to compute instead: treebeard's own scheme (_get_path: steplen 4 in its
        alphabet), siblings numbered in the order of their sort keys because Organization sorts
        siblings by them (node_order_by), so that a later add_child() lands where treebeard expects.
        The keys are ASCII digits, which every database collation orders as Python does.
        """
        root_plan = self.plan.root
        city = Organization.objects.add_root(instance=self._new_org(root_plan))
        self.orgs = {root_plan.code: city}
        pending = []

        def place(parent_plan, parent_path, depth):
            for step, child in enumerate(sorted(parent_plan.children, key=lambda c: title_sort_key(c.name)), start=1):
                org = self._new_org(child)
                org.depth = depth
                org.path = Organization._get_path(parent_path, depth, step)
                pending.append(org)
                self.orgs[child.code] = org
                place(child, org.path, depth + 1)

        place(root_plan, city.path, city.depth + 1)
        Organization.objects.bulk_create(pending, batch_size=500)
        self.counts["organizations"] = len(pending) + 1

    # The people.

    def _create_people(self):
        self.people = []
        self.by_cell = {}
        for cell in self.plan.root.cells():
            crowd = [self._person(cell) for _ in range(cell.size)]
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
        members = [person.member for person in self.people]
        for member in members:
            member.fill_derived()  # bulk_create skips save(), which computes the search and sort keys
        Member.objects.bulk_create(members, batch_size=1000)
        self.counts["members"] = len(members)

    def _person(self, cell):
        rng, today = self.rng, self.today
        profile = PROFILES[cell.profile]
        occupation = profile.pick_occupation(rng)
        gender = Gender.FEMALE if rng.random() < profile.female else Gender.MALE
        if occupation == Occupation.RETIRED:
            youngest = 55 if gender == Gender.FEMALE else 60
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
                work_unit = rng.choice(("Kinh doanh tự do", "Hộ kinh doanh cá thể", "Khu công nghiệp Khai Quang"))
        member = Member(
            full_name=self.names.full_name(gender, born.year),
            gender=gender,
            date_of_birth=born,
            admission_date=admitted,
            official_date=add_years(admitted, 1),
            cell=self.orgs[cell.code],
            work_unit=work_unit,
            occupation=occupation,
            status=Status.ACTIVE,
        )
        member.phone, member.email = self._contact(member.full_name, occupation)
        return Person(member, cell)

    def _contact(self, full_name, occupation):
        """A mobile number for most members (none for about one in ten, mostly the old); an e-mail
        address for a third of those at work, never for the retired. Generated, like the names; the
        addresses are on the reserved example.vn domain."""
        rng = self.contact_rng
        retired = occupation == Occupation.RETIRED
        phone = ""
        if rng.random() > (0.15 if retired else 0.04):
            prefix = rng.choice(("032", "034", "035", "036", "038", "039", "086", "091", "094", "096", "097", "098"))
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
        fresh = (str(number) for number in numbers if str(number) not in existing)
        for person, number in zip(self.people, fresh, strict=False):  # more numbers than people
            person.member.card_number = number

    def _quota(self, key):
        share, minimum = QUOTAS[key]
        return max(minimum, round(self.total * share))

    def _age(self, person):
        return age_on(person.member.date_of_birth, self.today)

    def _pick(self, pool, count, exclusive=False):
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

    def _statuses(self):
        rng, today = self.rng, self.today
        self.special = set()
        self.can_hold_post = {code: len(crowd) for code, crowd in self.by_cell.items()}
        retired = [p for p in self.people if p.member.occupation == Occupation.RETIRED]
        working = [p for p in self.people if p.member.occupation != Occupation.RETIRED]

        # Excused from work and party activities (miễn công tác và sinh hoạt đảng): the old and frail.
        old = [p for p in retired if self._age(p) >= 70] or retired
        for person in self._pick(old, self._quota("excused"), exclusive=True):
            person.member.status = Status.EXCUSED
            person.member.status_since = random_day(rng, today - timedelta(days=5 * 365), today - timedelta(days=30))

        working_age = [p for p in working if self._age(p) < 58]
        for person in self._pick(working_age, self._quota("suspended"), exclusive=True):
            person.member.status = Status.SUSPENDED
            person.member.status_since = today - timedelta(days=rng.randint(20, 200))

        # Probationary (dự bị): admitted within the last twelve months, some within the last six.
        young = [p for p in working if 20 <= self._age(p) <= 40]
        for key, days in (("recent", (7, 170)), ("probationary", (190, 355))):
            for person in self._pick(young, self._quota(key), exclusive=True):
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
        seniors = sorted(eligible, key=lambda p: abs(self._age(p) - 52))
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

    # The year records.

    def _create_records(self):
        active = [p for p in self.people if p.can_hold_post]
        working = [p for p in active if p.member.occupation != Occupation.RETIRED]
        transfers = self._transfers(active)
        records = [
            *transfers,
            *self._discipline(working, transfers),
            *self._leave(working),
            *self._conclusions(working),
        ]
        for model in (Transfer, DisciplineDecision, LeavePeriod, DegradationConclusion):
            model.objects.bulk_create([record for record in records if type(record) is model])
        ratings = self._ratings()
        CivilServiceRating.objects.bulk_create(ratings, batch_size=1000)
        self.counts["records"] = len(records) + len(ratings)

    def _transfers(self, active):
        """Members who moved in from another cell: the member's cell is the transfer's destination."""
        rng, today = self.rng, self.today
        cells = [self.orgs[cell.code] for cell in self.plan.root.cells()]
        transfers = []
        for person in self._pick(active, self._quota("transfer")):
            member = person.member
            source = rng.choice(cells)
            while source is member.cell:
                source = rng.choice(cells)
            transfers.append(
                Transfer(
                    member=member,
                    transferred_on=random_day(
                        rng, max(member.official_date, today - timedelta(days=540)), today - timedelta(days=20)
                    ),
                    from_cell=source,
                    to_cell=member.cell,
                )
            )
        return transfers

    def _discipline(self, working, transfers):
        rng, today = self.rng, self.today
        disciplined = [p.member for p in self._pick(working, self._quota("discipline"))]
        # One case the rules treat specially: disciplined at the new unit for a violation at the old one.
        movers = [t for t in transfers if t.member.occupation != Occupation.RETIRED]
        old_unit = next((t for t in movers if all(t.member is not m for m in disciplined)), None)
        if old_unit is not None and disciplined:
            disciplined[-1] = old_unit.member
        decisions = []
        for member in disciplined:
            duty_case = member.occupation in (Occupation.CIVIL_SERVANT, Occupation.ARMED_FORCES)
            form, in_duties, reason = rng.choice([case for case in DISCIPLINE_CASES if case[1] == duty_case])
            note = rng.choice(DISCIPLINE_BODIES)
            earliest = max(member.admission_date, today - timedelta(days=500))
            if old_unit is not None and member is old_unit.member:
                note += ". Vi phạm xảy ra tại đơn vị cũ, trước khi chuyển sinh hoạt đảng."
                earliest = old_unit.transferred_on + timedelta(days=1)
            decisions.append(
                DisciplineDecision(
                    member=member,
                    decided_on=random_day(rng, earliest, today - timedelta(days=5)),
                    form=form,
                    reason=reason,
                    in_official_duties=in_duties,
                    note=note,
                )
            )
        return decisions

    def _leave(self, working):
        rng, today = self.rng, self.today
        leaves = []
        for person in self._pick(working, self._quota("sick")):
            start = today - timedelta(days=rng.randint(30, 300))
            end = start + timedelta(days=rng.randint(14, 180))
            leaves.append(LeavePeriod(member=person.member, kind=LeavePeriod.Kind.SICK, starts_on=start, ends_on=end))
        mothers = [p for p in working if p.member.gender == Gender.FEMALE and 22 <= self._age(p) <= 42]
        for person in self._pick(mothers, self._quota("maternity")):
            start = today - timedelta(days=rng.randint(10, 330))
            end = start + timedelta(days=182)  # six months
            leaves.append(
                LeavePeriod(member=person.member, kind=LeavePeriod.Kind.MATERNITY, starts_on=start, ends_on=end)
            )
        return leaves

    def _conclusions(self, working):
        rng, today = self.rng, self.today
        return [
            DegradationConclusion(
                member=person.member,
                concluded_on=today - timedelta(days=rng.randint(30, 300)),
                body="Ủy ban Kiểm tra Thành ủy Vĩnh Yên",
                summary=rng.choice(DEGRADATION_SUMMARIES),
            )
            for person in self._pick(working, self._quota("degradation"))
        ]

    def _ratings(self):
        """Most civil servants have their state-side rating for the previous and the current year."""
        rng, year = self.rng, self.today.year
        levels, weights = list(RATING_WEIGHTS), list(RATING_WEIGHTS.values())
        return [
            CivilServiceRating(member=person.member, year=rated_year, level=rng.choices(levels, weights)[0])
            for person in self.people
            if person.member.occupation == Occupation.CIVIL_SERVANT and rng.random() < RATED_SHARE
            for rated_year in (year - 1, year)
        ]

    # The accounts.

    def _create_accounts(self):
        """One account per role. The password is hashed once: hashing is slow on purpose."""
        User = get_user_model()
        password = make_password(DEMO_PASSWORD)
        cell_a, cell_b = self.demo_cells
        crowd_a = self.by_cell[cell_a.code]
        plain_member = next(p.member for p in crowd_a if p.can_hold_post and not p.member.party_post)
        evaluated = next(org for org in self.plan.root.children if org.kind == Kind.GRASSROOTS_CELL)

        def account(username, member=None, **flags):
            name = member.full_name if member else self.names.full_name(self.rng.choice(list(Gender)), 1975)
            user = User.objects.create(username=username, password=password, first_name=name, **flags)
            if member is not None:
                member.user = user
                member.save(update_fields=["user"])
            return user

        User.objects.create(username="admin", password=password, is_staff=True, is_superuser=True)
        board = account("bantochuc")
        assignments = RoleAssignment.objects.bulk_create(
            [
                RoleAssignment(user=board, organization=self.orgs[CITY_CODE], role=Role.BOARD),
                RoleAssignment(
                    user=account("canbo"), organization=self.orgs[self.plan.committee_a], role=Role.COMMITTEE_OFFICER
                ),
                RoleAssignment(
                    user=account("bithu", self._secretary(cell_a)),
                    organization=self.orgs[cell_a.code],
                    role=Role.CELL_SECRETARY,
                ),
                RoleAssignment(
                    user=account("bithu2", self._secretary(cell_b)),
                    organization=self.orgs[cell_b.code],
                    role=Role.CELL_SECRETARY,
                ),
                RoleAssignment(user=account("danhgia"), organization=self.orgs[evaluated.code], role=Role.EVALUATOR),
            ]
        )
        # The roles bring their groups and, for the board, the admin: as for every installation.
        for assignment in assignments:
            sync_user_groups(assignment.user)
        account("dangvien", plain_member)
        self.counts["accounts"] = len(DEMO_USERNAMES)

    def _secretary(self, cell):
        return next(p.member for p in self.by_cell[cell.code] if p.member.party_post == PartyPost.SECRETARY)


# --- The accounts table ----------------------------------------------------------------------------


def _org_label(org):
    """A cell's name is not unique ("Chi bộ Tổ dân phố số 1"): name its grassroots organisation too."""
    if org.kind == Kind.SUBORDINATE_CELL:
        ancestors = [org.path[:end] for end in range(Organization.steplen, len(org.path), Organization.steplen)]
        grassroots = (
            Organization.objects.filter(kind=Kind.GRASSROOTS_COMMITTEE, path__in=ancestors)
            .values_list("name", flat=True)
            .first()
        )
        if grassroots:
            return f"{org.name} ({grassroots})"
    return org.name


def account_rows():
    """(username, password, role, organisation) of each demo account that exists, in a fixed order."""
    users = get_user_model().objects.filter(username__in=DEMO_USERNAMES)
    roles = {
        role.user_id: role
        for role in RoleAssignment.objects.filter(user__in=users).select_related("organization").order_by("-pk")
    }
    members = {member.user_id: member for member in Member.objects.filter(user__in=users).select_related("cell")}
    rows = {}
    for user in users:
        if user.is_superuser:
            role, org = _("Administrator (superuser)"), _("everything")
        elif user.pk in roles:
            role, org = roles[user.pk].get_role_display(), _org_label(roles[user.pk].organization)
        elif user.pk in members:
            role, org = _("Party member"), _org_label(members[user.pk].cell)
        else:
            role, org = _("no role"), "—"
        rows[user.username] = (user.username, DEMO_PASSWORD, str(role), org)
    return [rows[username] for username in DEMO_USERNAMES if username in rows]


# --- A committee of any size, in bulk: for the tests and the benchmark ----------------------------------------


def bulk_committee(parent, code, *, members, cell_size=50, occupation=Occupation.RETIRED):
    """A grassroots committee under `parent` with `members` generated members in cells of `cell_size`,
    written in bulk (a committee of thousands in about a second). Its members' card numbers have nine
    digits, never one of the demo's eight-digit ones."""
    founded = {"sector": Organization.Sector.WARD, "founded_on": date(2000, 1, 1)}
    committee = Organization.objects.add_child(
        parent, instance=Organization(code=code, name=f"Đảng bộ {code}", kind=Kind.GRASSROOTS_COMMITTEE, **founded)
    )
    cell_ids = []
    for number in range(1, -(-members // cell_size) + 1):
        committee.refresh_from_db()
        cell = Organization(
            code=f"{code}-c{number:03d}", name=f"Chi bộ số {number}", kind=Kind.SUBORDINATE_CELL, **founded
        )
        cell_ids.append(Organization.objects.add_child(committee, instance=cell).pk)
    # Siblings sort by name: the paths of earlier cells moved as later ones came; read them again.
    cell_ids = list(Organization.objects.filter(pk__in=cell_ids).order_by("path").values_list("pk", flat=True))
    start = Member.objects.count()
    rows = []
    for index in range(members):
        member = Member(
            full_name=f"Trần Văn Số{start + index}",
            gender=Gender.MALE,
            date_of_birth=date(1960, 1, 1),
            card_number=f"9{start + index:08d}",
            admission_date=date(1990, 1, 1),
            official_date=date(1991, 1, 1),
            occupation=occupation,
            status=Status.ACTIVE,
            cell_id=cell_ids[index // cell_size],
        )
        member.fill_derived()
        rows.append(member)
    Member.objects.bulk_create(rows, batch_size=1000)
    committee.refresh_from_db()
    return committee
