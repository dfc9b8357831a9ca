"""Background tasks of the core app. Each is idempotent: run twice, it does its work once."""

import logging

from celery import shared_task

from .broker import BrokerError
from .relay import purge_delivered, relay_pending
from .webhooks import deliver, due_deliveries, queue_deliveries

log = logging.getLogger(__name__)


@shared_task(name="crm.tasks.relay_events")
def relay_events(max_batches: int = 20) -> int:
    """Hand undelivered events on (queued after each commit that writes one, and every second by beat).

    Retried as a whole: a batch is marked delivered only once the broker confirmed it, so a run
    that failed or died leaves its events for the next run.
    """
    try:
        return relay_pending(max_batches=max_batches)
    except BrokerError as exc:
        log.warning("Event relay: %s; events stay in the outbox until the broker is back.", exc)
        return 0


@shared_task(name="crm.tasks.purge_delivered_events")
def purge_delivered_events() -> int:
    """Remove events delivered more than EVENTS_RETENTION_DAYS ago (hourly, from beat)."""
    return purge_delivered()


@shared_task(name="crm.tasks.deliver_webhook")
def deliver_webhook(delivery_id: int) -> str | None:
    """One attempt of one webhook delivery; does nothing if it is not due or another worker has it."""
    delivery = deliver(delivery_id)
    return None if delivery is None else delivery.status


@shared_task(name="crm.tasks.dispatch_due_webhooks")
def dispatch_due_webhooks() -> int:
    """Queue every delivery whose retry is due, or whose queued attempt was lost (every 2 s, from beat)."""
    due = due_deliveries()
    queue_deliveries(due)
    return len(due)
