"""A grassroots committee of any size written in bulk, for the tests and the benchmark (not part of seed_demo)."""

from datetime import date

from members.models import Member
from organizations.models import Organization

Kind = Organization.Kind


def bulk_committee(parent, code, *, members, cell_size=50, occupation=Member.Occupation.RETIRED):
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
            gender=Member.Gender.MALE,
            date_of_birth=date(1960, 1, 1),
            card_number=f"9{start + index:08d}",
            admission_date=date(1990, 1, 1),
            official_date=date(1991, 1, 1),
            occupation=occupation,
            status=Member.Status.ACTIVE,
            cell_id=cell_ids[index // cell_size],
        )
        member.fill_derived()
        rows.append(member)
    Member.objects.bulk_create(rows, batch_size=1000)
    committee.refresh_from_db()
    return committee
