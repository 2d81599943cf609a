"""Every URL of the site against every persona: the status each must get.

A URL that is added without a row here fails `test_every_url_is_in_the_matrix`.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

pytestmark = pytest.mark.django_db

PERSONAS = ["anonymous", "outsider", "member", "secretary_a1", "secretary_b1", "officer_a", "evaluator", "board"]

# name -> (function building the URL from the fixtures, the status of each persona in PERSONAS order).
# 302 for the anonymous is the redirect to the sign-in page.
#                        anonymous outsider member secretary_a1 secretary_b1 officer_a evaluator board
MATRIX = {
    "home": (
        lambda p, c: reverse("home"),
        (302, 200, 200, 200, 200, 200, 200, 200),
    ),
    "accounts:login": (
        lambda p, c: reverse("accounts:login"),
        # A signed-in user is sent on to the home page.
        (200, 302, 302, 302, 302, 302, 302, 302),
    ),
    "accounts:logout": (
        lambda p, c: reverse("accounts:logout"),
        # Signing out is a POST; a GET is refused for everyone.
        (405, 405, 405, 405, 405, 405, 405, 405),
    ),
    "accounts:password_change": (
        lambda p, c: reverse("accounts:password_change"),
        (302, 200, 200, 200, 200, 200, 200, 200),
    ),
    "accounts:password_change_done": (
        lambda p, c: reverse("accounts:password_change_done"),
        (302, 200, 200, 200, 200, 200, 200, 200),
    ),
    "accounts:organization_accounts": (
        lambda p, c: reverse("accounts:organization_accounts", args=[c.cell_a1.code]),
        # Those who manage the cell; the evaluator of committee B sees no people, a member no one else.
        (302, 404, 404, 200, 404, 200, 404, 200),
    ),
    "accounts:organization_accounts_create": (
        lambda p, c: reverse("accounts:organization_accounts_create", args=[c.cell_a1.code]),
        # A POST only (tests/accounts/test_member_accounts_views.py); a GET is refused for everyone.
        (405, 405, 405, 405, 405, 405, 405, 405),
    ),
    "accounts:organization_accounts_reissue": (
        lambda p, c: reverse("accounts:organization_accounts_reissue", args=[c.cell_a1.code]),
        (405, 405, 405, 405, 405, 405, 405, 405),
    ),
    "accounts:member_password_reset": (
        lambda p, c: reverse("accounts:member_password_reset", args=[p.member_record.public_id]),
        (405, 405, 405, 405, 405, 405, 405, 405),
    ),
    "accounts:member_signin_unlock": (
        lambda p, c: reverse("accounts:member_signin_unlock", args=[p.member_record.public_id]),
        (405, 405, 405, 405, 405, 405, 405, 405),
    ),
    "organizations:list": (
        lambda p, c: reverse("organizations:list"),
        (302, 404, 404, 200, 200, 200, 200, 200),
    ),
    "organizations:detail": (
        lambda p, c: reverse("organizations:detail", args=[c.committee_a.code]),
        (302, 404, 404, 404, 404, 200, 404, 200),
    ),
    "members:list": (
        lambda p, c: reverse("members:list"),
        (302, 404, 404, 200, 200, 200, 404, 200),
    ),
    "members:me": (
        lambda p, c: reverse("members:me"),
        # Users linked to a member record are sent to it; the others get a page that says so.
        (302, 200, 302, 302, 302, 200, 200, 200),
    ),
    "members:detail": (
        lambda p, c: reverse("members:detail", args=[p.member_record.public_id]),
        (302, 404, 200, 200, 404, 200, 404, 200),
    ),
    "assessments:mine": (
        lambda p, c: reverse("assessments:mine"),
        (302, 200, 200, 200, 200, 200, 200, 200),
    ),
    "assessments:form": (
        lambda p, c: reverse("assessments:form", args=[c.form.public_id]),
        (302, 404, 200, 200, 404, 200, 404, 200),
    ),
    "assessments:analysis": (
        lambda p, c: reverse("assessments:analysis", args=[c.form.public_id]),
        (302, 404, 404, 200, 404, 200, 404, 200),
    ),
    "assessments:reopen": (
        lambda p, c: reverse("assessments:reopen", args=[c.form.public_id]),
        (405, 405, 405, 405, 405, 405, 405, 405),
    ),
    "assessments:print": (
        lambda p, c: reverse("assessments:print", args=[c.form.public_id]),
        (302, 404, 200, 200, 404, 200, 404, 200),
    ),
    "assessments:docx": (
        lambda p, c: reverse("assessments:docx", args=[c.form.public_id]),
        (302, 404, 200, 200, 404, 200, 404, 200),
    ),
    # Writes are POSTs: a GET is refused for everyone, before anything else.
    "assessments:save": (
        lambda p, c: reverse("assessments:save", args=[c.form.public_id]),
        (405, 405, 405, 405, 405, 405, 405, 405),
    ),
    "assessments:submit": (
        lambda p, c: reverse("assessments:submit", args=[c.form.public_id]),
        (405, 405, 405, 405, 405, 405, 405, 405),
    ),
    "assessments:return": (
        lambda p, c: reverse("assessments:return", args=[c.form.public_id]),
        (405, 405, 405, 405, 405, 405, 405, 405),
    ),
    "assessments:dashboard": (
        lambda p, c: reverse("assessments:dashboard", args=[c.period.public_id, c.cell_a1.code]),
        (302, 404, 404, 200, 404, 200, 404, 200),
    ),
    "assessments:roster": (
        lambda p, c: reverse("assessments:roster", args=[c.period.public_id]),
        (302, 404, 404, 404, 404, 404, 404, 200),
    ),
    "assessments:roster_override": (
        lambda p, c: reverse("assessments:roster_override", args=[c.period.public_id, c.form.public_id]),
        (405, 405, 405, 405, 405, 405, 405, 405),
    ),
    "assessments:rechecks": (
        lambda p, c: reverse("assessments:rechecks", args=[c.period.public_id]),
        (302, 404, 404, 404, 404, 404, 404, 200),
    ),
    "assessments:recheck_resolve": (
        lambda p, c: reverse("assessments:recheck_resolve", args=[c.period.public_id, 1]),
        (405, 405, 405, 405, 405, 405, 405, 405),
    ),
    # The board's answer, after finalising, to a decision put back "to confirm": a POST only.
    "assessments:confirm_again": (
        lambda p, c: reverse("assessments:confirm_again", args=[c.period.public_id, c.form.public_id]),
        (405, 405, 405, 405, 405, 405, 405, 405),
    ),
    "assessments:decide": (
        lambda p, c: reverse("assessments:decide", args=[c.period.public_id, c.committee_a.code]),
        (302, 404, 404, 404, 404, 200, 404, 200),
    ),
    "assessments:rank": (
        lambda p, c: reverse("assessments:rank", args=[c.period.public_id, c.city.code]),
        (302, 404, 404, 404, 404, 404, 404, 200),
    ),
    "assessments:rank_collectives": (
        lambda p, c: reverse("assessments:rank_collectives", args=[c.period.public_id, c.city.code]),
        (302, 404, 404, 404, 404, 404, 404, 200),
    ),
    "assessments:remind": (
        lambda p, c: reverse("assessments:remind", args=[c.period.public_id, c.cell_a1.code]),
        (405, 405, 405, 405, 405, 405, 405, 405),
    ),
    # The printable list of who has not submitted, to call them: as the cell's dashboard.
    "assessments:call_list": (
        lambda p, c: reverse("assessments:call_list", args=[c.period.public_id, c.cell_a1.code]),
        (302, 404, 404, 200, 404, 200, 404, 200),
    ),
    # Self-reviews handed in on paper: those who lead the cell.
    "assessments:paper": (
        lambda p, c: reverse("assessments:paper", args=[c.period.public_id, c.cell_a1.code]),
        (302, 404, 404, 200, 404, 200, 404, 200),
    ),
    # The cell's meeting: those who lead the cell (its secretary, the officer above, the board).
    "assessments:meeting": (
        lambda p, c: reverse("assessments:meeting", args=[c.period.public_id, c.cell_a1.code]),
        (302, 404, 404, 200, 404, 200, 404, 200),
    ),
    "assessments:meeting_print": (
        lambda p, c: reverse("assessments:meeting_print", args=[c.period.public_id, c.cell_a1.code]),
        (302, 404, 404, 200, 404, 200, 404, 200),
    ),
    "assessments:meeting_docx": (
        lambda p, c: reverse("assessments:meeting_docx", args=[c.period.public_id, c.cell_a1.code]),
        (302, 404, 404, 200, 404, 200, 404, 200),
    ),
    # The former cell's comment on a member it transferred away: a POST only.
    "assessments:transfer_comment": (
        lambda p, c: reverse("assessments:transfer_comment", args=[c.period.public_id, c.cell_a1.code, 1]),
        (405, 405, 405, 405, 405, 405, 405, 405),
    ),
    "assessments:ballot_open": (
        lambda p, c: reverse("assessments:ballot_open", args=[c.period.public_id, c.cell_a1.code]),
        (405, 405, 405, 405, 405, 405, 405, 405),
    ),
    "assessments:ballot_close": (
        lambda p, c: reverse("assessments:ballot_close", args=[c.period.public_id, c.cell_a1.code]),
        (405, 405, 405, 405, 405, 405, 405, 405),
    ),
    "assessments:my_ballots": (
        lambda p, c: reverse("assessments:my_ballots"),
        (302, 200, 200, 200, 200, 200, 200, 200),
    ),
    # An open ballot of cell A1 (tests/assessments/test_ballot.py): only the voters of the cell see it.
    "assessments:ballot_vote": (
        lambda p, c: reverse(
            "assessments:ballot_vote",
            args=[__import__("tests.assessments.test_ballot", fromlist=["_"]).open_ballot_for(p, c).public_id],
        ),
        (302, 404, 200, 200, 404, 404, 404, 404),
    ),
    # The statistics of a subtree: those who manage committee A (its officer, the board).
    "assessments:stats": (
        lambda p, c: reverse("assessments:stats", args=[c.period.public_id, c.committee_a.code]),
        (302, 404, 404, 404, 404, 200, 404, 200),
    ),
    # Import (tests/members/test_import.py): those who manage cells import members; the board also organisations.
    "members:import": (
        lambda p, c: reverse("members:import"),
        (302, 404, 404, 200, 200, 200, 404, 200),
    ),
    "members:import_template": (
        lambda p, c: reverse("members:import_template", args=["members"]),
        (302, 404, 404, 200, 200, 200, 404, 200),
    ),
    # The year-end spreadsheets of the whole city: the board only (officer A's own: test_export.py). The
    # page lists the files made before; a POST has them made by a background job.
    "assessments:export": (
        lambda p, c: reverse("assessments:export", args=[c.period.public_id, c.city.code]),
        (302, 404, 404, 404, 404, 404, 404, 200),
    ),
    # Background jobs (tests/jobs/): one of committee A, seen by those who manage committee A; "my jobs"
    # by everybody signed in (their own only).
    "jobs:mine": (
        lambda p, c: reverse("jobs:mine"),
        (302, 200, 200, 200, 200, 200, 200, 200),
    ),
    "jobs:detail": (
        lambda p, c: reverse("jobs:detail", args=[committee_a_export(p, c).public_id]),
        (302, 404, 404, 404, 404, 200, 404, 200),
    ),
    "jobs:progress": (
        # Without htmx, to the job's whole page.
        lambda p, c: reverse("jobs:progress", args=[committee_a_export(p, c).public_id]),
        (302, 404, 404, 404, 404, 302, 404, 302),
    ),
    "jobs:download": (
        lambda p, c: reverse("jobs:download", args=[committee_a_export(p, c, done=True).public_id]),
        (302, 404, 404, 404, 404, 200, 404, 200),
    ),
    # Cancelling is a POST only.
    "jobs:cancel": (
        lambda p, c: reverse("jobs:cancel", args=[committee_a_export(p, c).public_id]),
        (405, 405, 405, 405, 405, 405, 405, 405),
    ),
    "set_language": (
        lambda p, c: reverse("set_language"),
        # A GET changes nothing and sends the user back.
        (302, 302, 302, 302, 302, 302, 302, 302),
    ),
}


def committee_a_export(p, c, *, done=False):
    """An export of committee A started by its officer: queued, or done with its file."""
    from django.conf import settings

    from jobs.models import Job

    subject = {"kind": "export", "organization": c.committee_a, "period": c.period}
    queued = None if done else Job.objects.filter(state="queued", **subject).first()
    if queued is not None:  # one at a time (the URLs of several rows built at once: tests/e2e)
        return queued
    job = Job.objects.create(state="succeeded" if done else "queued", started_by=p.officer_a, **subject)
    if done:
        settings.JOBS_RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        (settings.JOBS_RESULTS_DIR / f"{job.public_id}.xlsx").write_bytes(b"PK")
        Job.objects.filter(pk=job.pk).update(result_path=f"{job.public_id}.xlsx", result_name="xep-loai.xlsx")
        job.refresh_from_db()
    return job


def site_url_names():
    """The names of every URL pattern of the site, the admin's aside (the admin has its own tests)."""
    names = set()

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern):
                assert pattern.name, f"URL pattern {pattern.pattern} has no name"
                names.add(f"{namespace}{pattern.name}")

    walk(get_resolver().url_patterns, "")
    return names


def test_every_url_is_in_the_matrix():
    assert site_url_names() == set(MATRIX)


def test_every_persona_is_in_every_row():
    for name, (_, expected) in MATRIX.items():
        assert len(expected) == len(PERSONAS), name


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_url_role_matrix(name, persona, personas, city, client_for):
    from assessments.core import services
    from assessments.models import Assessment, Period

    city.period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=city.period, user=personas.board)
    city.form = Assessment.objects.get(period=city.period, member=personas.member_record)
    build, expected = MATRIX[name]
    client = client_for(getattr(personas, persona))
    response = client.get(build(personas, city))
    assert response.status_code == expected[PERSONAS.index(persona)], f"{persona} GET {name}"
