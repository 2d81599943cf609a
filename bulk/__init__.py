"""Tools for work over many rows at once (opening a province's period, every rule for every member, a
year-end export, the demo's seeding): the garbage collector held still while millions of small
objects are made, the report queries without PostgreSQL's JIT, rows written by COPY (PostgreSQL) or
one executemany (SQLite), and many rows changed by one `UPDATE … FROM (VALUES …)`.

Each works on PostgreSQL and on SQLite (3.33 and later know UPDATE … FROM)."""

from __future__ import annotations

import datetime
import gc
import io
import json
import os
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, models, transaction
from django.db.models.query import ValuesListIterable

# Rows sent in one statement: far below SQLite's 32,766 parameters and PostgreSQL's 65,535.
BATCH_ROWS = 2000


@contextmanager
def frozen_gc() -> Iterator[None]:
    """Hold Python's cyclic garbage collector still while bulk work makes many objects that live to the
    end (facts, evaluations, rows): without it the collector walks them again and again (about 30% of
    every rule for every member). What was tracked before is frozen out of the collector's sight; on
    the way out, however it ends, what was made meanwhile joins it in the oldest generation, as the
    long-lived objects it is made of (the first young collection after would otherwise walk all of a
    province's at once: a tenth of a second), and the collector is put back as it was."""
    was_enabled = gc.isenabled()
    # Frozen as it is, without a collection first: what is garbage among it is collected after, with the
    # oldest generation (a collection of the young ones here was 2% of a city's ranking page, 7 ms: they
    # hold what the request made before; a full one costs about as much as it saves).
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def analyze(model: type[models.Model], using: str = "default") -> None:
    """Have the database renew its statistics of `model`'s table (ANALYZE, on PostgreSQL and SQLite):
    after many rows are written at once, so that the queries on them are planned on what is there."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"ANALYZE {connections[using].ops.quote_name(model._meta.db_table)}")


def vacuum(model: type[models.Model], using: str = "default") -> bool:
    """VACUUM (ANALYZE) of `model`'s table on PostgreSQL, after many rows written at once were committed:
    their pages are marked all-visible now, so that the counts over them are read from the indexes
    alone (index-only scans) from the first screen on, rather than once autovacuum has got to the table
    (a minute or more: until then a province's ranking of a new national period read the whole forms'
    table, 0.5 s rather than 0.07). A page whose rows are newer than a snapshot another session of the
    database still holds (autovacuum analysing another table, a long report) cannot be marked yet: those
    are left to autovacuum, as before. Only outside a transaction (VACUUM cannot run in one); returns
    whether it ran."""
    connection = connections[using]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(model._meta.db_table)}")
    return True


@contextmanager
def report_transaction(using: str = "default") -> Iterator[None]:
    """A transaction for report queries over a whole subtree (statistics, exports, summaries) with
    PostgreSQL's JIT off for it only (`SET LOCAL`): on these grouped queries the JIT costs more than it
    saves (the totals query 1.49 s with it, 0.28 s without). Nothing to do on SQLite. Inside an outer
    transaction it lasts to that transaction's end (PostgreSQL keeps SET LOCAL past a savepoint)."""
    with transaction.atomic(using=using):
        connection = connections[using]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        yield


def made_with(queryset: models.QuerySet, related: str) -> list[models.Model]:
    """The rows of `queryset` as its model's instances with the object of the foreign key `related`
    attached, as `select_related(related)` gives them (every field, converted by its field; the related
    object read without a query; each saved as the row it is), made from one `values_list` of both
    models' columns: without Django's constructor run field by field and its populator of related
    objects, a ranking's 2,671 forms and organisations are made in half the time.

    Neither model may have `pre_init` or `post_init` receivers (checked), as no constructor runs; the
    queryset's deferred fields, if any, are read all the same."""
    model = queryset.model
    field = model._meta.get_field(related)
    other = field.related_model
    for name in ("pre_init", "post_init"):
        signal = getattr(models.signals, name)
        if signal.has_listeners(model) or signal.has_listeners(other):
            raise ValueError(f"{model.__name__} or {other.__name__} has {name} receivers: no constructor runs here")
    own = [f.attname for f in model._meta.concrete_fields]
    theirs = [f.attname for f in other._meta.concrete_fields]
    width, key = len(own), theirs.index(other._meta.pk.attname)
    db = queryset.db

    def instance_of(kind: type[models.Model], names: list[str], values: Sequence[Any]) -> models.Model:
        made = object.__new__(kind)
        made.__dict__.update(zip(names, values, strict=True))
        state = made._state = models.base.ModelState()
        state.adding, state.db = False, db
        return made

    made = []
    for values in queryset.values_list(*own, *(f"{related}__{name}" for name in theirs)):
        instance = instance_of(model, own, values[:width])
        target = None if values[width + key] is None else instance_of(other, theirs, values[width:])
        instance._state.fields_cache[field.name] = target
        made.append(instance)
    return made


