"""The national simulation: `make bench-national` (or `python bench/national.py [--members N] [--provinces P]`).

Builds, in a throwaway PostgreSQL database (DATABASE_URL=postgres://... is required; SQLite is refused),
a country shaped like the Party's: about 5.6 million members in 63 provinces, each province with its
district committees, the grassroots organisations under them (about one for 108 members: ~52,000) and
their cells (about one for 21 members: ~270,000). Levels: country → province → district → grassroots
committee → cell. The rows are generated province by province as plain values and written with COPY
(memory stays flat in the size), the tree's paths computed directly in treebeard's scheme.

Then it measures what exists today:
- opening a review period for the whole country (or one province: --open province; none: --open none)
  as a background job (jobs.services.job_start, as the screen starts it), run by django_tasks_db's worker
  loop in this process: time, forms, the process's peak memory;
- the national summary workbook (assessments.outputs.workbook.write_workbook on the opened organisation;
  --no-export skips it);
- a province's screens (dashboard, statistics) as the province's board, a grassroots organisation's
  decision and ranking screens as its officer, a cell's dashboard as its secretary (and the country's
  ranking as the national board: its summary by province, then one province's ranking) through Django's
  test client: server time, queries and HTML size;
- the database's size and its biggest tables, and the times projected linearly to 5.6 million members.
It writes bench/national.json and prints a table. The database is dropped at the end (--keep keeps it).
Develop at a smaller scale first: `--members 300000 --provinces 4`.
"""

import argparse
import io
import json
import os
import random
import resource
import statistics
import sys
import threading
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FULL_MEMBERS = 5_600_000
FULL_PROVINCES = 63
MEMBERS_PER_GRASSROOTS = 108  # 5.6 million / ~52,000
MEMBERS_PER_CELL = 21  # 5.6 million / ~270,000
GRASSROOTS_PER_DISTRICT = 75  # ~700 district committees in the country
ROOT_CODE = "vn"
CHUNK = 20_000  # member rows per COPY

# Occupations of a country's members, roughly: (occupation, weight).
OCCUPATIONS = (
    ("retired", 30),
    ("civil_servant", 22),
    ("worker", 10),
    ("farmer", 14),
    ("armed_forces", 6),
    ("private_sector", 9),
    ("student", 2),
    ("other", 7),
)
SECTORS = ("commune", "ward", "township", "agency", "public_service", "school", "health", "state_enterprise")


def _spread(total, parts, rng, minimum=1):
    """`total` split into `parts` random counts of at least `minimum` each (a multinomial draw)."""
    counts = [minimum] * parts
    for index in rng.choices(range(parts), k=total - minimum * parts):
        counts[index] += 1
    return counts


