"""Every service that changes something checks authority itself, through the policy: called directly
(as the admin, a command or a view would), it refuses whoever lacks the standing with `Refused` and
changes nothing, and does its work for those who have it.

Beside the POST matrix (tests/test_post_matrix.py), which goes through the screens: here nothing
stands between the caller and the service. "nobody" is a call that names no actor (refused: it is not
taken for the command line); "system" is `policy.SYSTEM`, what the commands pass.
"""

import datetime

import pytest
from django.db import transaction

from organizations.policy import SYSTEM, Refused
from tests.test_url_matrix import PERSONAS

pytestmark = pytest.mark.django_db

ACTORS = [*PERSONAS, "nobody", "system"]
Y, N, E = "allowed", "refused", "error"  # E: refused by the service's own message on the object, not Refused


def _fresh(obj):
    obj.refresh_from_db()
    return obj


def _empty_period(c, *steps):
    """A period of an organisation with no one under it: every step of the period can be taken at once."""
    from assessments.core import services
    from assessments.decisions import closing
    from assessments.models import Period

    period = Period.objects.create(organization=c.empty, year=2027, regime="2018")
    for step in steps:
        {
            "open": services.period_open,
            "close": services.period_close,
            "finalise": closing.period_finalise,
            "publish": closing.period_publish,
        }[step](period=period, user=SYSTEM)
    return period


def _period_open(p, c, ctx, actor):
    from assessments.core import services

    services.period_open(period=ctx, user=actor)


def _period_close(p, c, ctx, actor):
    from assessments.core import services

    services.period_close(period=ctx, user=actor)


def _period_finalise(p, c, ctx, actor):
    from assessments.decisions import closing

    closing.period_finalise(period=ctx, user=actor)


def _period_publish(p, c, ctx, actor):
    from assessments.decisions import closing

    closing.period_publish(period=ctx, user=actor)


def _finalised_form(p, c):
    from assessments.models import Assessment, Period

    Period.objects.filter(pk=c.period.pk).update(state=Period.State.FINALISED)
    Assessment.objects.filter(pk=c.form.pk).update(state=Assessment.State.DECIDED, decided_level="HTTNV")
    return _fresh(c.form)


def _reopen(p, c, ctx, actor):
    from assessments.decisions import closing

    closing.assessment_reopen(assessment=ctx, user=actor, reason="Đơn khiếu nại có cơ sở")


def _leave_out(p, c, ctx, actor):
    from assessments.core import services

    services.assessment_classification_override(
        assessment=c.form, user=actor, classified=False, reason="Đang điều trị dài ngày"
    )


def _transfer(p, c, ctx, actor):
    from assessments.core import transfers
    from members.models import Transfer

    transfer = Transfer(
        member=p.member_a1_other, from_cell=c.cell_a1, to_cell=c.cell_b1, transferred_on=datetime.date(2026, 8, 1)
    )
    transfers.transfer_record(transfer=transfer, user=actor)


def _recheck(p, c, ctx, actor):
    from assessments.decisions import rechecks

    rechecks.recheck_open(period=c.period, assessment=c.form, kind="complaint", summary="Đơn khiếu nại", user=actor)


def _accounts_of_a1(p, c):
    from accounts import services

    services.member_accounts_create(organization=c.cell_a1, actor=SYSTEM)


def _create_accounts(p, c, ctx, actor):
    from accounts import services

    services.member_accounts_create(organization=c.cell_a1, actor=actor)


def _reset(p, c, ctx, actor):
    from accounts import services

    services.member_password_reset(member=p.member_a1_other, actor=actor)


def _reissue(p, c, ctx, actor):
    from accounts import services

    services.member_codes_reissue(organization=c.cell_a1, actor=actor)


def _codes_issued(p):
    return _fresh(p.member_a1_other).user.account_state.codes_issued


def _known_password(p, c, ctx, actor):
    from accounts import services

    services.accounts_create([services.NewAccount("taikhoanmoi")], password="mat khau chung 2025", actor=actor)


def _grant(p, c, ctx, actor):
    from organizations.models import RoleAssignment
    from organizations.roles import grant_role

    grant_role(user=p.outsider, organization=c.cell_a2, role=RoleAssignment.Role.CELL_SECRETARY, actor=actor)


def _revoke(p, c, ctx, actor):
    from organizations.roles import revoke_role

    revoke_role(ctx, actor=actor)


def _import(kind, rows):
    def call(p, c, ctx, actor):
        from members.importing import run_import
        from tests.members.test_import import ORG_HEADERS, csv_file

        upload = csv_file(rows(p, c), headers=ORG_HEADERS) if kind == "organizations" else csv_file(rows(p, c))
        result = run_import(kind, upload, actor, commit=True)
        if result.errors:
            raise ImportRowsRefused(result.errors)

    return call


