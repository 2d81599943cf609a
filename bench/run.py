"""The benchmark: `make bench` (or `python bench/run.py [--sizes 7300,100000] [--runs 5]`).

For each size it builds a demo city in a throwaway database of the configured kind (SQLite by default,
PostgreSQL with DATABASE_URL), then measures, as the median of several runs:
- opening a review period (the roster snapshot);
- evaluating every rule of the rulebook for every member;
- the server time and the query count of the cell dashboard, the grassroots decision screen and the
  city ranking screen (through Django's test client, so without network or web server);
- the year-end export (time and peak memory, in a child process) against a bare openpyxl write-only
  workbook of the same rows (the ratio ours / bare is the figure);
- importing 7,300 new members from an .xlsx, checks and all-or-nothing commit included;
- the decision screens on committees of 50, 564 and 3,000 members built for the purpose (the cells'
  list, one cell, a row saved through htmx, one cell's proposals accepted, the whole committee's
  proposals accepted, the committee's ranking of its cells): server time and queries;
- the whole year at the demo city's scale (`make acceptance`, in a child process with its own test
  database): wall and CPU seconds, and the time of each step.
It writes bench/results.json (under the database's name, "postgresql" or "sqlite", beside the other's) and
prints a table; each size also carries the figures issue 12 compares
under its names (open_period_s and its copy_floor_s, rules_s, export_s and export_copy_floor_s,
decision_ms/queries, ranking_ms/queries), and the file keeps a `load` place (users, p95_ms, errors)
that bench/load.sh fills. Targets: query counts equal at both sizes; the
decision and ranking screens under 300 ms at city size; the export within 1.5x of the bare baseline;
the province export under 300 MB peak memory.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_databases, teardown_databases  # noqa: E402
from django.urls import reverse  # noqa: E402


def median_time(function, runs):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def page(client, url, runs):
    """(median seconds, queries, status) of GET url."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    queries = len(ctx.captured_queries)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    seconds = median_time(lambda: client.get(url), runs)
    return {"seconds": round(seconds, 4), "queries": queries, "status": response.status_code}


def measure(size, runs, first=False):
    from django.contrib.auth import get_user_model

    from assessments.core import services
    from assessments.evaluations import evaluate_assessments
    from assessments.models import Assessment, Period
    from members.models import Member
    from organizations.models import Organization

    result = {"members": size}
    started = time.perf_counter()
    call_command("seed_demo", "--members", str(size), "--reset", stdout=open(os.devnull, "w"))
    result["seed_seconds"] = round(time.perf_counter() - started, 1)
    root = Organization.objects.get_root_nodes().first()
    current = Period.objects.filter(state=Period.State.OPEN).order_by("-year").first()
    result["organizations"] = Organization.objects.count()

    # Opening a period: a new year each run, so that every run takes the full roster.
    board = get_user_model().objects.get(username="bantochuc")
    opening = []
    for offset in range(1, runs + 1):
        period = Period.objects.create(organization=root, year=current.year + offset, regime=current.regime)
        began = time.perf_counter()
        services.period_open(period=period, user=board)
        opening.append(time.perf_counter() - began)
    result["open_period_seconds"] = round(statistics.median(opening), 3)
    result["copy_floor_s"], result["copy_floor_method"] = copy_floor(period, runs)
    if connection.vendor == "postgresql":
        result["copy_floor_without_keys_s"] = copy_floor(period, runs, keys=False)[0]
        result["copy_floor_temporary_s"] = copy_floor(period, runs, temporary=True)[0]

    # Every rule for the whole city, as the decision screens ask them: every fact in bulk (the records,
    # the forms' answers, the meetings' task shares), then one evaluation per member.
    reviews = list(
        Assessment.objects.filter(period=current, member__isnull=False).select_related("member", "organization")
    )

    def evaluate_all():
        evaluate_assessments(current, reviews)

    result["evaluate_all_rules_seconds"] = round(median_time(evaluate_all, runs), 3)

    # The screens, as the people who use them.
    secretary = Member.objects.get(user__username="bithu")
    officer_org = Organization.objects.get_parent(secretary.cell)
    screens = {
        "cell_dashboard": ("bithu", reverse("assessments:dashboard", args=[current.public_id, secretary.cell.code])),
        "decision_screen": ("canbo", reverse("assessments:decide", args=[current.public_id, officer_org.code])),
        "ranking_screen": ("bantochuc", reverse("assessments:rank", args=[current.public_id, root.code])),
    }
    for name, (username, url) in screens.items():
        client = Client()
        client.force_login(get_user_model().objects.get(username=username))
        result[name] = page(client, url, runs)
    result["decision_screen"]["rows"] = Assessment.objects.filter(
        period=current, member__isnull=False, organization__path__startswith=officer_org.path
    ).count()

    result.update(export_figures(runs))
    published = Period.objects.filter(state=Period.State.PUBLISHED).select_related("organization").latest("year")
    result["export_copy_floor_s"], result["export_copy_floor_method"] = export_copy_floor(published, runs)
    result["import_7300_seconds"] = import_figure(board, runs)
    result.update(summary_keys(result))
    if first:
        result["committee_screens"] = committee_screens(root, current, runs)
    return result