def _defaults(model: type[models.Model], given: Sequence[str]) -> tuple[list[models.Field], list[Any]]:
    """The model's other concrete columns (not the auto key, not those `given`) and their default
    values: a callable default (a UUID) is left as the callable, to be called for each row."""
    fields, values = [], []
    now = None
    for field in model._meta.concrete_fields:
        if field.attname in given or isinstance(field, models.AutoField):
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            from django.utils import timezone

            now = now or timezone.now()
            value = now
        elif field.has_default() and callable(field.default):
            value = field.default
        elif field.has_default() or not field.null:
            value = field.get_default()
        else:
            value = None
        fields.append(field)
        values.append(value)
    return fields, values


def copy_from(connection, sql: str, buffer: io.StringIO) -> None:
    """Run PostgreSQL's `COPY … FROM STDIN` of `buffer`, counted in the connection's query log like any
    other query (the pinned query counts and the debug toolbar see it: psycopg's copy_expert is not a
    Django cursor's execute)."""
    started = time.monotonic()
    # Through Django's wrapper of the driver's errors, as an execute is: a duplicate key is an IntegrityError.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.cursor.copy_expert(sql, buffer)
    if connection.queries_logged:
        connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})


class _Aborted(Exception):
    """The rows' maker stopped (an error, a cancelled job): the COPY is abandoned, its rows with it."""


class _ChunkReader:
    """A file for psycopg's copy_expert whose read() hands over the chunks a queue receives ("" at the
    end); a chunk _ABORT makes the COPY fail, so that nothing of it stays."""

    def __init__(self, chunks: queue.Queue) -> None:
        self.chunks = chunks

    def read(self, size: int = -1) -> str:
        chunk = self.chunks.get()
        if chunk is _ABORT:
            raise _Aborted
        return chunk or ""

    def readline(self, size: int = -1) -> str:
        return self.read(size)


_ABORT = object()


def copy_pipelined(
    connection,
    sql: str,
    chunks: Iterable[tuple[str, int]],
    progress: Callable[[int], None] | None = None,
) -> int:
    """Run `COPY … FROM STDIN` (`sql`) in a thread on the connection's own database session (so in the
    caller's transaction), fed with the text `chunks` (text, rows in it) as this thread makes them: the
    server parses and writes on one core while Python makes the next rows on the other. An error or a
    cancellation while the chunks are made abandons the COPY and is raised here; the caller's
    transaction rolls it back. Counted in the query log as one query. Returns the rows written."""
    started = time.monotonic()
    connection.ensure_connection()
    session = connection.connection
    handed: queue.Queue = queue.Queue(maxsize=4)
    failure: list[BaseException] = []

    def copy() -> None:
        try:
            with session.cursor() as cursor:
                cursor.copy_expert(sql, _ChunkReader(handed), size=1 << 20)
        except BaseException as error:  # raised again in the caller's thread
            failure.append(error)

    def hand(chunk: object) -> None:
        # Waits while the server is behind, but not forever when the COPY has already failed.
        _put(handed, chunk, lambda: bool(failure))

    worker = threading.Thread(target=copy, name="copy-pipelined", daemon=True)
    worker.start()
    written = 0
    try:
        for text, count in chunks:
            hand(text)
            if failure:
                break
            written += count
            if progress:
                progress(written)
    except BaseException:
        hand(_ABORT)
        worker.join()
        raise
    hand("")
    worker.join()
    if failure:
        raise failure[0]
    if connection.queries_logged:
        connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})
    return written


# Chunks of rows `fetched_ahead` keeps ready beyond the one being read.
AHEAD = 4