class ImportRowsRefused(Exception):
    """The import refused rows (a cell outside the user's organisations): its own message, per row."""


def _member_rows(p, c):
    from tests.members.test_import import member_row

    return [member_row("93000001")]


def _organization_rows(p, c):
    return [{"Mã": "to-moi", "Tên": "Chi bộ mới", "Loại tổ chức": "cell", "Mã tổ chức cấp trên": "dang-bo-a"}]


def _exists(model_path, **lookup):
    def check(p, c, ctx):
        module, name = model_path.rsplit(".", 1)
        model = getattr(__import__(module, fromlist=[name]), name)
        return model.objects.filter(**{key: value(p, c) for key, value in lookup.items()}).exists()

    return check


# name -> (prepare(p, c) -> ctx, call(p, c, ctx, actor), done(p, c, ctx) -> bool, outcome per actor in ACTORS).
#                    anonymous outsider member secretary_a1 secretary_b1 officer_a evaluator board nobody system
SERVICES = {
    "open a period": (
        lambda p, c: _empty_period(c),
        _period_open,
        lambda p, c, ctx: _fresh(ctx).state == "open",
        (N, N, N, N, N, N, N, Y, N, Y),
    ),
    "close a period": (
        lambda p, c: _empty_period(c, "open"),
        _period_close,
        lambda p, c, ctx: _fresh(ctx).state == "closed",
        (N, N, N, N, N, N, N, Y, N, Y),
    ),
    "finalise a period": (
        lambda p, c: _empty_period(c, "open", "close"),
        _period_finalise,
        lambda p, c, ctx: _fresh(ctx).state == "finalised",
        (N, N, N, N, N, N, N, Y, N, Y),
    ),
    "publish a period": (
        lambda p, c: _empty_period(c, "open", "close", "finalise"),
        _period_publish,
        lambda p, c, ctx: _fresh(ctx).state == "published",
        (N, N, N, N, N, N, N, Y, N, Y),
    ),
    "reopen a finalised subject": (
        _finalised_form,
        _reopen,
        lambda p, c, ctx: _fresh(ctx).reopened,
        (N, N, N, N, N, N, N, Y, N, Y),
    ),
    "leave a member out of the classification": (
        None,
        _leave_out,
        lambda p, c, ctx: not _fresh(c.form).classified,
        (N, N, N, N, N, N, N, Y, N, Y),
    ),
    "record a transfer": (
        None,
        _transfer,
        lambda p, c, ctx: _fresh(p.member_a1_other).cell_id == c.cell_b1.pk,
        (N, N, N, N, N, N, N, Y, N, Y),
    ),
    "record a matter to re-check": (
        None,
        _recheck,
        lambda p, c, ctx: c.period.rechecks.exists(),
        (N, N, N, N, N, N, N, Y, N, Y),
    ),
    "create the accounts of a cell": (
        None,
        _create_accounts,
        lambda p, c, ctx: _fresh(p.member_a1_other).user_id is not None,
        (N, N, N, Y, N, Y, N, Y, N, Y),
    ),
    "give a member a new sign-in code": (
        _accounts_of_a1,
        _reset,
        lambda p, c, ctx: _codes_issued(p) == 2,
        (N, N, N, Y, N, Y, N, Y, N, Y),
    ),
    "give new codes for lost slips": (
        _accounts_of_a1,
        _reissue,
        lambda p, c, ctx: _codes_issued(p) == 2,
        (N, N, N, Y, N, Y, N, Y, N, Y),
    ),
    "make an account with a known password": (
        None,
        _known_password,
        _exists("django.contrib.auth.models.User", username=lambda p, c: "taikhoanmoi"),
        (N, N, N, N, N, N, N, N, N, Y),
    ),
    "give a role": (
        None,
        _grant,
        _exists("organizations.models.RoleAssignment", user=lambda p, c: p.outsider),
        (N, N, N, N, N, N, N, Y, N, Y),
    ),
    "take a role away": (
        lambda p, c: p.secretary_a1.role_assignments.get(),
        _revoke,
        lambda p, c, ctx: not p.secretary_a1.role_assignments.exists(),
        (N, N, N, N, N, N, N, Y, N, Y),
    ),
    # Who manages some cell may import; each row is checked against its own cell (the secretary of B1's
    # row for cell A1 is refused with the row's message).
    "import members": (
        None,
        _import("members", _member_rows),
        _exists("members.models.Member", card_number=lambda p, c: "93000001"),
        (N, N, N, Y, E, Y, N, Y, N, Y),
    ),
    "import organisations": (
        None,
        _import("organizations", _organization_rows),
        _exists("organizations.models.Organization", code=lambda p, c: "to-moi"),
        (N, N, N, N, N, N, N, Y, N, Y),
    ),
}


