"""A committee's accounts at 50, 564 and 3,000 members, as the board makes them through the page: every
member gets one slip, in the members' order, a page for each cell, and the work's queries grow with its
chunks and batches of rows, never with its members one by one."""

import math

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import background, services
from demo.committee import bulk_committee
from members.models import Member

from .helpers import open_slips, post_create, slips_in

pytestmark = pytest.mark.django_db
SIZES = [50, 564, 3000]


@pytest.mark.parametrize("size", SIZES)
def test_a_committees_accounts_are_one_slip_a_member_a_page_a_cell(city, personas, client_for, monkeypatch, size):
    # Parts of the page smaller than a chunk, and chunks that end inside a cell (50 members a cell).
    monkeypatch.setattr(background, "SLIPS_PER_PART", 120)
    monkeypatch.setattr(services, "CHUNK", 1030)
    committee = bulk_committee(city.city, f"tk{size}", members=size)
    members = Member.objects.filter(cell__path__startswith=committee.path)
    client = client_for(personas.board)
    html = open_slips(client, post_create(client, committee.code))
    # (The generated card numbers have no spaces: each username is the card number.)
    expected = list(members.order_by(*services.SLIP_ORDER).values_list("card_number", flat=True))
    assert list(slips_in(html)) == expected and len(expected) == size
    assert html.count('<section class="slip-page"') == members.values("cell").distinct().count()
    assert not members.filter(user__isnull=True).exists()


@pytest.mark.parametrize("size", SIZES)
def test_the_accounts_queries_grow_with_chunks_and_batches_only(city, personas, size):
    committee = bulk_committee(city.city, f"tq{size}", members=size)
    with CaptureQueriesContext(connection) as captured:
        batch = services.member_accounts_create(organization=committee, actor=personas.board)
    assert batch.made == size
    # The actor's roles, the members' ids, the trail and the transaction's two marks; then for each chunk
    # its members read, their usernames looked up, the members locked, the users written and their ids
    # read back, their states written; and for each batch of a chunk's rows (BATCH_SIZE) one
    # UPDATE … FROM (VALUES …) of the members. The same on both databases.
    chunks = [min(services.CHUNK, size - start) for start in range(0, size, services.CHUNK)]
    batches = sum(math.ceil(chunk / services.BATCH_SIZE) for chunk in chunks)
    assert len(captured.captured_queries) == 5 + 6 * len(chunks) + batches
