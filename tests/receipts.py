"""What an anonymous form post is answered (document 002's create shape), checked in one place."""

import datetime

from crm.public_ids import parse_public_id

RECEIPT_KEYS = {"id", "name", "email", "status", "created_at"}


def assert_receipt(body: dict, *, email: str | None = None, name: str | None = None) -> None:
    """The receipt a form gets whatever happened: this submission's id, the name and email as sent, "new", a time."""
    assert set(body) == RECEIPT_KEYS, body
    assert parse_public_id(body["id"]) is not None, body
    assert body["status"] == "new"
    if email is not None:
        assert body["email"] == email.strip().lower()
    if name is not None:
        assert body["name"] == name
    datetime.datetime.fromisoformat(body["created_at"].replace("Z", "+00:00"))
