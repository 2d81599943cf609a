"""Every write of the site, posted by every persona: whether the write happens, and that nobody
without the standing gets anything but a refusal (no 5xx, no change).

Beside the GET matrix (tests/test_url_matrix.py): there a page answers or not; here a valid POST
changes the database for those the policy allows, and for nobody else.
"""

import pytest
from django.urls import reverse

from tests.assessments.test_meeting import YESTERDAY
from tests.members.test_import import csv_file, member_row
from tests.test_url_matrix import PERSONAS

pytestmark = pytest.mark.django_db

Y, N = True, False


def _fresh(obj):
    obj.refresh_from_db()
    return obj


def _other_form(p, c):
    from assessments.models import Assessment

    return Assessment.objects.get(period=c.period, member=p.member_a1_other)


def _accounts_for_cell(p, c):
    from accounts import services

    services.member_accounts_create(organization=c.cell_a1, actor=p.board)


def _transfer_from_a1(p, c):
    import datetime

    from assessments.core import transfers
    from members.models import Transfer

    c.transfer = Transfer(
        member=p.member_a1_other, from_cell=c.cell_a1, to_cell=c.cell_b1, transferred_on=datetime.date(2026, 8, 1)
    )
    transfers.transfer_record(transfer=c.transfer, user=p.board)


def _pause_member(p, c):
    from tests.accounts.helpers import fail

    fail(p.member.username, "203.0.113.1", 5)


def _member_paused():
    from axes.models import AccessAttempt

    return AccessAttempt.objects.filter(username="member").exists()


def _put_back_after_finalising(p, c):
    """Everything decided HTNV and the period finalised; then cell A1 put back "to confirm"."""
    from assessments.models import Assessment, Period

    Assessment.objects.filter(period=c.period, classified=True).update(decided_level="HTNV", state="decided")
    Period.objects.filter(pk=c.period.pk).update(state=Period.State.FINALISED)
    c.put_back = Assessment.objects.get(period=c.period, organization=c.cell_a1, subject_kind="organization")
    Assessment.objects.filter(pk=c.put_back.pk).update(to_confirm=True, to_confirm_reason="Một mức xếp loại đã đổi")


