"""Benchmark, run by hand (not collected by the suite: the file name does not start with test_):

    .venv/bin/python -m pytest tests/accounts/bench_member_accounts.py -s -p no:xdist
    DATABASE_URL=postgres://... .venv/bin/python -m pytest tests/accounts/bench_member_accounts.py -s -p no:xdist

Creates two cities of 7,300 members in 300 cells each, then times, with the project's real password hashers:
the service alone, and the board's button: its request, which starts a background job, and the job (service
+ the page of 7,300 slips written to its file).
"""

import datetime
import time

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts import services
from config import settings as project_settings
from jobs.models import Job
from members.models import Member
from organizations.models import Organization
from tests.factories import OrganizationFactory
from tests.jobs.helpers import run_jobs

MEMBERS = 7_300
CELLS = 300


@pytest.fixture(autouse=True)
def fast_password_hashing():
    """Overrides the suite's MD5 hashing: the point is the cost of the real hashers."""
    previous = settings.PASSWORD_HASHERS
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    yield
    settings.PASSWORD_HASHERS = previous


def build_city(root, prefix):
    """A city-sized subtree under `root`: 20 committees, 300 cells, 7,300 members."""
    city = OrganizationFactory(parent=root, kind=Organization.Kind.CITY_COMMITTEE, name=f"Thành phố {prefix}")
    committees = [
        OrganizationFactory(parent=city, kind=Organization.Kind.GRASSROOTS_COMMITTEE, name=f"Đảng bộ {n}")
        for n in range(20)
    ]
    cells = [OrganizationFactory(parent=committees[n % 20], name=f"Chi bộ {n}") for n in range(CELLS)]
    members = []
    for n in range(MEMBERS):
        member = Member(
            full_name=f"Nguyễn Văn Thử {n}",
            gender=Member.Gender.MALE,
            date_of_birth=datetime.date(1960, 1, 1),
            card_number=f"{prefix}{n:07d}",
            admission_date=datetime.date(1990, 1, 1),
            occupation=Member.Occupation.RETIRED,
            cell=cells[n % CELLS],
        )
        member.fill_derived()
        members.append(member)
    Member.objects.bulk_create(members, batch_size=1000)
    return Organization.objects.get(pk=city.pk)


@pytest.mark.django_db
def test_bench_7300_accounts(personas, city, client_for):
    root = Organization.objects.get(pk=city.city.pk)
    first = build_city(root, "2")
    second = build_city(Organization.objects.get(pk=root.pk), "3")
    hashers = settings.PASSWORD_HASHERS[:2]

    started = time.perf_counter()
    batch = services.member_accounts_create(organization=first, actor=personas.board)
    service_seconds = time.perf_counter() - started
    created = len(batch.slips)

    # The same for the other city through the board's button: the request starts a background job; the
    # worker makes the accounts and writes the page of slips; the job's page opens it.
    client = client_for(personas.board)
    started = time.perf_counter()
    response = client.post(reverse("accounts:organization_accounts_create", args=[second.code]), {"confirmed": "1"})
    request_seconds = time.perf_counter() - started
    assert response.status_code == 302
    started = time.perf_counter()
    run_jobs()
    job_seconds = time.perf_counter() - started
    job = Job.objects.get(public_id=response.url.rstrip("/").split("/")[-1])
    assert job.state == "succeeded", job.error
    download = client.get(reverse("jobs:download", args=[job.public_id]))
    html = b"".join(download.streaming_content)
    assert html.count(b"data-code>") == MEMBERS

    started = time.perf_counter()
    again = services.member_codes_reissue(organization=first, actor=personas.board)
    reissue_seconds = time.perf_counter() - started

    print(
        f"\n{created} accounts created by the service in {service_seconds:.1f} s "
        f"({service_seconds / created * 1000:.2f} ms each); the board's request starts the job in "
        f"{request_seconds * 1000:.0f} ms, the job (accounts and the page of slips) takes {job_seconds:.1f} s "
        f"({len(html) / 1e6:.1f} MB of HTML); "
        f"{len(again.slips)} new codes in {reissue_seconds:.1f} s. Hashers: {hashers}"
    )
    assert created == MEMBERS
    assert get_user_model().objects.get(username="20000000").password.startswith("initial_pbkdf2$")
