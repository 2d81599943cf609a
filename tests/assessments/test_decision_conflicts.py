"""Nobody decides their own level, nor that of a subject they stand aside from: an organisation they lead
or whose committee they sit on, or one with a conflict of interest on record. Another member of the
deciding body decides it. On the decision screen, the ranking screens, the admin action and the
exception to the quota, through the screens as the role's user (firing), and quiet for the others."""

import datetime

import pytest
from django.urls import reverse

from assessments import decisions
from assessments.core import services
from assessments.decisions import ranking
from assessments.models import Assessment, AuditEntry, DecisionConflict, Period
from members.models import Member
from organizations import policy
from organizations.models import RoleAssignment
from tests.factories import MemberFactory, UserFactory, bulk_committee, grant

pytestmark = pytest.mark.django_db
Role = RoleAssignment.Role

# The policy's messages, as the committee reads them.
OWN = "không thể tự quyết định mức xếp loại của chính mình"
LEADS = "không thể quyết định mức xếp loại của tổ chức do mình lãnh đạo"
CONFLICT = "đã có ghi nhận xung đột lợi ích"
EXCEPTION = "nằm trong số HTXSNV mà việc vượt tỷ lệ này cho phép"
DECISION = {
    "exception_number": "125-QĐ/ĐU",
    "exception_date": "2026-11-20",
    "exception_body": "Ban Thường vụ Đảng ủy",
    "exception_reason": "Đơn vị dẫn đầu cụm",
}


def open_period(city, personas, parameters=None):
    Member.objects.update(occupation=Member.Occupation.RETIRED)
    period = Period.objects.create(organization=city.city, year=2026, regime="2018", parameters=parameters or {})
    services.period_open(period=period, user=personas.board)
    period.refresh_from_db()
    return period


@pytest.fixture
def officer_record(city, personas):
    """Officer A is also a member of cell A1: their own review is decided by committee A, which they serve."""
    return MemberFactory(full_name="Ngô Văn Cán", cell=city.cell_a1, user=personas.officer_a)


@pytest.fixture
def second_officer(city):
    """Another member of committee A's deciding body."""
    user = UserFactory(username="officer_a2", first_name="Cán bộ hai")
    grant(user, Role.COMMITTEE_OFFICER, city.committee_a)
    return user


def review_of(period, member):
    return Assessment.objects.get(period=period, member=member)


def decide_url(period, organization, **params):
    address = reverse("assessments:decide", args=[period.public_id, organization.code])
    return address + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def rank_url(period, organization, name="assessments:rank"):
    return reverse(name, args=[period.public_id, organization.code])


def rows_by_pk(response):
    return {row.assessment.pk: row for row in response.context["rows"]}


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


# --- The policy ----------------------------------------------------------------------------------------------


def test_the_policy_bars_ones_own_level_and_what_one_leads_or_has_a_conflict_with(city, personas):
    officer = personas.officer_a
    assert policy.stand_aside(officer, owner_id=officer.pk) == policy.STAND_ASIDE["own"]
    grant(officer, Role.CELL_SECRETARY, city.cell_a1)
    officer = type(officer).objects.get(pk=officer.pk)  # a fresh scope
    assert policy.stand_aside(officer, city.cell_a1) == policy.STAND_ASIDE["leads"]
    assert policy.stand_aside(officer, city.cell_a2, seated=True) == policy.STAND_ASIDE["leads"]
    assert policy.stand_aside(officer, city.cell_a2, recorded=True) == policy.STAND_ASIDE["conflict"]
    # An administrator stands aside from their own level too.
    root = UserFactory(is_superuser=True, is_staff=True)
    assert policy.stand_aside(root, owner_id=root.pk) == policy.STAND_ASIDE["own"]


def test_the_policy_lets_a_decider_decide_others_and_what_they_lead_from_above(city, personas):
    officer = personas.officer_a
    assert policy.stand_aside(officer, owner_id=personas.member.pk) is None
    assert policy.stand_aside(officer, owner_id=None) is None
    # Officer A leads committee A, not its cells: deciding a cell is their work, not their own level.
    assert policy.stand_aside(officer, city.cell_a1) is None
    assert policy.stand_aside(personas.board, city.committee_a) is None
    assert policy.stand_aside(None, owner_id=1) is None  # the command line


# --- The decision screen: one's own level ---------------------------------------------------------------------


def test_the_officers_own_row_is_locked_with_the_reason(city, personas, officer_record, client_for):
    period = open_period(city, personas)
    own = review_of(period, officer_record)
    page = client_for(personas.officer_a).get(decide_url(period, city.committee_a, cell=city.cell_a1.code))
    rows = rows_by_pk(page)
    assert not rows[own.pk].editable and OWN in rows[own.pk].stand_aside
    others = [row for pk, row in rows.items() if pk != own.pk]
    assert others and all(row.editable and not row.stand_aside for row in others)
    text = page.content.decode()
    assert OWN in text and f'name="level-{own.pk}"' not in text
    assert f'name="level-{review_of(period, personas.member_record).pk}"' in text


