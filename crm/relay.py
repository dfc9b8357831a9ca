"""The outbox relay: undelivered events, oldest first, handed on at least once and in order per lead.

A batch is taken in one transaction: PostgreSQL locks its rows with SKIP LOCKED, so several relays
share the backlog; SQLite's IMMEDIATE transaction lets one relay at a time in. The batch is
published (and confirmed by the broker) before it is marked delivered in the same transaction, so
a relay killed anywhere in between leaves the batch undelivered and the next run sends it again;
consumers deduplicate by `event_id`.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

from .broker import EventPublisher
from .models import Event, WebhookDelivery
from .outbox import event_message, routing_key
from .webhook_models import DeliveryStatus
from .webhooks import queue_deliveries, record_deliveries

log = logging.getLogger(__name__)


def relay_batch(*, publisher: EventPublisher, batch_size: int | None = None) -> int:
    """Deliver one batch of the oldest undelivered events; return how many were delivered."""
    batch_size = batch_size or settings.EVENTS_RELAY_BATCH
    with transaction.atomic():
        pending = Event.objects.undelivered().select_related("tenant")
        if connection.features.has_select_for_update_skip_locked:
            pending = pending.select_for_update(skip_locked=True, of=("self",))
        events = _keep_lead_order(list(pending[:batch_size]))
        if not events:
            return 0
        messages = [(event, event_message(event, tenant_slug=event.tenant.slug)) for event in events]
        publisher.publish_batch([(routing_key(event.type), body) for event, body in messages])
        deliveries = record_deliveries(messages)
        if deliveries:
            transaction.on_commit(lambda: queue_deliveries(deliveries), robust=True)
        Event.objects.filter(pk__in=[event.pk for event in events]).update(delivered_at=timezone.now())
    return len(events)


def _keep_lead_order(events: list[Event]) -> list[Event]:
    # With SKIP LOCKED another relay may hold an older event of the same lead; sending ours first
    # would reorder that lead's events, so its events wait for a later batch.
    if not events or not connection.features.has_select_for_update_skip_locked:
        return events
    ids = [event.pk for event in events]
    lead_ids = {event.payload.get("lead_id") for event in events} - {None}
    older_held = Event.objects.filter(delivered_at__isnull=True, id__lt=ids[-1]).exclude(pk__in=ids)
    if not lead_ids or not older_held.exists():  # the usual case: nobody else holds an older event
        return events
    held = set(older_held.filter(payload__lead_id__in=lead_ids).values_list("payload__lead_id", flat=True))
    return [event for event in events if event.payload.get("lead_id") not in held]


def relay_pending(*, publisher: EventPublisher | None = None, batch_size: int | None = None,
                  max_batches: int | None = None) -> int:
    """Deliver batches until the backlog is empty (or `max_batches` ran); return how many events went out."""
    total, batches = 0, 0
    with publisher or EventPublisher() as open_publisher:
        while max_batches is None or batches < max_batches:
            sent = relay_batch(publisher=open_publisher, batch_size=batch_size)
            total, batches = total + sent, batches + 1
            if sent == 0:
                break
    return total


def purge_delivered(*, now: dt.datetime | None = None) -> int:
    """Delete events delivered more than EVENTS_RETENTION_DAYS ago (with their webhook log); return how many.

    An event whose webhook deliveries are still being retried stays until they finish.
    """
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.EVENTS_RETENTION_DAYS)
    deleted = 0
    while True:
        with transaction.atomic():
            retrying = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).values("event_id")
            ids = list(
                Event.objects.filter(delivered_at__lt=cutoff).exclude(pk__in=retrying)
                .order_by("id").values_list("pk", flat=True)[:5000]
            )
            if not ids:
                return deleted
            deleted += Event.objects.filter(pk__in=ids).delete()[1].get(Event._meta.label, 0)


@dataclass(frozen=True)
class Backlog:
    undelivered: int
    oldest_at: dt.datetime | None

    @property
    def oldest_age_seconds(self) -> float | None:
        return None if self.oldest_at is None else max(0.0, (timezone.now() - self.oldest_at).total_seconds())


def backlog(tenant=None) -> Backlog:
    """Events waiting for the relay (one workspace's, or all), and when the oldest was written."""
    events = Event.objects.filter(delivered_at__isnull=True)
    if tenant is not None:
        events = events.filter(tenant=tenant)
    figures = events.aggregate(oldest=Min("created_at"))
    return Backlog(undelivered=events.count(), oldest_at=figures["oldest"])
