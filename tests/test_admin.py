"""The admin as the board's working tool: every changelist and change form opens, searches work with
and without diacritics, the query count of each changelist does not grow with the data, and impossible
input is refused with a message and changes nothing."""

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import FailedSignIn
from assessments.models import Assessment, AuditEntry, DecisionConflict, OrganizationReview, Period, Recheck
from jobs.models import Job
from members.models import CivilServiceRating, DisciplineDecision, Member
from organizations.models import Cluster, Organization
from tests.factories import ClusterFactory, MemberFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label)


@pytest.fixture
def admin_client_(client, personas):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    return client


def changelist(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def change(obj):
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def test_every_registered_model_has_a_changelist_test():
    assert {m._meta.label for m in MODELS} == set(CHANGELIST_QUERIES)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_changelist_and_add_form_open(model, admin_client_):
    assert admin_client_.get(changelist(model)).status_code == 200
    add = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
    expected = 403 if model in (FailedSignIn, Assessment, AuditEntry, OrganizationReview, Job) else 200
    assert admin_client_.get(add).status_code == expected


def test_change_forms_open(admin_client_, personas, city):
    ClusterFactory()
    for obj in [personas.member_record, city.committee_a, personas.board, Cluster.objects.first()]:
        assert admin_client_.get(change(obj)).status_code == 200, obj


def grow(city, n):
    period, _ = Period.objects.get_or_create(organization=city.city, year=2026, regime="2018")
    cluster = ClusterFactory()
    for _ in range(n):
        cell = OrganizationFactory(parent=city.committee_a, cluster=cluster)
        for _ in range(4):
            m = MemberFactory(cell=cell)
        DisciplineDecision.objects.create(member=m, decided_on="2025-03-01", form="reprimand", reason="x")
        CivilServiceRating.objects.create(member=m, year=2025, level="HTTNV")
        FailedSignIn.objects.create(
            username=f"u{m.pk}", ip_address="203.0.113.1", user_agent="x", failures_since_start=5, http_accept="x"
        )
        user = UserFactory()
        assessment = Assessment.objects.create(period=period, subject_kind="member", member=m, organization=cell)
        Assessment.objects.create(period=period, subject_kind="organization", organization=cell)
        AuditEntry.objects.create(period=period, assessment=assessment, actor=user, on_behalf_of=m, action="save")
        Recheck.objects.create(
            period=period, assessment=assessment, kind="complaint", summary="x", opened_on="2026-12-01", opened_by=user
        )
        DecisionConflict.objects.create(user=user, member=m, reason="x", recorded_by=user)
        Job.objects.create(kind="reminders", organization=cell, period=period, started_by=user)


def count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


# Queries of each changelist, the same at any size: session, user, the two counts of the paginator
# (filtered and total), and the page of rows with its joins. Besides: User lists the groups for its
# filter; Organization lists the clusters for its filter, counts once (no full count: its list is already
# one level) and reads the rows once, then their member counts in one grouped query.
# Assessment and OrganizationReview list the periods for their filter (the latter's member counts and
# evaluators' forms are subqueries of its one list query); AuditEntry the periods and the distinct actions;
# Period the distinct regimes and years; Recheck the periods; DecisionConflict none; Job the dates
# of its date hierarchy (two queries).
CHANGELIST_QUERIES = {
    "accounts.FailedSignIn": 5,
    "assessments.Assessment": 6,
    "assessments.AuditEntry": 7,
    "assessments.DecisionConflict": 5,
    "assessments.OrganizationReview": 6,
    "assessments.Period": 7,
    "assessments.Recheck": 6,
    "auth.Group": 5,
    "jobs.Job": 7,
    "auth.User": 6,
    "members.Member": 5,
    "organizations.Cluster": 5,
    "organizations.Organization": 6,
    "organizations.RoleAssignment": 5,
}


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_changelist_query_count_does_not_grow_with_the_data(model, admin_client_, city):
    url = changelist(model)
    grow(city, 2)
    small = count(admin_client_, url)
    grow(city, 30)
    large = count(admin_client_, url)
    assert small == large == CHANGELIST_QUERIES[model._meta.label]


def test_organization_changelist_shows_member_counts(admin_client_, city):
    response = admin_client_.get(changelist(Organization), {"q": "Đảng bộ A"})
    content = response.content.decode()
    assert "Đảng bộ A" in content
    rows = {org.code: org.member_total for org in response.context["cl"].result_list}
    assert rows["dang-bo-a"] == 5


@pytest.mark.parametrize("term", ["Nguyen Van", "nguyễn văn", "Dung"])
def test_member_search_with_and_without_diacritics(admin_client_, personas, term):
    response = admin_client_.get(changelist(Member), {"q": term})
    results = list(response.context["cl"].result_list)
    assert personas.member_a2 in results
    assert personas.member_record not in results


def test_member_search_by_card_number_and_by_cell(admin_client_, personas):
    by_card = admin_client_.get(changelist(Member), {"q": personas.member_b1.card_number})
    assert list(by_card.context["cl"].result_list) == [personas.member_b1]
    by_cell = admin_client_.get(changelist(Member), {"q": "Chi bo B1"})
    assert set(by_cell.context["cl"].result_list) == set(Member.objects.filter(cell__code="chi-bo-b1"))


def test_member_filters_by_status_occupation_and_sector(admin_client_, personas, city):
    Organization.objects.filter(pk=city.cell_c.pk).update(sector=Organization.Sector.SCHOOL)
    Member.objects.filter(pk=personas.member_b1.pk).update(status="suspended", occupation="retired")
    assert list(admin_client_.get(changelist(Member), {"status__exact": "suspended"}).context["cl"].result_list) == [
        personas.member_b1
    ]
    assert list(admin_client_.get(changelist(Member), {"occupation__exact": "retired"}).context["cl"].result_list) == [
        personas.member_b1
    ]
    school = admin_client_.get(changelist(Member), {"cell__sector__exact": "school"}).context["cl"].result_list
    assert [m.full_name for m in school] == ["Bùi Thị Hạnh"]


def member_form_data(member, **changes):
    data = {
        "full_name": member.full_name,
        "gender": member.gender,
        "date_of_birth": "01/05/1970",
        "card_number": member.card_number,
        "cell": member.cell_id,
        "status": member.status,
        "status_since": "",
        "admission_date": "19/05/1995",
        "official_date": "19/05/1996",
        "party_post": "",
        "occupation": member.occupation,
        "work_unit": "",
        "government_post": "",
        "email": "",
        "phone": "",
        "user": "",
    }
    for prefix in [
        "discipline_decisions",
        "transfers",
        "leave_periods",
        "civil_service_ratings",
        "degradation_conclusions",
        "leader_years",
        "temporary_attachments",
        "committee_suspensions",
    ]:
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    data.update(changes)
    return data


def test_member_form_saves_good_input(admin_client_, personas):
    member = personas.member_a2
    response = admin_client_.post(change(member), member_form_data(member, full_name="Nguyễn Văn Dũng Mới"))
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.full_name == "Nguyễn Văn Dũng Mới"


def test_member_form_refuses_official_date_before_admission_and_changes_nothing(admin_client_, personas):
    member = personas.member_a2
    response = admin_client_.post(
        change(member), member_form_data(member, full_name="Tên Mới", official_date="01/01/1990")
    )
    assert response.status_code == 200
    assert "official_date" in response.context["adminform"].form.errors
    member.refresh_from_db()
    assert member.full_name == "Nguyễn Văn Dũng"


def test_member_form_refuses_a_duplicate_card(admin_client_, personas):
    member = personas.member_a2
    response = admin_client_.post(change(member), member_form_data(member, card_number=personas.member_b1.card_number))
    assert response.status_code == 200
    assert "card_number" in response.context["adminform"].form.errors


def test_member_form_refuses_an_inline_leave_ending_before_it_starts(admin_client_, personas):
    member = personas.member_a2
    data = member_form_data(
        member,
        **{
            "leave_periods-TOTAL_FORMS": "1",
            "leave_periods-0-kind": "sick",
            "leave_periods-0-starts_on": "01/05/2025",
            "leave_periods-0-ends_on": "01/04/2025",
        },
    )
    response = admin_client_.post(change(member), data)
    assert response.status_code == 200
    assert member.leave_periods.count() == 0


def suspension_data(member, **values):
    """The member's page with one suspension from committee activities filled in."""
    fields = {"year": "2026", "suspended_on": "01/06/2026", "body": "Ban Thường vụ Đảng ủy A"} | values
    return member_form_data(
        member,
        **{"committee_suspensions-TOTAL_FORMS": "1"},
        **{f"committee_suspensions-0-{name}": value for name, value in fields.items()},
    )


def test_the_board_enters_a_suspension_from_committee_activities_on_the_member_page(client, personas):
    from members.models import CommitteeSuspension

    client.force_login(personas.board)
    member = personas.member_a2
    assert "committee_suspensions-TOTAL_FORMS" in client.get(change(member)).content.decode()
    response = client.post(change(member), suspension_data(member))
    assert response.status_code == 302
    [saved] = CommitteeSuspension.objects.filter(member=member)
    assert (saved.year, str(saved.suspended_on)) == (2026, "2026-06-01")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"suspended_on": "15/12/2025"}, "Ngày đình chỉ phải nằm trong năm kiểm điểm (2026)."),
        ({"year": "2025", "suspended_on": "02/01/2026"}, "Ngày đình chỉ phải nằm trong năm kiểm điểm (2025)."),
        ({"suspended_on": "30/12/2026"}, "Ngày đình chỉ không thể ở tương lai."),
        ({"suspended_on": ""}, "Mục này bắt buộc phải điền."),
    ],
)
def test_a_bad_suspension_from_committee_activities_is_refused_and_nothing_is_saved(
    admin_client_, personas, values, message
):
    member = personas.member_a2
    response = admin_client_.post(change(member), suspension_data(member, full_name="Tên Mới", **values))
    assert response.status_code == 200
    assert message in response.content.decode()
    member.refresh_from_db()
    assert member.full_name == "Nguyễn Văn Dũng" and not member.committee_suspensions.exists()