def summary_keys(result):
    """The figures issue 12 compares, under the names it gives them (the detailed ones stay beside)."""
    keys = {
        "open_period_s": result["open_period_seconds"],
        "rules_s": result["evaluate_all_rules_seconds"],
        "decision_ms": round(result["decision_screen"]["seconds"] * 1000, 1),
        "decision_queries": result["decision_screen"]["queries"],
        "ranking_ms": round(result["ranking_screen"]["seconds"] * 1000, 1),
        "ranking_queries": result["ranking_screen"]["queries"],
    }
    if "export_ours" in result:
        keys["export_s"] = result["export_ours"]["seconds"]
    return keys


def copy_floor(period, runs, *, temporary=False, keys=True):
    """Seconds for the database alone to write the rows opening `period` wrote: on PostgreSQL a COPY FROM
    of those very rows (read out beforehand, not timed) into an empty copy of the assessments' table
    with its indexes and its foreign keys (checked at the commit, as Django's are), committed; on SQLite
    an INSERT … SELECT of them into such a copy. (seconds, method).

    The copy is an ordinary table, written to the database's log as the real one is. Kept beside it, two
    lower floors no real opening can reach: without the foreign keys (`keys=False`), and a temporary
    table, which PostgreSQL does not log (`temporary=True`, without the keys)."""
    import io

    table = "assessments_assessment"
    times = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            rows = io.StringIO()
            cursor.cursor.copy_expert(
                f"COPY (SELECT * FROM {table} WHERE period_id = {int(period.pk)}) TO STDOUT", rows
            )
            kind = "TEMPORARY TABLE" if temporary else "TABLE"
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
                "AND contype = 'f'",
                [table],
            )
            foreign_keys = cursor.fetchall() if keys and not temporary else []
            for _ in range(runs):
                cursor.execute(f"CREATE {kind} bench_floor (LIKE {table} INCLUDING ALL)")
                for name, definition in foreign_keys:
                    cursor.execute(f"ALTER TABLE bench_floor ADD CONSTRAINT floor_{name} {definition}")
                rows.seek(0)
                started = time.perf_counter()
                # (The connection commits each statement: the COPY's time includes its commit.)
                cursor.cursor.copy_expert("COPY bench_floor FROM STDIN", rows)
                times.append(time.perf_counter() - started)
                cursor.execute("DROP TABLE bench_floor")
            method = (
                "COPY FROM of the opened period's assessment rows into an indexed "
                + ("temporary (unlogged) " if temporary else "")
                + "copy of the table"
                + (" with its foreign keys" if foreign_keys else "")
                + ", committed"
            )
        else:
            for _ in range(runs):
                cursor.execute(f"CREATE TEMPORARY TABLE bench_floor AS SELECT * FROM {table} WHERE 0")
                started = time.perf_counter()
                cursor.execute(f"INSERT INTO bench_floor SELECT * FROM {table} WHERE period_id = %s", [period.pk])
                times.append(time.perf_counter() - started)
                cursor.execute("DROP TABLE bench_floor")
            method = "INSERT … SELECT of the opened period's assessment rows into a copy of the table"
    return round(statistics.median(times), 3), method


