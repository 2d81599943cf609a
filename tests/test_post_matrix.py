"""Every write of the site, posted by every persona: whether the write happens, and that nobody
without the standing gets anything but a refusal (no 5xx, no change, no trace, never 403).

Beside the GET matrix (tests/test_url_matrix.py): there a page answers or not; here a valid POST
changes the database for those the policy allows, and for nobody else. Every URL of the site that takes
a POST has a row (`test_every_url_that_takes_a_post_is_in_the_matrix`); some writes of the admin too
(the board's tool; a board below the root within its subtree: tests/test_admin_scope.py). The services
themselves, called directly, are held to the same policy in tests/test_service_authority.py.
"""

import pytest
from django.db import transaction
from django.urls import reverse

from tests.assessments.test_meeting import YESTERDAY
from tests.members.test_import import ORG_HEADERS, csv_file, member_row
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


def _next_year_period(p, c):
    from assessments.models import Period

    c.next_year = Period.objects.create(organization=c.city, year=2027, regime="2018")


def _after_the_jobs(check):
    """What a write queued as a background job did, once the queued jobs have run (an import's commit)."""
    from tests.jobs.helpers import run_jobs

    run_jobs()
    return check()


def _jobs(kind, **subject):
    from jobs.models import Job

    return Job.objects.filter(kind=kind, **subject).exists()


def _after_the_jobs(done):
    """A write done by a background job (the accounts of an organisation): the queued jobs run, then `done()`."""
    from tests.jobs.helpers import run_jobs

    run_jobs()
    return done()


def _committee_a_export_queued(p, c):
    from jobs import services

    c.job, _created = services.job_start(kind="export", user=p.officer_a, organization=c.committee_a, period=c.period)


def _cell_proposals_in_a(p, c):
    from assessments.models import Assessment
    from members.models import Member

    # Retired: no civil-service rating of the year is needed first (R2018-P-CBCCVC-FIRST).
    Member.objects.filter(pk=p.member_record.pk).update(occupation=Member.Occupation.RETIRED)

    Assessment.objects.filter(
        period=c.period, member__isnull=False, organization__path__startswith=c.committee_a.path
    ).update(self_level="HTXSNV", cell_proposed_level="HTNV", state=Assessment.State.CELL_REVIEWED)


def _members_decided(p, c):
    from assessments.models import Assessment

    Assessment.objects.filter(period=c.period, member__isnull=False).update(
        decided_level="HTNV", state=Assessment.State.DECIDED
    )


def _review_of(p, c, organization, kind="organization"):
    from assessments.models import Assessment

    return Assessment.objects.get(period=c.period, organization=organization, subject_kind=kind)


def _finalised(p, c):
    from assessments.models import Assessment, Period

    Period.objects.filter(pk=c.period.pk).update(state=Period.State.FINALISED)
    Assessment.objects.filter(pk=c.form.pk).update(state=Assessment.State.DECIDED, decided_level="HTTNV")


def _ballot(p, c):
    from tests.assessments.test_ballot import open_ballot_for

    c.ballot = open_ballot_for(p, c)


def _ballot_paper(p, c):
    from assessments.models import Assessment

    subjects = Assessment.objects.filter(period=c.period, organization=c.cell_a1, member__isnull=False)
    return {f"vote-{a.public_id}": "HTTNV" for a in subjects}


def _voted(p, c):
    from assessments.models import VoterMark

    return VoterMark.objects.filter(ballot=c.ballot).exists()


def _accounts_by_the_board(p, c):
    from accounts import services

    services.member_accounts_create(organization=c.cell_a1, actor=p.board)