def test_posting_ones_own_level_is_refused_and_nothing_is_saved(city, personas, officer_record, client_for):
    period = open_period(city, personas)
    own = review_of(period, officer_record)
    client = client_for(personas.officer_a)
    response = client.post(decide_url(period, city.committee_a), {f"level-{own.pk}": "HTXSNV"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and OWN in response.content.decode()
    response = client.post(decide_url(period, city.committee_a), {f"level-{own.pk}": "HTXSNV"})
    assert response.status_code == 400 and any(OWN in m for m in messages_of(response))
    own.refresh_from_db()
    assert own.decided_level == "" and not AuditEntry.objects.filter(assessment=own, action="decide").exists()


def test_a_page_with_ones_own_row_saves_the_rest(city, personas, officer_record, client_for):
    period = open_period(city, personas)
    own, other = review_of(period, officer_record), review_of(period, personas.member_record)
    client = client_for(personas.officer_a)
    data = {f"level-{own.pk}": "HTXSNV", f"level-{other.pk}": "HTNV"}
    response = client.post(decide_url(period, city.committee_a), data, follow=True)
    assert response.status_code == 200
    shown = messages_of(response)
    assert any("Ngô Văn Cán" in m and OWN in m for m in shown) and any("1 quyết định" in m for m in shown)
    own.refresh_from_db()
    other.refresh_from_db()
    assert (own.decided_level, other.decided_level) == ("", "HTNV")


def test_another_member_of_the_committee_decides_the_officers_level(
    city, personas, officer_record, second_officer, client_for
):
    period = open_period(city, personas)
    own = review_of(period, officer_record)
    client = client_for(second_officer)
    page = client.get(decide_url(period, city.committee_a, cell=city.cell_a1.code))
    assert rows_by_pk(page)[own.pk].editable
    response = client.post(decide_url(period, city.committee_a), {f"level-{own.pk}": "HTNV"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    own.refresh_from_db()
    assert (own.decided_level, own.decided_by) == ("HTNV", second_officer)


def test_accepting_the_proposals_leaves_ones_own_row_to_another_member(city, personas, officer_record, client_for):
    period = open_period(city, personas)
    committee_forms = decisions.member_assessments(period, city.committee_a)
    committee_forms.update(cell_proposed_level="HTNV", state=Assessment.State.CELL_REVIEWED)
    response = client_for(personas.officer_a).post(
        decide_url(period, city.committee_a), {"action": "accept_all"}, follow=True
    )
    assert response.status_code == 200
    assert any("1 đối tượng" in m for m in messages_of(response))
    own = review_of(period, officer_record)
    assert own.decided_level == ""
    assert set(committee_forms.exclude(pk=own.pk).values_list("decided_level", flat=True)) == {"HTNV"}


def test_the_service_refuses_ones_own_level_whatever_the_screen_sends(city, personas, officer_record):
    period = open_period(city, personas)
    own, other = review_of(period, officer_record), review_of(period, personas.member_record)
    with pytest.raises(decisions.DecisionError, match=OWN) as refused:
        decisions.decisions_record(
            period=period,
            organization=city.committee_a,
            user=personas.officer_a,
            choices={own.pk: ("HTNV", ""), other.pk: ("HTNV", "")},
        )
    assert list(refused.value.row_errors) == [own.pk]
    assert not Assessment.objects.filter(pk__in=[own.pk, other.pk]).exclude(decided_level="").exists()


# --- A conflict of interest on record ---------------------------------------------------------------------------


def test_a_recorded_conflict_locks_the_members_row(city, personas, client_for):
    period = open_period(city, personas)
    spouse = review_of(period, personas.member_a2)
    conflict = DecisionConflict.objects.create(
        user=personas.officer_a, member=personas.member_a2, reason="Vợ của đồng chí"
    )
    client = client_for(personas.officer_a)
    page = client.get(decide_url(period, city.committee_a, cell=city.cell_a2.code))
    assert not rows_by_pk(page)[spouse.pk].editable and CONFLICT in page.content.decode()
    response = client.post(decide_url(period, city.committee_a), {f"level-{spouse.pk}": "HTNV"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and CONFLICT in response.content.decode()
    spouse.refresh_from_db()
    assert spouse.decided_level == ""
    # Once the board deletes the record, the officer decides the member like any other.
    conflict.delete()
    response = client.post(decide_url(period, city.committee_a), {f"level-{spouse.pk}": "HTNV"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    spouse.refresh_from_db()
    assert spouse.decided_level == "HTNV"


def test_the_board_records_a_conflict_in_the_admin(city, personas, client_for):
    client = client_for(personas.board)
    add = reverse("admin:assessments_decisionconflict_add")
    assert client.get(add).status_code == 200
    both = {"user": personas.officer_a.pk, "member": personas.member_a2.pk, "organization": city.cell_a2.pk}
    response = client.post(add, {**both, "reason": "Vợ của đồng chí"})
    assert response.status_code == 200 and "mỗi bản ghi một đối tượng" in response.content.decode()
    assert not DecisionConflict.objects.exists()
    response = client.post(add, {"user": personas.officer_a.pk, "member": personas.member_a2.pk, "reason": "Vợ"})
    assert response.status_code == 302
    conflict = DecisionConflict.objects.get()
    assert (conflict.member, conflict.recorded_by) == (personas.member_a2, personas.board)
    again = client.post(add, {"user": personas.officer_a.pk, "member": personas.member_a2.pk, "reason": "Vợ"})
    assert again.status_code == 200 and "đã được ghi nhận" in again.content.decode()
    assert DecisionConflict.objects.count() == 1


# --- The ranking screens: the organisation one leads, the committee one sits on ------------------------------


def decide_members_of_a(period, city, personas):
    forms = decisions.member_assessments(period, city.committee_a)
    decisions.decisions_record(
        period=period, organization=city.committee_a, user=personas.board, choices={f.pk: ("HTNV", "") for f in forms}
    )


def test_an_officer_who_is_secretary_of_a_cell_does_not_rank_it(city, personas, client_for):
    grant(personas.officer_a, Role.CELL_SECRETARY, city.cell_a1)
    period = open_period(city, personas)
    decide_members_of_a(period, city, personas)
    reviews = {f.organization_id: f for f in ranking.organization_assessments(period, city.committee_a)}
    a1, a2 = reviews[city.cell_a1.pk], reviews[city.cell_a2.pk]
    client = client_for(personas.officer_a)
    rows = rows_by_pk(client.get(rank_url(period, city.committee_a)))
    assert not rows[a1.pk].editable and LEADS in rows[a1.pk].stand_aside
    assert rows[a2.pk].editable  # quiet: a cell they do not lead
    response = client.post(rank_url(period, city.committee_a), {f"level-{a1.pk}": "HTNV"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and LEADS in response.content.decode()
    response = client.post(rank_url(period, city.committee_a), {f"level-{a1.pk}": "HTNV", f"level-{a2.pk}": "HTNV"})
    assert response.status_code == 302
    a1.refresh_from_db()
    a2.refresh_from_db()
    assert (a1.decided_level, a2.decided_level) == ("", "HTNV")


def test_a_member_of_a_cells_committee_does_not_decide_its_collective(city, personas, client_for):
    """A board member who is deputy secretary of grassroots cell C sits on its committee (chi ủy): its
    collective, and the cell itself, are decided by another member of the board."""
    MemberFactory(
        full_name="Đinh Văn Ban", cell=city.cell_c, user=personas.board, party_post=Member.PartyPost.DEPUTY_SECRETARY
    )
    period = open_period(city, personas)
    collectives = {f.organization_id: f for f in ranking.collective_assessments(period, city.city)}
    c, a = collectives[city.cell_c.pk], collectives[city.committee_a.pk]
    client = client_for(personas.board)
    url = rank_url(period, city.city, "assessments:rank_collectives")
    rows = rows_by_pk(client.get(url))
    assert not rows[c.pk].editable and LEADS in rows[c.pk].stand_aside
    assert rows[a.pk].editable and not rows[a.pk].stand_aside
    response = client.post(url, {f"level-{c.pk}": "HTNV"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and LEADS in response.content.decode()
    c.refresh_from_db()
    assert c.decided_level == ""
    organizations = rows_by_pk(client.get(rank_url(period, city.city)))
    assert {row.assessment.organization_id for row in organizations.values() if row.stand_aside} == {city.cell_c.pk}


def test_a_board_member_with_a_conflict_on_record_does_not_rank_that_organisation(city, personas, client_for):
    DecisionConflict.objects.create(user=personas.board, organization=city.committee_b, reason="Nguyên Bí thư")
    period = open_period(city, personas)
    reviews = {f.organization_id: f for f in ranking.organization_assessments(period, city.city)}
    b, a = reviews[city.committee_b.pk], reviews[city.committee_a.pk]
    client = client_for(personas.board)
    rows = rows_by_pk(client.get(rank_url(period, city.city)))
    assert not rows[b.pk].editable and CONFLICT in rows[b.pk].stand_aside
    assert not rows[a.pk].stand_aside
    response = client.post(rank_url(period, city.city), {f"level-{b.pk}": "HTNV"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and CONFLICT in response.content.decode()
    b.refresh_from_db()
    assert b.decided_level == ""


# --- The admin's action ------------------------------------------------------------------------------------------


def test_the_admin_action_leaves_the_board_members_own_level(city, personas, client):
    record = MemberFactory(full_name="Đinh Văn Ban", cell=city.cell_b1, user=personas.board)
    period = open_period(city, personas)
    forms = decisions.member_assessments(period, city.committee_b)
    forms.update(cell_proposed_level="HTNV")
    own = review_of(period, record)
    client.force_login(personas.board)
    changelist = reverse("admin:assessments_assessment_changelist")
    data = {"action": "decide_as_proposed", "_selected_action": list(forms.values_list("pk", flat=True)), "apply": "1"}
    response = client.post(changelist, data, follow=True)
    assert any("Đinh Văn Ban" in m and OWN in m for m in messages_of(response))
    own.refresh_from_db()
    assert own.decided_level == ""
    assert set(forms.exclude(pk=own.pk).values_list("decided_level", flat=True)) == {"HTNV"}


# --- The exception to the quota ----------------------------------------------------------------------------------


@pytest.fixture
def twenty(city, personas):
    """A committee of twenty members and two officers; the first officer is one of the members."""
    committee = bulk_committee(city.city, "hai-muoi", cells=1, members_per_cell=19)
    officer, colleague = UserFactory(username="officer_own"), UserFactory(username="officer_other")
    for user in (officer, colleague):
        grant(user, Role.COMMITTEE_OFFICER, committee)
    cell = committee.subtree().filter(kind="cell").first()
    MemberFactory(full_name="Ngô Văn Cán", cell=cell, user=officer)
    period = open_period(city, personas, {"quota_exception_allowed": True})
    forms = list(decisions.member_assessments(period, committee).order_by("pk"))
    own = next(f for f in forms if f.member.user_id == officer.pk)
    others = [f for f in forms if f.pk != own.pk]
    return period, committee, officer, colleague, own, others


def decided(levels, by):
    """The levels as decided by `by` (written as they stand: the decisions are not what is tested here)."""
    for form, level in levels.items():
        Assessment.objects.filter(pk=form.pk).update(decided_level=level, decided_by=by, state=Assessment.State.DECIDED)


def test_an_officer_whose_own_level_is_htxsnv_does_not_record_the_exception(twenty, client_for):
    period, committee, officer, colleague, own, others = twenty
    # The colleague decides the officer HTXSNV, and three more: 4 HTXSNV for 16 HTTNV is over 20% (3), within 25%.
    decided({own: "HTXSNV"} | dict.fromkeys(others[:3], "HTXSNV") | dict.fromkeys(others[3:], "HTTNV"), colleague)
    url = decide_url(period, committee)
    response = client_for(officer).post(url, {"action": "exception"} | DECISION)
    assert response.status_code == 400 and any(EXCEPTION in m for m in messages_of(response))
    assert not AuditEntry.objects.filter(period=period, action="quota_exception").exists()
    # Another member of the committee records it.
    assert client_for(colleague).post(url, {"action": "exception"} | DECISION).status_code == 302
    assert AuditEntry.objects.get(period=period, action="quota_exception").actor == colleague


def test_a_save_carrying_the_exception_is_refused_while_ones_own_level_is_htxsnv(twenty, client_for):
    period, committee, officer, colleague, own, others = twenty
    # 3 HTXSNV (the officer's among them) for 17 HTTNV: within 20% (3). One more needs the exception.
    decided({own: "HTXSNV"} | dict.fromkeys(others[:2], "HTXSNV") | dict.fromkeys(others[2:], "HTTNV"), colleague)
    url = decide_url(period, committee)
    raise_one = {f"level-{others[2].pk}": "HTXSNV"} | DECISION
    response = client_for(officer).post(url, raise_one, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and EXCEPTION in response.content.decode()
    others[2].refresh_from_db()
    assert others[2].decided_level == "HTTNV"
    assert client_for(colleague).post(url, raise_one, HTTP_HX_REQUEST="true").status_code == 200
    others[2].refresh_from_db()
    assert others[2].decided_level == "HTXSNV"


def test_an_officer_whose_own_level_is_not_htxsnv_records_the_exception(twenty, client_for):
    period, committee, officer, colleague, own, others = twenty
    decided({own: "HTTNV"} | dict.fromkeys(others[:4], "HTXSNV") | dict.fromkeys(others[4:], "HTTNV"), colleague)
    response = client_for(officer).post(decide_url(period, committee), {"action": "exception"} | DECISION)
    assert response.status_code == 302
    entry = AuditEntry.objects.get(period=period, action="quota_exception")
    assert (entry.actor, entry.data["count"]) == (officer, 4)
    assert entry.data["decision_date"] == datetime.date(2026, 11, 20).isoformat()
