"""Rows written and updated in bulk from plain tuples: COPY on PostgreSQL, executemany on SQLite.

The demo writes hundreds of thousands of members, records and form changes; `bulk_create` and
`bulk_update` spend most of their time compiling SQL for model instances (a CASE/WHEN per row for the
updates). Here the rows are tuples in the order of the columns named, streamed in chunks (an
iterable, never a list of everything), and the fields left out get their model default (a fresh
uuid4 for a public id, now for `auto_now` dates) as save() would have given them.
"""

import io
import json
from itertools import islice

from django.db import connection, models
from django.utils import timezone

CHUNK = 5000


def _chunks(rows, size=CHUNK):
    rows = iter(rows)
    while chunk := list(islice(rows, size)):
        yield chunk


def _filler(field, now):
    """A function giving the value of a column left out of the rows, as save() would have set it."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return lambda: now
    if field.has_default():
        if callable(field.default):
            return field.default
        value = field.get_default()
        return lambda: value
    if field.null:
        return lambda: None
    if field.blank and isinstance(field, models.CharField | models.TextField):
        return lambda: ""
    raise ValueError(f"{field.model.__name__}.{field.name} has no default: give it in the rows")


def _columns(model, given):
    """(every column written, fillers for those not given)."""
    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.attname not in given)]
    names = {f.attname: f for f in fields}
    unknown = set(given) - set(names)
    if unknown:
        raise ValueError(f"{model.__name__} has no columns {sorted(unknown)}")
    missing = [(f.attname, _filler(f, now)) for f in fields if f.attname not in given]
    return [names[name] for name in given] + [names[name] for name, _ in missing], [fill for _, fill in missing]


def _escape(text):
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _copy_converter(field):
    """A function writing one value of `field` in PostgreSQL's COPY text format (None as \\N)."""
    if isinstance(field, models.JSONField):
        encoder = field.encoder

        def convert(value):
            return r"\N" if value is None else _escape(json.dumps(value, cls=encoder, ensure_ascii=False))

    elif isinstance(field, models.BooleanField):

        def convert(value):
            return r"\N" if value is None else ("t" if value else "f")

    elif isinstance(field, models.CharField | models.TextField):

        def convert(value):
            return r"\N" if value is None else _escape(str(value))

    else:  # numbers, dates, times, uuids: their str() is what COPY reads

        def convert(value):
            return r"\N" if value is None else str(value)

    return convert


def _copy_buffer(rows, fields):
    converters = [_copy_converter(f) for f in fields]
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join([convert(value) for convert, value in zip(converters, row, strict=True)]))
        buffer.write("\n")
    buffer.seek(0)
    return buffer


def insert_rows(model, columns, rows):
    """Insert `rows` (tuples in the order of the attnames `columns`) into `model`'s table; returns how many.

    The other columns get their defaults. On PostgreSQL each chunk goes through COPY, elsewhere through
    one executemany of a plain INSERT."""
    fields, fillers = _columns(model, columns)
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    count = 0
    with connection.cursor() as cursor:
        for chunk in _chunks(rows):
            full = [(*row, *(fill() for fill in fillers)) for row in chunk]
            count += len(full)
            if connection.vendor == "postgresql":
                cursor.cursor.copy_expert(f"COPY {table} ({names}) FROM STDIN", _copy_buffer(full, fields))
            else:
                prepared = [
                    [f.get_db_prep_save(v, connection) for v, f in zip(row, fields, strict=True)] for row in full
                ]
                marks = ", ".join(["%s"] * len(fields))
                cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", prepared)
    return count


def update_rows(model, columns, rows):
    """Set `columns` (attnames) of the rows of `model` whose primary key is the first value of each row
    of `rows` (pk, *values); returns how many rows were given.

    On PostgreSQL each chunk is copied into a temporary table and applied by one UPDATE … FROM; elsewhere
    one executemany of a plain UPDATE by primary key."""
    meta = model._meta
    fields = [next(f for f in meta.concrete_fields if f.attname == name) for name in columns]
    quote = connection.ops.quote_name
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            temp = quote(f"demo_update_{meta.db_table}")
            names = ", ".join(quote(f.column) for f in fields)
            cursor.execute(
                f"CREATE TEMPORARY TABLE {temp} ON COMMIT DROP AS SELECT {pk}, {names} FROM {table} WITH NO DATA"
            )
            sets = ", ".join(f"{quote(f.column)} = {temp}.{quote(f.column)}" for f in fields)
            for chunk in _chunks(rows):
                count += len(chunk)
                cursor.execute(f"TRUNCATE {temp}")
                buffer = _copy_buffer(chunk, [meta.pk, *fields])
                cursor.cursor.copy_expert(f"COPY {temp} ({pk}, {names}) FROM STDIN", buffer)
                cursor.execute(f"UPDATE {table} SET {sets} FROM {temp} WHERE {table}.{pk} = {temp}.{pk}")
            cursor.execute(f"DROP TABLE {temp}")
        else:
            sets = ", ".join(f"{quote(f.column)} = %s" for f in fields)
            for chunk in _chunks(rows):
                count += len(chunk)
                prepared = [
                    [*(f.get_db_prep_save(v, connection) for v, f in zip(row[1:], fields, strict=True)), row[0]]
                    for row in chunk
                ]
                cursor.executemany(f"UPDATE {table} SET {sets} WHERE {pk} = %s", prepared)
    return count


def reserve_ids(model, count):
    """`count` primary keys for new rows of `model`, to give them explicitly (so that the rows can
    refer to each other before they are written). On PostgreSQL they are drawn from the table's own
    sequence, which needs no more than the application role's right to use it; on SQLite they follow
    the highest key."""
    if connection.vendor == "postgresql":
        table, pk = model._meta.db_table, model._meta.pk.column
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, pk, count]
            )
            return [row[0] for row in cursor.fetchall()]
    highest = model.objects.aggregate(models.Max("pk"))["pk__max"] or 0
    return list(range(highest + 1, highest + 1 + count))
