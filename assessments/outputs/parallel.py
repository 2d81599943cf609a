"""The lists of a national workbook written by several processes at once.

A country's workbook is nearly all its lists of members, one sheet per province (`YearEndExport.sheets`):
5.6 million rows made into XML by Python, one core's work (the database sends the rows from the other).
Past `layout.SHEET_ROWS` members, when the database is PostgreSQL and `settings.EXPORT_PROCESSES` is
more than 1, the lists by part are written by that many processes of their own: each reads its part's
rows in a transaction of its own and writes them as the sheet's row XML (`rowxml.RowWriter`) to a file in
the export's scratch directory; the workbook's process writes the other sheets meanwhile, and takes each
part's file, in the sheets' order, as the rows of that part's sheet (`rowxml.SheetRows.attach`: the file
is zipped in place, not copied). The cells' styles are the workbook's, numbered before the processes
start (`rowxml.RowStyles`), so the file is the one a single process writes, byte for byte
(tests/assessments/test_export_parallel.py).

The processes are started fresh (`spawn`: the job worker has threads, which a fork would copy
half-way), each Django set up on the same database connection settings; they end with the export,
also when it fails or is cancelled, and with the workbook's process if it is killed (on Linux). What they
read is what the database holds at the time, as with the workbook's own sheets: each sheet is read in
its own transaction either way. Inside an outer transaction (which the other processes could not see
into), on SQLite, or with one process, the lists are written by the workbook's process as before.

A fresh process imports the program's main module again, as `multiprocessing` does: a script that
exports keeps its work under `if __name__ == "__main__":` (manage.py, the benches, the job worker do).
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import signal
import tempfile
from contextlib import closing, nullcontext
from dataclasses import dataclass

from django.conf import settings
from django.db import connections
from django.utils import translation

from .layout import Sheet
from .rowxml import RowStyles, RowWriter


@dataclass(frozen=True)
class Recipe:
    """How another process makes a sheet again: `YearEndExport(period, organization).<method>(part)`."""

    method: str
    part: int  # the part's primary key


@dataclass(frozen=True)
class Piece:
    """Rows written by another process: a file of row XML, its rows numbered from 1, one sheet's worth."""

    path: str
    count: int


def processes_for(using: str) -> int:
    """How many processes write the lists by part: `settings.EXPORT_PROCESSES`, or 1 (the workbook's own)
    where other processes could not read what this one reads."""
    wanted = settings.EXPORT_PROCESSES
    connection = connections[using]
    if wanted <= 1 or connection.vendor != "postgresql" or connection.in_atomic_block:
        return 1
    return wanted


# --- In the workbook's process ----------------------------------------------------------------------


class Writers:
    """The processes that write the lists by part: `submit(sheet, styles)` starts a sheet's rows, and
    `pieces(sheet)` waits for them. Used as a context manager: leaving it stops the processes (the
    sheets not started are dropped)."""

    def __init__(self, processes: int, using: str, period, organization, scratch: str, limit: int) -> None:
        self.period, self.organization = period.pk, organization.pk
        self.scratch, self.limit = scratch, limit
        context = multiprocessing.get_context("spawn")
        self.pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=processes,
            mp_context=context,
            initializer=_start,
            initargs=(
                os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings"),
                dict(connections[using].settings_dict),
                translation.get_language() or settings.LANGUAGE_CODE,
            ),
        )
        self.futures: dict[int, concurrent.futures.Future] = {}

    def __enter__(self) -> Writers:
        return self

    def __exit__(self, *exc) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, sheet: Sheet, styles: RowStyles) -> None:
        recipe = sheet.recipe
        self.futures[id(sheet)] = self.pool.submit(
            _write_part, self.period, self.organization, recipe.method, recipe.part, styles, self.limit, self.scratch
        )

    def pieces(self, sheet: Sheet) -> list[Piece]:
        return self.futures.pop(id(sheet)).result()


# --- In a writing process -----------------------------------------------------------------------------

_exports: dict[tuple[int, int], object] = {}


def _start(settings_module: str, database: dict, language: str) -> None:
    """A writing process: ended with its parent (Linux), Django set up on the parent's database."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # (not Linux: it ends when the pool is shut down)
        pass
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    from django.conf import settings as django_settings

    # Every read of this process on the connection the workbook's process reads on (the replica, a test
    # database): it writes nothing.
    django_settings.DATABASES = {"default": database}

    import django

    django.setup()
    translation.activate(language)


def _write_part(period_pk: int, organization_pk: int, method: str, part_pk: int, styles, limit, scratch):
    """The rows of `YearEndExport(period, organization).<method>(part)` written to files of `limit` rows
    each in `scratch`: [Piece], none when the list is empty."""
    from bulk import frozen_gc, report_transaction
    from organizations.models import Organization

    from ..core.models import Period
    from .sheets import YearEndExport
    from .workbook import RowHeights, whole_results

    key = (period_pk, organization_pk)
    export = _exports.get(key)
    if export is None:
        _exports.clear()
        export = _exports[key] = YearEndExport(
            Period.objects.get(pk=period_pk), Organization.objects.get(pk=organization_pk)
        )
    part = Organization.objects.get(pk=part_pk)
    pieces: list[Piece] = []
    with frozen_gc(), report_transaction():
        whole_results("default")
        sheet = getattr(export, method)(part)
        heights = RowHeights(sheet.columns)
        writer, handle, count = None, None, 0
        # (On an error, the files go with the export's scratch directory.)
        try:
            with closing(sheet.rows) if hasattr(sheet.rows, "close") else nullcontext():
                for row in sheet.rows:
                    if writer is None or count == limit:
                        if writer is not None:
                            writer.flush()
                            handle.close()
                            pieces.append(Piece(handle.name, count))
                        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed as its piece ends)
                            "w", encoding="utf-8", dir=scratch, prefix="rows-", suffix=".xml", delete=False
                        )
                        writer, count = RowWriter(handle, styles), 0
                    count += 1
                    writer.write(count, row, heights(row))
            if writer is not None:
                writer.flush()
                pieces.append(Piece(handle.name, count))
        finally:
            if handle is not None:
                handle.close()
    return pieces
