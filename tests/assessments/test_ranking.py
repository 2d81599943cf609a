"""Decisions on organisations: a grassroots committee decides its cells, the board ranks the grassroots
organisations under the organisation quota."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments import decisions
from assessments.core import services
from assessments.decisions import ranking
from assessments.models import Assessment, AuditEntry, Period
from members.models import Member
from tests import helpers
from tests.factories import MemberFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def period(city, personas):
    Member.objects.update(occupation=Member.Occupation.RETIRED)
    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=period, user=personas.board)
    return period


def decide_members(period, organization, user, level):
    forms = Assessment.objects.filter(
        period=period, member__isnull=False, organization__path__startswith=organization.path
    )
    decisions.decisions_record(
        period=period, organization=organization, user=user, choices={f.pk: (level, "") for f in forms}
    )


def decide_cells(period, city, personas, level):
    """Every cell decided at `level` by its committee (its members decided first)."""
    for committee in (city.committee_a, city.committee_b):
        forms = ranking.organization_assessments(period, committee)
        ranking.ranking_record(
            period=period, parent=committee, user=personas.board, choices={f.pk: (level, "") for f in forms}
        )


def test_the_board_ranks_the_grassroots_organisations(period, city, personas):
    helpers.decide_members(period, personas.board, "HTTNV")
    decide_cells(period, city, personas, "HTTNV")
    rows, _rulebook, _params = ranking.ranking_rows(period, city.city)
    assert {row.assessment.organization.code for row in rows} == {"dang-bo-a", "dang-bo-b", "chi-bo-c"}
    choices = {row.assessment.pk: ("HTTNV", "") for row in rows}
    saved, quota = ranking.ranking_record(period=period, parent=city.city, user=personas.board, choices=choices)
    assert saved == 3 and quota.within
    assert set(
        Assessment.objects.filter(period=period, subject_kind="organization", organization__depth=2).values_list(
            "decided_level", flat=True
        )
    ) == {"HTTNV"}


def test_only_the_board_ranks_the_grassroots(period, city, personas):
    for user in (personas.officer_a, personas.secretary_a1, personas.evaluator):
        with pytest.raises(services.WorkflowError):
            ranking.ranking_record(period=period, parent=city.city, user=user, choices={})


def test_the_committee_decides_its_cells(period, city, personas):
    decide_members(period, city.committee_a, personas.officer_a, "HTNV")
    rows, _rulebook, _params = ranking.ranking_rows(period, city.committee_a)
    assert {row.assessment.organization.code for row in rows} == {"chi-bo-a1", "chi-bo-a2"}
    saved, _quota = ranking.ranking_record(
        period=period,
        parent=city.committee_a,
        user=personas.officer_a,
        choices={row.assessment.pk: ("HTNV", "") for row in rows},
    )
    assert saved == 2
    with pytest.raises(services.WorkflowError):
        ranking.ranking_record(period=period, parent=city.committee_b, user=personas.officer_a, choices={})


def test_the_organisation_quota_needs_an_exception(period, city, personas, client_for):
    helpers.decide_members(period, personas.board, "HTTNV")
    decide_cells(period, city, personas, "HTTNV")
    rows, _rulebook, _params = ranking.ranking_rows(period, city.city)
    assert len(rows) == 3
    choices = {row.assessment.pk: ("HTXSNV", "") for row in rows}
    with pytest.raises(decisions.DecisionError):
        ranking.ranking_record(period=period, parent=city.city, user=personas.board, choices=choices)
    grassroots = Assessment.objects.filter(period=period, subject_kind="organization", organization__depth=2)
    assert not grassroots.exclude(decided_level="").exists()
    # One HTXSNV for two HTTNV: 25% of 2 is 0, so even a competent level's decision cannot allow it ...
    Period.objects.filter(pk=period.pk).update(
        parameters={"quota_exception_allowed": True, "quota_exception_rate": "0.5"}
    )
    period.refresh_from_db()
    decision = decisions.ExceptionDecision("7-QĐ/TU", datetime.date(2026, 11, 2), "Ban Thường vụ Thành ủy", "Nổi bật")
    levels = ["HTXSNV", "HTTNV", "HTTNV"]
    choices = {row.assessment.pk: (level, "") for row, level in zip(rows, levels, strict=True)}
    # ... but this period allows up to 50% of the HTTNV count: 1.
    ranking.ranking_record(period=period, parent=city.city, user=personas.board, choices=choices, exception=decision)
    exception = AuditEntry.objects.get(action="quota_exception")
    assert (exception.data["subjects"], exception.data["count"], exception.data["raised_cap"]) == ("organization", 1, 1)
    assert exception.data["decision_body"] == "Ban Thường vụ Thành ủy"
    # The board's ranking screen shows the decision in its quota box, and what it covers.
    page = client_for(personas.board).get(reverse("assessments:rank", args=[period.public_id, city.city.code]))
    assert page.context["box"].verdict == "over_covered"
    text = page.content.decode()
    assert "7-QĐ/TU" in text and "02/11/2026" in text and "Ban Thường vụ Thành ủy" in text
    assert "tối đa 1 HTXSNV" in text


def test_a_cell_with_more_than_20_percent_khtnv_members_is_capped(period, city, personas):
    # Cell A1: 3 members; one KHTNV is 33%: the cell is KHTNV (R2018-O-KHTNV20-CB).
    forms = list(Assessment.objects.filter(period=period, organization=city.cell_a1, member__isnull=False))
    choices = {f.pk: ("HTNV", "") for f in forms}
    choices[forms[0].pk] = ("KHTNV", "")
    decisions.decisions_record(period=period, organization=city.committee_a, user=personas.officer_a, choices=choices)
    rows, _rulebook, _params = ranking.ranking_rows(period, city.committee_a)
    a1 = next(row for row in rows if row.assessment.organization == city.cell_a1)
    assert a1.cap == "KHTNV" and a1.blocking
    with pytest.raises(decisions.DecisionError):
        ranking.ranking_record(
            period=period, parent=city.committee_a, user=personas.officer_a, choices={a1.assessment.pk: ("HTNV", "")}
        )


def test_the_suggested_order_puts_the_best_first(period, city, personas):
    helpers.decide_members(period, personas.board, "HTTNV")
    decide_cells(period, city, personas, "HTTNV")
    Assessment.objects.filter(period=period, organization=city.committee_b, subject_kind="organization").update(
        self_level="HTXSNV"
    )
    Assessment.objects.filter(period=period, organization=city.cell_c, subject_kind="organization").update(
        self_level="HTNV"
    )
    Assessment.objects.filter(period=period, organization=city.committee_a, subject_kind="organization").update(
        self_level="HTTNV"
    )
    rows, _rulebook, _params = ranking.ranking_rows(period, city.city)
    assert [row.assessment.organization.code for row in rows] == ["dang-bo-b", "dang-bo-a", "chi-bo-c"]


def test_the_ranking_screen_shows_the_members_levels(period, city, personas, client_for):
    decide_members(period, city.committee_a, personas.officer_a, "HTTNV")
    page = client_for(personas.board).get(reverse("assessments:rank", args=[period.public_id, city.city.code]))
    row = next(r for r in page.context["rows"] if r.assessment.organization == city.committee_a)
    assert dict(row.member_levels)["HTTNV"] == 5 and row.members_decided == 5


def test_ranking_screen_query_count_is_the_same_at_two_sizes(city, personas, client_for):
    Member.objects.update(occupation=Member.Occupation.RETIRED)
    client = client_for(personas.board)

    def count(period):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("assessments:rank", args=[period.public_id, city.city.code]))
        assert response.status_code == 200
        return len(ctx.captured_queries)

    small = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=small, user=personas.board)
    first = count(small)
    for n in range(4):
        committee = OrganizationFactory(code=f"extra-{n}", kind="grassroots_committee", parent=city.city)
        cell = OrganizationFactory(parent=committee)
        for _ in range(10):
            MemberFactory(cell=cell, occupation=Member.Occupation.RETIRED)
    large = Period.objects.create(organization=city.city, year=2027, regime="2018")
    services.period_open(period=large, user=personas.board)
    # Session, user, organisation, role assignments, period; the counts of the decided organisations (with the summary
    # by cluster) and the recorded exception (the quota box); the organisations' reviews, the members' levels summed up
    # to each organisation, the levels of the organisations and collectives below, the analysis forms (their
    # summaries, and their scores and ratings for the rules), the task shares of the meetings, the records of the year
    # on the organisations (disciplined, disunity...), the board's records of their years; the board member's
    # conflicts on record and posts in a cell's committee (the rows they stand aside from).
    assert first == count(large) == 17
