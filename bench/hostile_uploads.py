"""A worker's time and peak memory on each hostile upload of issue 11: `python bench/hostile_uploads.py`.

The parent process builds the files (tests/hostile_files.py) and a throwaway SQLite database (a city,
one cell, a board member) in a temporary folder, with the static files collected. Then, for each
file, a child process with production settings (DEBUG off, the collected static files) signs the
board member in with Django's test client, opens the import screen once, and posts the file to it
(commit). It reports the answer's status, the message shown, the wall and CPU seconds of the POST,
and the process's peak resident memory (VmHWM) before the POST and after it: the whole worker, the
test client's copies of the request included (up to twice the file). The 7,300 members of a city,
a legitimate file, are measured the same way (a dry run: every row checked, nothing written).

Writes bench/hostile-results.json and prints the table of the README ("Hostile uploads").
Targets: each hostile file answered with a message in under a second, the worker under 200 MB.
"""

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LEGITIMATE = "legitimate_7300"
LABELS = {
    "far_cell": ".xlsx of 2 KB declaring and holding a cell at XFD200000",
    "compression_bomb": ".xlsx compression bomb, 4.5 MB holding 4.5 GB",
    "short_lines_csv": "CSV of 5 MB of short lines (1.25 million rows)",
    "long_line_csv": "CSV with a 10 MB line",
    "long_line_1mb_csv": "CSV with a 1 MB line (under the size limit)",
    "xxe": ".xlsx with an external entity in its shared strings",
    "billion_laughs": ".xlsx with a billion laughs in its shared strings",
    "unknown_elements": ".xlsx of 2.1 million unknown elements (the reader's budget)",
    "not_a_zip": "a PDF renamed .xlsx",
    "empty_xlsx": "an empty .xlsx",
    "empty_csv": "an empty .csv",
    LEGITIMATE: "legitimate: a city's 7,300 members, .xlsx (dry run)",
}


def environment(folder):
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_DEMO": "0",
        "DJANGO_SECRET_KEY": "bench-hostile-uploads-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_STATIC_ROOT": str(folder / "static"),
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
    }


def legitimate_xlsx():
    """The 7,300 members of a city in the import's template, as bench/run.py imports them."""
    from openpyxl import Workbook

    from members.importing import MEMBER_COLUMNS

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append([header for header, _name in MEMBER_COLUMNS])
    for n in range(7300):
        row = {
            "full_name": "Nguyễn Thị Nhập",
            "gender": "Nữ",
            "date_of_birth": "15/03/1980",
            "card_number": f"99{n:07d}",
            "admission_date": "19/05/2005",
            "official_date": "19/05/2006",
            "cell": "chi-bo-1",
            "occupation": "Nghỉ hưu",
            "status": "Đang sinh hoạt",
        }
        sheet.append([row.get(name, "") for _header, name in MEMBER_COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def setup():
    """The child that fills the fresh database: a city, one cell, the board member."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from organizations.models import Organization, RoleAssignment
    from organizations.policy import SYSTEM
    from organizations.roles import grant_role

    city = Organization.objects.add_root(
        instance=Organization(code="city", name="Thành phố", kind=Organization.Kind.CITY_COMMITTEE)
    )
    Organization.objects.add_child(
        city, instance=Organization(code="chi-bo-1", name="Chi bộ 1", kind=Organization.Kind.GRASSROOTS_CELL)
    )
    user = get_user_model().objects.create_user("bench-board", password="not-used-0123")
    grant_role(user=user, organization=city, role=RoleAssignment.Role.BOARD, actor=SYSTEM)


def status_kb(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def child(name, path):
    """One POST in a fresh worker; prints one JSON line."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    setup_test_environment()  # the test client then records the template context: the message
    client = Client()
    client.force_login(get_user_model().objects.get(username="bench-board"))
    url = reverse("members:import")
    if client.get(url).status_code != 200:
        raise RuntimeError("the import screen does not answer")
    before = status_kb("VmHWM")
    upload = SimpleUploadedFile(Path(path).name, Path(path).read_bytes())
    action = "dry_run" if name == LEGITIMATE else "commit"
    wall, cpu = time.perf_counter(), time.process_time()
    response = client.post(url, {"kind": "members", "action": action, "file": upload})
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    context = response.context or {}
    result = context.get("result")
    summary = f"{result.rows} rows, {len(result.errors)} errors" if result else ""
    print(
        json.dumps(
            {
                "status": response.status_code,
                "message": context.get("rejected") or summary,
                "seconds": round(wall, 3),
                "cpu_seconds": round(cpu, 3),
                "peak_mb_before": round(before / 1024, 1),
                "peak_mb": round(status_kb("VmHWM") / 1024, 1),
            }
        )
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated names of the files to measure")
    parser.add_argument("--child", nargs=2, metavar=("NAME", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        return setup()
    if args.child:
        return child(*args.child)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from tests.hostile_files import HOSTILE

    files = {name: (filename, build) for name, (filename, build) in HOSTILE.items()}
    files[LEGITIMATE] = ("dang-vien-7300.xlsx", legitimate_xlsx)
    names = args.only.split(",") if args.only else list(files)
    results = {}
    with tempfile.TemporaryDirectory(prefix="hostile-uploads-") as temporary:
        folder = Path(temporary)
        env = environment(folder)
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=ROOT)
        subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], env=env, check=True, cwd=ROOT)
        subprocess.run([sys.executable, __file__, "--setup"], env=env, check=True, cwd=ROOT)
        for name in names:
            filename, build = files[name]
            path = folder / filename
            path.write_bytes(build())
            run = subprocess.run(
                [sys.executable, __file__, "--child", name, str(path)],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
            if run.returncode:
                raise RuntimeError(f"{name}: the child failed\n{run.stderr[-3000:]}")
            measured = json.loads(run.stdout.splitlines()[-1])
            results[name] = {"file": LABELS[name], "bytes": path.stat().st_size, **measured}
            path.unlink()
            row = results[name]
            print(
                f"{row['file'][:62]:62} {row['bytes']:>11,} B  {row['status']}  {row['seconds']:6.3f} s "
                f"({row['cpu_seconds']:.3f} CPU)  {row['peak_mb_before']:6.1f} -> {row['peak_mb']:6.1f} MB  "
                f"{row['message'][:70]}"
            )
    load = os.getloadavg()[0]
    output = ROOT / "bench" / "hostile-results.json"
    output.write_text(json.dumps({"load_average": round(load, 1), "files": results}, ensure_ascii=False, indent=2))
    print(f"written to {output.relative_to(ROOT)} (load average {load:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
