"""The exception to the quota is the regulation's. In 2025 (R2025-Q-EXCEPTION) only a recorded decision
of the competent level (its number, date, issuing body, and the reason) raises the rate, up to 25% of
the HTTNV count; beyond that nothing is accepted. In 2018 there is none unless the period allows it.
Through the service and through the screens, as the committee officer who decides."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments import decisions
from assessments.core import services
from assessments.models import AuditEntry, Period
from organizations.models import RoleAssignment
from tests.factories import UserFactory, bulk_committee, grant
from tests.helpers import scored_2025

pytestmark = pytest.mark.django_db

YEAR = 2026
DECISION = {
    "exception_number": "125-QĐ/TU",
    "exception_date": f"{YEAR}-11-20",
    "exception_body": "Ban Thường vụ Thành ủy",
    "exception_reason": "Đơn vị dẫn đầu cụm thi đua, được Thành ủy khen thưởng",
}


@pytest.fixture
def ten(city, personas):
    """A grassroots committee of ten members in one cell, and its officer."""
    committee = bulk_committee(city.city, "muoi", cells=1, members_per_cell=10)
    officer = UserFactory(username="officer_ten", first_name="Cán bộ")
    grant(officer, RoleAssignment.Role.COMMITTEE_OFFICER, committee)
    return committee, officer


def open_period(city, personas, regime, parameters=None):
    period = Period.objects.create(organization=city.city, year=YEAR, regime=regime, parameters=parameters or {})
    services.period_open(period=period, user=personas.board)
    period.refresh_from_db()
    if regime == "2025":
        scored_2025(period.assessments.all())
    return period


def forms_of(period, committee):
    return list(decisions.member_assessments(period, committee).order_by("member__sort_key", "pk"))


def levels(period, committee, htxsnv, httnv):
    """{pk: (level, "")}: `htxsnv` members at HTXSNV, the next `httnv` at HTTNV."""
    forms = forms_of(period, committee)
    chosen = ["HTXSNV"] * htxsnv + ["HTTNV"] * httnv
    return {f.pk: (level, "") for f, level in zip(forms, chosen, strict=False)}


def url(period, committee):
    return reverse("assessments:decide", args=[period.public_id, committee.code])


def as_posted(choices):
    return {f"level-{pk}": level for pk, (level, _note) in choices.items()}


def decision(**changes):
    values = {
        "number": "125-QĐ/TU",
        "decided_on": datetime.date(YEAR, 11, 20),
        "body": "Ban Thường vụ Thành ủy",
        "reason": "Đơn vị dẫn đầu cụm thi đua",
    } | changes
    return decisions.ExceptionDecision(**values)


def nothing_decided(period, committee):
    return not decisions.member_assessments(period, committee).exclude(decided_level="").exists()


# --- 2025: up to 25%, with the competent level's decision ------------------------------------------------


def test_2025_exactly_25_percent_with_a_decision_is_accepted(ten, city, personas):
    committee, officer = ten
    period = open_period(city, personas, "2025")
    choices = levels(period, committee, 2, 8)  # 20% of 8 is 1; 25% of 8 is 2
    with pytest.raises(decisions.DecisionError, match="quyết định của cấp có thẩm quyền"):
        decisions.decisions_record(period=period, organization=committee, user=officer, choices=choices)
    assert nothing_decided(period, committee)
    saved, box = decisions.decisions_record(
        period=period, organization=committee, user=officer, choices=choices, exception=decision()
    )
    assert saved == 10 and not box.quota.within and box.covered and box.verdict == "over_covered"
    entry = AuditEntry.objects.get(period=period, action="quota_exception")
    assert entry.actor == officer and entry.reason == "Đơn vị dẫn đầu cụm thi đua"
    assert entry.data == {
        "organization": committee.code,
        "subjects": "member",
        "count": 2,
        "cap": 1,
        "raised_cap": 2,
        "rule": "R2025-Q-EXCEPTION",
        "decision_number": "125-QĐ/TU",
        "decision_date": f"{YEAR}-11-20",
        "decision_body": "Ban Thường vụ Thành ủy",
    }


def test_2025_above_25_percent_is_refused_whatever_is_written(ten, city, personas):
    committee, officer = ten
    period = open_period(city, personas, "2025")
    choices = levels(period, committee, 3, 7)  # 25% of 7 is 1
    with pytest.raises(decisions.DecisionError, match="R2025-Q-EXCEPTION") as excinfo:
        decisions.decisions_record(
            period=period, organization=committee, user=officer, choices=choices, exception=decision()
        )
    assert excinfo.value.quota.rule_id == "R2025-Q-EXCEPTION" and excinfo.value.quota.cap_count == 1
    assert nothing_decided(period, committee)
    assert not AuditEntry.objects.filter(action="quota_exception").exists()


def test_an_exception_stops_covering_when_the_httnv_count_falls(ten, city, personas):
    committee, officer = ten
    period = open_period(city, personas, "2025")
    choices = levels(period, committee, 2, 8)
    decisions.decisions_record(
        period=period, organization=committee, user=officer, choices=choices, exception=decision()
    )
    # One HTTNV lowered to HTNV: 2 HTXSNV for 7 HTTNV is beyond 25% (1), though the decision was for 2.
    last = forms_of(period, committee)[-1]
    with pytest.raises(decisions.DecisionError, match="R2025-Q-EXCEPTION"):
        decisions.decisions_record(period=period, organization=committee, user=officer, choices={last.pk: ("HTNV", "")})
    last.refresh_from_db()
    assert last.decided_level == "HTTNV"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"number": " "}, "Xin ghi số quyết định"),
        ({"decided_on": None}, "Xin ghi ngày ban hành quyết định"),
        ({"body": ""}, "Xin ghi cơ quan có thẩm quyền"),
        ({"reason": ""}, "Xin ghi rõ lý do vượt tỷ lệ"),
        ({"decided_on": datetime.date(YEAR - 1, 12, 31)}, f"trong năm {YEAR} hoặc năm {YEAR + 1}"),
        # Tomorrow is reckoned when the test runs, not when it is collected: a run across midnight would
        # otherwise send today.
        ({"decided_on": lambda: timezone.localdate() + datetime.timedelta(days=1)}, "không được sau ngày hôm nay"),
    ],
    ids=["number", "date", "body", "reason", "before the year", "future"],
)
def test_2025_a_decision_missing_a_part_is_refused_and_nothing_is_saved(ten, city, personas, changes, message):
    committee, officer = ten
    changes = {key: value() if callable(value) else value for key, value in changes.items()}
    period = open_period(city, personas, "2025")
    with pytest.raises(decisions.DecisionError, match=message):
        decisions.decisions_record(
            period=period,
            organization=committee,
            user=officer,
            choices=levels(period, committee, 2, 8),
            exception=decision(**changes),
        )
    assert nothing_decided(period, committee)
    assert not AuditEntry.objects.filter(action="quota_exception").exists()


# --- 2018 ------------------------------------------------------------------------------------------------


def test_2018_by_default_refuses_any_excess(ten, city, personas):
    committee, officer = ten
    period = open_period(city, personas, "2018")
    with pytest.raises(decisions.DecisionError, match="R2018-Q-MEMBER"):
        decisions.decisions_record(
            period=period,
            organization=committee,
            user=officer,
            choices=levels(period, committee, 2, 8),
            exception=decision(),
        )
    assert nothing_decided(period, committee)
    with pytest.raises(services.WorkflowError, match="R2018-Q-MEMBER"):
        decisions.exception_record(
            period=period,
            group=committee,
            group_queryset=decisions.member_assessments(period, committee),
            user=officer,
            subject_kind="member",
            decision=decision(),
        )
    assert not AuditEntry.objects.filter(action="quota_exception").exists()


def test_2018_with_the_parameter_allows_an_exception_as_configured(ten, city, personas):
    committee, officer = ten
    period = open_period(city, personas, "2018", {"quota_exception_allowed": True, "quota_exception_rate": "0.30"})
    # 30% of 7 HTTNV is 2: three HTXSNV are refused, two accepted with the decision.
    with pytest.raises(decisions.DecisionError, match="R2018-Q-MEMBER"):
        decisions.decisions_record(
            period=period,
            organization=committee,
            user=officer,
            choices=levels(period, committee, 3, 7),
            exception=decision(),
        )
    assert nothing_decided(period, committee)
    saved, box = decisions.decisions_record(
        period=period,
        organization=committee,
        user=officer,
        choices=levels(period, committee, 2, 8),
        exception=decision(),
    )
    assert saved == 10 and box.covered
    assert AuditEntry.objects.get(action="quota_exception").data["raised_cap"] == 2


# --- Through the screens, as the officer who decides -----------------------------------------------------


def test_the_2025_screen_asks_for_the_decision_and_refuses_beyond_25_percent(ten, city, personas, client_for):
    committee, officer = ten
    period = open_period(city, personas, "2025")
    client = client_for(officer)
    page = client.get(url(period, committee))
    text = page.content.decode()
    for name in ("exception_number", "exception_date", "exception_body", "exception_reason"):
        assert f'name="{name}"' in text
    # Everyone at once, 3 HTXSNV for 7 HTTNV, with a full decision: refused, citing the rule; nothing saved.
    response = client.post(url(period, committee), as_posted(levels(period, committee, 3, 7)) | DECISION)
    assert response.status_code == 400
    assert any("R2025-Q-EXCEPTION" in str(m) for m in response.context["messages"])
    assert nothing_decided(period, committee)
    # 2 for 8 without the decision's number: the field says so, nothing is saved.
    exactly = as_posted(levels(period, committee, 2, 8))
    response = client.post(url(period, committee), exactly | DECISION | {"exception_number": ""})
    assert response.status_code == 400
    assert response.context["exception_form"].errors["exception_number"]
    assert nothing_decided(period, committee)
    assert not AuditEntry.objects.filter(action="quota_exception").exists()
    # With the whole decision: saved, and the box shows the decision and what it covers.
    assert client.post(url(period, committee), exactly | DECISION).status_code == 302
    page = client.get(url(period, committee))
    box = page.context["box"]
    assert box.verdict == "over_covered" and box.decision["number"] == "125-QĐ/TU"
    text = page.content.decode()
    assert "125-QĐ/TU" in text and "20/11/2026" in text and "Ban Thường vụ Thành ủy" in text


def test_the_2025_exception_form_on_its_own_checks_every_field(ten, city, personas, client_for):
    committee, officer = ten
    period = open_period(city, personas, "2025")
    client = client_for(officer)
    decisions.decisions_record(
        period=period, organization=committee, user=officer, choices=levels(period, committee, 2, 0)
    )
    blank = {"action": "exception", "exception_reason": "Dẫn đầu"}
    response = client.post(url(period, committee), blank)
    assert response.status_code == 400
    errors = response.context["exception_form"].errors
    assert set(errors) == {"exception_number", "exception_date", "exception_body"}
    future = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    response = client.post(url(period, committee), {"action": "exception"} | DECISION | {"exception_date": future})
    assert response.status_code == 400 and response.context["exception_form"].errors["exception_date"]
    assert not AuditEntry.objects.filter(action="quota_exception").exists()
    # Recorded ahead: the proposals are not known, so the 25% is checked when everyone is decided.
    response = client.post(url(period, committee), {"action": "exception"} | DECISION)
    assert response.status_code == 302
    assert AuditEntry.objects.get(action="quota_exception").data["count"] == 2
    # 2 for 8 is covered; 2 for 7 (with one HTNV) is not, whatever was recorded.
    rest = levels(period, committee, 2, 8)
    refused = dict(rest) | {forms_of(period, committee)[-1].pk: ("HTNV", "")}
    assert client.post(url(period, committee), as_posted(refused)).status_code == 400
    assert client.post(url(period, committee), as_posted(rest)).status_code == 302


def test_the_2018_screen_offers_no_exception_and_refuses_the_excess(ten, city, personas, client_for):
    committee, officer = ten
    period = open_period(city, personas, "2018")
    client = client_for(officer)
    page = client.get(url(period, committee))
    assert page.context["exception_form"] is None
    assert 'name="exception_number"' not in page.content.decode()
    assert 'name="exception_reason"' not in page.content.decode()
    response = client.post(url(period, committee), as_posted(levels(period, committee, 2, 8)) | DECISION)
    assert response.status_code == 400
    assert any("R2018-Q-MEMBER" in str(m) for m in response.context["messages"])
    response = client.post(url(period, committee), {"action": "exception"} | DECISION, follow=True)
    assert response.status_code == 400
    assert any("R2018-Q-MEMBER" in str(m) for m in response.context["messages"])
    assert nothing_decided(period, committee)
    assert not AuditEntry.objects.filter(action="quota_exception").exists()


def test_the_2018_screen_with_the_parameter_offers_the_form(ten, city, personas, client_for):
    committee, officer = ten
    period = open_period(city, personas, "2018", {"quota_exception_allowed": True})
    client = client_for(officer)
    assert 'name="exception_number"' in client.get(url(period, committee)).content.decode()
    response = client.post(url(period, committee), as_posted(levels(period, committee, 2, 8)) | DECISION)
    assert response.status_code == 302
    assert AuditEntry.objects.get(action="quota_exception").data["rule"] == "R2018-Q-MEMBER"


def test_the_htmx_row_carries_the_decision_and_the_box_shows_it(ten, city, personas, client_for):
    committee, officer = ten
    period = open_period(city, personas, "2025")
    client = client_for(officer)
    choices = levels(period, committee, 1, 8)
    decisions.decisions_record(
        period=period, organization=committee, user=officer, choices={pk: v for pk, v in list(choices.items())[:9]}
    )
    last = forms_of(period, committee)[-1]
    # The last row at HTXSNV would decide everyone at 2 for 8: the row comes back refused, the box unchanged.
    row = {f"level-{last.pk}": "HTXSNV"}
    response = client.post(url(period, committee), row, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and "table-danger" in response.content.decode()
    assert 'id="quota-box"' not in response.content.decode()
    # With the decision (the row includes the exception form's fields): saved, the box swapped in with it.
    response = client.post(url(period, committee), row | DECISION, HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert response.status_code == 200 and 'id="quota-box"' in text and 'hx-swap-oob="true"' in text
    assert "125-QĐ/TU" in text and "Ban Thường vụ Thành ủy" in text
    last.refresh_from_db()
    assert last.decided_level == "HTXSNV"
    # Beyond 25%: another HTXSNV in place of an HTTNV (3 for 7) is refused on its row, citing the rule.
    other = forms_of(period, committee)[-2]
    response = client.post(url(period, committee), {f"level-{other.pk}": "HTXSNV"} | DECISION, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and "R2025-Q-EXCEPTION" in response.content.decode()
    other.refresh_from_db()
    assert other.decided_level == "HTTNV"
