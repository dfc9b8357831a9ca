"""Bulk writes for one batch: COPY on PostgreSQL, one multi-row INSERT statement per table on SQLite.

Rows are plain tuples in column order (no model instances). Lead ids are taken from the table's
sequence before the COPY, so the batch's activities and events can point at them in the same
transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

from django.db import connection, models

from crm.public_ids import new_public_id, new_public_ids


class Json(str):
    """JSON text already serialised (e.g. one score breakdown shared by thousands of rows)."""


EMPTY_OBJECT = Json("{}")


def as_json(value) -> str:
    if isinstance(value, Json):
        return value
    if not value and isinstance(value, dict):
        return EMPTY_OBJECT
    return json.dumps(value)


class Table:
    """A model's columns (id excluded) and the defaults of the ones a row does not give."""

    def __init__(self, model: type[models.Model], *, with_id: bool = False):
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if with_id or not f.primary_key]
        self.keys = [f.attname for f in self.fields]
        self.columns = [cast(str, f.column) for f in self.fields]  # concrete fields have one
        self.name = model._meta.db_table
        self.defaults = {}
        for f in self.fields:
            default = None if f.primary_key else f.get_default()
            if isinstance(f, models.JSONField) and default is None and not f.null:
                default = {}
            self.defaults[f.attname] = default
        # Ids made per row (a public id shared by a batch would be no id); other defaults once per table.
        # Public ids are drawn a block at a time (one call for the randomness of a block) within one insert().
        self._pools: list[_Drawn] = []
        self._fresh: dict[str, Callable[[], Any]] = {}
        for f in self.fields:
            if isinstance(f, models.UUIDField) and callable(f.default):
                if f.default is new_public_id:
                    pool = _Drawn(new_public_ids)
                    self._pools.append(pool)
                    self._fresh[f.attname] = pool.take
                else:
                    self._fresh[f.attname] = f.default
        self._json = {f.attname for f in self.fields if isinstance(f, models.JSONField)}
        for key in self._json:
            self.defaults[key] = as_json(self.defaults[key])
        self._sqlite_prep = {
            f.attname: f
            for f in self.fields
            if isinstance(f, (models.DateTimeField, models.DecimalField, models.UUIDField))
        }

        self._pairs = [(key, self.defaults[key]) for key in self.keys]
        self._json_at = [i for i, key in enumerate(self.keys) if key in self._json]
        self._fresh_at = [(i, key, make) for i, key in enumerate(self.keys) for k, make in self._fresh.items() if k == key]

    def row(self, values: dict[str, Any]) -> list:
        # Given values and defaults in one pass (the defaults' JSON is text already), then the few
        # columns that need more: JSON given as data, ids made per row. Hot: three per imported lead.
        get = values.get
        row = [get(key, default) for key, default in self._pairs]
        for i in self._json_at:
            row[i] = as_json(row[i])
        for i, key, make in self._fresh_at:
            if key not in values:
                row[i] = make()
        return row


class _Drawn:
    """Values of a default made `BLOCK` at a time, handed out one by one in the order they were made.

    Emptied at the start of each insert(), so ids left over from one insert are never given out after
    ids made elsewhere since (public ids sort in the order they were made)."""

    BLOCK = 1024

    def __init__(self, make_many: Callable[[int], list]):
        self.make_many = make_many
        self.ready: list = []

    def take(self):
        if not self.ready:
            self.ready = self.make_many(self.BLOCK)[::-1]
        return self.ready.pop()

    def clear(self) -> None:
        self.ready = []


def allocate_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` fresh primary keys for rows this transaction will insert."""
    if count == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite: the IMMEDIATE transaction holds the write lock, so nobody else takes these ids;
        # AUTOINCREMENT never reuses an id, hence sqlite_sequence too.
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')
        highest = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        found = cursor.fetchone()
        start = max(highest, found[0] if found else 0) + 1
        return list(range(start, start + count))


def insert(table: Table, rows: Iterable[Sequence], *, extra_columns: Sequence[str] = ()) -> int:
    """Write rows (values in table.keys order, then extra_columns); returns how many."""
    columns = [*extra_columns, *table.columns]
    written = 0
    for pool in table._pools:
        pool.clear()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The raw psycopg cursor: wrap its errors as Django's (IntegrityError for a taken email).
            with connection.wrap_database_errors:
                with cursor.cursor.copy(f'COPY "{table.name}" ({", ".join(columns)}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
                        written += 1
            return written
        batch = list(_sqlite_rows(table, rows, offset=len(extra_columns)))
        if batch:
            placeholders = ", ".join(["%s"] * len(columns))
            quoted = ", ".join(f'"{c}"' for c in columns)
            cursor.executemany(f'INSERT INTO "{table.name}" ({quoted}) VALUES ({placeholders})', batch)
        return len(batch)


def _sqlite_rows(table: Table, rows: Iterable[Sequence], *, offset: int):
    prep = [(offset + i, table._sqlite_prep[key]) for i, key in enumerate(table.keys) if key in table._sqlite_prep]
    for row in rows:
        row = list(row)
        for i, field in prep:
            if row[i] is not None:
                row[i] = field.get_db_prep_save(row[i], connection)
        yield row
