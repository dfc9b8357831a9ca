"""Edits conditional on the version the editor saw, so a stale form never wipes newer data.

A row's version names its last change (`updated_at`, which every edit and every fill from a
submission or import moves). The API sends it as the `ETag` of a lead, contact, company or deal
and honours `If-Match`; the admin's change forms carry it, with the values shown, from the moment
the page was opened. A save over a newer version is refused with the fields changed meanwhile.
"""

from __future__ import annotations

import hashlib

from django.core import signing
from django.db.models import Field, Model


class StaleEdit(Exception):
    """The row changed after the editor read it; `changed` names what changed, when known."""

    def __init__(self, message: str, *, changed: list[str] | None = None):
        super().__init__(message)
        self.changed = changed or []


def version_of(row: Model) -> str:
    """An opaque token for the row's current version."""
    updated_at = getattr(row, "updated_at", None)
    stamp = int(updated_at.timestamp() * 1_000_000) if updated_at else 0
    return f"{getattr(row, 'public_id', None) or row.pk}-{stamp}"  # the API's ETag: no integer key


def etag_of(row: Model) -> str:
    return f'"{version_of(row)}"'


def expected_from_if_match(header: str | None) -> list[str] | None:
    """The versions an If-Match header accepts (None: no condition; `*` matches any version)."""
    if not header or header.strip() == "*":
        return None
    return [tag.strip().removeprefix("W/").strip('"') for tag in header.split(",") if tag.strip()]


def check_version(row: Model, expected: list[str] | str | None) -> None:
    """Raise StaleEdit unless `row` (read under a lock by the caller) is at one of the expected versions."""
    if expected is None:
        return
    accepted = [expected] if isinstance(expected, str) else expected
    if version_of(row) not in accepted:
        raise StaleEdit(
            f"This {row._meta.verbose_name} changed after you read it (now version {version_of(row)}); "
            "read it again and reapply your change."
        )


SNAPSHOT_SALT = "crm.versions.snapshot"


def _field(row: Model, name: str) -> Field:
    field = row._meta.get_field(name)
    assert isinstance(field, Field)  # forms edit concrete fields, never reverse relations
    return field


def _digest(value) -> str:
    return hashlib.sha256(str(value).encode()).hexdigest()[:16]


def snapshot(row: Model, fields: list[str]) -> str:
    """A signed token of the row's version and what `fields` held, for a form opened now."""
    values = {name: _digest(_field(row, name).value_from_object(row)) for name in fields}
    return signing.dumps({"v": version_of(row), "f": values}, salt=SNAPSHOT_SALT, compress=True)


def check_snapshot(row: Model, token: str | None) -> None:
    """Raise StaleEdit when `row` moved past the version a form was opened at, naming the fields changed
    meanwhile (a token that is missing or tampered with is treated as stale: the form must be reloaded)."""
    if not token:
        return
    try:
        opened = signing.loads(token, salt=SNAPSHOT_SALT)
    except signing.BadSignature:
        raise StaleEdit("This form could not be checked against the saved record; reload the page.") from None
    if opened["v"] == version_of(row):
        return
    changed = [
        name for name, digest in opened["f"].items()
        if _digest(_field(row, name).value_from_object(row)) != digest
    ]
    labels = ", ".join(str(_field(row, name).verbose_name) for name in changed) or "its details"
    raise StaleEdit(
        f"Someone changed this {row._meta.verbose_name} after you opened the page ({labels}); nothing was saved. "
        "The form now shows the saved values where they changed: check them and save again.",
        changed=changed,
    )
