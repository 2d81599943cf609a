"""The links between levels on the ranking screen: an organisation after the levels below it (P-ORDER),
read with them (the SUB and KHTNV20 rules), its leadership collective in the second tab (C-CAP-ORG), and
put back "to confirm" when a level below changes. Everything through the screens, as the deciding role."""

import pytest
from django.urls import reverse

from assessments.core import services
from assessments.decisions import ranking
from assessments.models import Assessment, AuditEntry, Period
from members.models import Member
from tests.helpers import scored_2025

pytestmark = pytest.mark.django_db


def open_period(city, personas, regime):
    Member.objects.update(occupation=Member.Occupation.RETIRED)
    period = Period.objects.create(organization=city.city, year=2026, regime=regime)
    services.period_open(period=period, user=personas.board)
    if regime == "2025":
        scored_2025(period.assessments.all())  # the scores and task shares their reviews would give
    return period


@pytest.fixture
def period(city, personas):
    return open_period(city, personas, "2018")


def review(period, organization, kind="organization"):
    return Assessment.objects.get(period=period, organization=organization, subject_kind=kind)


def members_of(period, cell):
    return list(Assessment.objects.filter(period=period, organization=cell, member__isnull=False).order_by("pk"))


def decide_url(period, group):
    return reverse("assessments:decide", args=[period.public_id, group.code])


def rank_url(period, parent):
    return reverse("assessments:rank", args=[period.public_id, parent.code])


def collectives_url(period, parent):
    return reverse("assessments:rank_collectives", args=[period.public_id, parent.code])


def post_levels(client, url, levels, **extra):
    """Post {assessment: level} as the page's form does, with a reason on every row."""
    data = {"action": "save"}
    for assessment, level in levels.items():
        data[f"level-{assessment.pk}"] = level
        data[f"note-{assessment.pk}"] = extra.get("note", "")
    return client.post(url, data)


def row_of(response, assessment):
    return next(row for row in response.context["rows"] if row.assessment.pk == assessment.pk)


# --- The order ----------------------------------------------------------------------------------------------


def test_a_cell_cannot_be_decided_before_its_members(period, city, personas, client_for):
    client = client_for(personas.officer_a)
    cell = review(period, city.cell_a1)
    members = members_of(period, city.cell_a1)
    response = post_levels(client, rank_url(period, city.committee_a), {cell: "HTTNV"})
    assert response.status_code == 400
    errors = " ".join(row_of(response, cell).errors)
    assert "R2018-P-ORDER" in errors and "3 đảng viên chưa có mức xếp loại" in errors
    assert review(period, city.cell_a1).decided_level == ""
    # Two of three decided: still refused, and it says how many are missing.
    post_levels(client, decide_url(period, city.committee_a), {m: "HTTNV" for m in members[:2]})
    response = post_levels(client, rank_url(period, city.committee_a), {cell: "HTTNV"})
    assert response.status_code == 400 and "1 đảng viên chưa có" in " ".join(row_of(response, cell).errors)
    # Once every member is decided, the cell is.
    post_levels(client, decide_url(period, city.committee_a), {members[2]: "HTTNV"})
    response = post_levels(client, rank_url(period, city.committee_a), {cell: "HTTNV"})
    assert response.status_code == 302
    assert review(period, city.cell_a1).decided_level == "HTTNV"


def test_a_committee_cannot_be_ranked_before_its_cells(period, city, personas, client_for):
    forms = members_of(period, city.cell_a1) + members_of(period, city.cell_a2)
    post_levels(client_for(personas.officer_a), decide_url(period, city.committee_a), {f: "HTTNV" for f in forms})
    committee_a = review(period, city.committee_a)
    board = client_for(personas.board)
    response = post_levels(board, rank_url(period, city.city), {committee_a: "HTTNV"})
    assert response.status_code == 400
    errors = " ".join(row_of(response, committee_a).errors)
    assert "R2018-P-ORDER" in errors and "Chi bộ A1" in errors and "Chi bộ A2" in errors
    cells = {review(period, city.cell_a1): "HTTNV", review(period, city.cell_a2): "HTTNV"}
    assert post_levels(client_for(personas.officer_a), rank_url(period, city.committee_a), cells).status_code == 302
    board = client_for(personas.board)
    assert post_levels(board, rank_url(period, city.city), {committee_a: "HTTNV"}).status_code == 302