def _admin_member_form(p, c):
    from tests.test_admin import member_form_data

    return member_form_data(p.member_a2, full_name="Nguyễn Văn Dũng Mới")


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
        lambda p, c: _after_the_jobs(lambda: _fresh(p.member_a1_other).user_id is not None),
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
        lambda p, c: _after_the_jobs(
            lambda: __import__("members.models", fromlist=["_"]).Member.objects.filter(card_number="93000001").exists()
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
    "submit a self-review": (
        None,
        lambda p, c: reverse("assessments:submit", args=[c.form.public_id]),
        lambda p, c: __import__("tests.personas.steps", fromlist=["_"]).form_post(c.form, "HTTNV"),
        lambda p, c: _fresh(c.form).state == "submitted",
        (N, N, Y, Y, N, Y, N, Y),
    ),
    # Committee B's own review: its evaluator, and the board above it.
    "fill in an analysis form": (
        None,
        lambda p, c: reverse("assessments:analysis", args=[_review_of(p, c, c.committee_b).public_id]),
        lambda p, c: __import__("tests.assessments.test_evaluators", fromlist=["_"]).analysis_post(
            _review_of(p, c, c.committee_b), "tot", "HTTNV"
        ),
        lambda p, c: _review_of(p, c, c.committee_b).analyses.exists(),
        (N, N, N, N, N, N, Y, Y),
    ),
    "decide the members' levels": (
        _cell_proposals_in_a,
        lambda p, c: reverse("assessments:decide", args=[c.period.public_id, c.committee_a.code]),
        lambda p, c: {f"level-{c.form.pk}": "HTNV"},
        lambda p, c: _fresh(c.form).decided_level == "HTNV",
        (N, N, N, N, N, Y, N, Y),
    ),
    "rank the grassroots organisations": (
        _members_decided,
        lambda p, c: reverse("assessments:rank", args=[c.period.public_id, c.city.code]),
        lambda p, c: {f"level-{_review_of(p, c, c.cell_c).pk}": "HTNV"},
        lambda p, c: _review_of(p, c, c.cell_c).decided_level == "HTNV",
        (N, N, N, N, N, N, N, Y),
    ),
    "rank the leadership collectives": (
        _members_decided,
        lambda p, c: reverse("assessments:rank_collectives", args=[c.period.public_id, c.city.code]),
        lambda p, c: {f"level-{_review_of(p, c, c.cell_c, 'collective').pk}": "HTNV"},
        lambda p, c: _review_of(p, c, c.cell_c, "collective").decided_level == "HTNV",
        (N, N, N, N, N, N, N, Y),
    ),
    "reopen a finalised subject": (
        _finalised,
        lambda p, c: reverse("assessments:reopen", args=[c.form.public_id]),
        lambda p, c: {"reason": "Đơn khiếu nại có cơ sở"},
        lambda p, c: _fresh(c.form).reopened,
        (N, N, N, N, N, N, N, Y),
    ),
    "open the cell's ballot": (
        lambda p, c: __import__("assessments.models", fromlist=["_"]).Meeting.objects.create(
            period=c.period, organization=c.cell_a1, held_on=YESTERDAY, members_total=3, present=3, absent=0
        ),
        lambda p, c: reverse("assessments:ballot_open", args=[c.period.public_id, c.cell_a1.code]),
        lambda p, c: {},
        lambda p, c: __import__("assessments.models", fromlist=["_"]).Ballot.objects.exists(),
        (N, N, N, Y, N, Y, N, Y),
    ),
    # Stopped without counting (the count needs the quorum's votes first: tests/assessments/test_ballot.py).
    "stop the cell's ballot": (
        _ballot,
        lambda p, c: reverse("assessments:ballot_close", args=[c.period.public_id, c.cell_a1.code]),
        lambda p, c: {"discard": "1"},
        lambda p, c: not __import__("assessments.models", fromlist=["_"]).Ballot.objects.exists(),
        (N, N, N, Y, N, Y, N, Y),
    ),
    # The voters: the members of cell A1 with an account (the member, the secretary), nobody else.
    "vote in the cell's ballot": (
        _ballot,
        lambda p, c: reverse("assessments:ballot_vote", args=[c.ballot.public_id]),
        _ballot_paper,
        _voted,
        (N, N, Y, Y, N, N, N, N),
    ),
    "give new codes for lost slips": (
        _accounts_by_the_board,
        lambda p, c: reverse("accounts:organization_accounts_reissue", args=[c.cell_a1.code]),
        lambda p, c: {"confirmed": "on"},
        lambda p, c: _after_the_jobs(lambda: _fresh(p.member_a1_other).user.account_state.codes_issued == 2),
        (N, N, N, Y, N, Y, N, Y),
    ),
    "import an organisation under committee A": (
        None,
        lambda p, c: reverse("members:import"),
        lambda p, c: {
            "kind": "organizations",
            "action": "commit",
            "file": csv_file(
                [{"Mã": "chi-bo-a3", "Tên": "Chi bộ A3", "Loại tổ chức": "cell", "Mã tổ chức cấp trên": "dang-bo-a"}],
                headers=ORG_HEADERS,
            ),
        },
        lambda p, c: _after_the_jobs(
            lambda: (
                __import__("organizations.models", fromlist=["_"])
                .Organization.objects.filter(code="chi-bo-a3")
                .exists()
            )
        ),
        (N, N, N, N, N, N, N, Y),
    ),
    # The admin: the board's (the others are sent to the admin's sign-in page). Within the scope of a
    # board below the root: tests/test_admin_scope.py.
    "change a member in the admin": (
        None,
        lambda p, c: reverse("admin:members_member_change", args=[p.member_a2.pk]),
        lambda p, c: _admin_member_form(p, c),
        lambda p, c: _fresh(p.member_a2).full_name == "Nguyễn Văn Dũng Mới",
        (N, N, N, N, N, N, N, Y),
    ),
    "close the period in the admin": (
        None,
        lambda p, c: reverse("admin:assessments_period_changelist"),
        lambda p, c: {"action": "close_periods", "_selected_action": [c.period.pk]},
        lambda p, c: _fresh(c.period).state == "closed",
        (N, N, N, N, N, N, N, Y),
    ),
    "open a period in the admin (a background job)": (
        _next_year_period,
        lambda p, c: reverse("admin:assessments_period_changelist"),
        lambda p, c: {"action": "open_periods", "_selected_action": [c.next_year.pk]},
        lambda p, c: _jobs("open_period", period=c.next_year),
        (N, N, N, N, N, N, N, Y),
    ),
    "have the year-end spreadsheets made (a background job)": (
        None,
        lambda p, c: reverse("assessments:export", args=[c.period.public_id, c.committee_a.code]),
        lambda p, c: {},
        lambda p, c: _jobs("export", period=c.period, organization=c.committee_a),
        (N, N, N, N, N, Y, N, Y),
    ),
    "cancel a background job": (
        _committee_a_export_queued,
        lambda p, c: reverse("jobs:cancel", args=[c.job.public_id]),
        lambda p, c: {},
        lambda p, c: _fresh(c.job).state == "cancelled",
        (N, N, N, N, N, Y, N, Y),
    ),
    "give a role in the admin": (
        None,
        lambda p, c: reverse("admin:organizations_roleassignment_add"),
        lambda p, c: {"user": p.member.pk, "role": "cell_secretary", "organization": c.cell_a2.pk},
        lambda p, c: p.member.role_assignments.exists(),
        (N, N, N, N, N, N, N, Y),
    ),
    "take a role away in the admin": (
        None,
        lambda p, c: reverse(
            "admin:organizations_roleassignment_delete", args=[p.secretary_b1.role_assignments.get().pk]
        ),
        lambda p, c: {"post": "yes"},
        lambda p, c: not p.secretary_b1.role_assignments.exists(),
        (N, N, N, N, N, N, N, Y),
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


@pytest.fixture
def year(personas, city):
    from assessments.core import services
    from assessments.models import Assessment, Period

    city.period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=city.period, user=personas.board)
    city.form = Assessment.objects.get(period=city.period, member=personas.member_record)
    return city


@pytest.mark.parametrize("name", sorted(WRITES))
def test_post_role_matrix(name, personas, year, client_for):
    """Each persona in turn, each in a savepoint rolled back after it: the same start for every one (one
    city and one opened period per write, not one per persona: the matrix stays quick)."""
    from assessments.models import AuditEntry

    prepare, url, data, happened, may = WRITES[name]
    wrong = []
    for persona, allowed in zip(PERSONAS, may, strict=True):
        with transaction.atomic():
            year.form.refresh_from_db()  # what the persona before changed was rolled back
            year.period.refresh_from_db()
            if prepare:
                prepare(personas, year)
            trail = AuditEntry.objects.count()
            address = url(personas, year)
            response = client_for(getattr(personas, persona)).post(address, data(personas, year))
            done = happened(personas, year)
            if response.status_code >= 500 or done != allowed:
                wrong.append(f"{persona}: {response.status_code}, {'done' if done else 'not done'}")
            elif not allowed:
                if AuditEntry.objects.count() != trail:
                    wrong.append(f"{persona}: refused but left a trace in the audit trail")
                # Sent away (to sign in), not there (404), refused (400) or the page again with the
                # refusal on it (200); never 403 (outside one's organisations is 404, tests/test_url_matrix.py).
                # In the admin, a board may be refused an action on an object it sees (403).
                expected = (200, 302, 400, 404, 403) if address.startswith("/admin/") else (200, 302, 400, 404)
                if response.status_code not in expected:
                    wrong.append(f"{persona}: refused with {response.status_code}")
            transaction.set_rollback(True)
    assert not wrong, f"POST {name}: " + "; ".join(wrong)


def test_every_write_has_every_persona():
    for name, row in WRITES.items():
        assert len(row[-1]) == len(PERSONAS), name


# Every URL of the site (tests/test_url_matrix.py walks them, the admin aside) is written to by a row of
# WRITES (the row's URL resolves to it), or is here: a page that only reads (a POST answers 405, below),
# or a POST that is the user's own business rather than a role's, with where it is tested.
READ_ONLY = {
    "home",
    "organizations:list",
    "organizations:detail",
    "members:list",
    "members:me",
    "members:detail",
    "members:import_template",
    "accounts:organization_accounts",
    "accounts:password_change_done",
    "assessments:mine",
    "assessments:form",
    "assessments:print",
    "assessments:docx",
    "assessments:dashboard",
    "assessments:roster",
    "assessments:call_list",
    "assessments:meeting_print",
    "assessments:meeting_docx",
    "assessments:my_ballots",
    "assessments:stats",
    "jobs:mine",
    "jobs:detail",
    "jobs:progress",
    "jobs:download",
}
OWN_BUSINESS = {
    "accounts:login": "signing in: tests/accounts/test_login.py",
    "accounts:logout": "signing out of one's own session",
    "accounts:password_change": "one's own password: tests/accounts/test_first_password.py",
    "set_language": "the interface language, kept in a cookie",
}


def test_every_url_that_takes_a_post_is_in_the_matrix(personas, year):
    from django.urls import resolve

    from tests.test_url_matrix import site_url_names

    written = set()
    for prepare, url, _data, _happened, _may in WRITES.values():
        with transaction.atomic():
            if prepare:
                prepare(personas, year)
            written.add(resolve(url(personas, year)).view_name)
            transaction.set_rollback(True)
    site = site_url_names()
    assert not written & (READ_ONLY | set(OWN_BUSINESS))
    assert not READ_ONLY & set(OWN_BUSINESS)
    assert (written - {name for name in written if name.startswith("admin:")}) | READ_ONLY | set(OWN_BUSINESS) == site


@pytest.mark.parametrize("name", sorted(READ_ONLY))
def test_a_page_that_only_reads_refuses_a_post(name, personas, year, client_for):
    """405 before anything else, for the board (who may read every one of them)."""
    from tests.test_url_matrix import MATRIX

    build, _expected = MATRIX[name]
    response = client_for(personas.board).post(build(personas, year), {})
    assert response.status_code == 405, name
