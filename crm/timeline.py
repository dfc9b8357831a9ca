"""The shape of a timeline entry (Activity) and of an outbox row (Event): built here, written by the caller.

Every service that records something builds its rows with `activity(...)` / `event(...)` and saves
them in its own transaction (one by one, or with bulk_create). Bulk writers that skip model
instances (the import's COPY) take the same columns from `activity_fields(...)` /
`event_fields(...)`: one shape whichever way a row is written.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from django.utils import timezone

from .models import Activity, Event

SUBJECT_MAX = Activity._meta.get_field("subject").max_length


def activity_fields(
    *,
    tenant: models.Model | int,
    kind: str,
    subject: str = "",
    body: str = "",
    actor: models.Model | int | None = None,
    lead: models.Model | int | None = None,
    contact: models.Model | int | None = None,
    deal: models.Model | int | None = None,
    occurred_at: dt.datetime | None = None,
    due_at: dt.datetime | None = None,
    done_at: dt.datetime | None = None,
    data: Any = None,
) -> dict[str, Any]:
    """The columns of one timeline entry (rows may be given as rows or ids)."""
    # Inline rather than a helper per column: the import builds a few of these per row.
    Model = models.Model
    return {
        "tenant_id": tenant.pk if isinstance(tenant, Model) else tenant,
        "lead_id": lead.pk if isinstance(lead, Model) else lead,
        "contact_id": contact.pk if isinstance(contact, Model) else contact,
        "deal_id": deal.pk if isinstance(deal, Model) else deal,
        "kind": kind,
        "subject": subject[:SUBJECT_MAX],
        "body": body or "",
        "actor_id": actor.pk if isinstance(actor, Model) else actor,
        "occurred_at": occurred_at or timezone.now(),
        "due_at": due_at,
        "done_at": done_at,
        "data": {} if data is None else data,
    }


def activity(**kwargs: Any) -> Activity:
    """An unsaved timeline entry (arguments as activity_fields)."""
    row = Activity(**activity_fields(**kwargs))
    # Keep the rows the caller holds, so reading entry.lead or entry.actor costs no query.
    for name in ("tenant", "lead", "contact", "deal", "actor"):
        value = kwargs.get(name)
        if isinstance(value, models.Model):
            setattr(row, name, value)
    return row


def event_fields(
    *, tenant: models.Model | int, type: str, payload: Any, created_at: dt.datetime | None = None
) -> dict[str, Any]:
    """The columns of one outbox row."""
    tenant_id = tenant.pk if isinstance(tenant, models.Model) else tenant
    return {"tenant_id": tenant_id, "type": type, "payload": payload, "created_at": created_at or timezone.now()}


def event(**kwargs: Any) -> Event:
    """An unsaved outbox row (arguments as event_fields)."""
    return Event(**event_fields(**kwargs))
