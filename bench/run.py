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
It writes bench/results.json and prints a table. Targets: query counts equal at both sizes; the
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
    result["import_7300_seconds"] = import_figure(board, runs)
    if first:
        result["committee_screens"] = committee_screens(root, current, runs)
    return result


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
    Path(options.out).write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print_table(results)


def print_table(results):
    rows = [
        ("members", lambda r: r["members"]),
        ("organisations", lambda r: r["organizations"]),
        ("seed (s)", lambda r: r["seed_seconds"]),
        ("open a period (s)", lambda r: r["open_period_seconds"]),
        ("every rule, every member (s)", lambda r: r["evaluate_all_rules_seconds"]),
        ("cell dashboard (ms / queries)", lambda r: _page(r["cell_dashboard"])),
        ("decision screen (ms / queries)", lambda r: _page(r["decision_screen"])),
        ("ranking screen (ms / queries)", lambda r: _page(r["ranking_screen"])),
        ("export (s / peak MB)", lambda r: _export(r, "export_ours")),
        ("bare openpyxl (s / peak MB)", lambda r: _export(r, "export_bare")),
        ("export / bare", lambda r: r.get("export_ratio", "—")),
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
