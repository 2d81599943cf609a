"""The decision screen at any size: a committee's cells, one cell (or a filtered page) at a time, rows
saved one by one through htmx, bulk acceptance of the cells' proposals, the quota box.

Sizes are inputs: the same requests are made on a committee of 50 and of 3,000 members, and the query
counts must be equal."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.core import services
from assessments.decisions import views
from assessments.models import Assessment, AuditEntry, Period
from members.models import CivilServiceRating, Member
from organizations.models import RoleAssignment
from tests.factories import UserFactory, bulk_committee, grant

pytestmark = pytest.mark.django_db
S = Assessment.State


def member_forms(period, committee):
    return Assessment.objects.filter(
        period=period, organization__path__startswith=committee.path, member__isnull=False
    ).order_by("organization__path", "member__sort_key", "pk")


# The competent level's decision on an exception to the quota, as the exception form posts it.
DECISION = {
    "exception_number": "125-QĐ/ĐU",
    "exception_date": "2026-11-20",
    "exception_body": "Ban Thường vụ Đảng ủy",
    "exception_reason": "Đơn vị dẫn đầu cụm",
}
# A 2018 period that allows an exception (the texts of 2018 provide none): up to 25% of the HTTNV count.
EXCEPTION_ALLOWED = {"quota_exception_allowed": True}


def open_period(city, personas, year=2026, parameters=None):
    period = Period.objects.create(organization=city.city, year=year, regime="2018", parameters=parameters or {})
    services.period_open(period=period, user=personas.board)
    period.refresh_from_db()
    return period


def propose(period, committee, levels):
    """The cells' proposals, as the meetings would have recorded them: `levels` is repeated over the
    members in tree order. (Test set-up; the meetings have their own tests.)"""
    forms = list(
        Assessment.objects.filter(period=period, organization__path__startswith=committee.path, member__isnull=False)
        .order_by("organization__path", "member__sort_key")
        .values_list("pk", flat=True)
    )
    for index, pk in enumerate(forms):
        Assessment.objects.filter(pk=pk).update(
            cell_proposed_level=levels[index % len(levels)], state=S.CELL_REVIEWED, self_level="HTXSNV"
        )
    return forms


@pytest.fixture
def big(city, personas):
    """A committee of 3,000 members in 60 cells, and its officer."""
    committee = bulk_committee(city.city, "lon", cells=60, members_per_cell=50)
    officer = UserFactory(username="officer_big", first_name="Cán bộ")
    grant(officer, RoleAssignment.Role.COMMITTEE_OFFICER, committee)
    return committee, officer


@pytest.fixture
def small(city, personas):
    committee = bulk_committee(city.city, "nho", cells=1, members_per_cell=50)
    officer = UserFactory(username="officer_small", first_name="Cán bộ")
    grant(officer, RoleAssignment.Role.COMMITTEE_OFFICER, committee)
    return committee, officer


def url(period, committee, **params):
    address = reverse("assessments:decide", args=[period.public_id, committee.code])
    return address + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def first_cell(committee):
    return committee.subtree().filter(kind="cell").order_by("path").first()


def counted(client, method, address, data=None, **extra):
    with CaptureQueriesContext(connection) as ctx:
        response = getattr(client, method)(address, data or {}, **extra)
    return response, len(ctx.captured_queries)


# --- Size ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["small", "big"])
def test_the_screen_answers_at_50_and_3000_members_with_the_same_queries(request, city, personas, client_for, which):
    committee, officer = request.getfixturevalue(which)
    period = open_period(city, personas)
    propose(period, committee, ["HTTNV"] * 9 + ["HTNV"])
    client = client_for(officer)
    cell = first_cell(committee)

    # The list of cells: session, user, roles, organisation, period; the counts of the cells (one
    # aggregate), the recorded exception, the cells, the transfers into or out of the organisation (their
    # reviews: one more query when there are any).
    listing, listing_queries = counted(client, "get", url(period, committee))
    assert listing.status_code == 200 and not listing.context["showing_rows"]
    assert sum(c.tally.classified for c in listing.context["cells"]) == (3000 if which == "big" else 50)
    # One cell: the same, plus the page's count and its rows, the seven kinds of record, last year's levels,
    # the conflicts of interest on record for the officer (the rows they stand aside from).
    page, page_queries = counted(client, "get", url(period, committee, cell=cell.code))
    assert page.status_code == 200 and len(page.context["rows"]) == 50
    # One row saved through htmx: session, user, roles, organisation, period; the row with its records
    # (8); the officer's conflicts on record; in the transaction (savepoint and release), the group's
    # lock, the period, the row's lock, the group's counts, the exception, the update and its audit
    # entry; the organisations decided above it (none yet: nothing to check again).
    pk = page.context["rows"][0].assessment.pk
    saved, row_queries = counted(
        client, "post", url(period, committee), {f"level-{pk}": "HTTNV"}, HTTP_HX_REQUEST="true"
    )
    assert saved.status_code == 200, saved.content.decode()[:500]
    assert f'id="row-{pk}"' in saved.content.decode() and 'id="quota-box"' in saved.content.decode()
    assert Assessment.objects.get(pk=pk).decided_level == "HTTNV"
    assert (listing_queries, page_queries, row_queries) == (9, 23, 28)


def test_a_committee_of_3000_members_is_decided_cell_by_cell_and_then_all_at_once(big, city, personas, client_for):
    committee, officer = big
    period = open_period(city, personas)
    propose(period, committee, ["HTTNV"] * 5 + ["HTNV"] * 4 + ["HTXSNV"])  # 10% HTXSNV: within 20% of HTTNV
    client = client_for(officer)
    cell = first_cell(committee)
    response = client.post(url(period, committee), {"action": "accept_cell", "cell": cell.code})
    assert response.status_code == 302
    decided = Assessment.objects.filter(period=period, organization=cell).exclude(decided_level="")
    assert decided.count() == 50
    response = client.post(url(period, committee), {"action": "accept_all"})
    assert response.status_code == 302, response.content.decode()[:800]
    under = member_forms(period, committee)
    assert not under.filter(decided_level="").exists() and under.count() == 3000
    assert AuditEntry.objects.filter(period=period, action="decide").count() == 3000


def test_accepting_at_once_keeps_a_level_another_member_decided_meanwhile(
    small, city, personas, client_for, monkeypatch
):
    committee, officer = small
    period = open_period(city, personas)
    propose(period, committee, ["HTTNV"])
    other = member_forms(period, committee).order_by("member__sort_key").first()
    read = views._accept

    def read_then_another_decides(screen, queryset):
        # The proposals are read as undecided; before their rows are locked, another member of the
        # committee decides one of them (their save commits first).
        found = read(screen, queryset)
        assert other.pk in found[0]
        Assessment.objects.filter(pk=other.pk).update(decided_level="HTNV", state=S.DECIDED, decided_by=personas.board)
        return found

    monkeypatch.setattr(views, "_accept", read_then_another_decides)
    response = client_for(officer).post(url(period, committee), {"action": "accept_all"}, follow=True)
    other.refresh_from_db()
    assert (other.decided_level, other.decided_by) == ("HTNV", personas.board)
    forms = member_forms(period, committee)
    assert forms.filter(decided_level="HTTNV").count() == forms.count() - 1
    assert not AuditEntry.objects.filter(period=period, assessment=other, action="decide").exists()
    text = response.content.decode()
    assert "1 trường hợp đã được thành viên khác quyết định trong lúc đó" in text


def test_a_page_post_stays_under_the_request_field_limit(big, city, personas, client_for, settings):
    committee, officer = big
    period = open_period(city, personas)
    propose(period, committee, ["HTTNV"])
    client = client_for(officer)
    page = client.get(url(period, committee, show="undecided"))
    rows = page.context["rows"]
    assert len(rows) == 100 and page.context["page"].paginator.count == 3000
    data = {"action": "save", "show": "undecided"}
    for row in rows:
        data[f"level-{row.assessment.pk}"] = "HTTNV"
        data[f"note-{row.assessment.pk}"] = ""
    assert len(data) < settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    response = client.post(url(period, committee), data)
    assert response.status_code == 302
    assert Assessment.objects.filter(period=period, decided_level="HTTNV").count() == 100


# --- Suggestions ------------------------------------------------------------------------------------------------


def test_there_is_no_suggestion_without_the_cells_proposal(small, city, personas, client_for):
    committee, officer = small
    period = open_period(city, personas)
    forms = member_forms(period, committee)
    # Self-assessments everywhere, one cell proposal: only that one is suggested and accepted.
    forms.update(self_level="HTTNV", state=S.SUBMITTED)
    target = forms.order_by("member__sort_key").first()
    Assessment.objects.filter(pk=target.pk).update(cell_proposed_level="HTNV", state=S.CELL_REVIEWED)
    client = client_for(officer)
    page = client.get(url(period, committee, cell=first_cell(committee).code))
    suggested = {row.assessment.pk: row.suggested for row in page.context["rows"]}
    assert suggested[target.pk] == "HTNV"
    assert [pk for pk, level in suggested.items() if level] == [target.pk]
    response = client.post(url(period, committee), {"action": "accept_all"}, follow=True)
    assert list(forms.exclude(decided_level="").values_list("pk", "decided_level")) == [(target.pk, "HTNV")]
    text = response.content.decode()
    assert "49" in text  # the members left undecided are counted in the message


def test_accepting_leaves_a_suggestion_that_needs_a_reason_to_its_row(small, city, personas, client_for):
    committee, officer = small
    period = open_period(city, personas)
    propose(period, committee, ["HTNV"])
    form = member_forms(period, committee).first()
    # A civil servant whose civil-service rating is HTNV: the [R] rule warns above HTNV; HTNV is fine.
    Member.objects.filter(pk=form.member_id).update(occupation=Member.Occupation.CIVIL_SERVANT)
    CivilServiceRating.objects.create(member_id=form.member_id, year=2026, level="HTNV")
    Assessment.objects.filter(pk=form.pk).update(cell_proposed_level="HTTNV")
    client = client_for(officer)
    client.post(url(period, committee), {"action": "accept_all"})
    form.refresh_from_db()
    assert form.decided_level == ""
    assert Assessment.objects.filter(period=period, decided_level="HTNV").count() == 49


# --- Rows through htmx ------------------------------------------------------------------------------------------


def test_a_refused_row_comes_back_with_its_reason_and_nothing_is_saved(small, city, personas, client_for):
    committee, officer = small
    period = open_period(city, personas)
    form = member_forms(period, committee).first()
    Member.objects.filter(pk=form.member_id).update(occupation=Member.Occupation.CIVIL_SERVANT)
    CivilServiceRating.objects.create(member_id=form.member_id, year=2026, level="HTNV")
    client = client_for(officer)
    response = client.post(url(period, committee), {f"level-{form.pk}": "HTTNV"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    text = response.content.decode()
    assert f'id="row-{form.pk}"' in text and "table-danger" in text
    assert "selected>HTTNV" in text.replace('"HTTNV" selected>', "selected>")  # what the user chose stays chosen
    form.refresh_from_db()
    assert form.decided_level == ""
    response = client.post(
        url(period, committee),
        {f"level-{form.pk}": "HTTNV", f"note-{form.pk}": "Kết quả công tác tốt hơn"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    form.refresh_from_db()
    assert form.decided_level == "HTTNV" and form.decision_note == "Kết quả công tác tốt hơn"


def test_a_row_of_another_committee_is_refused(small, city, personas, client_for):
    committee, officer = small
    period = open_period(city, personas)
    foreign = Assessment.objects.get(period=period, member=personas.member_record)
    client = client_for(officer)
    response = client.post(url(period, committee), {f"level-{foreign.pk}": "HTNV"})
    assert response.status_code == 400
    foreign.refresh_from_db()
    assert foreign.decided_level == ""


def test_an_unchanged_row_writes_nothing(small, city, personas, client_for):
    committee, officer = small
    period = open_period(city, personas)
    form = member_forms(period, committee).first()
    client = client_for(officer)
    client.post(url(period, committee), {f"level-{form.pk}": "HTNV"}, HTTP_HX_REQUEST="true")
    client.post(url(period, committee), {f"level-{form.pk}": "HTNV"}, HTTP_HX_REQUEST="true")
    assert AuditEntry.objects.filter(assessment=form, action="decide").count() == 1


# --- The quota ----------------------------------------------------------------------------------------------------


def test_the_quota_binds_only_when_everyone_is_decided(small, city, personas, client_for):
    committee, officer = small
    period = open_period(city, personas, parameters=EXCEPTION_ALLOWED)
    forms = list(member_forms(period, committee))
    client = client_for(officer)
    # Three HTXSNV and two HTTNV first: over the quota as it stands, but 45 are undecided: saved.
    data = {f"level-{f.pk}": "HTXSNV" for f in forms[:3]} | {f"level-{f.pk}": "HTTNV" for f in forms[3:5]}
    assert client.post(url(period, committee), data).status_code == 302
    page = client.get(url(period, committee))
    assert page.context["box"].verdict == "over_pending"
    # The save that decides the last members must be within the quota: 3 HTXSNV for 47 HTTNV is 9 allowed.
    rest = {f"level-{f.pk}": "HTTNV" for f in forms[5:]}
    assert client.post(url(period, committee), rest).status_code == 302
    assert client.get(url(period, committee)).context["box"].verdict == "ok"
    # Now binding: six more HTXSNV would make 9 HTXSNV for 41 HTTNV (cap 8): refused without a decision.
    more = {f"level-{f.pk}": "HTXSNV" for f in forms[5:11]}
    response = client.post(url(period, committee), more)
    assert response.status_code == 400 and response.context["box"].verdict == "ok"
    assert Assessment.objects.filter(period=period, decided_level="HTXSNV").count() == 3
    # A reason alone is not a decision: the number, date and body are asked for, nothing is saved.
    response = client.post(url(period, committee), more | {"exception_reason": "Đơn vị dẫn đầu cụm"})
    assert response.status_code == 400 and not AuditEntry.objects.filter(action="quota_exception").exists()
    response = client.post(url(period, committee), more | DECISION)
    assert response.status_code == 302
    exception = AuditEntry.objects.get(period=period, action="quota_exception")
    assert exception.data == {
        "organization": committee.code,
        "subjects": "member",
        "count": 9,
        "cap": 8,
        "raised_cap": 10,
        "rule": "R2018-Q-MEMBER",
        "decision_number": "125-QĐ/ĐU",
        "decision_date": "2026-11-20",
        "decision_body": "Ban Thường vụ Đảng ủy",
    }
    # The exception covers 9: lowering one is accepted without a new decision, raising one more is not.
    assert client.post(url(period, committee), {f"level-{forms[5].pk}": "HTTNV"}).status_code == 302
    assert client.post(url(period, committee), {f"level-{forms[20].pk}": "HTXSNV"}).status_code == 302
    assert client.post(url(period, committee), {f"level-{forms[21].pk}": "HTXSNV"}).status_code == 400


def test_the_decision_on_an_exception_can_be_recorded_first(small, city, personas, client_for):
    committee, officer = small
    period = open_period(city, personas, parameters=EXCEPTION_ALLOWED)
    forms = list(member_forms(period, committee))
    client = client_for(officer)
    data = {f"level-{f.pk}": "HTXSNV" for f in forms[:9]}
    client.post(url(period, committee), data)
    response = client.post(url(period, committee), {"action": "exception", "exception_reason": ""})
    assert response.status_code == 400 and not AuditEntry.objects.filter(action="quota_exception").exists()
    response = client.post(url(period, committee), {"action": "exception"} | DECISION)
    assert response.status_code == 302
    # 9 HTXSNV for 41 HTTNV: over the quota (8), within the raised rate (10), covered.
    rest = {f"level-{f.pk}": "HTTNV" for f in forms[9:]}
    assert client.post(url(period, committee), rest).status_code == 302
    assert client.get(url(period, committee)).context["box"].verdict == "over_covered"


def test_the_quota_is_rechecked_inside_the_transaction(small, city, personas, monkeypatch):
    """The count is read after locking the group: what another save committed in between is seen."""
    from assessments import decisions

    committee, officer = small
    period = open_period(city, personas)
    forms = list(member_forms(period, committee))
    decisions.decisions_record(
        period=period,
        organization=committee,
        user=officer,
        choices={f.pk: ("HTTNV", "") for f in forms[1:]},
    )
    rows, _rb, _params = decisions.decision_rows(
        period, committee, decisions.member_assessments(period, committee).filter(pk=forms[0].pk)
    )
    # Between reading the rows and saving, another officer raises nine members to HTXSNV.
    Assessment.objects.filter(pk__in=[f.pk for f in forms[1:10]]).update(decided_level="HTXSNV")
    with pytest.raises(decisions.DecisionError):
        decisions.decisions_record(
            period=period, organization=committee, user=officer, choices={forms[0].pk: ("HTXSNV", "")}, rows=rows
        )


# --- Filters ---------------------------------------------------------------------------------------------------


def test_the_filters_narrow_the_rows(small, city, personas, client_for):
    committee, officer = small
    period = open_period(city, personas)
    forms = list(member_forms(period, committee))
    client = client_for(officer)
    client.post(url(period, committee), {f"level-{f.pk}": "HTTNV" for f in forms[:10]})
    assert client.get(url(period, committee, show="decided")).context["page"].paginator.count == 10
    assert client.get(url(period, committee, show="undecided")).context["page"].paginator.count == 40
    Member.objects.filter(pk=forms[0].member_id).update(occupation=Member.Occupation.CIVIL_SERVANT)
    attention = client.get(url(period, committee, show="attention")).context["rows"]
    assert [row.assessment.pk for row in attention] == [forms[0].pk]
    unknown = client.get(url(period, committee, show="nonsense", cell="no-such-cell"))
    assert unknown.status_code == 200 and not unknown.context["showing_rows"]


def test_the_screen_of_a_grassroots_cell_shows_its_members_at_once(city, personas, client_for):
    period = open_period(city, personas)
    client = client_for(personas.board)
    page = client.get(url(period, city.cell_c))
    assert page.status_code == 200 and page.context["showing_rows"] and len(page.context["rows"]) == 1


# --- The ranking screen -----------------------------------------------------------------------------------------------


def rank_url(period, organization, **params):
    address = reverse("assessments:rank", args=[period.public_id, organization.code])
    return address + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


@pytest.mark.parametrize("which", ["small", "big"])
def test_a_committee_ranks_its_cells_with_the_same_queries_at_any_size(request, city, personas, client_for, which):
    committee, officer = request.getfixturevalue(which)
    period = open_period(city, personas)
    # The members decided (written as they stand: the member decisions are not what this counts).
    member_forms(period, committee).update(decided_level="HTNV", state=Assessment.State.DECIDED)
    client = client_for(officer)
    page, page_queries = counted(client, "get", rank_url(period, committee))
    assert page.status_code == 200
    pk = page.context["rows"][0].assessment.pk
    saved, row_queries = counted(
        client, "post", rank_url(period, committee), {f"level-{pk}": "HTNV"}, HTTP_HX_REQUEST="true"
    )
    assert saved.status_code == 200 and Assessment.objects.get(pk=pk).decided_level == "HTNV"
    # The page: session, user, roles, organisation, period; the counts (with the summary by cluster), the exception;
    # the reviews, the members' levels summed up to each cell, the organisations and collectives below, the
    # analysis forms (twice), the meetings' task shares, the records of the year on the organisations and the board's
    # records of their years; the officer's conflicts on record and posts in a cell's committee (the rows they stand
    # aside from). A row: the row (9), the officer's conflicts and posts (2), then the transaction (9), the
    # organisations decided above it (none yet) and the leaders who head it (none decided).
    assert (page_queries, row_queries) == (17, 26)


def test_the_box_warns_before_accepting_proposals_that_exceed_the_quota(small, city, personas, client_for):
    committee, officer = small
    period = open_period(city, personas, parameters=EXCEPTION_ALLOWED)
    propose(period, committee, ["HTXSNV", "HTTNV", "HTTNV", "HTTNV", "HTTNV"])  # 10 HTXSNV for 40 HTTNV: at most 8
    client = client_for(officer)
    box = client.get(url(period, committee)).context["box"]
    assert box.verdict == "ok" and box.projected_over and (box.projected.count, box.projected.cap_count) == (10, 8)
    assert not box.projection_beyond_exception  # 25% of 40 is 10
    # Accepting them all would decide everyone over the quota: refused, nothing saved ...
    response = client.post(url(period, committee), {"action": "accept_all"})
    assert response.status_code == 400 and not member_forms(period, committee).exclude(decided_level="").exists()
    # ... until the committee records the competent level's decision, which covers the 10 the proposals make.
    client.post(url(period, committee), {"action": "exception"} | DECISION)
    assert AuditEntry.objects.get(action="quota_exception").data["count"] == 10
    assert client.post(url(period, committee), {"action": "accept_all"}).status_code == 302
    assert client.get(url(period, committee)).context["box"].verdict == "over_covered"


# --- What is posted, checked by the forms ---------------------------------------------------------------------


def test_an_unknown_level_comes_back_on_its_row_in_vietnamese_and_nothing_is_saved(small, city, personas, client_for):
    committee, officer = small
    period = open_period(city, personas)
    form = member_forms(period, committee).first()
    client = client_for(officer)
    response = client.post(url(period, committee), {f"level-{form.pk}": "XUATSAC"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    text = response.content.decode()
    assert f'id="row-{form.pk}"' in text and "table-danger" in text
    assert "Mức xếp loại không hợp lệ." in text
    # The unknown level is not shown as chosen: the row says "not decided" rather than the list's first level.
    assert "— chưa quyết định —" in text and " selected>" not in text
    form.refresh_from_db()
    assert form.decided_level == "" and not AuditEntry.objects.filter(action="decide").exists()


def test_a_reason_too_long_is_refused_at_its_field_and_the_page_saves_nothing(small, city, personas, client_for):
    committee, officer = small
    period = open_period(city, personas)
    forms = list(member_forms(period, committee)[:2])
    client = client_for(officer)
    data = {f"level-{forms[0].pk}": "HTTNV", f"level-{forms[1].pk}": "HTTNV", f"note-{forms[1].pk}": "x" * 2001}
    response = client.post(url(period, committee), data | {"cell": first_cell(committee).code})
    assert response.status_code == 400
    rows = {row.assessment.pk: row for row in response.context["rows"]}
    assert rows[forms[1].pk].form.errors["note"] == ["Lý do dài quá 2000 ký tự. Xin viết ngắn lại."]
    assert rows[forms[0].pk].chosen == "HTTNV"  # what was chosen on the other rows stays chosen
    assert not Assessment.objects.filter(pk__in=[f.pk for f in forms]).exclude(decided_level="").exists()


def test_each_bulk_action_checks_what_it_is_given(small, city, personas, client_for):
    committee, officer = small
    period = open_period(city, personas, parameters=EXCEPTION_ALLOWED)
    propose(period, committee, ["HTTNV"])
    client = client_for(officer)
    response = client.post(url(period, committee), {"action": "accept_cell"}, follow=True)
    assert response.status_code == 400
    assert "Xin chọn chi bộ có gợi ý được chấp nhận." in response.content.decode()
    response = client.post(
        url(period, committee), {"action": "exception"} | DECISION | {"exception_reason": "x" * 2001}
    )
    assert response.status_code == 400
    assert response.context["exception_form"].errors["exception_reason"] == [
        "Lý do dài quá 2000 ký tự. Xin viết ngắn lại."
    ]
    assert not member_forms(period, committee).exclude(decided_level="").exists()
    assert not AuditEntry.objects.filter(action__in=["decide", "quota_exception"]).exists()