# --- The rules of the levels below, on the ranking screen -------------------------------------------------------


def test_a_committee_with_a_khtnv_cell_is_read_with_its_subordinates(period, city, personas, client_for):
    officer = client_for(personas.officer_a)
    a1, a2 = members_of(period, city.cell_a1), members_of(period, city.cell_a2)
    post_levels(officer, decide_url(period, city.committee_a), {m: "KHTNV" for m in a1} | {m: "HTNV" for m in a2})
    cells = {review(period, city.cell_a1): "KHTNV", review(period, city.cell_a2): "HTNV"}
    assert post_levels(officer, rank_url(period, city.committee_a), cells).status_code == 302

    board = client_for(personas.board)
    committee_a = review(period, city.committee_a)
    page = board.get(rank_url(period, city.city))
    row = row_of(page, committee_a)
    assert row.evaluation.by_rule("R2018-O-KHTNV20-DB")  # half of its cells KHTNV: over 20%
    assert row.evaluation.by_rule("R2018-O-TT-SUB") and row.cap == "HTNV"
    assert any("50% tổ chức đảng trực thuộc xếp loại KHTNV" in w for w in row.warnings)
    assert row.subordinate_summary == "HTNV 1; KHTNV 1"
    # The đảng bộ cannot be HTTNV while a cell of it is KHTNV.
    response = post_levels(board, rank_url(period, city.city), {committee_a: "HTTNV"})
    assert response.status_code == 400 and review(period, city.committee_a).decided_level == ""


def test_a_committee_with_its_cells_all_good_has_no_subordinate_finding(period, city, personas, client_for):
    officer = client_for(personas.officer_a)
    forms = members_of(period, city.cell_a1) + members_of(period, city.cell_a2)
    post_levels(officer, decide_url(period, city.committee_a), {m: "HTTNV" for m in forms})
    cells = {review(period, city.cell_a1): "HTTNV", review(period, city.cell_a2): "HTTNV"}
    post_levels(officer, rank_url(period, city.committee_a), cells)
    row = row_of(client_for(personas.board).get(rank_url(period, city.city)), review(period, city.committee_a))
    assert not row.evaluation.by_rule("R2018-O-KHTNV20-DB") and not row.evaluation.by_rule("R2018-O-TT-SUB")
    assert not row.evaluation.by_rule("R2018-P-ORDER") and "HTXSNV" in row.allowed


# --- Back to confirm ------------------------------------------------------------------------------------------


