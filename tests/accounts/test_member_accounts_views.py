"""The account pages: the list, creating accounts, new codes, resetting one password, the slips."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import services
from accounts.models import AccountState
from members.models import Member
from tests.factories import MemberFactory, OrganizationFactory

from .helpers import CODE_RE, create_through_job, fresh, open_slips, post_create, post_reset, slips_in, slips_of

pytestmark = pytest.mark.django_db
User = get_user_model()

PERSONAS = ["anonymous", "outsider", "member", "secretary_a1", "secretary_b1", "officer_a", "evaluator", "board"]


def accounts_url(code):
    return reverse("accounts:organization_accounts", args=[code])


def snapshot():
    """Everything these pages may change."""
    return (
        sorted(User.objects.values_list("username", "password")),
        sorted(Member.objects.values_list("pk", "user_id")),
        sorted(AccountState.objects.values_list("user_id", "codes_issued", "must_change_password")),
    )


# --- The list -------------------------------------------------------------------------------------


def test_secretary_sees_the_cell_members_and_where_their_accounts_stand(personas, client_for):
    response = client_for(personas.secretary_a1).get(accounts_url("chi-bo-a1"))
    assert response.status_code == 200
    rows = response.context["rows"]
    # Vietnamese order: Anh, Bình, Hoa.
    assert [m.full_name for m, _status, _n, _p in rows] == ["Phạm Đức Anh", "Trần Văn Bình", "Lê Thị Hoa"]
    # Anh has no account; Bình (the secretary) is signed in now; Hoa's account was never used.
    assert [status[0] for _m, status, _n, _p in rows] == ["none", "in_use", "never_signed_in"]
    assert response.context["counts"] == {"total": 3, "without_account": 1, "code_unused": 0}
    assert not response.context["show_cell"]
    assert reverse("accounts:organization_accounts_create", args=["chi-bo-a1"]) in response.content.decode()


def test_the_status_follows_the_account_through_its_life(personas, city, client_for):
    services.member_accounts_create(organization=fresh(city.cell_a1), actor=personas.secretary_a1)
    client = client_for(personas.secretary_a1)

    def status_of(member):
        rows = client.get(accounts_url("chi-bo-a1")).context["rows"]
        return next(status[0] for m, status, _n, _p in rows if m.pk == member.pk)

    assert status_of(personas.member_a1_other) == "code_unused"
    user = Member.objects.get(pk=personas.member_a1_other.pk).user
    user.last_login = user.date_joined
    user.save()
    assert status_of(personas.member_a1_other) == "must_change"
    services.password_chosen(user=user)
    assert status_of(personas.member_a1_other) == "in_use"
    user.is_active = False
    user.save()
    assert status_of(personas.member_a1_other) == "disabled"


def test_a_committee_page_shows_the_cell_of_each_member(personas, client_for):
    response = client_for(personas.officer_a).get(accounts_url("dang-bo-a"))
    assert response.context["show_cell"]
    assert {m.cell.name for m, _s, _n, _p in response.context["rows"]} == {"Chi bộ A1", "Chi bộ A2"}
    assert "Chi bộ A2" in response.content.decode()


def test_the_list_is_paginated_by_one_hundred_and_searchable(personas, city, client_for):
    cell = OrganizationFactory(parent=fresh(city.committee_a))
    Member.objects.bulk_create(
        [MemberFactory.build(cell=cell, full_name=f"Đinh Văn Số{n:03d}", card_number=f"9{n:07d}") for n in range(105)]
    )
    for member in Member.objects.filter(cell=cell):
        member.save()  # the sort and search keys
    client = client_for(personas.officer_a)
    page = client.get(accounts_url(cell.code)).context["page"]
    assert page.paginator.per_page == 100 and page.paginator.num_pages == 2
    found = client.get(accounts_url(cell.code), {"q": "90000007"}).context["rows"]
    assert [m.card_number for m, _s, _n, _p in found] == ["90000007"]


def test_the_home_page_links_to_the_accounts_page_for_those_who_manage(personas, client_for):
    link = accounts_url("chi-bo-a1")
    assert link in client_for(personas.secretary_a1).get(reverse("home")).content.decode()
    assert accounts_url("dang-bo-a") in client_for(personas.officer_a).get(reverse("home")).content.decode()
    assert "/accounts/org/" not in client_for(personas.member).get(reverse("home")).content.decode()


def grow(city, cells=3, members_per_cell=12):
    for committee in (fresh(city.committee_a), fresh(city.committee_b)):
        for _ in range(cells):
            cell = OrganizationFactory(parent=committee)
            for _ in range(members_per_cell):
                MemberFactory(cell=cell)
    for _ in range(members_per_cell):
        MemberFactory(cell=city.cell_a1)


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


# session, user, role assignments, the organisation, the counts (one aggregate), the paginator's
# count, the page of members with cell, user and account state, the sign-in pauses of its accounts.
@pytest.mark.parametrize(
    "persona, code", [("secretary_a1", "chi-bo-a1"), ("officer_a", "dang-bo-a"), ("board", "city")]
)
def test_the_accounts_page_query_count_does_not_grow_with_the_data(persona, code, personas, city, client_for):
    client = client_for(getattr(personas, persona))
    small = count_queries(client, accounts_url(code))
    grow(city)
    services.member_accounts_create(organization=fresh(city.city), actor=personas.board)
    large = count_queries(client, accounts_url(code))
    assert small == large == 8


# --- Who may do what --------------------------------------------------------------------------------

#                 anonymous outsider member secretary_a1 secretary_b1 officer_a evaluator board
CONFIRM_STEP = (302, 404, 404, 200, 404, 200, 404, 200)


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_create_button_for_cell_a1_answers_each_role(persona, personas, client_for):
    before = snapshot()
    response = post_create(client_for(getattr(personas, persona)), "chi-bo-a1", confirmed=False)
    assert response.status_code == CONFIRM_STEP[PERSONAS.index(persona)]
    assert snapshot() == before  # the first step only asks


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_reset_button_for_a_member_of_a1_answers_each_role(persona, personas, client_for):
    before = snapshot()
    response = post_reset(client_for(getattr(personas, persona)), personas.member_a1_other, 0, confirmed=False)
    assert response.status_code == CONFIRM_STEP[PERSONAS.index(persona)]
    assert snapshot() == before


def test_secretary_of_a1_cannot_create_accounts_for_cell_b1(personas, client_for):
    before = snapshot()
    assert post_create(client_for(personas.secretary_a1), "chi-bo-b1").status_code == 404
    assert snapshot() == before


def test_secretary_of_a1_cannot_reset_a_member_of_cell_b1(personas, client_for):
    before = snapshot()
    assert post_reset(client_for(personas.secretary_a1), personas.member_b1, 0).status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("persona", ["member", "outsider", "evaluator", "secretary_b1"])
def test_those_who_do_not_manage_cell_a1_get_404_and_change_nothing(persona, personas, client_for):
    client = client_for(getattr(personas, persona))
    before = snapshot()
    assert client.get(accounts_url("chi-bo-a1")).status_code == 404
    assert post_create(client, "chi-bo-a1").status_code == 404
    url = reverse("accounts:organization_accounts_reissue", args=["chi-bo-a1"])
    assert client.post(url, {"confirmed": "1"}).status_code == 404
    assert post_reset(client, personas.member_record, 0).status_code == 404
    assert snapshot() == before


def test_the_evaluator_of_committee_b_sees_no_accounts_there(personas, client_for):
    assert client_for(personas.evaluator).get(accounts_url("dang-bo-b")).status_code == 404


# --- Bad input ------------------------------------------------------------------------------------


def test_an_unknown_organisation_is_404(personas, client_for):
    client = client_for(personas.board)
    assert client.get(accounts_url("no-such-org")).status_code == 404
    assert post_create(client, "no-such-org").status_code == 404


def test_an_unknown_member_is_404(personas, client_for):
    url = reverse("accounts:member_password_reset", args=["00000000-0000-0000-0000-000000000000"])
    assert client_for(personas.board).post(url, {"codes_issued": 0, "confirmed": "1"}).status_code == 404


@pytest.mark.parametrize(
    "name, args",
    [
        ("accounts:organization_accounts_create", ["chi-bo-a1"]),
        ("accounts:organization_accounts_reissue", ["chi-bo-a1"]),
        ("accounts:member_password_reset", None),
    ],
)
def test_the_buttons_refuse_a_get(name, args, personas, client_for):
    args = args or [personas.member_record.public_id]
    before = snapshot()
    assert client_for(personas.secretary_a1).get(reverse(name, args=args)).status_code == 405
    assert snapshot() == before


@pytest.mark.parametrize("codes_issued", ["", "abc", "-1", "99999999999999"])
def test_a_reset_with_a_broken_form_is_told_and_changes_nothing(codes_issued, personas, client_for):
    client = client_for(personas.secretary_a1)
    before = snapshot()
    response = post_reset(client, personas.member_record, codes_issued, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    assert response.url == accounts_url("chi-bo-a1")
    assert snapshot() == before
    messages = [str(m) for m in client.get(response.url).context["messages"]]
    assert any("out of date" in m or "cũ" in m for m in messages), messages


def test_a_former_member_cannot_be_reset(personas, client_for):
    personas.member_record.status = Member.Status.DECEASED
    personas.member_record.save()
    before = snapshot()
    assert post_reset(client_for(personas.secretary_a1), personas.member_record, 0).status_code == 404
    assert snapshot() == before


def test_a_refused_reset_is_told_in_plain_words_and_changes_nothing(personas, client_for):
    client = client_for(personas.secretary_a1)
    before = snapshot()
    response = post_reset(client, personas.member_a1_other, 0)  # no account yet
    assert response.status_code == 302
    assert snapshot() == before
    messages = [str(m) for m in client.get(response.url).context["messages"]]
    assert any("Phạm Đức Anh" in m for m in messages), messages


def test_a_stale_reset_page_is_told_and_changes_nothing(personas, client_for):
    services.member_password_reset(member=personas.member_record, actor=personas.officer_a)  # someone else, first
    client = client_for(personas.secretary_a1)
    before = snapshot()
    response = post_reset(client, personas.member_record, 0)  # the page showed no code yet
    assert response.status_code == 302
    assert snapshot() == before


def test_a_reset_goes_back_only_to_a_page_of_this_site(personas, client_for):
    response = post_reset(client_for(personas.secretary_a1), personas.member_record, "x", next="https://evil.example/")
    assert response.url == accounts_url("chi-bo-a1")


# --- Doing it -------------------------------------------------------------------------------------


def test_creating_accounts_asks_first_then_prints_a_slip_per_member(personas, client_for):
    client = client_for(personas.officer_a)
    ask = post_create(client, "dang-bo-a", confirmed=False)
    assert ask.status_code == 200
    assert ask.context["counts"]["without_account"] == 3
    assert not User.objects.filter(username=personas.member_a2.card_number).exists()

    # A background job makes them (tests/accounts/test_accounts_jobs.py); its page opens the slips.
    content = open_slips(client, post_create(client, "dang-bo-a"))
    slips = slips_in(content)
    assert set(slips) == {personas.member_a1_other.card_number, personas.member_a2.card_number} | {
        m.card_number for m in Member.objects.filter(full_name="Vũ Thị Ánh")
    }
    for username, code in slips.items():
        assert CODE_RE.fullmatch(code)
        assert code in content and username in content
    assert "http://testserver/" in content
    assert "Chi bộ A2" in content
    assert "slips.css" in content


def test_creating_accounts_again_says_there_is_nothing_to_do(personas, client_for):
    client = client_for(personas.secretary_a1)
    create_through_job(client, "chi-bo-a1")
    before = snapshot()
    response = post_create(client, "chi-bo-a1")
    assert response.status_code == 302 and response.url == accounts_url("chi-bo-a1")
    assert snapshot() == before


def test_members_skipped_are_listed_on_the_slips_page(personas, client_for):
    User.objects.create(username=personas.member_a1_other.card_number)
    content = open_slips(client_for(personas.secretary_a1), post_create(client_for(personas.secretary_a1), "chi-bo-a1"))
    assert slips_in(content) == {}
    assert 'id="skipped"' in content and "Phạm Đức Anh" in content


def test_resetting_a_password_asks_first_then_prints_one_slip(personas, client_for):
    client = client_for(personas.secretary_a1)
    ask = post_reset(client, personas.member_record, 0, confirmed=False)
    assert ask.status_code == 200 and "Lê Thị Hoa" in ask.content.decode()
    personas.member.refresh_from_db()
    assert personas.member.check_password("correct horse 42")

    response = post_reset(client, personas.member_record, 0)
    assert response.status_code == 200
    assert slips_of(response).keys() == {"member"}
    code = slips_of(response)["member"]
    assert code in response.content.decode()
    personas.member.refresh_from_db()
    assert personas.member.check_password(code)


def test_new_codes_ask_first_then_print_slips_for_unused_accounts(personas, client_for):
    client = client_for(personas.secretary_a1)
    first = create_through_job(client, "chi-bo-a1")
    url = reverse("accounts:organization_accounts_reissue", args=["chi-bo-a1"])
    ask = client.post(url)
    assert ask.status_code == 200 and ask.context["counts"]["code_unused"] == 1
    again = slips_in(open_slips(client, client.post(url, {"confirmed": "1"})))
    assert again.keys() == first.keys()
    (username,) = again
    assert again[username] != first[username]
