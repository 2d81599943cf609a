"""Set-based bulk work: opening a period from plain values written in one stream, the rule facts of a long
list read by the subtree, `UPDATE … FROM (VALUES …)`, and the collector held still (bulk)."""

import datetime
import gc

import pytest
from django.db import connection

import bulk
from assessments import evaluations
from assessments.core import organization_facts as organization_facts_module
from assessments.core import services
from assessments.core.facts import member_facts_for, organization_facts, period_parameters
from assessments.evaluations import evaluate_assessments, facts_for
from assessments.models import Assessment, AuditEntry, Period
from assessments.rulebooks import get_rulebook
from members.models import CivilServiceRating, DisciplineDecision, LeavePeriod, Member, Transfer
from members.selectors import current_members
from organizations.models import Organization
from tests.factories import MemberFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

REFERENCE = datetime.date(2026, 12, 15)
Kind = Assessment.SubjectKind
COMPARED = (
    "subject_kind",
    "member_id",
    "organization_id",
    "form_variant",
    "classified",
    "exclusion_reason",
    "exclusion_rule",
    "exclusion_values",
)


def vary(city):
    """The small city made varied: statuses the rules exclude, new and probationary members, leaders
    and post holders, occupations the 2025 forms tell apart, records of the year, a subordinate cell, an
    organisation dissolved before the year (skipped) and one dissolved during it (kept)."""
    sub = OrganizationFactory(parent=city.committee_a, kind=Organization.Kind.SUBORDINATE_CELL)
    gone = OrganizationFactory(parent=city.committee_b, dissolved_on=datetime.date(2025, 6, 30))
    closing = OrganizationFactory(parent=city.committee_b, dissolved_on=datetime.date(2026, 6, 30))
    MemberFactory(cell=city.cell_a2, status=Member.Status.EXCUSED)
    MemberFactory(cell=city.cell_a2, status=Member.Status.SUSPENDED)
    MemberFactory(cell=city.cell_a2, status=Member.Status.DECEASED)
    MemberFactory(cell=sub, admission_date=REFERENCE - datetime.timedelta(days=100), official_date=None)
    MemberFactory(cell=sub, admission_date=REFERENCE - datetime.timedelta(days=300), official_date=None)
    head = MemberFactory(cell=sub, is_leader=True, party_post=Member.PartyPost.SECRETARY)
    DisciplineDecision.objects.create(member=head, decided_on=datetime.date(2026, 5, 1), form="reprimand", reason="x")
    MemberFactory(cell=closing, occupation=Member.Occupation.RETIRED)
    MemberFactory(cell=city.cell_c, occupation=Member.Occupation.STUDENT)
    worker = MemberFactory(cell=city.cell_b1, occupation=Member.Occupation.WORKER)
    DisciplineDecision.objects.create(member=worker, decided_on=datetime.date(2026, 3, 1), form="reprimand", reason="x")
    CivilServiceRating.objects.create(member=worker, year=2026, level="HTTNV")
    LeavePeriod.objects.create(
        member=worker, kind="sick", starts_on=datetime.date(2026, 1, 1), ends_on=datetime.date(2026, 8, 1)
    )
    moved = MemberFactory(cell=city.cell_a1)
    Transfer.objects.create(
        member=moved, transferred_on=datetime.date(2026, 6, 1), from_cell=city.cell_a2, to_cell=city.cell_a1
    )
    return gone


def as_before(period):
    """The assessments opening wrote before it was set-based: Member objects one by one, their facts
    read by their ids, the rulebook asked for each (what `period_open` did, kept here as the reference)."""
    rulebook = get_rulebook(period.regime)
    params = period_parameters(period)
    root = period.organization
    members = list(current_members().under(root).select_related("cell").order_by("pk"))
    facts = member_facts_for(members, period.year)
    rows = set()
    for member in members:
        kind = Kind.LEADER if member.is_leader else Kind.MEMBER
        exclusion = rulebook.exclusion(facts[member.pk], REFERENCE, params)
        fields = Assessment.exclusion_fields(exclusion)
        variant = rulebook.choose_variant(kind, facts[member.pk]) or ""
        rows.add((kind.value, member.pk, member.cell_id, variant, *_plain(fields)))
    for org in root.subtree().exclude(pk=root.pk):
        if org.dissolved_on and org.dissolved_on < datetime.date(period.year, 1, 1):
            continue
        fields = Assessment.exclusion_fields(rulebook.exclusion(organization_facts(org), REFERENCE, params))
        kinds = [Kind.ORGANIZATION] + ([] if org.kind == org.Kind.SUBORDINATE_CELL else [Kind.COLLECTIVE])
        for kind in kinds:
            rows.add((kind.value, None, org.pk, rulebook.choose_variant(kind) or "", *_plain(fields)))
    return rows