def test_lowering_members_after_the_cell_was_decided_puts_the_cell_back_to_confirm(period, city, personas, client_for):
    officer = client_for(personas.officer_a)
    members = members_of(period, city.cell_a1)
    post_levels(officer, decide_url(period, city.committee_a), {m: "HTTNV" for m in members})
    cell = review(period, city.cell_a1)
    assert post_levels(officer, rank_url(period, city.committee_a), {cell: "HTTNV"}).status_code == 302

    # One member of three lowered to KHTNV: the cell can be no higher than KHTNV (R2018-O-KHTNV20-CB).
    response = officer.post(
        decide_url(period, city.committee_a),
        {f"level-{members[0].pk}": "KHTNV", f"note-{members[0].pk}": "Vi phạm"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    cell.refresh_from_db()
    assert cell.to_confirm and cell.decided_level == "HTTNV"
    assert "33,3% đảng viên của chi bộ xếp loại KHTNV" in cell.to_confirm_reason
    [entry] = AuditEntry.objects.filter(assessment=cell, action="recheck")
    assert entry.actor == personas.officer_a and entry.data == {
        "level": "HTTNV",
        "rules": ["R2018-O-KHTNV20-CB", "R2018-O-TT-SUB"],
    }
    page = officer.get(rank_url(period, city.committee_a)).content.decode()
    assert "Cần xác nhận lại" in page and "33,3% đảng viên của chi bộ xếp loại KHTNV (trên 20%)" in page
    assert cell.pk in [
        row.assessment.pk
        for row in officer.get(rank_url(period, city.committee_a), {"show": "undecided"}).context["rows"]
    ]

    # Deciding it again confirms it; the rules no longer allow HTTNV.
    assert post_levels(officer, rank_url(period, city.committee_a), {cell: "HTTNV"}).status_code == 400
    assert post_levels(officer, rank_url(period, city.committee_a), {cell: "KHTNV"}).status_code == 302
    cell.refresh_from_db()
    assert (cell.to_confirm, cell.to_confirm_reason, cell.decided_level) == (False, "", "KHTNV")


def test_a_change_that_the_rules_still_allow_leaves_the_cell_decided(period, city, personas, client_for):
    officer = client_for(personas.officer_a)
    members = members_of(period, city.cell_a1)
    post_levels(officer, decide_url(period, city.committee_a), {m: "HTTNV" for m in members})
    post_levels(officer, rank_url(period, city.committee_a), {review(period, city.cell_a1): "HTNV"})
    post_levels(officer, decide_url(period, city.committee_a), {members[0]: "HTNV"})
    assert review(period, city.cell_a1).decided_level == "HTNV"
    assert not review(period, city.cell_a1).to_confirm
    assert not AuditEntry.objects.filter(action="recheck").exists()


# --- The leadership collectives -------------------------------------------------------------------------------


def test_the_board_decides_a_collective_and_is_warned_above_its_organisation(city, personas, client_for):
    period = open_period(city, personas, "2025")
    board = client_for(personas.board)
    post_levels(board, decide_url(period, city.cell_c), {m: "HTNV" for m in members_of(period, city.cell_c)})
    collective = review(period, city.cell_c, "collective")
    organization = review(period, city.cell_c)
    # In 2025 the collective comes first: deciding the organisation before it asks for the reason.
    response = post_levels(board, rank_url(period, city.city), {organization: "HTNV"})
    assert response.status_code == 400
    assert any("R2025-P-ORDER" in warning for warning in row_of(response, organization).warnings)
    page = board.get(collectives_url(period, city.city))
    assert page.status_code == 200 and row_of(page, collective).organization_level == ""
    assert post_levels(board, collectives_url(period, city.city), {collective: "HTNV"}).status_code == 302
    assert post_levels(board, rank_url(period, city.city), {organization: "HTNV"}).status_code == 302
    entry = AuditEntry.objects.get(assessment=collective, action="decide")
    assert entry.actor == personas.board and entry.data == {"level": "HTNV"}

    # Above its organisation's HTNV: a warning (R2025-C-CAP-ORG) that asks for the reason.
    page = board.get(collectives_url(period, city.city))
    row = row_of(page, collective)
    assert row.organization_level == "HTNV" and row.evaluation.by_rule("R2025-C-CAP-ORG")
    response = post_levels(board, collectives_url(period, city.city), {collective: "HTTNV"})
    assert response.status_code == 400 and review(period, city.cell_c, "collective").decided_level == "HTNV"
    response = post_levels(board, collectives_url(period, city.city), {collective: "HTTNV"}, note="Đoàn kết, gương mẫu")
    assert response.status_code == 302 and review(period, city.cell_c, "collective").decided_level == "HTTNV"


def test_in_2018_a_collective_above_its_organisation_is_refused_and_put_back_to_confirm(
    period, city, personas, client_for
):
    board = client_for(personas.board)
    post_levels(board, decide_url(period, city.cell_c), {m: "HTTNV" for m in members_of(period, city.cell_c)})
    collective, organization = review(period, city.cell_c, "collective"), review(period, city.cell_c)
    # Decided first, while its organisation's level is not known: allowed (R2018-C-CAP-ORG unchecked).
    assert post_levels(board, collectives_url(period, city.city), {collective: "HTTNV"}).status_code == 302
    # The organisation decided lower: the collective is back to confirm (R2018-C-CAP-ORG).
    assert post_levels(board, rank_url(period, city.city), {organization: "HTNV"}).status_code == 302
    collective.refresh_from_db()
    assert collective.to_confirm and "R2018-C-CAP-ORG" in AuditEntry.objects.get(action="recheck").data["rules"]
    response = post_levels(board, collectives_url(period, city.city), {collective: "HTTNV"})
    assert response.status_code == 400
    assert post_levels(board, collectives_url(period, city.city), {collective: "HTNV"}).status_code == 302
    collective.refresh_from_db()
    assert not collective.to_confirm


def test_only_the_deciding_role_decides_the_collectives(period, city, personas, client_for):
    address = collectives_url(period, city.city)
    assert client_for(personas.officer_a).get(address).status_code == 404
    collective = review(period, city.committee_a, "collective")
    response = post_levels(client_for(personas.officer_a), address, {collective: "HTNV"})
    assert response.status_code == 404 and review(period, city.committee_a, "collective").decided_level == ""


# --- Query counts -----------------------------------------------------------------------------------------------


def test_ranking_and_collective_rows_take_the_same_queries_at_two_sizes(city, personas, django_assert_num_queries):
    from tests.factories import MemberFactory, OrganizationFactory

    small = open_period(city, personas, "2018")
    for n in range(3):
        committee = OrganizationFactory(code=f"more-{n}", kind="grassroots_committee", parent=city.city)
        for _ in range(2):
            cell = OrganizationFactory(parent=committee)
            for _ in range(5):
                MemberFactory(cell=cell, occupation=Member.Occupation.RETIRED, party_post="secretary")
    large = Period.objects.create(organization=city.city, year=2027, regime="2018")
    services.period_open(period=large, user=personas.board)
    for period in (small, large):
        # The reviews; the members' levels summed up to each organisation; the organisations' and collectives'
        # levels below; the analysis forms (twice: their summaries, and their scores and ratings for the rules); the
        # task shares of the meetings; the records of the year on the organisations (disciplined...) and the board's
        # records of their years (same-level bodies' levels, the unit's plan).
        with django_assert_num_queries(8):
            rows, _rulebook, _params = ranking.ranking_rows(period, city.city)
        assert len(rows) == (3 if period == small else 6)
        # The same for the collectives, plus their post holders, disciplines and degradation conclusions.
        with django_assert_num_queries(11):
            ranking.collective_rows(period, city.city)


# --- A leader after the organisations they head: a committee's secretary too ---------------------------------


def open_with(city, personas, regime, **switches):
    """A period whose switches make the leaders' rules law (`{"R2018-L-UNIT": "block"}`)."""
    Member.objects.update(occupation=Member.Occupation.RETIRED)
    parameters = {"switches": {rule: {"enabled": True, "severity": s} for rule, s in switches.items()}}
    period = Period.objects.create(organization=city.city, year=2026, regime=regime, parameters=parameters)
    services.period_open(period=period, user=personas.board)
    if regime == "2025":
        scored_2025(period.assessments.all())
    return period


def heads_committee(member, committee):
    """`member` is the secretary of `committee`, a leader: reviewed as one from the next opening."""
    Member.objects.filter(pk=member.pk).update(is_leader=True, headed_committee=committee)


def leader_of(period, member):
    return Assessment.objects.get(period=period, member=member)


def leader_row(client, period, committee, leader):
    page = client.get(decide_url(period, committee), {"cell": leader.organization.code})
    assert page.status_code == 200
    return row_of(page, leader)


def test_a_committee_secretary_is_decided_after_the_committee_and_put_back_when_it_is_lowered(
    city, personas, client_for
):
    heads_committee(personas.member_a2, city.committee_a)
    period = open_with(city, personas, "2018", **{"R2018-L-UNIT": "block"})
    leader = leader_of(period, personas.member_a2)
    assert leader.subject_kind == Assessment.SubjectKind.LEADER
    officer = client_for(personas.officer_a)

    # The committee is not decided yet: the leader's row says so (R2018-P-ORDER) and asks for no reason.
    row = leader_row(officer, period, city.committee_a, leader)
    [order] = row.evaluation.by_rule("R2018-P-ORDER")
    assert order.unchecked and "Đảng bộ A" in order.message_vi
    assert row.notes == [order.message_vi] and not row.blocking and not row.warnings
    forms = members_of(period, city.cell_a1) + members_of(period, city.cell_a2)
    assert post_levels(officer, decide_url(period, city.committee_a), {f: "HTTNV" for f in forms}).status_code == 302
    cells = {review(period, city.cell_a1): "HTTNV", review(period, city.cell_a2): "HTTNV"}
    assert post_levels(officer, rank_url(period, city.committee_a), cells).status_code == 302
    leader.refresh_from_db()
    assert leader.decided_level == "HTTNV" and not leader.to_confirm

    # The board ranks the committee KHTNV: its secretary's HTTNV no longer holds (R2018-L-UNIT).
    board = client_for(personas.board)
    committee = review(period, city.committee_a)
    assert post_levels(board, rank_url(period, city.city), {committee: "KHTNV"}).status_code == 302
    leader.refresh_from_db()
    assert leader.to_confirm and leader.decided_level == "HTTNV"
    assert "Đơn vị do cán bộ lãnh đạo, quản lý phụ trách xếp loại Không hoàn thành nhiệm vụ" in leader.to_confirm_reason
    entry = AuditEntry.objects.get(assessment=leader, action="recheck")
    assert entry.actor == personas.board and entry.data == {"level": "HTTNV", "rules": ["R2018-L-UNIT"]}

    # On the committee's decision screen: to confirm, the order satisfied, HTTNV refused, KHTNV confirms it.
    row = leader_row(officer, period, city.committee_a, leader)
    assert not row.evaluation.by_rule("R2018-P-ORDER") and not row.notes
    assert row.evaluation.by_rule("R2018-L-UNIT") and row.cap == "KHTNV"
    page = officer.get(decide_url(period, city.committee_a), {"show": "undecided"})
    assert leader.pk in [r.assessment.pk for r in page.context["rows"]]
    address = decide_url(period, city.committee_a)
    refused = officer.post(address, {f"level-{leader.pk}": "HTTNV"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 422 and "R2018-L-UNIT" in refused.content.decode()
    assert officer.post(address, {f"level-{leader.pk}": "KHTNV"}, HTTP_HX_REQUEST="true").status_code == 200
    leader.refresh_from_db()
    assert (leader.decided_level, leader.to_confirm, leader.to_confirm_reason) == ("KHTNV", False, "")


def test_a_committee_decided_at_a_level_its_secretary_may_hold_leaves_the_secretary_decided(city, personas, client_for):
    heads_committee(personas.member_a2, city.committee_a)
    heads_committee(personas.member_b1, city.committee_b)
    period = open_with(city, personas, "2018", **{"R2018-L-UNIT": "block", "R2018-L-NOT-ABOVE": "block"})
    officer = client_for(personas.officer_a)
    forms = members_of(period, city.cell_a1) + members_of(period, city.cell_a2)
    post_levels(officer, decide_url(period, city.committee_a), {f: "HTTNV" for f in forms})
    post_levels(officer, rank_url(period, city.committee_a), {review(period, city.cell_a1): "HTTNV"})
    post_levels(officer, rank_url(period, city.committee_a), {review(period, city.cell_a2): "HTTNV"})
    board = client_for(personas.board)
    post_levels(board, decide_url(period, city.committee_b), {f: "HTTNV" for f in members_of(period, city.cell_b1)})
    assert (
        post_levels(board, rank_url(period, city.city), {review(period, city.committee_a): "HTTNV"}).status_code == 302
    )
    # Committee A at HTTNV allows its secretary's HTTNV; committee B's secretary heads another committee.
    assert not Assessment.objects.filter(period=period, to_confirm=True).exists()
    assert not AuditEntry.objects.filter(action="recheck").exists()
    row = leader_row(officer, period, city.committee_a, leader_of(period, personas.member_a2))
    assert not row.evaluation.by_rule("R2018-L-UNIT") and not row.evaluation.explain("HTTNV")
    assert [f.cap for f in row.evaluation.by_rule("R2018-L-NOT-ABOVE")] == ["HTTNV"]
    assert not row.evaluation.by_rule("R2018-P-ORDER")
    # Committee B is not decided: its secretary's row still waits for it.
    row = leader_row(board, period, city.committee_b, leader_of(period, personas.member_b1))
    assert [f.message_vi for f in row.evaluation.by_rule("R2018-P-ORDER")] == row.notes
    assert "Đảng bộ B" in row.notes[0]


@pytest.mark.parametrize("severity", ["warn", "block"])
def test_in_2025_a_committee_secretary_above_the_committee_is_flagged_as_the_period_says(
    city, personas, client_for, severity
):
    heads_committee(personas.member_a2, city.committee_a)
    period = open_with(city, personas, "2025", **{"R2025-L-NOT-ABOVE": severity})
    leader = leader_of(period, personas.member_a2)
    officer = client_for(personas.officer_a)
    Assessment.objects.filter(pk=review(period, city.committee_a).pk).update(decided_level="HTNV")
    row = leader_row(officer, period, city.committee_a, leader)
    [finding] = row.evaluation.by_rule("R2025-L-NOT-ABOVE")
    assert finding.severity == severity and finding.cap == "HTNV"
    address = decide_url(period, city.committee_a)
    response = officer.post(address, {f"level-{leader.pk}": "HTTNV"}, HTTP_HX_REQUEST="true")
    # Refused above the committee: for the rule itself when it blocks, for want of a reason when it warns.
    assert response.status_code == 422 and leader_of(period, personas.member_a2).decided_level == ""
    if severity == "block":
        assert "R2025-L-NOT-ABOVE" in response.content.decode()
    response = officer.post(
        address, {f"level-{leader.pk}": "HTTNV", f"note-{leader.pk}": "Đơn vị mới thành lập"}, HTTP_HX_REQUEST="true"
    )
    assert (response.status_code == 200) == (severity == "warn")


def test_in_2025_a_committee_secretary_at_the_committees_level_has_no_finding(city, personas, client_for):
    heads_committee(personas.member_a2, city.committee_a)
    period = open_with(city, personas, "2025", **{"R2025-L-NOT-ABOVE": "block"})
    Assessment.objects.filter(pk=review(period, city.committee_a).pk).update(decided_level="HTXSNV")
    row = leader_row(client_for(personas.officer_a), period, city.committee_a, leader_of(period, personas.member_a2))
    assert not row.evaluation.by_rule("R2025-L-NOT-ABOVE") and not row.evaluation.by_rule("R2025-P-ORDER")
    assert "HTXSNV" in row.allowed


def test_a_leader_who_heads_a_cell_and_its_committee_is_held_to_the_lower_of_the_two(city, personas):
    from assessments.evaluations import facts_for

    heads_committee(personas.secretary_a1_record, city.committee_a)
    period = open_with(city, personas, "2018")
    leader = leader_of(period, personas.secretary_a1_record)
    assert facts_for(period, [leader])[leader.pk].unit_level is None
    Assessment.objects.filter(pk=review(period, city.committee_a).pk).update(decided_level="HTTNV")
    assert facts_for(period, [leader])[leader.pk].unit_level == "HTTNV"
    Assessment.objects.filter(pk=review(period, city.cell_a1).pk).update(decided_level="HTNV")
    assert facts_for(period, [leader])[leader.pk].unit_level == "HTNV"
    # A member who heads no organisation has no unit level, whatever is decided.
    Member.objects.filter(pk=personas.member_a2.pk).update(is_leader=True)
    other = Period.objects.create(organization=city.city, year=2027, regime="2018")
    services.period_open(period=other, user=personas.board)
    plain = leader_of(other, personas.member_a2)
    assert plain.subject_kind == "leader" and facts_for(other, [plain])[plain.pk].unit_level is None
