"""demo.bulk and the demo written through it: the same rows through COPY (PostgreSQL) and executemany (SQLite)."""

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings

from demo.bulk import insert_rows, update_rows
from demo.loader import DemoLoader
from members.models import (
    CivilServiceRating,
    DegradationConclusion,
    DisciplineDecision,
    LeavePeriod,
    Member,
    Transfer,
)
from organizations.models import Cluster, Organization

from .conftest import FAST_HASHING

pytestmark = pytest.mark.django_db

# What the loader writes for 300 members on a fixed day with the default seed: the same on both databases.
EXPECTED = {
    "clusters": 3,
    "organizations": 16,
    "members": 300,
    "records": 348,
    "accounts": 7,
}


@override_settings(PASSWORD_HASHERS=FAST_HASHING)
def test_the_loader_writes_the_same_rows_on_either_database():
    counts = DemoLoader(total=300, today=date(2026, 6, 1)).load()
    assert counts == EXPECTED
    assert Member.objects.count() == 300
    assert Organization.objects.count() == EXPECTED["organizations"]
    assert Cluster.objects.count() == EXPECTED["clusters"]
    records = sum(
        model.objects.count()
        for model in (Transfer, DisciplineDecision, LeavePeriod, DegradationConclusion, CivilServiceRating)
    )
    assert records == EXPECTED["records"]
    # The defaults save() would have given: a public id of its own, the keys of the name, timestamps.
    assert Member.objects.values("public_id").distinct().count() == 300
    assert not Member.objects.filter(search_name="").exists()
    assert not Member.objects.filter(created_at__isnull=True).exists()
    # The sequence goes on after the explicit keys: a member saved later gets a fresh one.
    cell = Member.objects.first().cell
    later = Member.objects.create(
        full_name="Lê Văn Sau",
        gender="male",
        date_of_birth=date(1980, 1, 1),
        card_number="77777777",
        admission_date=date(2005, 1, 1),
        occupation="worker",
        cell=cell,
    )
    assert later.pk > max(Member.objects.exclude(pk=later.pk).values_list("pk", flat=True))
    assert get_user_model().objects.filter(username="bithu", member__isnull=False).exists()


def test_insert_and_update_rows_keep_text_dates_and_json_intact():
    org = Organization.objects.add_root({"code": "x", "name": "Đảng bộ X", "kind": Organization.Kind.CITY_COMMITTEE})
    cell = Organization.objects.add_child(
        org, {"code": "x-c1", "name": "Chi bộ 1", "kind": Organization.Kind.SUBORDINATE_CELL}
    )
    tricky = "Nguyễn\tVăn \\ Một\nHai"
    columns = ("full_name", "search_name", "sort_key", "gender", "date_of_birth", "card_number")
    columns += ("admission_date", "official_date", "cell_id", "occupation", "is_leader")
    rows = [
        (tricky, "nguyen", "k", "male", date(1970, 5, 6), f"5{n:07d}", date(1995, 1, 1), None, cell.pk, "worker", True)
        for n in range(3)
    ]
    assert insert_rows(Member, columns, iter(rows)) == 3
    members = list(Member.objects.order_by("card_number"))
    assert [m.full_name for m in members] == [tricky] * 3
    assert members[0].official_date is None and members[0].is_leader is True
    assert members[0].date_of_birth == date(1970, 5, 6)
    assert update_rows(Member, ("phone", "status_since"), [(m.pk, "0912 345 678", date(2026, 1, 2)) for m in members])
    assert set(Member.objects.values_list("phone", "status_since")) == {("0912 345 678", date(2026, 1, 2))}


def test_a_column_without_a_default_must_be_given():
    with pytest.raises(ValueError, match="no default"):
        insert_rows(Member, ("full_name",), [("Lê Văn A",)])