def fetched_ahead(queryset: models.QuerySet, chunk_size: int) -> Iterator[tuple]:
    """The rows of a `values_list` queryset, as `queryset.iterator(chunk_size=…)` gives them, fetched on
    PostgreSQL by a thread from a server-side cursor of the connection's own session (so in the caller's
    transaction) while the caller works on the rows before: the server finds the next rows on one core
    while Python writes these on the other (a country's lists of members waited on the database for half
    their time). Elsewhere (SQLite), the queryset's own iterator.

    The caller must not use the connection until the rows are read or the generator is closed (closing
    it stops the thread). An error of the database is raised here."""
    if queryset._iterable_class is not ValuesListIterable:
        raise TypeError("fetched_ahead reads a values_list queryset (not flat, not named)")
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        yield from queryset.iterator(chunk_size=chunk_size)
        return
    compiler = queryset.query.get_compiler(using=queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return
    connection.ensure_connection()
    started = time.monotonic()
    # (Outside a transaction, a cursor that outlives its statement's own transaction, as Django makes it.)
    session = connection.connection
    cursor = session.cursor(name=f"_fetched_{uuid.uuid4().hex}", withhold=session.autocommit)
    with connection.wrap_database_errors:
        cursor.execute(sql, params)
    handed: queue.Queue = queue.Queue(maxsize=AHEAD)
    stop = threading.Event()

    def fetch() -> None:
        try:
            while not stop.is_set():
                chunk = cursor.fetchmany(chunk_size)
                if not _put(handed, chunk, stop.is_set) or not chunk:
                    return
        except BaseException as error:  # raised again in the caller's thread
            _put(handed, error, stop.is_set)

    worker = threading.Thread(target=fetch, name="fetched-ahead", daemon=True)
    worker.start()

    def chunks() -> Iterator[list]:
        while True:
            chunk = handed.get()
            if isinstance(chunk, BaseException):
                with connection.wrap_database_errors:  # as Django's own cursors raise it
                    raise chunk
            if not chunk:
                return
            yield chunk

    try:
        # Django's own reading of the rows (its converters, tuples), on the chunks the thread fetched.
        yield from compiler.results_iter(results=chunks(), tuple_expected=True)
    finally:
        stop.set()
        worker.join()
        try:
            cursor.close()
        except connection.Database.Error:
            pass  # the transaction ended with an error already: the cursor went with it
        if connection.queries_logged:
            connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})


def _put(handed: queue.Queue, item: object, stopped: Callable[[], bool]) -> bool:
    """Hand `item` over to the other thread, waiting while it is behind, but not once it has `stopped`
    (False then: the item was not handed)."""
    while not stopped():
        try:
            handed.put(item, timeout=0.2)
            return True
        except queue.Full:
            continue
    return False


