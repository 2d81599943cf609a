"""Acts that belong to no year leave a record too: accounts created, codes reissued, imports."""

import pytest

from accounts import services as accounts
from assessments.models import AuditEntry
from members.importing import run_import
from members.models import Member
from organizations.policy import Refused
from tests.members.test_import import MEMBER_HEADERS, csv_file, member_row

pytestmark = pytest.mark.django_db


def test_creating_accounts_is_recorded_without_a_period(personas, city):
    batch = accounts.member_accounts_create(organization=city.city, actor=personas.board)
    entry = AuditEntry.objects.get(action=AuditEntry.Action.ACCOUNTS_CREATE)
    assert entry.period is None and entry.actor == personas.board
    assert entry.data == {"organization": "city", "created": len(batch.slips), "skipped": 0}
    assert str(entry.action_label) == str(AuditEntry.Action.ACCOUNTS_CREATE.label)


def test_a_refused_creation_leaves_no_record(personas, city):
    with pytest.raises(Refused):
        accounts.member_accounts_create(organization=city.committee_b, actor=personas.secretary_a1)
    assert not AuditEntry.objects.exists()


def test_a_new_code_and_a_reissue_are_recorded(personas, city):
    accounts.member_accounts_create(organization=city.cell_a1, actor=personas.secretary_a1)
    member = Member.objects.get(full_name="Phạm Đức Anh")
    accounts.member_password_reset(member=member, actor=personas.secretary_a1)
    accounts.member_codes_reissue(organization=city.cell_a1, actor=personas.secretary_a1)
    entries = list(AuditEntry.objects.filter(action=AuditEntry.Action.CODE_REISSUE).order_by("pk"))
    assert [e.data["codes"] for e in entries] == [1, 1]
    assert all(e.period is None and e.actor == personas.secretary_a1 for e in entries)


def test_an_import_is_recorded_when_written_and_not_when_only_checked(personas):
    upload = csv_file([member_row("91000009")], MEMBER_HEADERS)
    run_import("members", upload, personas.board)
    assert not AuditEntry.objects.exists()
    upload.seek(0)
    result = run_import("members", upload, personas.board, commit=True)
    assert result.created == 1
    entry = AuditEntry.objects.get(action=AuditEntry.Action.IMPORT_MEMBERS)
    assert (entry.period, entry.actor, entry.data) == (None, personas.board, {"rows": 1, "created": 1})