def _plain(fields):
    values = fields["exclusion_values"]
    return (fields["classified"], fields["exclusion_reason"], fields["exclusion_rule"], repr(sorted(values.items())))


def written(period):
    return {
        (*row[:-1], repr(sorted(row[-1].items())))
        for row in Assessment.objects.filter(period=period).values_list(*COMPARED)
    }


@pytest.mark.parametrize("regime", ["2018", "2025"])
def test_set_based_opening_writes_the_assessments_the_member_by_member_opening_wrote(city, personas, regime):
    gone = vary(city)
    period = Period.objects.create(organization=city.city, year=2026, regime=regime, self_review_due=REFERENCE)
    expected = as_before(period)
    result = services.period_open(period=period, user=personas.board)
    assert written(period) == expected
    # The rulebook's exclusions fired for some (with their reasons) and stayed quiet for the others.
    excluded = Assessment.objects.filter(period=period, classified=False)
    assert excluded.exists() and Assessment.objects.filter(period=period, classified=True).exists()
    assert all(a.exclusion_reason and a.exclusion_rule for a in excluded)
    assert len(result.excluded) == excluded.count()
    assert not Assessment.objects.filter(period=period, organization=gone).exists()
    assert not Assessment.objects.filter(period=period, member__status=Member.Status.DECEASED).exists()
    assert result.members + result.leaders + result.organizations + result.collectives == len(expected)
    # Every other column holds its default, and every row its own public id.
    states = Assessment.objects.filter(period=period).values_list("state", "version", "answers", "decided_level")
    assert all(row == (Assessment.State.NOT_STARTED, 0, {}, "") for row in states)
    assert Assessment.objects.filter(period=period).values("public_id").distinct().count() == len(expected)
    assert AuditEntry.objects.filter(period=period, action="open", data__assessments=len(expected)).exists()


@pytest.mark.parametrize("part", [1, 3, 7])
def test_an_opening_by_small_parts_writes_what_one_part_writes(city, personas, monkeypatch, part):
    """A province's opening reads and writes its members a part at a time (a run of cells of at most
    OPENING_PART members) and its organisations by pages: the rows, the counts, the exclusions and the
    progress are those of one part."""
    vary(city)
    period = Period.objects.create(organization=city.city, year=2026, regime="2025", self_review_due=REFERENCE)
    expected = as_before(period)
    monkeypatch.setattr(services, "OPENING_PART", part)
    told = []
    result = services.period_open(period=period, user=personas.board, progress=lambda d, t: told.append((d, t)))
    assert written(period) == expected
    assert result.members + result.leaders + result.organizations + result.collectives == len(expected)
    assert len(result.excluded) == Assessment.objects.filter(period=period, classified=False).count()
    assert told[0] == (0, len(expected)) and told[-1] == (len(expected), len(expected))
    assert [done for done, _ in told] == sorted(done for done, _ in told)


def test_the_2025_forms_differ_by_occupation_when_opened_set_based(city, personas):
    vary(city)
    period = Period.objects.create(organization=city.city, year=2026, regime="2025", self_review_due=REFERENCE)
    services.period_open(period=period, user=personas.board)
    variants = dict(
        Assessment.objects.filter(period=period, subject_kind=Kind.MEMBER).values_list(
            "member__occupation", "form_variant"
        )
    )
    assert (variants[Member.Occupation.CIVIL_SERVANT], variants[Member.Occupation.RETIRED]) == ("2B", "2C")


def test_opening_tells_its_progress_up_to_every_row(city, personas):
    period = Period.objects.create(organization=city.city, year=2026, regime="2018", self_review_due=REFERENCE)
    told = []
    services.period_open(period=period, user=personas.board, progress=lambda done, total: told.append((done, total)))
    total = Assessment.objects.filter(period=period).count()
    assert told[0] == (0, total) and told[-1] == (total, total)


@pytest.mark.parametrize("threshold, analysed", [(1, True), (10_000, False)])
def test_a_large_opening_has_the_database_analyse_the_forms(city, personas, monkeypatch, threshold, analysed):
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(services, "ANALYZE_AFTER", threshold)
    period = Period.objects.create(organization=city.city, year=2026, regime="2018", self_review_due=REFERENCE)
    with CaptureQueriesContext(connection) as queries:
        services.period_open(period=period, user=personas.board)
    analyses = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("ANALYZE")]
    assert analyses == (['ANALYZE "assessments_assessment"'] if analysed else [])


