"""One run of the year-end export in its own process, so that its peak memory is its own.

`ours`: assessments.outputs.workbook.write_workbook for the published year of the root organisation.
`bare`: the same rows, from the same generators, appended as plain values to a bare openpyxl
write-only workbook (it says little: the same generators run in both).
`floor`: the database's own COPY of the export's rows (bench/export_floor.py), the export's target being
at most 10 times that.
Prints one JSON line: seconds, peak memory (MB, the whole process), rows.
"""

import io
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402
from django.conf import settings  # noqa: E402

settings.DATABASES["default"]["NAME"] = json.loads(os.environ["BENCH_DB"])
django.setup()

from openpyxl import Workbook  # noqa: E402

from assessments.models import Period  # noqa: E402
from assessments.outputs.sheets import YearEndExport  # noqa: E402
from assessments.outputs.workbook import write_workbook  # noqa: E402
from bench.export_floor import copy_floor_seconds  # noqa: E402


def peak_resident_mb():
    """This process's peak resident memory (VmHWM). Not getrusage's ru_maxrss: on Linux that keeps the
    parent's peak across fork and exec, and the parent has just built a province in memory."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def main(kind):
    period = Period.objects.filter(state=Period.State.PUBLISHED).select_related("organization").latest("year")
    root = period.organization
    target = io.BytesIO()
    if kind == "floor":
        seconds = copy_floor_seconds(period, root)
        print(json.dumps({"seconds": seconds, "peak_mb": peak_resident_mb(), "rows": None, "bytes": None}))
        return
    started, cpu = time.perf_counter(), time.process_time()
    if kind == "ours":
        rows = sum(write_workbook(period, root, target).values())
    else:
        workbook = Workbook(write_only=True)
        rows = 0
        for sheet in YearEndExport(period, root).sheets():
            ws = workbook.create_sheet(sheet.title)
            ws.append([column.header for column in sheet.columns])
            for row in sheet.rows:
                ws.append(list(row))
                rows += 1
        workbook.save(target)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak_mb = peak_resident_mb()
    # The processor time of this process too: the wall time on a shared machine counts the waits.
    print(json.dumps({"seconds": seconds, "cpu_s": cpu, "peak_mb": peak_mb, "rows": rows, "bytes": target.tell()}))


if __name__ == "__main__":
    main(sys.argv[1])