# name -> (prepare(p, c) -> None, url(p, c), data(p, c), happened(p, c) -> bool, who may, in PERSONAS order).
#              anonymous outsider member secretary_a1 secretary_b1 officer_a evaluator board
WRITES = {
    "save a member's self-review": (
        None,
        lambda p, c: reverse("assessments:save", args=[c.form.public_id]),
        lambda p, c: {"version": "0"},
        lambda p, c: _fresh(c.form).version == 1,
        (N, N, Y, Y, N, Y, N, Y),
    ),
    "return a submitted self-review": (
        lambda p, c: __import__("assessments.reviews.services", fromlist=["_"]).assessment_submit(
            assessment=c.form, user=p.member, base_version=0
        ),
        lambda p, c: reverse("assessments:return", args=[c.form.public_id]),
        lambda p, c: {"reason": "Bổ sung phần II"},
        lambda p, c: _fresh(c.form).state == "returned",
        (N, N, N, Y, N, Y, N, Y),
    ),
    "send the cell's reminders": (
        None,
        lambda p, c: reverse("assessments:remind", args=[c.period.public_id, c.cell_a1.code]),
        lambda p, c: {},
        lambda p, c: c.period.audit.filter(action="remind").exists(),
        (N, N, N, Y, N, Y, N, Y),
    ),
    "leave a member out of the classification": (
        None,
        lambda p, c: reverse("assessments:roster_override", args=[c.period.public_id, c.form.public_id]),
        lambda p, c: {"classified": "0", "reason": "Đang điều trị dài ngày"},
        lambda p, c: not _fresh(c.form).classified,
        (N, N, N, N, N, N, N, Y),
    ),
    "record a matter to re-check": (
        None,
        lambda p, c: reverse("assessments:rechecks", args=[c.period.public_id]),
        lambda p, c: {"subject": p.member_record.card_number, "kind": "complaint", "summary": "Đơn khiếu nại"},
        lambda p, c: c.period.rechecks.exists(),
        (N, N, N, N, N, N, N, Y),
    ),
    "resolve a matter to re-check": (
        lambda p, c: __import__("assessments.decisions.rechecks", fromlist=["_"]).recheck_open(
            period=c.period, assessment=c.form, kind="complaint", summary="Đơn khiếu nại", user=p.board
        ),
        lambda p, c: reverse("assessments:recheck_resolve", args=[c.period.public_id, c.period.rechecks.get().pk]),
        lambda p, c: {"resolution": "Không có cơ sở"},
        lambda p, c: not c.period.rechecks.get().is_open,
        (N, N, N, N, N, N, N, Y),
    ),
    "confirm again, after finalising, a decision put back to confirm": (
        _put_back_after_finalising,
        lambda p, c: reverse("assessments:confirm_again", args=[c.period.public_id, c.put_back.public_id]),
        lambda p, c: {"action": "confirm", "reason": "Mức xếp loại vẫn đúng"},
        lambda p, c: not _fresh(c.put_back).to_confirm,
        (N, N, N, N, N, N, N, Y),
    ),
    "create the accounts of a cell": (
        None,
        lambda p, c: reverse("accounts:organization_accounts_create", args=[c.cell_a1.code]),
        lambda p, c: {"confirmed": "on"},
        lambda p, c: _fresh(p.member_a1_other).user_id is not None,
        (N, N, N, Y, N, Y, N, Y),
    ),
    "record the cell's minutes": (
        None,
        lambda p, c: reverse("assessments:meeting", args=[c.period.public_id, c.cell_a1.code]),
        lambda p, c: {"version": "0", "held_on": YESTERDAY, "members_total": "3", "present": "3", "absent": "0"},
        lambda p, c: (
            __import__("assessments.models", fromlist=["_"]).Meeting.objects.filter(organization=c.cell_a1).exists()
        ),
        (N, N, N, Y, N, Y, N, Y),
    ),
    "record a self-review handed in on paper": (
        None,
        lambda p, c: reverse("assessments:paper", args=[c.period.public_id, c.cell_a1.code]),
        lambda p, c: {f"received-{_other_form(p, c).pk}": "1"},
        lambda p, c: _other_form(p, c).on_paper,
        (N, N, N, Y, N, Y, N, Y),
    ),
    "import a member into cell A1": (
        None,
        lambda p, c: reverse("members:import"),
        lambda p, c: {"kind": "members", "action": "commit", "file": csv_file([member_row("93000001")])},
        lambda p, c: (
            __import__("members.models", fromlist=["_"]).Member.objects.filter(card_number="93000001").exists()
        ),
        (N, N, N, Y, N, Y, N, Y),
    ),
    "write the former cell's comment on a member it transferred away": (
        _transfer_from_a1,
        lambda p, c: reverse("assessments:transfer_comment", args=[c.period.public_id, c.cell_a1.code, c.transfer.pk]),
        lambda p, c: {"comment": "Hoàn thành tốt nhiệm vụ tại chi bộ"},
        lambda p, c: _fresh(c.transfer).former_cell_comment != "",
        (N, N, N, Y, N, Y, N, Y),
    ),
    "give a member a new sign-in code": (
        _accounts_for_cell,
        lambda p, c: reverse("accounts:member_password_reset", args=[p.member_a1_other.public_id]),
        lambda p, c: {"codes_issued": "1", "confirmed": "1"},
        lambda p, c: _fresh(p.member_a1_other).user.account_state.codes_issued == 2,
        (N, N, N, Y, N, Y, N, Y),
    ),
    "lift a member's sign-in pause": (
        _pause_member,
        lambda p, c: reverse("accounts:member_signin_unlock", args=[p.member_record.public_id]),
        lambda p, c: {},
        lambda p, c: not _member_paused(),
        (N, N, N, Y, N, Y, N, Y),
    ),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", sorted(WRITES))
def test_post_role_matrix(name, persona, personas, city, client_for):
    from assessments.core import services
    from assessments.models import Assessment, AuditEntry, Period

    city.period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=city.period, user=personas.board)
    city.form = Assessment.objects.get(period=city.period, member=personas.member_record)
    prepare, url, data, happened, may = WRITES[name]
    if prepare:
        prepare(personas, city)
    trail = AuditEntry.objects.count()
    client = client_for(getattr(personas, persona))
    response = client.post(url(personas, city), data(personas, city))
    allowed = may[PERSONAS.index(persona)]
    assert response.status_code < 500, f"{persona} POST {name}"
    assert happened(personas, city) == allowed, f"{persona} POST {name}: {response.status_code}"
    if not allowed:
        assert AuditEntry.objects.count() == trail, f"{persona} POST {name} left a trace"
        # Sent away (sign-in, 404, 403), refused (400), or the page again with the refusal on it (200).
        assert response.status_code in (200, 302, 400, 403, 404), f"{persona} POST {name}: {response.status_code}"


def test_every_write_has_every_persona():
    for name, row in WRITES.items():
        assert len(row[-1]) == len(PERSONAS), name