def test_every_service_has_every_actor():
    for name, row in SERVICES.items():
        assert len(row[-1]) == len(ACTORS), name


@pytest.fixture
def year(personas, city):
    """The city's open period and the member's form; an empty cell under the city for the period's steps."""
    from assessments.core import services
    from assessments.models import Assessment, Period
    from tests.factories import OrganizationFactory

    city.period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=city.period, user=personas.board)
    city.form = Assessment.objects.get(period=city.period, member=personas.member_record)
    city.empty = OrganizationFactory(parent=city.city, code="chi-bo-trong", name="Chi bộ trống")
    for org in (city.city, city.committee_a, city.cell_a1, city.cell_a2, city.committee_b, city.cell_b1, city.cell_c):
        org.refresh_from_db()  # the new sibling may have shifted the paths of those sorted after it
    return city


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_the_service_checks_authority_itself(name, personas, year):
    """Each actor in turn, each in a savepoint rolled back after it: the same start for every one."""
    from assessments.models import AuditEntry

    prepare, call, done, outcomes = SERVICES[name]
    actors = {**personas.all(), "nobody": None, "system": SYSTEM}
    for actor_name, outcome in zip(ACTORS, outcomes, strict=True):
        with transaction.atomic():
            ctx = prepare(personas, year) if prepare else None
            trail = AuditEntry.objects.count()
            actor = actors[actor_name]
            if outcome == Y:
                call(personas, year, ctx, actor)
                assert done(personas, year, ctx), f"{name}: {actor_name} was allowed but nothing was done"
            else:
                expected = Refused if outcome == N else ImportRowsRefused
                with pytest.raises(expected):
                    call(personas, year, ctx, actor)
                assert not done(personas, year, ctx), f"{name}: {actor_name} was refused but it was done"
                assert AuditEntry.objects.count() == trail, f"{name}: {actor_name} was refused but left a trace"
            transaction.set_rollback(True)


def test_the_system_actor_is_recorded_as_no_one(personas, year):
    """What the command line does is in the trail without an actor (there is no such user)."""
    from assessments.models import AuditEntry

    period = _empty_period(year, "open")
    assert _fresh(period).opened_by is None
    entry = AuditEntry.objects.get(period=period, action="open")
    assert entry.actor is None


@pytest.mark.parametrize("persona", ["secretary_a1", "evaluator", "member"])
def test_a_quota_exception_is_refused_to_who_does_not_decide_there(personas, year, persona):
    """The exception asks the policy itself, before anything about the quota."""
    from assessments import decisions
    from assessments.decisions import ranking
    from assessments.models import AuditEntry
    from tests.assessments.test_quota_exception import decision

    with pytest.raises(Refused):
        decisions.exception_record(
            period=year.period,
            group=year.committee_a,
            group_queryset=decisions.member_assessments(year.period, year.committee_a),
            user=getattr(personas, persona),
            subject_kind="member",
            decision=decision(),
        )
    with pytest.raises(Refused):
        decisions.exception_record(
            period=year.period,
            group=year.city,
            group_queryset=ranking.organization_assessments(year.period, year.city),
            user=personas.officer_a,
            subject_kind="organization",
            decision=decision(),
        )
    assert not AuditEntry.objects.filter(action="quota_exception").exists()