def _copy_text(value: Any) -> str:
    """A value in PostgreSQL's COPY text format."""
    # The common kinds first, by their exact type (a province's opening writes a million values).
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is str:
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
        return value
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, dict | list):
        value = json.dumps(value) if value else ("{}" if isinstance(value, dict) else "[]")
    elif isinstance(value, datetime.datetime | datetime.date | datetime.time):
        value = value.isoformat()
    elif not isinstance(value, str):
        value = str(value)
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def _uuid4_text() -> str:
    """The text of a fresh random UUID (version 4), as str(uuid.uuid4()) gives, without the UUID object."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40
    raw[8] = raw[8] & 0x3F | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def insert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    using: str = "default",
    progress: Callable[[int], None] | None = None,
    pipelined: bool = False,
) -> int:
    """Write `rows` (tuples of plain values for the fields `columns`, by attname: "member_id") into
    `model`'s table, every other column at its default (a fresh UUID for each row where the default is
    uuid4): COPY on PostgreSQL, one executemany per batch on SQLite. No model instance is made, no
    signal sent, the keys are not read back. `progress(n)` is told of every batch written.

    `pipelined` (PostgreSQL): one COPY that the database reads while `rows` are still being made, the
    server working on one core while Python makes the rows on the other. Only for rows whose making
    asks nothing of the database (the connection is busy with the COPY meanwhile).

    The caller owns the transaction. Values are as the database driver takes them: ints, strings,
    booleans, dates, dicts for JSON."""
    connection = connections[using]
    columns = list(columns)
    default_fields, default_values = _defaults(model, columns)
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    fields = [by_attname[name] for name in columns]
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(f.column) for f in [*fields, *default_fields])
    per_row = [i for i, value in enumerate(default_values) if callable(value)]
    written = 0

    if connection.vendor == "postgresql":
        # The default columns as one text after each row's own values, with a place for each value made
        # per row (a fresh UUID): "{}" there, the constants' own braces doubled.
        tail = "\t".join(
            "{}" if callable(v) else _copy_text(v).replace("{", "{{").replace("}", "}}") for v in default_values
        )
        makers = [default_values[i] for i in per_row]
        fresh = [_uuid4_text if maker is uuid.uuid4 else (lambda maker=maker: _copy_text(maker())) for maker in makers]

        def encoded(batch: Sequence[Sequence[Any]]) -> str:
            text = _copy_text
            if not default_values:
                lines = ["\t".join(map(text, row)) for row in batch]
            elif not fresh:
                lines = ["\t".join(map(text, row)) + "\t" + tail for row in batch]
            else:
                lines = ["\t".join(map(text, row)) + "\t" + tail.format(*(make() for make in fresh)) for row in batch]
            lines.append("")
            return "\n".join(lines)

        sql = f"COPY {table} ({names}) FROM STDIN"
        if pipelined:
            return copy_pipelined(
                connection, sql, ((encoded(batch), len(batch)) for batch in _batches(rows, 5000)), progress
            )
        for batch in _batches(rows, 20000):
            copy_from(connection, sql, io.StringIO(encoded(batch)))
            written += len(batch)
            if progress:
                progress(written)
        return written

    prepared = [
        f.get_db_prep_save(v, connection) if not callable(v) else None
        for f, v in zip(default_fields, default_values, strict=True)
    ]
    json_columns = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    placeholders = ", ".join(["%s"] * (len(fields) + len(default_fields)))
    sql = f"INSERT INTO {table} ({names}) VALUES ({placeholders})"
    for batch in _batches(rows, BATCH_ROWS):
        params = []
        for row in batch:
            row = list(row)
            for i in json_columns:
                row[i] = fields[i].get_db_prep_save(row[i], connection)
            tail = prepared
            if per_row:
                tail = list(prepared)
                for i in per_row:
                    tail[i] = default_fields[i].get_db_prep_save(default_values[i](), connection)
            params.append([*row, *tail])
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)
        written += len(batch)
        if progress:
            progress(written)
    return written


def insert_dicts(model: type[models.Model], entries: Sequence[Mapping[str, Any]], *, using: str = "default") -> int:
    """`insert_rows` for rows given as {field name: value} dicts that share their keys, a foreign key
    given as its object or None ("actor": user) or by its attname ("assessment_id": 12): for the
    services that write many audit entries at once (`transitions.audit_fields`)."""
    if not entries:
        return 0
    names = list(entries[0])
    fields = [model._meta.get_field(name) for name in names]
    columns = [field.attname for field in fields]
    relations = [i for i, (name, field) in enumerate(zip(names, fields, strict=True)) if name != field.attname]

    def row(entry: Mapping[str, Any]) -> list[Any]:
        values = [entry[name] for name in names]
        for i in relations:
            if values[i] is not None:
                values[i] = values[i].pk
        return values

    return insert_rows(model, columns, (row(entry) for entry in entries), using=using)


def _batches(rows: Iterable[Sequence[Any]], size: int) -> Iterator[list[Sequence[Any]]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def update_from_values(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    set_values: Mapping[str, Any] | None = None,
    increment: Sequence[str] = (),
    using: str = "default",
) -> int:
    """Set, for each row of `rows` (the primary key, then a value for each field of `columns`, by
    attname), those fields of that row of `model`'s table: one `UPDATE … FROM (VALUES …)` per batch of
    rows, where `bulk_update` builds a CASE/WHEN for every field. `set_values` ({attname: value}) are
    given to every row alike; the integer fields of `increment` go up by one. Rows not listed are left
    as they were. Returns the number of rows changed.

    The caller owns the transaction and its locks (the optimistic versions are checked before)."""
    connection = connections[using]
    quote = connection.ops.quote_name
    opts = model._meta
    by_attname = {f.attname: f for f in opts.concrete_fields}
    fields = [opts.pk, *(by_attname[name] for name in columns)]
    table = quote(opts.db_table)
    postgres = connection.vendor == "postgresql"
    # SQLite names the columns of VALUES column1, column2… and takes no list of names after its alias.
    aliases = [f"c{i}" if postgres else f"column{i + 1}" for i in range(len(fields))]
    assignments = [f"{quote(f.column)} = v.{alias}" for f, alias in zip(fields[1:], aliases[1:], strict=True)]
    constants = []
    for name, value in (set_values or {}).items():
        field = by_attname[name]
        assignments.append(f"{quote(field.column)} = %s")
        constants.append(field.get_db_prep_save(value, connection))
    for name in increment:
        column = quote(by_attname[name].column)
        assignments.append(f"{column} = {table}.{column} + 1")
    casts = [f"::{f.cast_db_type(connection)}" if postgres else "" for f in fields]
    one = "(" + ", ".join(f"%s{cast}" for cast in casts) + ")"
    changed = 0
    for batch in _batches(rows, BATCH_ROWS):
        params = []
        for row in batch:
            params.extend(f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True))
        names = f" ({', '.join(aliases)})" if postgres else ""
        sql = (
            f"UPDATE {table} SET {', '.join(assignments)} FROM (VALUES {', '.join([one] * len(batch))}) AS v{names} "
            f"WHERE {table}.{quote(opts.pk.column)} = v.{aliases[0]}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*constants, *params])
            changed += cursor.rowcount
    return changed
