import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from members.models import CivilServiceRating, LeavePeriod, Member, Transfer
from members.selectors import member_counts_for, search_members
from tests.factories import MemberFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def test_duplicate_card_number_is_refused(city):
    MemberFactory(cell=city.cell_a1, card_number="12345678")
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberFactory(cell=city.cell_a2, card_number="12345678")


def test_duplicate_card_number_gets_a_message_from_validation(city):
    MemberFactory(cell=city.cell_a1, card_number="12345678")
    member = MemberFactory.build(cell=city.cell_a2, card_number="12345678")
    with pytest.raises(ValidationError) as excinfo:
        member.full_clean()
    assert "card_number" in excinfo.value.message_dict


def test_official_date_before_admission_is_refused(city):
    member = MemberFactory.build(
        cell=city.cell_a1, admission_date=datetime.date(2000, 1, 1), official_date=datetime.date(1999, 1, 1)
    )
    with pytest.raises(ValidationError) as excinfo:
        member.full_clean()
    assert "official_date" in excinfo.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        member.save()


def test_admission_before_birth_is_refused(city):
    member = MemberFactory.build(
        cell=city.cell_a1,
        date_of_birth=datetime.date(2000, 1, 1),
        admission_date=datetime.date(1999, 1, 1),
        official_date=None,
    )
    with pytest.raises(ValidationError) as excinfo:
        member.full_clean()
    assert "admission_date" in excinfo.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        member.save()


def test_dates_in_order_are_accepted(city):
    member = MemberFactory.build(cell=city.cell_a1, official_date=None)
    member.full_clean()
    assert member.is_probationary


def test_member_cannot_belong_to_a_committee(city):
    member = MemberFactory.build(cell=city.committee_a)
    with pytest.raises(ValidationError) as excinfo:
        member.full_clean()
    assert "cell" in excinfo.value.message_dict


def test_leave_ending_before_it_starts_is_refused(personas):
    leave = LeavePeriod(
        member=personas.member_record,
        kind=LeavePeriod.Kind.SICK,
        starts_on=datetime.date(2025, 5, 1),
        ends_on=datetime.date(2025, 4, 1),
    )
    with pytest.raises(ValidationError):
        leave.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        leave.save()


def test_transfer_to_the_same_cell_is_refused(personas, city):
    transfer = Transfer(
        member=personas.member_record,
        transferred_on=datetime.date(2025, 3, 1),
        from_cell=city.cell_a1,
        to_cell=city.cell_a1,
    )
    with pytest.raises(ValidationError):
        transfer.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        transfer.save()


def test_one_civil_service_rating_per_year(personas):
    CivilServiceRating.objects.create(member=personas.member_record, year=2025, level="HTTNV")
    with pytest.raises(IntegrityError), transaction.atomic():
        CivilServiceRating.objects.create(member=personas.member_record, year=2025, level="HTNV")


def test_members_under_an_organisation_is_one_query_at_any_depth(personas, city, django_assert_num_queries):
    section = OrganizationFactory(kind="section_committee", parent=city.committee_a)
    deep_cell = OrganizationFactory(parent=section)
    deep = MemberFactory(cell=deep_cell)
    with django_assert_num_queries(1):
        under_a = set(Member.objects.under(city.committee_a).values_list("pk", flat=True))
    assert deep.pk in under_a
    assert personas.member_record.pk in under_a
    assert personas.member_b1.pk not in under_a
    assert len(under_a) == 6


def test_member_counts_for_sum_subtrees_in_one_query(personas, city, django_assert_num_queries):
    Member.objects.filter(pk=personas.member_a2.pk).update(status=Member.Status.DECEASED)
    with django_assert_num_queries(1):
        counts = member_counts_for([city.committee_a, city.committee_b, city.cell_c])
    assert counts == {city.committee_a.pk: 4, city.committee_b.pk: 2, city.cell_c.pk: 1}


@pytest.mark.parametrize(
    "text",
    ["Nguyen Van", "nguyễn văn", "NGUYỄN VĂN", "nguyen van dung", "Dũng"],
)
def test_search_finds_names_with_or_without_diacritics(personas, text):
    found = list(search_members(Member.objects.all(), text))
    assert personas.member_a2 in found


def test_search_does_not_find_other_names(personas):
    found = list(search_members(Member.objects.all(), "Nguyen Van"))
    assert personas.member_record not in found


def test_search_by_card_number(personas):
    found = list(search_members(Member.objects.all(), personas.member_b1.card_number))
    assert found == [personas.member_b1]


def test_lists_sort_the_vietnamese_way_in_the_database(city):
    for name in ["Trần Văn Bình", "Nguyễn Văn An", "Lê Thị Ánh", "Đỗ Văn Đạt", "Hoàng Văn Dũng", "Phạm Ân", "Vũ Ăn"]:
        MemberFactory(full_name=name, cell=city.cell_a1)
    names = list(Member.objects.vietnamese_order().values_list("full_name", flat=True))
    assert names == [
        "Nguyễn Văn An",
        "Lê Thị Ánh",
        "Vũ Ăn",
        "Phạm Ân",
        "Trần Văn Bình",
        "Hoàng Văn Dũng",
        "Đỗ Văn Đạt",
    ]


def test_renaming_updates_the_sort_and_search_keys(personas):
    member = personas.member_record
    member.full_name = "Lê Thị Yến"
    member.save(update_fields=["full_name"])
    member.refresh_from_db()
    assert member.search_name == "le thi yen"
    assert list(search_members(Member.objects.all(), "yen")) == [member]


def test_the_database_refuses_a_committee_suspension_outside_its_year(city):
    from members.models import CommitteeSuspension

    member = MemberFactory(cell=city.cell_a1)
    with pytest.raises(IntegrityError), transaction.atomic():
        CommitteeSuspension.objects.create(
            member=member, year=2026, suspended_on=datetime.date(2025, 12, 31), body="Đảng ủy A"
        )
    suspension = CommitteeSuspension(member=member, year=2026, suspended_on=datetime.date(2025, 12, 31), body="x")
    with pytest.raises(ValidationError) as excinfo:
        suspension.full_clean()
    assert "suspended_on" in excinfo.value.message_dict
    CommitteeSuspension.objects.create(member=member, year=2026, suspended_on=datetime.date(2026, 1, 1), body="x")