def test_a_long_list_s_rule_facts_read_by_the_subtree_are_those_read_by_ids(city, personas, monkeypatch):
    vary(city)
    period = Period.objects.create(organization=city.city, year=2026, regime="2018", self_review_due=REFERENCE)
    services.period_open(period=period, user=personas.board)
    # One member moved to a cell outside the ones the list is assessed in: read by id (Scope.outside).
    elsewhere = OrganizationFactory(parent=city.city, kind=Organization.Kind.GRASSROOTS_CELL)
    Member.objects.filter(pk=personas.member_a2.pk).update(cell=elsewhere)
    reviews = list(Assessment.objects.filter(period=period).select_related("member", "organization").order_by("pk"))
    by_ids = facts_for(period, reviews)
    monkeypatch.setattr(evaluations, "LONG_LIST", 1)
    monkeypatch.setattr(organization_facts_module, "LONG_LIST", 1)
    scope = evaluations.member_scope([a for a in reviews if a.member_id])
    assert scope.path == city.city.path and scope.outside == (personas.member_a2.pk,)
    assert facts_for(period, reviews) == by_ids
    assert evaluate_assessments(period, reviews).keys() == {a.pk for a in reviews if a.classified}


def test_update_from_values_sets_exactly_the_rows_given(city, personas):
    period = Period.objects.create(organization=city.city, year=2026, regime="2018", self_review_due=REFERENCE)
    services.period_open(period=period, user=personas.board)
    first, second, untouched = Assessment.objects.filter(period=period, member__isnull=False).order_by("pk")[:3]
    now = datetime.datetime(2026, 12, 20, 8, 0, tzinfo=datetime.UTC)
    changed = bulk.update_from_values(
        Assessment,
        ("decided_level", "decision_note"),
        [(first.pk, "HTXSNV", "tab\there"), (second.pk, "KHTNV", "")],
        set_values={"decided_at": now, "state": Assessment.State.DECIDED},
        increment=("version",),
    )
    assert changed == 2
    fields = ("decided_level", "decision_note", "decided_at", "state", "version")
    rows = {
        pk: tuple(values)
        for pk, *values in Assessment.objects.filter(pk__in=[first.pk, second.pk, untouched.pk]).values_list(
            "pk", *fields
        )
    }
    assert rows[first.pk] == ("HTXSNV", "tab\there", now, "decided", 1)
    assert rows[second.pk] == ("KHTNV", "", now, "decided", 1)
    assert rows[untouched.pk] == ("", "", None, "not_started", 0)


def test_update_from_values_with_no_rows_changes_nothing(city):
    assert bulk.update_from_values(Assessment, ("decided_level",), []) == 0


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_put_back_as_it_was_even_on_error(enabled):
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        with pytest.raises(RuntimeError), bulk.frozen_gc():
            assert not gc.isenabled() and gc.get_freeze_count() > 0
            raise RuntimeError("boom")
        assert gc.isenabled() is enabled and gc.get_freeze_count() == 0
    finally:
        (gc.enable if was else gc.disable)()


def test_what_is_made_under_a_still_collector_leaves_it_in_the_oldest_generation():
    # The first young collection after would otherwise walk all of it at once.
    with bulk.frozen_gc():
        made = [[] for _ in range(100)]
    assert gc.get_freeze_count() == 0
    assert not any(obj is made for obj in gc.get_objects(generation=0))
    assert any(obj is made for obj in gc.get_objects(generation=2))


@pytest.mark.django_db(transaction=True)
def test_report_transaction_turns_the_jit_off_on_postgresql_for_its_transaction_only():
    if connection.vendor != "postgresql":
        with bulk.report_transaction():
            assert connection.in_atomic_block
        assert not connection.in_atomic_block
        return
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        before = cursor.fetchone()[0]
        with bulk.report_transaction():
            cursor.execute("SHOW jit")
            assert cursor.fetchone()[0] == "off"
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == before