def test_a_second_suspension_from_committee_activities_in_a_year_is_refused(admin_client_, personas):
    from members.models import CommitteeSuspension

    member = personas.member_a2
    CommitteeSuspension.objects.create(member=member, year=2026, suspended_on="2026-03-01", body="Đảng ủy A")
    response = admin_client_.post(change(member), suspension_data(member))
    assert response.status_code == 200
    assert "Đảng viên này đã có một lần đình chỉ sinh hoạt cấp ủy trong năm này." in response.content.decode()
    assert member.committee_suspensions.get().suspended_on.isoformat() == "2026-03-01"


@pytest.mark.parametrize(
    ("prefix", "model", "fields", "message"),
    [
        (
            "civil_service_ratings",
            "CivilServiceRating",
            {"year": "2026", "level": "HTTNV"},
            "Đảng viên này đã có kết quả xếp loại cán bộ, công chức, viên chức của năm này.",
        ),
        ("leader_years", "LeaderYear", {"year": "2026"}, "Cán bộ này đã có bản ghi cho năm này."),
    ],
)
def test_a_second_year_record_of_a_kind_is_refused_with_a_message(
    admin_client_, personas, prefix, model, fields, message
):
    """A record of the year entered twice (a page opened before another saved it): a message on the
    form, not a database error, and nothing saved."""
    from members import models

    member = personas.member_a2
    model = getattr(models, model)
    model.objects.create(member=member, **fields)
    data = member_form_data(
        member,
        full_name="Tên Mới",
        **{f"{prefix}-TOTAL_FORMS": "1"},
        **{f"{prefix}-0-{name}": value for name, value in fields.items()},
    )
    response = admin_client_.post(change(member), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    member.refresh_from_db()
    assert member.full_name == "Nguyễn Văn Dũng" and model.objects.filter(member=member).count() == 1


def org_form_data(org, **changes):
    data = {
        "name": org.name,
        "code": org.code,
        "kind": org.kind,
        "sector": org.sector,
        "cluster": "",
        "founded_on": "01/01/2000",
        "dissolved_on": "",
        "treebeard_position": "sorted-child",
        "treebeard_ref_node": Organization.objects.get_parent(org).pk if org.depth > 1 else "",
        # The records and the years inlines (OrganizationRecordInline, OrganizationYearInline): none added.
        "records-TOTAL_FORMS": "0",
        "records-INITIAL_FORMS": "0",
        "years-TOTAL_FORMS": "0",
        "years-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def test_organization_form_refuses_a_cycle_and_changes_nothing(admin_client_, city):
    org = city.committee_a
    response = admin_client_.post(change(org), org_form_data(org, name="Đổi tên", treebeard_ref_node=city.cell_a1.pk))
    assert response.status_code == 200
    assert "treebeard_ref_node" in response.context["adminform"].form.errors
    org.refresh_from_db()
    assert org.name == "Đảng bộ A"
    assert Organization.objects.get_parent(org) == city.city
    assert Organization.objects.find_problems() == ([], [], [], [], [])


def test_organization_form_refuses_dissolution_before_founding(admin_client_, city):
    org = city.cell_a2
    response = admin_client_.post(change(org), org_form_data(org, name="Đổi tên", dissolved_on="01/01/1999"))
    assert response.status_code == 200
    assert "dissolved_on" in response.context["adminform"].form.errors
    org.refresh_from_db()
    assert org.name == "Chi bộ A2" and org.dissolved_on is None


def test_organization_form_moves_a_cell_to_another_committee(admin_client_, city):
    org = city.cell_a2
    response = admin_client_.post(change(org), org_form_data(org, treebeard_ref_node=city.committee_b.pk))
    assert response.status_code == 302
    assert Organization.objects.get_parent(Organization.objects.get(pk=org.pk)) == city.committee_b
    assert Organization.objects.find_problems() == ([], [], [], [], [])


def test_board_user_without_superuser_uses_the_admin_through_group_permissions(client, personas):
    assert not personas.board.user_permissions.exists() and not personas.board.is_superuser
    client.force_login(personas.board)
    assert client.get(changelist(Member)).status_code == 200
    assert client.get(changelist(Organization)).status_code == 200


def test_a_plain_member_cannot_open_the_admin(client, personas):
    client.force_login(personas.member)
    response = client.get(changelist(Member))
    assert response.status_code == 302
    assert "/admin/login/" in response.url


def test_renaming_an_organization_keeps_siblings_in_name_order(admin_client_, city):
    org = city.cell_a1
    response = admin_client_.post(change(org), org_form_data(org, name="Chi bộ Z"))
    assert response.status_code == 302
    children = [o.name for o in Organization.objects.get_children(Organization.objects.get(pk=city.committee_a.pk))]
    assert children == ["Chi bộ A2", "Chi bộ Z"]
    assert Organization.objects.find_problems() == ([], [], [], [], [])


def test_a_transfer_entered_on_the_member_page_moves_the_open_review(admin_client_, personas, city):
    """The board enters the transfer in the member's page; the open period's review follows the member."""
    import datetime

    from assessments.core import services
    from assessments.models import Assessment, AuditEntry, Period

    period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=period, user=personas.board)
    member = personas.member_a2
    data = member_form_data(
        member,
        **{
            "transfers-TOTAL_FORMS": "1",
            "transfers-0-transferred_on": "01/08/2026",
            "transfers-0-from_cell": city.cell_a2.pk,
            "transfers-0-to_cell": city.cell_b1.pk,
            "transfers-0-former_cell_comment": "",
            "transfers-0-note": "Chuyển công tác",
        },
    )
    response = admin_client_.post(change(member), data, follow=True)
    assert response.status_code == 200
    member.refresh_from_db()
    assert member.cell == city.cell_b1
    review = Assessment.objects.get(period=period, member=member)
    assert (review.organization, review.former_organization) == (city.cell_b1, city.cell_a2)
    entry = AuditEntry.objects.get(assessment=review, action="transfer")
    assert entry.reason == "Chuyển công tác" and entry.data["outcome"] == "moved"
    assert any("Chi bộ B1" in str(m) for m in response.context["messages"])
    assert datetime.date(2026, 8, 1) == member.transfers.get().transferred_on


# --- The secretary of a committee ---------------------------------------------------------------------------


def test_the_board_names_a_committees_secretary_on_the_member_page(client_for, personas, city):
    board = client_for(personas.board)
    member = personas.member_a2
    page = board.get(change(member)).content.decode()
    assert 'name="headed_committee"' in page
    data = member_form_data(member, headed_committee=city.committee_a.pk, is_leader="on")
    assert board.post(change(member), data).status_code == 302
    member.refresh_from_db()
    assert member.headed_committee == city.committee_a and member.is_leader
    # The member's page says so.
    detail = board.get(reverse("members:detail", args=[member.public_id])).content.decode()
    assert "Đảng bộ A" in detail and "headed-committee" in detail


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"headed_committee": "committee_a"}, "is_leader"),  # a committee's secretary is reviewed as a leader
        ({"headed_committee": "committee_b", "is_leader": "on"}, "headed_committee"),  # not above the member's cell
        ({"headed_committee": "cell_a2", "is_leader": "on"}, "headed_committee"),  # a cell: by the party post
    ],
)
def test_a_committee_secretary_who_cannot_be_is_refused_and_nothing_changes(client_for, personas, city, changes, field):
    board = client_for(personas.board)
    member = personas.member_a2
    values = {key: getattr(city, value).pk if key == "headed_committee" else value for key, value in changes.items()}
    response = board.post(change(member), member_form_data(member, **values))
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    member.refresh_from_db()
    assert member.headed_committee is None and not member.is_leader


def test_a_committee_has_one_secretary(client_for, personas, city):
    Member.objects.filter(pk=personas.member_a2.pk).update(headed_committee=city.committee_a, is_leader=True)
    other = personas.member_a1_other
    response = client_for(personas.board).post(
        change(other), member_form_data(other, headed_committee=city.committee_a.pk, is_leader="on")
    )
    assert response.status_code == 200
    assert "Another member is already the secretary of this committee." in response.content.decode() or (
        "đã là bí thư" in response.content.decode()
    )
    other.refresh_from_db()
    assert other.headed_committee is None
