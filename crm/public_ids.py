"""The ids the API shows: UUIDv7, so they reveal neither how many rows a workspace has nor which came
first in another workspace, yet sort by creation time and keep B-tree indexes compact (new ids append).

Integer primary keys stay inside the database (joins, foreign keys, COPY); only these leave it.
"""

import os
import struct
import threading
import time
import uuid

from django.db import models

# RFC 9562 UUIDv7: 48 bits of Unix milliseconds, the version, 12 bits `rand_a`, the variant, 62 bits `rand_b`.
# rand_a is a counter within the millisecond (RFC 9562 6.2, method 1), started at a random value in its
# lower half so it has room to count: ids made by this process sort in the order they were made, even
# thousands in one millisecond; when a millisecond's counter runs out the next ids borrow the next
# millisecond. rand_b is random. An import draws the randomness for a whole batch in one call.
_VERSION_VARIANT = (0x7 << 76) | (0b10 << 62)
_RAND_B = (1 << 62) - 1
_COUNTER_MAX = 0xFFF
_lock = threading.Lock()
_last = [0, 0]  # [millisecond, counter] of the last id made


def new_public_ids(count: int) -> list[uuid.UUID]:
    """`count` fresh UUIDv7s, each sorting after every id this process made before it."""
    if count <= 0:
        return []
    drawn = os.urandom(10 * count)
    randoms = struct.unpack_from(f">{count}Q", drawn)
    starts = struct.unpack_from(f">{count}H", drawn, 8 * count)
    ids = []
    make, set_field = object.__new__, object.__setattr__
    unknown = uuid.SafeUUID.unknown
    with _lock:
        millisecond, counter = _last
        for i in range(count):
            now = time.time_ns() // 1_000_000 if i % 256 == 0 else millisecond
            if now > millisecond:
                millisecond = now
                counter = starts[i] & 0x7FF  # random, in the lower half
            elif counter < _COUNTER_MAX:
                counter += 1
            else:
                millisecond, counter = millisecond + 1, 0
            one = make(uuid.UUID)  # uuid.UUID(int=...) without its checks: the value is built in range
            set_field(one, "int", (millisecond << 80) | _VERSION_VARIANT | (counter << 64) | (randoms[i] & _RAND_B))
            set_field(one, "is_safe", unknown)
            ids.append(one)
        _last[:] = [millisecond, counter]
    return ids


def new_public_id() -> uuid.UUID:
    return new_public_ids(1)[0]


def public_id_of(row) -> str | None:
    """The id the API and events show for a row (None for no row)."""
    return None if row is None else str(row.public_id)


def parse_public_id(value: object) -> uuid.UUID | None:
    """The UUID a client sent, or None when it is not one (the caller answers 404 or names the field)."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def public_id_field() -> models.UUIDField:
    return models.UUIDField("public id", default=new_public_id, editable=False)


def unique_per_tenant(prefix: str) -> models.UniqueConstraint:
    """Tenant first, like every unique constraint here, so tables can be distributed by tenant."""
    return models.UniqueConstraint(fields=["tenant", "public_id"], name=f"{prefix}_public_id_unique")


def fill_public_ids(app_label: str, model_name: str):
    """A migration step: give every existing row its own id (a field default would give them all one),
    in primary-key order so the ids sort as the rows were made."""

    def fill(apps, schema_editor) -> None:
        model = apps.get_model(app_label, model_name)
        rows = model.objects.using(schema_editor.connection.alias).filter(public_id__isnull=True)
        while batch := list(rows.order_by("pk").only("pk")[:2000]):
            for row in batch:
                row.public_id = new_public_id()
            model.objects.using(schema_editor.connection.alias).bulk_update(batch, ["public_id"])

    return fill