def export_copy_floor(period, runs):
    """Seconds for the database to write out the export's member rows: bench/export_floor.py's
    copy_floor_seconds(period, organization) when it exists (the export's own rows), else a COPY … TO
    of the period's members joined to their forms (PostgreSQL; on SQLite the same SELECT read through).
    (seconds, method)."""
    import importlib.util
    import io

    floor = Path(__file__).resolve().parent / "export_floor.py"
    if floor.exists():
        spec = importlib.util.spec_from_file_location("bench_export_floor", floor)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return round(module.copy_floor_seconds(period, period.organization), 3), "bench/export_floor.py"
    query = (
        "SELECT m.full_name, m.card_number, m.date_of_birth, o.name, a.self_level, a.cell_proposed_level, "
        "a.decided_level, a.state FROM assessments_assessment a JOIN members_member m ON m.id = a.member_id "
        f"JOIN organizations_organization o ON o.id = a.organization_id WHERE a.period_id = {int(period.pk)} "
        "ORDER BY o.path, m.sort_key"
    )
    times = []
    with connection.cursor() as cursor:
        for _ in range(runs):
            started = time.perf_counter()
            if connection.vendor == "postgresql":
                cursor.cursor.copy_expert(f"COPY ({query}) TO STDOUT", io.StringIO())
            else:
                cursor.execute(query)
                cursor.fetchall()
            times.append(time.perf_counter() - started)
    method = "COPY (the members' rows joined to their forms) TO STDOUT"
    if connection.vendor != "postgresql":
        method = "the same SELECT read through (SQLite has no COPY)"
    return round(statistics.median(times), 3), method


def committee_screens(root, current, runs):
    """The decision screen and the committee's ranking at 50, 564 and 3,000 members, as its officer."""
    from django.contrib.auth import get_user_model

    from assessments.core import services
    from assessments.evaluations import PAPER_TOTAL
    from assessments.models import Assessment, Period
    from demo.committee import bulk_committee
    from organizations.models import Organization, RoleAssignment
    from organizations.policy import SYSTEM
    from organizations.roles import grant_role

    User = get_user_model()
    committees = {size: bulk_committee(root, f"bench-{size:04d}", members=size) for size in (50, 564, 3000)}
    board = User.objects.get(username="bantochuc")
    period = Period.objects.create(organization=root, year=current.year + 50, regime=current.regime)
    services.period_open(period=period, user=board)
    figures = {}
    for size, committee in committees.items():
        officer = User.objects.create(username=f"bench-officer-{size}")
        grant_role(user=officer, organization=committee, role=RoleAssignment.Role.COMMITTEE_OFFICER, actor=SYSTEM)
        forms = Assessment.objects.filter(
            period=period, member__isnull=False, organization__path__startswith=committee.path
        )
        levels = ["HTTNV"] * 8 + ["HTNV", "HTXSNV"]
        # What the paper forms and the cells' meetings would have given (2025): a score and the task
        # shares that bear out the level proposed.
        answers = {
            level: {PAPER_TOTAL: total, "tasks_completed": "100", "tasks_on_time": "100", "tasks_exceeding": beyond}
            for level, total, beyond in (("HTXSNV", "95", "35"), ("HTTNV", "82", "15"), ("HTNV", "65", "0"))
        }
        for index, pk in enumerate(forms.order_by("pk").values_list("pk", flat=True)):
            level = levels[index % 10]
            forms.filter(pk=pk).update(cell_proposed_level=level, state="cell_reviewed", answers=answers[level])
        client = Client()
        client.force_login(officer)
        decide = reverse("assessments:decide", args=[period.public_id, committee.code])
        cell = Organization.objects.get_children(committee).order_by("path").first()
        row = forms.filter(organization=cell).order_by("pk").first()
        result = {"members": forms.count()}
        result["cells_list"] = page(client, decide, runs)
        result["one_cell"] = page(client, f"{decide}?cell={cell.code}", runs)
        result["row_saved"] = posted(
            client, decide, lambda n, row=row: {f"level-{row.pk}": "HTNV" if n % 2 else "HTTNV"}, runs, htmx=True
        )
        result["accept_one_cell"] = posted(
            client, decide, lambda n, cell=cell: {"action": "accept_cell", "cell": cell.code}, 1
        )
        result["accept_whole_committee"] = posted(client, decide, lambda n: {"action": "accept_all"}, 1)
        result["ranking_of_cells"] = page(
            client, reverse("assessments:rank", args=[period.public_id, committee.code]), runs
        )
        figures[str(size)] = result
    return figures