def test_rows_written_in_one_stream_keep_every_character_and_the_defaults(city, personas):
    period = Period.objects.create(organization=city.city, year=2026, regime="2018", self_review_due=REFERENCE)
    awkward = 'tab\there, line\nbreak, back\\slash \\N, "quoted", ạ'
    told = []
    written = bulk.insert_dicts(
        AuditEntry,
        [
            {"action": "decide", "actor": personas.board, "period": period, "reason": awkward, "data": {"k": awkward}},
            {"action": "decide", "actor": None, "period": period, "reason": "", "data": {}},
        ],
    )
    assert written == 2
    first, second = AuditEntry.objects.filter(period=period, action="decide").order_by("pk")
    assert (first.actor, first.reason, first.data) == (personas.board, awkward, {"k": awkward})
    assert (second.actor, second.reason, second.data, second.from_state) == (None, "", {}, "")
    assert first.at is not None and first.assessment_id is None
    rows = bulk.insert_rows(
        Assessment,
        ("period_id", "subject_kind", "organization_id"),
        [(period.pk, Kind.ORGANIZATION, city.cell_c.pk)],
        progress=told.append,
    )
    assert rows == 1 and told == [1]
    made = Assessment.objects.get(period=period)
    assert (made.classified, made.answers, made.state, made.member_id) == (True, {}, "not_started", None)


def _audit_rows(period, count, *, fail_after=None, awkward=""):
    for i in range(count):
        if fail_after is not None and i == fail_after:
            raise RuntimeError("the rows' maker broke")
        yield (period.pk, "decide", f"{awkward}{i}", {"i": i})


def test_a_pipelined_stream_writes_every_row_as_one_query(city, django_assert_num_queries):
    period = Period.objects.create(organization=city.city, year=2026, regime="2018", self_review_due=REFERENCE)
    told = []
    awkward = 'tab\there, line\nbreak, back\\slash \\N, "quoted", ạ '
    queries = 1 if connection.vendor == "postgresql" else None
    rows = _audit_rows(period, 12_345, awkward=awkward)
    columns = ("period_id", "action", "reason", "data")
    if queries:
        with django_assert_num_queries(queries):
            written = bulk.insert_rows(AuditEntry, columns, rows, progress=told.append, pipelined=True)
    else:
        written = bulk.insert_rows(AuditEntry, columns, rows, progress=told.append, pipelined=True)
    assert written == 12_345 and told[-1] == 12_345 and told == sorted(told)
    reasons = dict(AuditEntry.objects.filter(period=period).values_list("reason", "data"))
    assert len(reasons) == 12_345 and reasons[f"{awkward}12344"] == {"i": 12344}


def test_a_pipelined_stream_broken_midway_leaves_no_row(city):
    from django.db import transaction

    period = Period.objects.create(organization=city.city, year=2026, regime="2018", self_review_due=REFERENCE)
    with pytest.raises(RuntimeError, match="maker broke"), transaction.atomic():
        bulk.insert_rows(
            AuditEntry,
            ("period_id", "action", "reason", "data"),
            _audit_rows(period, 30_000, fail_after=17_000),
            pipelined=True,
        )
    assert not AuditEntry.objects.filter(period=period, action="decide").exists()
    # The connection is usable again: the next statement runs.
    assert Period.objects.filter(pk=period.pk).exists()


def test_a_pipelined_stream_stops_when_its_progress_says_cancelled(city):
    from django.db import transaction

    from jobs.registry import JobCancelled

    period = Period.objects.create(organization=city.city, year=2026, regime="2018", self_review_due=REFERENCE)

    def progress(done):
        if done >= 10_000:
            raise JobCancelled

    with pytest.raises(JobCancelled), transaction.atomic():
        bulk.insert_rows(
            AuditEntry,
            ("period_id", "action", "reason", "data"),
            _audit_rows(period, 30_000),
            progress=progress,
            pipelined=True,
        )
    assert not AuditEntry.objects.filter(period=period, action="decide").exists()


def _listed(city):
    from django.db.models import F, Value
    from django.db.models.functions import Concat

    for cell in (city.cell_a1, city.cell_b1, city.cell_c):
        MemberFactory.create_batch(3, cell=cell)
    # An annotation named between two columns: the rows keep the order the values_list names.
    return (
        Member.objects.filter(cell__path__startswith=city.city.path)
        .annotate(label=Concat(F("full_name"), Value(" ·")))
        .order_by("pk")
        .values_list("pk", "label", "date_of_birth", "cell__path")
    )


def _fetching_threads():
    import threading

    return [thread for thread in threading.enumerate() if thread.name == "fetched-ahead"]


