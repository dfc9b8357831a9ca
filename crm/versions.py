"""Edits conditional on the version the editor saw, so a stale form never wipes newer data.

A row's version names its last change (`updated_at`, which every edit and every fill from a
submission or import moves). The API sends it as the `ETag` of a lead, contact, company or deal
and honours `If-Match`; the admin's change forms carry it, with the values shown, from the moment
the page was opened. A save over a newer version is refused with the fields changed meanwhile.
"""

from __future__ import annotations

from django.db.models import Model


class StaleEdit(Exception):
    """The row changed after the editor read it; `changed` names what changed, when known."""

    def __init__(self, message: str, *, changed: list[str] | None = None):
        super().__init__(message)
        self.changed = changed or []


def version_of(row: Model) -> str:
    """An opaque token for the row's current version."""
    updated_at = getattr(row, "updated_at", None)
    stamp = int(updated_at.timestamp() * 1_000_000) if updated_at else 0
    return f"{row.pk}-{stamp}"


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