def posted(client, url, data_for, runs, htmx=False):
    """(median seconds, queries, status) of POST url; `data_for(n)` gives the n-th run's form."""
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    times, queries, status = [], 0, None
    for n in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.post(url, data_for(n), **extra)
            times.append(time.perf_counter() - started)
        queries, status = len(ctx.captured_queries), response.status_code
        if status not in (200, 302):
            raise RuntimeError(f"POST {url} answered {status}")
    return {"seconds": round(statistics.median(times), 4), "queries": queries, "status": status}


def acceptance_figures():
    """The whole year at the demo city's scale (`make acceptance`), in a child process: wall and CPU
    seconds, and the time of each step as the test records it."""
    import resource
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".json") as timings:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(
            ["bash", str(ROOT / ".ci" / "pytest"), "-q", "-m", "acceptance", "tests/acceptance"],
            cwd=ROOT,
            env={**os.environ, "PYTEST_WORKERS": "0", "ACCEPTANCE_TIMINGS": timings.name},
            check=True,
            capture_output=True,
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        steps = json.loads(Path(timings.name).read_text())
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_seconds": round(wall, 1), "cpu_seconds": round(cpu, 1), **steps}


def import_figure(board, runs):
    """Seconds to import 7,300 new members from an .xlsx (checks and the all-or-nothing commit)."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from openpyxl import Workbook

    from members.importing import MEMBER_COLUMNS, run_import
    from organizations.models import Organization

    cells = list(Organization.objects.filter(kind__in=Organization.CELL_KINDS).values_list("code", flat=True)[:200])
    times = []
    for run in range(runs):
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet()
        sheet.append([header for header, _name in MEMBER_COLUMNS])
        for n in range(7300):
            row = {
                "full_name": "Nguyễn Thị Nhập",
                "gender": "Nữ",
                "date_of_birth": "15/03/1980",
                "card_number": f"99{run}{n:07d}",  # ten digits: never one of the demo's eight-digit cards
                "admission_date": "19/05/2005",
                "official_date": "19/05/2006",
                "cell": cells[n % len(cells)],
                "occupation": "Nghỉ hưu",
                "status": "Đang sinh hoạt",
            }
            sheet.append([row.get(name, "") for _header, name in MEMBER_COLUMNS])
        buffer = io.BytesIO()
        workbook.save(buffer)
        upload = SimpleUploadedFile("dang-vien.xlsx", buffer.getvalue())
        started = time.perf_counter()
        result = run_import("members", upload, board, commit=True)
        times.append(time.perf_counter() - started)
        if result.errors or result.created != 7300:
            raise RuntimeError(f"the benchmark's import failed: {result.errors[:3]}")
    return round(statistics.median(times), 2)


def export_figures(runs):
    """The year-end export of the published year against a bare write-only workbook of the same rows,
    each in a child process so that its peak memory is its own."""
    figures = {}
    for kind in ("ours", "bare"):
        times, peaks = [], []
        for _ in range(runs):
            output = subprocess.run(
                [sys.executable, str(Path(__file__).parent / "export_child.py"), kind],
                capture_output=True,
                text=True,
                env={**os.environ, "BENCH_DB": json.dumps(connection.settings_dict["NAME"])},
                check=True,
            )
            data = json.loads(output.stdout.strip().splitlines()[-1])
            times.append(data["seconds"])
            peaks.append(data["peak_mb"])
        figures[f"export_{kind}"] = {
            "seconds": round(statistics.median(times), 3),
            "peak_mb": round(max(peaks), 1),
            "rows": data["rows"],
        }
    figures["export_ratio"] = round(figures["export_ours"]["seconds"] / figures["export_bare"]["seconds"], 2)
    return figures


# Filled by bench/load.sh: users, p95 over the whole run (ms), errors.
LOAD_PLACE = {"users": None, "p95_ms": None, "errors": None}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="7300,100000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.json"))
    parser.add_argument("--no-acceptance", action="store_true", help="leave out the year at city scale")
    options = parser.parse_args()
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    if connection.vendor == "sqlite":
        # A file, not memory: the export is measured in a child process that must open it too.
        settings.DATABASES["default"]["TEST"]["NAME"] = "/tmp/review-bench.sqlite3"
    sizes = [int(size) for size in options.sizes.split(",")]
    old_config = setup_databases(verbosity=0, interactive=False, keepdb=False, aliases={"default"})
    results = {"database": connection.vendor, "runs": options.runs, "sizes": []}
    try:
        for index, size in enumerate(sizes):
            print(f"… {size} members", flush=True)
            results["sizes"].append(measure(size, options.runs, first=index == 0))
    finally:
        teardown_databases(old_config, verbosity=0)
    if not options.no_acceptance:
        print("… the whole year at the demo city's scale (make acceptance)", flush=True)
        results["acceptance"] = acceptance_figures()
    out = Path(options.out)
    # One place for each database ({"postgresql": …, "sqlite": …}): a run on one leaves the other's
    # figures, and the load run's (bench/load.sh), where they were.
    previous = json.loads(out.read_text()) if out.exists() else {}
    merged = {key: value for key, value in previous.items() if key in ("postgresql", "sqlite", "load")}
    merged[connection.vendor] = results
    merged.setdefault("load", LOAD_PLACE)
    out.write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n")
    print_table(results)


def print_table(results):
    rows = [
        ("members", lambda r: r["members"]),
        ("organisations", lambda r: r["organizations"]),
        ("seed (s)", lambda r: r["seed_seconds"]),
        ("open a period (s)", lambda r: r["open_period_seconds"]),
        ("  its COPY floor (s)", lambda r: r.get("copy_floor_s", "—")),
        ("every rule, every member (s)", lambda r: r["evaluate_all_rules_seconds"]),
        ("cell dashboard (ms / queries)", lambda r: _page(r["cell_dashboard"])),
        ("decision screen (ms / queries)", lambda r: _page(r["decision_screen"])),
        ("ranking screen (ms / queries)", lambda r: _page(r["ranking_screen"])),
        ("export (s / peak MB)", lambda r: _export(r, "export_ours")),
        ("bare openpyxl (s / peak MB)", lambda r: _export(r, "export_bare")),
        ("export / bare", lambda r: r.get("export_ratio", "—")),
        ("export's COPY floor (s)", lambda r: r.get("export_copy_floor_s", "—")),
        ("import 7,300 members (s)", lambda r: r.get("import_7300_seconds", "—")),
    ]
    print(f"\nDatabase: {results['database']}; median of {results['runs']} runs")
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        cells = "  ".join(f"{str(value(r)):>18}" for r in results["sizes"])
        print(f"{label:<{width}}  {cells}")
    screens = results["sizes"][0].get("committee_screens") if results["sizes"] else None
    if screens:
        print("\nCommittee screens (ms / queries), by members of the committee")
        names = ["cells_list", "one_cell", "row_saved", "accept_one_cell", "accept_whole_committee", "ranking_of_cells"]
        print(f"{'':<24}" + "".join(f"{size:>14}" for size in screens))
        for name in names:
            print(f"{name:<24}" + "".join(f"{_page(screens[size][name]):>14}" for size in screens))
    if "acceptance" in results:
        year = results["acceptance"]
        print(f"\nThe year at city scale: {year['wall_seconds']} s wall, {year['cpu_seconds']} s CPU")
        for step in year["steps"]:
            print(f"  {step['step']:<60} {step['seconds']:>8} s  {step['requests']:>6} requests")


def _page(figures):
    return f"{figures['seconds'] * 1000:.0f} / {figures['queries']}"


def _export(result, key):
    if key not in result:
        return "—"
    return f"{result[key]['seconds']} / {result[key]['peak_mb']}"


if __name__ == "__main__":
    main()
