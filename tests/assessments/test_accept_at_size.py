"""A committee's proposals accepted at once at 50, 564 and 3,000 members: every proposal recorded, with
the same number of queries whatever the size (the rows read once, without what only the screen shows,
one UPDATE … FROM VALUES, the trail in one stream)."""

import pytest
from django.urls import reverse

from assessments.core import services
from assessments.models import Assessment, AuditEntry, Period
from demo.committee import bulk_committee
from organizations.models import RoleAssignment
from tests.factories import UserFactory, grant

pytestmark = pytest.mark.django_db

# Session, user, roles, organisation, period; the undecided reviews with their members, the facts of the
# rules and the conflicts; then the transaction: the group's lock, the period, the rows locked, the tally,
# the exception on record, the UPDATE, the trail, the re-check above. Past 2,000 rows, one more UPDATE and
# one more batch of the trail (SQLite; PostgreSQL writes it by one COPY), and past 1,000 the rules' facts
# read by their subtree (one more query): the same count at any size beyond.
# 3,000 is a long list, read by the subtree instead of by ids; the organisations' levels, which only
# leaders are held to, are not read for it (the committee built here has no leader).
QUERIES = {50: 27, 564: 27, 3000: 29}
# PostgreSQL writes the trail of 3,000 by one COPY: one query fewer there.
QUERIES_POSTGRESQL = {**QUERIES, 3000: 28}


@pytest.mark.parametrize("size", [50, 564, 3000])
def test_a_whole_committee_accepted_at_once_with_the_same_queries(size, city, personas, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    committee = bulk_committee(city.city, f"k{size}", members=size)
    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=period, user=personas.board)
    forms = Assessment.objects.filter(
        period=period, member__isnull=False, organization__path__startswith=committee.path
    )
    levels = ["HTTNV", "HTTNV", "HTNV"]
    for n, pk in enumerate(forms.order_by("pk").values_list("pk", flat=True)):
        forms.filter(pk=pk).update(cell_proposed_level=levels[n % 3], state=Assessment.State.CELL_REVIEWED)
    officer = UserFactory(username=f"officer-{size}")
    grant(officer, RoleAssignment.Role.COMMITTEE_OFFICER, committee)
    client = client_for(officer)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            reverse("assessments:decide", args=[period.public_id, committee.code]), {"action": "accept_all"}
        )
    assert response.status_code == 302
    decided = dict(forms.values_list("pk", "decided_level"))
    proposed = dict(forms.values_list("pk", "cell_proposed_level"))
    assert len(decided) == size and decided == proposed
    assert AuditEntry.objects.filter(period=period, action="decide").count() == size
    expected = QUERIES_POSTGRESQL if connection.vendor == "postgresql" else QUERIES
    assert len(queries.captured_queries) == expected[size]
