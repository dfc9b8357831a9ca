"""The ids the API shows: UUIDv7, so they reveal neither how many rows a workspace has nor which came
first in another workspace, yet sort by creation time and keep B-tree indexes compact (new ids append).

Integer primary keys stay inside the database (joins, foreign keys, COPY); only these leave it.
"""

import uuid

from django.db import models
from uuid6 import uuid7


def new_public_id() -> uuid.UUID:
    return uuid.UUID(int=uuid7().int)


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
