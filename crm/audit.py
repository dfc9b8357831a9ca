"""The access audit: every read of personal data leaves one AccessRecord (docs/privacy.md).

One INSERT per request, whatever the page size: a list's rows go into one record (their public
ids, space-separated), a detail page's row into another. Doors call `record_access` after the read
and before the answer leaves, so a read whose record cannot be written is not answered.
"""

from __future__ import annotations

from collections.abc import Iterable

from .client_ip import client_ip
from .privacy_models import AccessDoor, AccessRecord

MAX_QUERY = 500


def record_access(
    *, request, door: str, model, rows: Iterable = (), query: str = "", tenant=None, user=None,
) -> AccessRecord | None:
    """Record that `request.user` read `rows` (instances with a public_id, or ids) of `model` through `door`.

    A list passes its page's rows and its filter (the query string); nothing is written for
    someone without a workspace (nothing personal was shown) unless `tenant` is given.
    """
    user = user if user is not None else getattr(request, "user", None)
    tenant_id = tenant.pk if tenant is not None else getattr(user, "tenant_id", None)
    if tenant_id is None:
        return None
    ids = [str(getattr(row, "public_id", row)) for row in rows]
    label = model if isinstance(model, str) else model._meta.label_lower
    address = client_ip(request) if request is not None else ""
    record = AccessRecord(
        tenant_id=tenant_id,
        user=user if user is not None and user.is_authenticated else None,
        door=AccessDoor(door),
        address=address or None,
        model=label,
        object_ids=" ".join(ids),
        count=len(ids),
        query=query[:MAX_QUERY],
    )
    record.save(force_insert=True)
    return record


def query_of(request) -> str:
    """The list's filter as the client sent it (query string), for the record."""
    return request.META.get("QUERY_STRING", "") if request is not None else ""