def test_rows_fetched_ahead_are_the_querysets_rows_in_its_order_and_one_query(city):
    from django.test.utils import CaptureQueriesContext

    queryset = _listed(city)
    expected = list(queryset.iterator(chunk_size=3))
    assert len(expected) > 7
    with CaptureQueriesContext(connection) as queries:
        fetched = list(bulk.fetched_ahead(queryset, 3))
    assert fetched == expected and all(type(row) is tuple for row in fetched)
    assert isinstance(fetched[0][2], datetime.date)
    assert len(queries.captured_queries) == 1
    assert not _fetching_threads()
    assert list(bulk.fetched_ahead(queryset.none(), 3)) == []


@pytest.mark.django_db(transaction=True)
def test_rows_fetched_ahead_outside_a_transaction(city):
    queryset = _listed(city)
    assert not connection.in_atomic_block
    assert list(bulk.fetched_ahead(queryset, 2)) == list(queryset) and queryset.count() == 9
    assert not _fetching_threads()


def test_rows_fetched_ahead_stop_when_the_reader_stops_and_leave_the_connection_free(city):
    rows = bulk.fetched_ahead(_listed(city), 2)
    first = next(rows)
    rows.close()
    assert not _fetching_threads()
    assert first[0] == Member.objects.filter(cell__path__startswith=city.city.path).order_by("pk").first().pk
    assert Member.objects.filter(cell__path__startswith=city.city.path).count() > 7


def test_a_database_error_while_fetching_ahead_is_raised_to_the_reader(city):
    from django.db import DatabaseError, transaction
    from django.db.models import F

    with pytest.raises(TypeError, match="values_list"):
        next(bulk.fetched_ahead(Member.objects.values_list("pk", flat=True), 2))
    if connection.vendor != "postgresql":
        return  # (SQLite reads the queryset's own iterator, and divides by zero without an error)
    MemberFactory.create_batch(5, cell=city.cell_a1)
    failing = Member.objects.annotate(broken=F("pk") / 0).order_by("pk").values_list("pk", "broken")
    with pytest.raises(DatabaseError, match="division by zero"), transaction.atomic():
        list(bulk.fetched_ahead(failing, 2))
    assert not _fetching_threads()
    assert Member.objects.count() >= 5


def _fields(instance):
    return {name: value for name, value in vars(instance).items() if name != "_state"}


def test_instances_made_from_values_are_those_the_orm_makes(city, personas, django_assert_num_queries):
    """`made_with` gives what `select_related` gives: every field converted by its field (the answers'
    JSON, dates, a null), the related object read without a query, each saved as the row it is."""
    from django.utils import timezone

    period = Period.objects.create(organization=city.city, year=2026, regime="2025", self_review_due=REFERENCE)
    services.period_open(period=period, user=personas.board)
    forms = Assessment.objects.filter(period=period).order_by("pk")
    first = forms.first()
    first.answers, first.decided_level, first.decided_at = {"c1": "3", "note": "Chi bộ"}, "HTTNV", timezone.now()
    first.save()
    expected = list(forms.select_related("organization"))
    with django_assert_num_queries(1):
        made = bulk.made_with(forms, "organization")
        organizations = [instance.organization for instance in made]
    assert len(made) == len(expected) > 5
    for instance, orm in zip(made, expected, strict=True):
        assert type(instance) is Assessment and _fields(instance) == _fields(orm)
        assert _fields(instance.organization) == _fields(orm.organization)
        assert instance._state.adding is False and instance._state.db == "default"
    assert made[0].answers == {"c1": "3", "note": "Chi bộ"} and made[0].decided_at == first.decided_at
    assert organizations[0].path == first.organization.path
    made[0].decision_note = "saved as the row it is"
    made[0].save(update_fields=["decision_note"])
    assert Assessment.objects.filter(period=period).count() == len(made)
    assert Assessment.objects.get(pk=made[0].pk).decision_note == "saved as the row it is"


def test_instances_made_from_values_with_a_related_object_missing_and_refused_with_init_receivers(city, personas):
    from django.db.models.signals import post_init

    without = MemberFactory(cell=city.cell_a1, user=None)
    members = Member.objects.filter(cell__path__startswith=city.city.path).order_by("pk")
    made = bulk.made_with(members, "user")
    assert {m.pk: m.user for m in made}[without.pk] is None
    assert any(m.user is not None for m in made)
    assert [_fields(m) for m in made] == [_fields(m) for m in members.select_related("user")]

    def receiver(**kwargs):
        pass

    post_init.connect(receiver, sender=Member)
    try:
        with pytest.raises(ValueError, match="post_init"):
            bulk.made_with(members, "user")
    finally:
        post_init.disconnect(receiver, sender=Member)