def plan_country(members, provinces, seed=2018):
    """The country's shape, pure Python: for each province, its members and, for each district, the
    list of its grassroots organisations' cell sizes. Provinces differ in size (the big cities hold
    several times a small province's members). Returns [[[cell sizes of a grassroots] of a district]
    of a province]."""
    rng = random.Random(seed)
    grassroots = max(provinces, round(members / MEMBERS_PER_GRASSROOTS))
    cells = max(2 * grassroots, round(members / MEMBERS_PER_CELL))
    if members < 5 * cells or members < 100 * provinces:
        raise ValueError(f"{members} members are too few for {provinces} provinces")
    weights = [rng.uniform(0.4, 2.5) for _ in range(provinces)]
    scale = sum(weights)
    shares = [w / scale for w in weights]
    province_members = [max(1, round(members * share)) for share in shares]
    province_members[-1] += members - sum(province_members)
    province_grassroots = [max(1, round(grassroots * share)) for share in shares]
    country = []
    for number in range(provinces):
        m, g = province_members[number], province_grassroots[number]
        c = min(m // 5, max(g, round(m / MEMBERS_PER_CELL)))  # never below five members a cell
        g = min(g, c)
        districts = max(1, min(g, round(g / GRASSROOTS_PER_DISTRICT)))
        cells_of = _spread(c, g, rng, minimum=2 if c >= 2 * g else 1)
        sizes = _spread(m, c, rng, minimum=5)
        per_district = _spread(g, districts, rng)
        plan, cell_index, grassroots_index = [], 0, 0
        for count in per_district:
            district = []
            for _ in range(count):
                n = cells_of[grassroots_index]
                district.append(sizes[cell_index : cell_index + n])
                cell_index += n
                grassroots_index += 1
            plan.append(district)
        country.append(plan)
    return country


class CountryWriter:
    """Writes a planned country with COPY, province by province: the organisations with explicit keys
    and paths, then their members, each chunk generated as it is copied."""

    def __init__(self, connection, seed=2018, today=None):
        from demo.catalogue import GIVEN_NAMES
        from demo.people import NameGenerator
        from organizations.models import Organization
        from organizations.vietnamese import fold, title_sort_key

        self.connection = connection
        self.rng = random.Random(seed)
        self.names = NameGenerator(self.rng)
        self.given_names = GIVEN_NAMES
        self.fold, self.title_sort_key = fold, title_sort_key
        self.Organization = Organization
        self.today = today or date.today()
        self.now = f"{self.today.isoformat()} 08:00:00+00"
        self.counts = {"organizations": 0, "members": 0, "provinces": 0, "districts": 0, "grassroots": 0, "cells": 0}
        self.pool = self._name_pool()
        self._org_keys = {}
        self.days = [timedelta(days=n) for n in range(40000)]
        self.year_start = {age: date(self.today.year - age, 1, 1) for age in range(15, 100)}
        self.latest = self.today - timedelta(days=400)

    def _ids(self, table):
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
            return cursor.fetchone()[0] + 1

    def write(self, plan):
        """Write the country of `plan` (plan_country's); returns the counts and the root's key."""
        Org = self.Organization
        self.next_org = self._ids("organizations_organization")
        self.next_member = self._ids("members_member")
        roots = Org.objects.filter(depth=1).count()
        root_path = Org._get_path(None, 1, roots + 1)
        self.root_id = self._org_rows_flush(
            [self._org(root_path, 1, len(plan), ROOT_CODE, "Đảng bộ toàn quốc", "city", "other")]
        )[0]
        for p_number, province in enumerate(plan, start=1):
            self._province(root_path, p_number, province)
        with self.connection.cursor() as cursor:
            for table in ("organizations_organization", "members_member"):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
            cursor.execute("ANALYZE organizations_organization")
            cursor.execute("ANALYZE members_member")
        return self.counts

    def _org(self, path, depth, numchild, code, name, kind, sector):
        org_id = self.next_org
        self.next_org += 1
        founded = date(1950, 1, 1) + timedelta(days=self.rng.randrange(20000))
        return (org_id, path, depth, numchild, code, name, kind, sector, founded)

    def _org_rows_flush(self, rows):
        """COPY organisation rows (id, path, depth, numchild, code, name, kind, sector, founded_on)."""
        buffer = io.StringIO()
        keys = self._org_keys
        for org_id, path, depth, numchild, code, name, kind, sector, founded in rows:
            if name not in keys:  # names repeat from one parent to the next ("Chi bộ số 3")
                keys[name] = f"{self.fold(name)}\t{self.title_sort_key(name)}"
            buffer.write(
                f"{org_id}\t{uuid.uuid4()}\t{path}\t{depth}\t{numchild}\t{code}\t{name}\t{keys[name]}\t"
                f"{kind}\t{sector}\t{founded}\n"
            )
        buffer.seek(0)
        with self.connection.cursor() as cursor:
            cursor.cursor.copy_expert(
                "COPY organizations_organization (id, public_id, path, depth, numchild, code, name, search_name, "
                "sort_key, kind, sector, founded_on) FROM STDIN",
                buffer,
            )
        self.counts["organizations"] += len(rows)
        return [row[0] for row in rows]

    def _province(self, root_path, number, districts):
        """One province: its organisations (siblings numbered as their names sort), then its members."""
        get_path = self.Organization._get_path
        rows, cells = [], []
        path = get_path(root_path, 2, number)
        code = f"t{number:02d}"
        rows.append(self._org(path, 2, len(districts), code, f"Đảng bộ tỉnh số {number}", "city", "other"))
        self.counts["provinces"] += 1
        for d_number, grassroots in enumerate(districts, start=1):
            d_path, d_code = get_path(path, 3, d_number), f"{code}-h{d_number:02d}"
            rows.append(self._org(d_path, 3, len(grassroots), d_code, f"Đảng bộ huyện số {d_number}", "city", "other"))
            self.counts["districts"] += 1
            for g_number, sizes in enumerate(grassroots, start=1):
                g_path, g_code = get_path(d_path, 4, g_number), f"{d_code}-g{g_number:03d}"
                sector = SECTORS[(number + d_number + g_number) % len(SECTORS)]
                name = f"Đảng bộ cơ sở số {g_number}"
                rows.append(self._org(g_path, 4, len(sizes), g_code, name, "grassroots_committee", sector))
                self.counts["grassroots"] += 1
                for c_number, size in enumerate(sizes, start=1):
                    c_path = get_path(g_path, 5, c_number)
                    row = self._org(c_path, 5, 0, f"{g_code}-c{c_number:02d}", f"Chi bộ số {c_number}", "cell", sector)
                    rows.append(row)
                    cells.append((row[0], size))
                    self.counts["cells"] += 1
        self._org_rows_flush(rows)
        self._members(cells)

    def _members(self, cells):
        """The members of `cells` [(cell id, size)], COPY'd a chunk at a time."""
        columns = (
            "id, public_id, full_name, search_name, sort_key, gender, date_of_birth, card_number, "
            "admission_date, official_date, cell_id, work_unit, occupation, party_post, government_post, "
            "is_leader, status, email, phone, created_at, updated_at"
        )
        buffer, pending = io.StringIO(), 0
        for cell_id, size in cells:
            for position in range(size):
                buffer.write(self._member_line(cell_id, position))
                pending += 1
                if pending >= CHUNK:
                    self._copy_members(columns, buffer)
                    buffer, pending = io.StringIO(), 0
        if pending:
            self._copy_members(columns, buffer)

    def _copy_members(self, columns, buffer):
        buffer.seek(0)
        with self.connection.cursor() as cursor:
            cursor.cursor.copy_expert(f"COPY members_member ({columns}) FROM STDIN", buffer)

    def _name_pool(self):
        """Names drawn once by the demo's generator for each gender and generation, with their search and
        sort keys: a member then costs a pick, not a name and two keys (names repeat in a country anyway)."""
        from organizations.vietnamese import name_sort_key

        pool = {}
        for gender in ("male", "female"):
            for born_year in (1960, 1990):  # the generator's middle names differ before and after 1975
                names = {self.names.full_name(gender, born_year) for _ in range(NAME_POOL)}
                pool[gender, born_year < 1975] = [
                    f"{name}\t{self.fold(name)}\t{name_sort_key(name)}" for name in sorted(names)
                ]
        return pool

    def _member_line(self, cell_id, position):
        """One member's COPY line: a generated person, secretary or deputy for the first two of a cell."""
        rng = self.rng
        member_id = self.next_member
        self.next_member += 1
        self.counts["members"] += 1
        gender = "female" if rng.random() < 0.38 else "male"
        occupation = _OCCUPATION_TABLE[int(rng.random() * len(_OCCUPATION_TABLE))]
        age = rng.randint(62, 90) if occupation == "retired" else rng.randint(20, 60)
        born = self.year_start[age] + self.days[rng.randrange(365)]
        # (The exponential tail is cut at the table's end: a few in millions draw past it.)
        admitted = born + self.days[min(int((18 + rng.expovariate(1 / 6)) * 365.25), len(self.days) - 1)]
        if admitted > self.latest:
            admitted = self.latest - self.days[rng.randrange(200)]
        official = admitted + self.days[365]
        names = self.pool[gender, born.year < 1975]
        name = names[int(rng.random() * len(names))]
        post = "secretary" if position == 0 else "deputy_secretary" if position == 1 else ""
        public_id = f"{rng.getrandbits(128):032x}"
        return (
            f"{member_id}\t{public_id}\t{name}\t{gender}\t{born}\t1{member_id:09d}\t{admitted}\t{official}\t"
            f"{cell_id}\t\t{occupation}\t{post}\t\tf\tactive\t\t09{rng.randrange(10**8):08d}\t{self.now}\t{self.now}\n"
        )


_OCCUPATION_TABLE = [name for name, weight in OCCUPATIONS for _ in range(weight)]
NAME_POOL = 6000  # names drawn for each gender and generation


def build_country(members, provinces, seed=2018):
    """Plan and write a country in the configured (PostgreSQL) database; returns the counts."""
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        raise RuntimeError("the national simulation writes with COPY: it needs PostgreSQL")
    plan = plan_country(members, provinces, seed)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            saved = _drop_secondary(cursor, LOADED_TABLES)
        began = time.perf_counter()
        counts = CountryWriter(connection, seed).write(plan)
        written = time.perf_counter()
        with connection.cursor() as cursor:
            _restore_secondary(cursor, saved)
        counts["copy_seconds"] = round(written - began, 1)  # generating the rows and COPY
        counts["index_seconds"] = round(time.perf_counter() - written, 1)  # the indexes and constraints again
    return counts


LOADED_TABLES = ("organizations_organization", "members_member")


def _drop_secondary(cursor, tables):
    """Drop the unique and foreign-key constraints and the other indexes of `tables` (not their primary
    keys) for the load, the usual way of loading millions of rows: each index is then built once, and each
    foreign key checked by one join, instead of row by row. Returns what _restore_secondary recreates."""
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid::regclass::text = ANY(%s) AND contype IN ('u', 'f') ORDER BY contype DESC, conname",
        [list(tables)],
    )
    constraints = cursor.fetchall()
    for table, name, _definition in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisprimary",
        [list(tables)],
    )
    indexes = cursor.fetchall()
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {name}")
    return indexes, constraints


