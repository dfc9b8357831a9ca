"""What an outbox row becomes on the wire: its routing key, its stable id and its message body.

One function builds the body from the Event row alone (crm never reads leads or contacts), so the
broker and every webhook receive the same JSON. Lead services put what a consumer needs (email,
source, statuses, the ids a conversion made) in the event's payload when they write it.
"""

import logging
import re
import time
import uuid

from celery import current_app
from django.conf import settings
from django.db import transaction

# Fixed forever: event ids are derived from it, and consumers deduplicate by them.
EVENT_ID_NAMESPACE = uuid.UUID("6f1c1d3e-52a4-4c1b-9a59-2f6b8e3f0c41")
RELAY_TASK = "crm.tasks.relay_events"

# Payload keys renamed in the body, per event type, so every consumer reads one vocabulary.
_RENAMED = {
    "LeadStatusChanged": {"from": "old_status", "to": "new_status"},
    "LeadAssigned": {"from": "previous_owner_id", "to": "owner_id"},
}
LEAD_FIELDS = ("lead_id", "email", "source", "old_status", "new_status")


def routing_key(event_type: str) -> str:
    """LeadCreated -> lead.created, LeadStatusChanged -> lead.status_changed."""
    words = [word.lower() for word in re.findall(r"[A-Z][a-z0-9]*", event_type)] or [event_type.lower()]
    return ".".join(filter(None, [words[0], "_".join(words[1:])]))


def event_id(event) -> str:
    """A UUID that names this event for good: the same on every redelivery, different for every row."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{event.pk}:{event.created_at.isoformat()}"))


def _iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def event_message(event, *, tenant_slug: str) -> dict:
    """The JSON body for the broker and webhooks, from the Event row only."""
    payload = dict(event.payload or {})
    for old, new in _RENAMED.get(event.type, {}).items():
        if old in payload:
            payload[new] = payload.pop(old)
    occurred_at = _iso(event.created_at)
    body = {
        "event_id": event_id(event),
        "event_type": routing_key(event.type),
        "tenant": tenant_slug,
        "tenant_id": event.tenant_id,
        "occurred_at": occurred_at,
        "timestamp": occurred_at,
    }
    if "lead_id" in payload:
        if event.type == "LeadCreated":
            payload.setdefault("new_status", payload.pop("status", None))
        body.update({name: payload.pop(name, None) for name in LEAD_FIELDS})
    body.update(payload)
    return body


def relay_soon() -> None:
    """Run the relay once the current transaction commits (beat's periodic relay is the safety net)."""
    transaction.on_commit(_kick_relay, robust=True)


_last_kick = 0.0


def _kick_relay() -> None:
    # At most one kick per EVENTS_RELAY_KICK_SECONDS in a process: the relay takes every undelivered
    # event when it runs, so a burst of captures needs one relay run, not one broker message each
    # (beat's poll still catches an event that commits just after a kick's relay ran).
    global _last_kick
    now = time.monotonic()
    if now - _last_kick < settings.EVENTS_RELAY_KICK_SECONDS:
        return
    _last_kick = now
    # By name: the task module is a door above this one. A broker that is down must not fail the
    # request that wrote the event; the event waits in the outbox for the next relay.
    try:
        current_app.tasks[RELAY_TASK].apply_async(retry=False)
    except Exception:  # any broker error: the periodic relay delivers it
        logging.getLogger(__name__).warning("Could not queue the event relay; the periodic relay will.", exc_info=True)
