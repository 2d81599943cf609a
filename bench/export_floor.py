"""The floor of the year-end export: the database writing the export's own rows, with nothing of ours.

`copy_floor_seconds(period, organization)` runs the four lists' queries of the export (organisations,
members, KHTNV two years running, the award list: `ListSheets.list_queries`, the same SQL the export
reads, joins included) as `COPY (SELECT …) TO STDOUT` into a sink that throws the bytes away, in one
transaction with the JIT off as the export has it, and returns the seconds. bench/run.py records it as
`export_copy_floor_s` beside `export_s`; the export's target is at most 10 times this.

On SQLite, which has no COPY, the nearest thing: the same SQL run on a bare cursor and every row fetched.

    DATABASE_URL=postgres://… .venv/bin/python bench/export_floor.py   # the published year of the root
"""

import os
import sys
import time
from pathlib import Path


class NullSink:
    """A file that takes what COPY writes and keeps nothing."""

    def __init__(self):
        self.bytes = 0

    def write(self, data):
        self.bytes += len(data)
        return len(data)


def list_sql(period, organization):
    """[(sql, params)] of the export's list queries."""
    from assessments.outputs.sheets import YearEndExport

    return [query.query.sql_with_params() for query in YearEndExport(period, organization).list_queries()]


def copy_floor_seconds(period, organization, *, using="default"):
    """Seconds the database takes to write the export's rows (COPY … TO STDOUT into a null sink)."""
    from django.db import connections, transaction

    connection = connections[using]
    queries = list_sql(period, organization)
    with transaction.atomic(using=using, savepoint=False), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL jit = off")
            raw = cursor.cursor  # psycopg2's own cursor: mogrify and copy_expert
            statements = [raw.mogrify(sql, params).decode() for sql, params in queries]
            sink = NullSink()
            started = time.perf_counter()
            for statement in statements:
                raw.copy_expert(f"COPY ({statement}) TO STDOUT", sink)
            return time.perf_counter() - started
        started = time.perf_counter()
        for sql, params in queries:
            cursor.execute(sql, params)
            while cursor.fetchmany(10_000):
                pass
        return time.perf_counter() - started


def main():
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from assessments.models import Period

    period = Period.objects.filter(state=Period.State.PUBLISHED).select_related("organization").latest("year")
    seconds = copy_floor_seconds(period, period.organization)
    print(f"export copy floor: {seconds:.3f} s ({period}, {period.organization})")


if __name__ == "__main__":
    main()