def _restore_secondary(cursor, saved):
    indexes, constraints = saved
    for _name, definition in indexes:
        cursor.execute(definition)
    for table, name, definition in constraints:
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


# --- Measuring ------------------------------------------------------------------------------------------


def _rss_mb():
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _page(client, url: str, runs: int = 3) -> dict:
    """Median server time, queries and HTML size of GET `url`. The queries are counted as the first request
    ends: each request empties the connection's log (request_started), and outside the capture nothing is
    logged (DEBUG off), so a count read after the timing runs read 0."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        response = client.get(url)
        first = time.perf_counter() - started
    queries = len(ctx.captured_queries)
    times = [first]
    for _ in range(runs - 1):
        started = time.perf_counter()
        client.get(url)
        times.append(time.perf_counter() - started)
    return {
        "status": response.status_code,
        "ms": round(statistics.median(times) * 1000),
        "queries": queries,
        "html_kb": round(len(response.content) / 1024, 1),
    }


def _current_rss_mb() -> float | None:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


def _run_worker() -> None:
    """Run the queued jobs with django_tasks_db's own worker loop, in this process, until the queue is empty
    (as `manage.py db_worker --batch` would)."""
    from jobs.runner import run_queued

    run_queued(worker_id="national-bench")


def open_as_job(scope) -> tuple:
    """A review period for `scope` opened as a background job (jobs.services.job_start, as the screen
    does), run by the worker loop in this process. Returns the period and the figures."""
    from assessments.models import Assessment, Period
    from jobs.models import Job
    from jobs.services import job_start
    from organizations.policy import SYSTEM

    period = Period.objects.create(organization=scope, year=date.today().year, regime="2025")
    began = time.perf_counter()
    cpu = time.process_time()
    job, _created = job_start(kind=Job.Kind.OPEN_PERIOD, user=SYSTEM, organization=scope, period=period)
    _run_worker()
    seconds = time.perf_counter() - began
    job.refresh_from_db()
    period.refresh_from_db()
    figures = {
        "scope": scope.code,
        "job_state": job.state,
        "job_summary": job.summary,
        "job_error": job.error[:300],
        "seconds": round(seconds, 1),
        "job_seconds": round((job.finished_at - job.started_at).total_seconds(), 1)
        if job.started_at and job.finished_at
        else None,
        "cpu_seconds": round(time.process_time() - cpu, 1),
        "forms": Assessment.objects.filter(period=period).count(),
        "peak_rss_mb": _rss_mb(),
        "rss_after_mb": _current_rss_mb(),
    }
    return period, figures


def national_summary(period, root) -> dict:
    """The national summary workbook (assessments.outputs.workbook.write_workbook on the root), timed; its
    lists by province written by `settings.EXPORT_PROCESSES` processes (their CPU time counted with this
    process's, their peak memory apart)."""
    import tempfile

    from django.conf import settings

    from assessments.outputs.workbook import write_workbook

    def cpu() -> float:
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    # The writing processes' peak memory, read from /proc while they run (a child's ru_maxrss counts
    # its parent's memory from before it started the program).
    peaks: dict[int, int] = {}
    running = threading.Event()

    def watch() -> None:
        import multiprocessing

        while not running.wait(0.2):
            for child in multiprocessing.active_children():
                try:
                    with open(f"/proc/{child.pid}/status") as status:
                        for line in status:
                            if line.startswith("VmHWM:"):
                                peaks[child.pid] = max(peaks.get(child.pid, 0), int(line.split()[1]))
                except OSError:
                    pass

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    with tempfile.TemporaryDirectory(prefix="national-") as directory:
        target = Path(directory) / "national.xlsx"
        began, cpu_began = time.perf_counter(), cpu()
        try:
            written = write_workbook(period, root, target)
        except Exception as exc:  # a failure at this size is a finding, not the end of the run
            return {"error": f"{type(exc).__name__}: {exc}"[:300], "seconds": round(time.perf_counter() - began, 1)}
        finally:
            running.set()
            watcher.join()
        return {
            "seconds": round(time.perf_counter() - began, 1),
            "cpu_seconds": round(cpu() - cpu_began, 1),
            "processes": settings.EXPORT_PROCESSES,
            "file_mb": round(target.stat().st_size / 2**20, 1),
            "sheets": written,
            "peak_rss_mb": _rss_mb(),
            "rss_after_mb": _current_rss_mb(),
            "writing_processes_peak_rss_mb": [round(kb / 1024, 1) for kb in peaks.values()],
        }


def _user(username: str, organization, role: str):
    from django.contrib.auth import get_user_model

    from organizations.policy import SYSTEM
    from organizations.roles import grant_role

    user = get_user_model().objects.create(username=username)
    grant_role(user=user, organization=organization, role=role, actor=SYSTEM)
    return user


def _database_size():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        total = cursor.fetchone()[0]
        cursor.execute(
            "SELECT relname, pg_total_relation_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r' "
            "ORDER BY 2 DESC LIMIT 8"
        )
        tables = {name: round(size / 2**20, 1) for name, size in cursor.fetchall()}
    return {"database_mb": round(total / 2**20, 1), "biggest_tables_mb": tables}


def measure(options: argparse.Namespace) -> dict:
    from django.test import Client
    from django.urls import reverse

    from organizations.models import Organization, RoleAssignment

    Role = RoleAssignment.Role
    result = {"members_asked": options.members, "provinces_asked": options.provinces}
    started, cpu = time.perf_counter(), time.process_time()
    counts = build_country(options.members, options.provinces, options.seed)
    build = time.perf_counter() - started
    result["build"] = {
        **counts,
        "seconds": round(build, 1),
        "cpu_seconds": round(time.process_time() - cpu, 1),
        "seconds_per_million": round(build / (counts["members"] / 1e6), 1),
        "peak_rss_mb": _rss_mb(),
    }
    print(f"… built {counts['members']:,} members in {build:.0f} s, peak {_rss_mb()} MB", flush=True)
    result["size_after_build"] = _database_size()

    root = Organization.objects.get(code=ROOT_CODE)
    province = Organization.objects.get(code="t01")
    cell = Organization.objects.filter(path__startswith=province.path, kind="cell").order_by("path").first()
    grassroots = Organization.objects.get_parent(cell)
    scope = {"country": root, "province": province}.get(options.open)
    if scope is not None:
        period, result["open_period"] = open_as_job(scope)
        opened = result["open_period"]
        print(
            f"… opened a period for {options.open} as a job: {opened['forms']:,} forms in {opened['seconds']} s "
            f"({opened['job_state']}), peak {opened['peak_rss_mb']} MB",
            flush=True,
        )
        if options.export:
            result["national_summary"] = national_summary(period, scope)
            print(f"… national summary: {result['national_summary']}", flush=True)

        # Each screen as the user who would open it: the province's board, the grassroots organisation's
        # officer, the cell's secretary (and, for the country's ranking, the national board).
        province_board = _user("province-board", province, Role.BOARD)
        officer = _user("grassroots-officer", grassroots, Role.COMMITTEE_OFFICER)
        secretary = _user("cell-secretary", cell, Role.CELL_SECRETARY)
        screens = [
            (
                "province_dashboard",
                province_board,
                reverse("assessments:dashboard", args=[period.public_id, province.code]),
            ),
            (
                "province_statistics",
                province_board,
                reverse("assessments:stats", args=[period.public_id, province.code]),
            ),
            ("grassroots_decisions", officer, reverse("assessments:decide", args=[period.public_id, grassroots.code])),
            ("grassroots_ranking", officer, reverse("assessments:rank", args=[period.public_id, grassroots.code])),
            ("cell_dashboard", secretary, reverse("assessments:dashboard", args=[period.public_id, cell.code])),
        ]
        if scope == root:
            # The board's ranking of the country's grassroots organisations: more than a screen ranks at
            # once, so a summary by province, then one province's ranking.
            national_board = _user("national-board", root, Role.BOARD)
            country = reverse("assessments:rank", args=[period.public_id, root.code])
            screens.append(("country_ranking", national_board, country))
            screens.append(("country_ranking_province", national_board, f"{country}?area={province.code}"))
        result["screens"] = {}
        for name, user, url in screens:
            client = Client()
            client.force_login(user)
            try:
                result["screens"][name] = _page(client, url)
            except Exception as exc:  # a screen that fails at this size is a finding, not the end of the run
                result["screens"][name] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
            print(f"… {name}: {result['screens'][name]}", flush=True)
    result["size"] = _database_size()
    result["peak_rss_mb"] = _rss_mb()
    result["projection"] = projection(result)
    return result


def projection(result: dict) -> dict:
    """Linear projections to the full country (FULL_MEMBERS) of the times measured: building, opening and the
    summary grow with the rows (the screens, scoped to one province or cell, should not)."""
    factor = FULL_MEMBERS / result["build"]["members"]
    projected = {
        "members": FULL_MEMBERS,
        "factor": round(factor, 2),
        "build_s": round(result["build"]["seconds"] * factor),
    }
    if "open_period" in result:
        projected["open_period_s"] = round(result["open_period"]["seconds"] * factor)
    summary = result.get("national_summary", {})
    if "seconds" in summary and "error" not in summary:
        projected["national_summary_s"] = round(summary["seconds"] * factor)
    projected["database_mb"] = round(result["size"]["database_mb"] * factor)
    return projected


def print_table(result):
    build = result["build"]
    print(f"\nNational simulation: {build['members']:,} members, {build['provinces']} provinces")
    print(f"  organisations {build['organizations']:,}: districts {build['districts']:,}, ", end="")
    print(f"grassroots {build['grassroots']:,}, cells {build['cells']:,}")
    print(
        f"  build: {build['seconds']} s ({build['seconds_per_million']} s per million), peak {build['peak_rss_mb']} MB"
    )
    if "open_period" in result:
        opened = result["open_period"]
        print(
            f"  open a period ({opened['scope']}) as a job: {opened['seconds']} s, {opened['forms']:,} forms, ", end=""
        )
        print(f"job {opened['job_state']}, peak {opened['peak_rss_mb']} MB")
    summary = result.get("national_summary")
    if summary:
        if "error" in summary:
            print(f"  national summary: {summary['error']}")
        else:
            print(
                f"  national summary: {summary['seconds']} s, {summary['file_mb']} MB, peak {summary['peak_rss_mb']} MB"
            )
    for name, figures in result.get("screens", {}).items():
        if "error" in figures:
            print(f"  {name:<22} {figures['error']}")
        else:
            print(
                f"  {name:<22} {figures['ms']:>7} ms {figures['queries']:>4} queries {figures['html_kb']:>9} KB"
                f"  (HTTP {figures['status']})"
            )
    size = result["size"]
    print(f"  database: {size['database_mb']:,} MB; biggest tables (MB): {size['biggest_tables_mb']}")
    print(f"  projected to {FULL_MEMBERS:,} members (linear): {result['projection']}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=FULL_MEMBERS)
    parser.add_argument("--provinces", type=int, default=FULL_PROVINCES)
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument(
        "--open", choices=("country", "province", "none"), default="country", help="the period opened and measured"
    )
    parser.add_argument("--no-export", dest="export", action="store_false", help="skip the national summary")
    parser.add_argument("--keep", action="store_true", help="keep the database (test_<name>) afterwards")
    parser.add_argument("--out", default=str(ROOT / "bench" / "national.json"))
    options = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        parser.error("the national simulation runs on PostgreSQL only: set DATABASE_URL=postgres://...")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    if connection.vendor != "postgresql":
        parser.error("the national simulation runs on PostgreSQL only")
    old_config = setup_databases(verbosity=0, interactive=False, keepdb=False, aliases={"default"})
    print(f"… database {connection.settings_dict['NAME']}", flush=True)
    try:
        result = measure(options)
    finally:
        if not options.keep:
            teardown_databases(old_config, verbosity=0)
    Path(options.out).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print_table(result)


if __name__ == "__main__":
    main()