# The service modules: every public function of theirs that takes the acting user (`user` or `actor`)
# is in SERVICES above or below, with where its refusal is tested.
SERVICE_MODULES = [
    "assessments.core.services",
    "assessments.core.transfers",
    "assessments.decisions.services",
    "assessments.decisions.closing",
    "assessments.decisions.ranking",
    "assessments.decisions.rechecks",
    "assessments.reviews.services",
    "assessments.meetings.minutes",
    "assessments.meetings.ballot",
    "accounts.services",
    "members.importing",
    "organizations.roles",
    "jobs.services",
]
IN_SERVICES = {
    "assessments.core.services.period_open": "open a period",
    "assessments.core.services.period_close": "close a period",
    "assessments.decisions.closing.period_finalise": "finalise a period",
    "assessments.decisions.closing.period_publish": "publish a period",
    "assessments.decisions.closing.assessment_reopen": "reopen a finalised subject",
    "assessments.core.services.assessment_classification_override": "leave a member out of the classification",
    "assessments.core.transfers.transfer_record": "record a transfer",
    "assessments.decisions.rechecks.recheck_open": "record a matter to re-check",
    "accounts.services.member_accounts_create": "create the accounts of a cell",
    "accounts.services.member_password_reset": "give a member a new sign-in code",
    "accounts.services.member_codes_reissue": "give new codes for lost slips",
    "accounts.services.accounts_create": "make an account with a known password",
    "organizations.roles.grant_role": "give a role",
    "organizations.roles.revoke_role": "take a role away",
    "members.importing.run_import": "import members",
}
ELSEWHERE = {
    # Steps of the assessment's table: the policy and the table, on the locked row (test_workflow.py).
    "assessments.core.services.assessment_step": "tests/assessments/test_workflow.py",
    "assessments.core.services.period_step": "the period's steps above",
    "assessments.reviews.services.assessment_save": "tests/test_post_matrix.py: save a member's self-review",
    "assessments.reviews.services.assessment_submit": "tests/test_post_matrix.py: submit a self-review",
    "assessments.reviews.services.assessment_return": "tests/test_post_matrix.py: return a submitted self-review",
    "assessments.reviews.services.reminders_send": "tests/test_post_matrix.py: send the cell's reminders",
    "assessments.reviews.services.analysis_save": "tests/test_post_matrix.py: fill in an analysis form",
    "assessments.reviews.services.paper_self_reviews_record": (
        "tests/test_post_matrix.py: record a self-review handed in on paper"
    ),
    "assessments.core.transfers.transfer_comment_record": (
        "tests/test_post_matrix.py: write the former cell's comment on a member it transferred away"
    ),
    "assessments.decisions.closing.decision_confirm_again": (
        "tests/test_post_matrix.py: confirm again, after finalising, a decision put back to confirm"
    ),
    "accounts.services.member_signin_unlock": "tests/test_post_matrix.py: lift a member's sign-in pause",
    "assessments.decisions.rechecks.recheck_resolve": "tests/test_post_matrix.py: resolve a matter to re-check",
    "assessments.decisions.services.decisions_record": "tests/test_post_matrix.py: decide the members' levels",
    "assessments.decisions.services.exception_record": "test_a_quota_exception_is_refused_to_who_does_not_decide_there",
    "assessments.decisions.services.record_levels": "the decisions and the ranking (check_group_decider)",
    "assessments.decisions.ranking.ranking_record": "tests/test_post_matrix.py: rank the grassroots organisations",
    "assessments.meetings.minutes.meeting_record": "tests/test_post_matrix.py: record the cell's minutes",
    "assessments.meetings.ballot.ballot_open": "tests/test_post_matrix.py: open the cell's ballot",
    "assessments.meetings.ballot.ballot_close": "tests/assessments/test_ballot.py",
    "assessments.meetings.ballot.ballot_discard": "tests/test_post_matrix.py: stop the cell's ballot",
    # The voter roll is the ballot paper's owner (policy's SELF): tests/assessments/test_ballot.py.
    "assessments.meetings.ballot.ballot_vote": "tests/test_post_matrix.py: vote in the cell's ballot",
    # The checks themselves, and what reads or concerns only the user's own account.
    "assessments.decisions.services.check_decider": "the check itself (tests/organizations/test_policy.py)",
    "assessments.decisions.services.check_group_decider": "the check itself",
    "assessments.decisions.ranking.check_ranker": "the check itself",
    "assessments.meetings.minutes.check_manager": "the check itself",
    "assessments.meetings.ballot.voter_for": "a read",
    "accounts.services.must_change_password": "a read",
    "accounts.services.password_chosen": "the signed-in user's own account, after Django's password form",
    "members.importing.importable_kinds": "a read",
    # Background jobs: starting one asks the work's own permission (the kind's `authorise`), and the work
    # asks again in the worker (tests/jobs/test_policy.py); cancelling needs the job's scope.
    "jobs.services.job_start": "tests/jobs/test_policy.py and the POST matrix: have the spreadsheets made",
    "jobs.services.job_cancel": "tests/test_post_matrix.py: cancel a background job",
    "jobs.services.may_see": "a read",
    "jobs.services.audit": "writes the trail of a job already allowed",
    "organizations.roles.sync_user_groups": "follows the roles: called by grant_role, revoke_role and the admin",
}


def test_every_service_that_takes_the_acting_user_is_in_a_table():
    import importlib
    import inspect

    found = set()
    for name in SERVICE_MODULES:
        module = importlib.import_module(name)
        for attribute, function in vars(module).items():
            if not inspect.isfunction(function) or function.__module__ != name or attribute.startswith("_"):
                continue
            if {"user", "actor"} & set(inspect.signature(function).parameters):
                found.add(f"{name}.{attribute}")
    assert found == set(IN_SERVICES) | set(ELSEWHERE)
    assert set(IN_SERVICES.values()) <= set(SERVICES)
    from tests.test_post_matrix import WRITES

    matrix = "tests/test_post_matrix.py: "
    named = {where.removeprefix(matrix) for where in ELSEWHERE.values() if where.startswith(matrix)}
    assert named <= set(WRITES), named - set(WRITES)
