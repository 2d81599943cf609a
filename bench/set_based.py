"""The set-based figures on the demo already seeded in the configured database (`seed_demo --members N`):
`python bench/set_based.py [--runs 3]`, with DATABASE_URL for PostgreSQL.

It prints, as JSON, the median seconds of:
- `open_period_s`: opening a period of the whole demo (a new year, so the full roster);
- `copy_floor_s`: the database's COPY of the same rows into the same table (PostgreSQL only: the floor
  opening is measured against; None on SQLite);
- `rules_s`: every rule for every member of the open period (`evaluate_assessments` on the loaded list,
  as the decision screens ask it);
- `app_cpu_s`: the CPU seconds of this process over the whole run (the machine's load shows in the
  wall figures, not in this one);
- `decisions_s`: recording 2,000 decisions at once (`decisions_record` on a grassroots committee of
  2,000 members built for the purpose, rules checked, quota counted, audited), and `decisions_write_s`
  its writes alone (`record_levels`, rows already read).

Everything it writes is rolled back: the database is left as it was. `bench/run.py` may call the
functions (`open_period_seconds`, `copy_floor_seconds`, `rules_seconds`, `decisions_seconds`)."""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from assessments.models import Assessment, Period  # noqa: E402
from organizations.models import Organization  # noqa: E402

DECISIONS = 2000


class _Rollback(Exception):
    pass


@contextmanager
def rolled_back():
    """A transaction that is always rolled back: the measured writes leave nothing behind."""
    try:
        with transaction.atomic():
            yield
            raise _Rollback
    except _Rollback:
        pass


def _board():
    return get_user_model().objects.get(username="bantochuc")


def _new_period(root: Organization, offset: int = 100) -> Period:
    current = Period.objects.filter(organization=root).order_by("-year").first()
    return Period.objects.create(organization=root, year=current.year + offset, regime=current.regime)


def open_period_seconds(root: Organization) -> float:
    """Seconds to open a new period of `root` (rolled back)."""
    from assessments.core import services

    with rolled_back():
        period = _new_period(root)
        started = time.perf_counter()
        services.period_open(period=period, user=_board())
        return time.perf_counter() - started


def copy_floor_seconds(root: Organization) -> float | None:
    """Seconds for PostgreSQL's COPY of the rows opening a period of `root` writes, into the same table
    (every column opening fills, the key left to the database): the floor of opening. None on SQLite."""
    from assessments.core import services

    if connection.vendor != "postgresql":
        return None
    table = Assessment._meta.db_table
    columns = ", ".join(f.column for f in Assessment._meta.concrete_fields if f.column != "id")
    with rolled_back():
        period = _new_period(root)
        services.period_open(period=period, user=_board())
        buffer = io.StringIO()
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(
                f"COPY (SELECT {columns} FROM {table} WHERE period_id = {int(period.pk)}) TO STDOUT", buffer
            )
            cursor.execute(f"DELETE FROM {table} WHERE period_id = %s", [period.pk])
            buffer.seek(0)
            started = time.perf_counter()
            cursor.cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)
            return time.perf_counter() - started


def rules_seconds(period: Period) -> float:
    """Seconds to evaluate every rule for every member of `period` (the list loaded beforehand)."""
    from assessments.evaluations import evaluate_assessments

    reviews = list(
        Assessment.objects.filter(period=period, member__isnull=False).select_related("member", "organization")
    )
    started = time.perf_counter()
    evaluate_assessments(period, reviews)
    return time.perf_counter() - started


def decisions_seconds(root: Organization, members: int = DECISIONS) -> tuple[float, float]:
    """(seconds of `decisions_record`, seconds of its `record_levels` alone) for `members` decisions at
    once on a grassroots committee built for the purpose under `root` (rolled back)."""
    from assessments.core import services
    from assessments.decisions import services as decisions
    from assessments.decisions.selectors import decision_rows, member_assessments
    from assessments.evaluations import PAPER_TOTAL
    from demo.committee import bulk_committee
    from organizations.models import RoleAssignment
    from organizations.policy import SYSTEM
    from organizations.roles import grant_role

    with rolled_back():
        committee = bulk_committee(root, "bench-setb", members=members)
        current = Period.objects.filter(organization=root).order_by("-year").first()
        period = Period.objects.create(organization=committee, year=current.year + 100, regime=current.regime)
        services.period_open(period=period, user=SYSTEM)
        officer = get_user_model().objects.create(username="bench-setb-officer")
        grant_role(user=officer, organization=committee, role=RoleAssignment.Role.COMMITTEE_OFFICER, actor=SYSTEM)
        forms = Assessment.objects.filter(period=period, member__isnull=False)
        answers = {
            level: {PAPER_TOTAL: total, "tasks_completed": "100", "tasks_on_time": "100", "tasks_exceeding": beyond}
            for level, total, beyond in (("HTXSNV", "95", "35"), ("HTTNV", "82", "15"), ("HTNV", "65", "0"))
        }
        pattern = ["HTTNV"] * 8 + ["HTNV", "HTXSNV"]
        chosen = {}
        for index, pk in enumerate(forms.order_by("pk").values_list("pk", flat=True)):
            chosen[pk] = pattern[index % 10]
        for level in answers:
            forms.filter(pk__in=[pk for pk, lv in chosen.items() if lv == level]).update(
                cell_proposed_level=level, state="cell_reviewed", answers=answers[level]
            )
        choices = {pk: (level, "bench") for pk, level in chosen.items()}
        started = time.perf_counter()
        written, _box = decisions.decisions_record(period=period, organization=committee, user=officer, choices=choices)
        whole = time.perf_counter() - started
        assert written == len(choices), (written, len(choices))
        # The writes alone: the same levels again with another note, the rows already read.
        rows, rulebook, params = decision_rows(period, committee, member_assessments(period, committee))
        again = {pk: (level, "bench again") for pk, (level, _note) in choices.items()}
        started = time.perf_counter()
        decisions.record_levels(
            period=period,
            group=committee,
            group_queryset=member_assessments(period, committee),
            rows=rows,
            rulebook=rulebook,
            params=params,
            user=officer,
            choices=again,
            subject_kind="member",
        )
        return whole, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cpu = time.process_time()
    root = Organization.objects.get_root_nodes().first()
    current = Period.objects.filter(organization=root, state=Period.State.OPEN).order_by("-year").first()

    def median(function):
        return round(statistics.median(function() for _ in range(args.runs)), 3)

    figures = {
        "database": connection.vendor,
        "members": Assessment.objects.filter(period=current, member__isnull=False).count(),
        "open_period_s": median(lambda: open_period_seconds(root)),
    }
    floor = copy_floor_seconds(root) if connection.vendor == "postgresql" else None
    figures["copy_floor_s"] = round(floor, 3) if floor is not None else None
    if floor:
        figures["open_to_floor"] = round(figures["open_period_s"] / floor, 2)
    figures["rules_s"] = median(lambda: rules_seconds(current))
    decided = [decisions_seconds(root) for _ in range(args.runs)]
    figures["decisions"] = DECISIONS
    figures["decisions_s"] = round(statistics.median(d[0] for d in decided), 3)
    figures["decisions_write_s"] = round(statistics.median(d[1] for d in decided), 3)
    figures["app_cpu_s"] = round(time.process_time() - cpu, 1)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
