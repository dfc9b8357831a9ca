"""Webhooks: endpoints a workspace registers, and delivering each event to them.

Deliveries are recorded by the relay in the transaction that marks their event delivered, then
attempted one task per delivery, so one slow or failing endpoint never holds up another. Each
attempt is signed per the Standard Webhooks specification (webhook-id, webhook-timestamp,
webhook-signature). A failed attempt is tried again after WEBHOOK_RETRY_DELAYS (about three days in
all); an endpoint whose deliveries fail through that whole schedule is disabled and its workspace
admins are emailed.
"""

import base64
import datetime as dt
import ipaddress
import json
import logging
import secrets
import socket
import time
from collections.abc import Sequence
from urllib.parse import urlsplit

import requests
from celery import current_app
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from .choices import EventType, Role
from .models import Event, User, WebhookDelivery, WebhookEndpoint
from .outbox import event_id, event_message, routing_key
from .webhook_models import DeliveryStatus

log = logging.getLogger(__name__)

DELIVER_TASK = "crm.tasks.deliver_webhook"
EVENT_TYPES = sorted(routing_key(value) for value in EventType.values)
LEASE = dt.timedelta(seconds=60)  # an attempt whose worker died is tried again after this


class WebhookTargetError(ValueError):
    """The URL may not receive webhooks (scheme, or a private address)."""


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


# --- Endpoints ---------------------------------------------------------------------------------


def check_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise ValueError(f"Unknown event type(s): {', '.join(unknown)}. Known: {', '.join(EVENT_TYPES)}.")
    return sorted(set(events))


def check_target(url: str, *, resolve: bool = False) -> None:
    """Refuse URLs that are not http(s), and private, loopback or link-local targets (unless allowed).

    Without `resolve` only addresses written in the URL (and localhost) are checked, so registering
    an endpoint needs no DNS; every delivery resolves the name and checks each address it gets.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise WebhookTargetError("A webhook URL starts with https:// (or http://) and names a host.")
    if settings.WEBHOOK_ALLOW_PRIVATE:
        return
    host = parts.hostname
    if host == "localhost" or host.endswith(".localhost"):
        raise WebhookTargetError(f"{host} is a loopback address; set WEBHOOK_ALLOW_PRIVATE=1 to allow it.")
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        if not resolve:
            return
        try:
            infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
        except OSError as exc:
            raise WebhookTargetError(f"{host} does not resolve: {exc}") from exc
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for address in addresses:
        if not address.is_global or address.is_multicast:
            raise WebhookTargetError(
                f"{host} is a private, loopback or link-local address ({address}); "
                "set WEBHOOK_ALLOW_PRIVATE=1 to allow it."
            )


def endpoint_create(*, tenant, url: str, events: Sequence[str] = (), description: str = "", active: bool = True
                    ) -> WebhookEndpoint:
    """A new endpoint with a fresh signing secret (the caller shows it once)."""
    check_target(url)
    return WebhookEndpoint.objects.create(
        tenant=tenant, url=url, events=check_events(list(events)), description=description, active=active,
        secret=new_secret(),
    )


def endpoint_update(*, endpoint: WebhookEndpoint, changes: dict) -> WebhookEndpoint:
    """Change url, events, description or active; switching an endpoint back on clears its failure record."""
    if "url" in changes:
        check_target(changes["url"])
    if "events" in changes:
        changes = {**changes, "events": check_events(changes["events"])}
    for name, value in changes.items():
        setattr(endpoint, name, value)
    fields = list(changes)
    if changes.get("active"):
        endpoint.failing_since, endpoint.disabled_reason = None, ""
        fields += ["failing_since", "disabled_reason"]
    endpoint.save(update_fields=fields)
    return endpoint


# --- Deliveries --------------------------------------------------------------------------------


def record_deliveries(messages: list[tuple[Event, dict]]) -> list[int]:
    """Deliveries of these events to every active endpoint that wants them (in the relay's transaction)."""
    tenant_ids = {event.tenant_id for event, _ in messages}
    endpoints: dict[int, list[WebhookEndpoint]] = {}
    for endpoint in WebhookEndpoint.objects.filter(tenant_id__in=tenant_ids, active=True):
        endpoints.setdefault(endpoint.tenant_id, []).append(endpoint)
    if not endpoints:
        return []
    now = timezone.now()
    rows = [
        WebhookDelivery(tenant_id=event.tenant_id, endpoint=endpoint, event=event, next_attempt_at=now, created_at=now)
        for event, body in messages
        for endpoint in endpoints.get(event.tenant_id, [])
        if endpoint.wants(body["event_type"])
    ]
    WebhookDelivery.objects.bulk_create(rows)
    return [row.pk for row in rows]


def queue_deliveries(delivery_ids: list[int]) -> None:
    """One task per delivery, so endpoints never wait for each other; the sweep retries any not queued."""
    task = current_app.tasks[DELIVER_TASK]
    for delivery_id in delivery_ids:
        try:
            task.apply_async(args=[delivery_id], retry=False)
        except Exception:  # the broker is away: dispatch_due_webhooks queues it later
            log.warning("Could not queue webhook delivery %s; the sweep will.", delivery_id, exc_info=True)
            return


def due_deliveries(*, now: dt.datetime | None = None, limit: int = 1000) -> list[int]:
    """Pending deliveries whose next attempt is due (beat's sweep queues them)."""
    return list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now or timezone.now())
        .order_by("next_attempt_at").values_list("pk", flat=True)[:limit]
    )


def sign(endpoint: WebhookEndpoint, *, message_id: str, payload: str, at: dt.datetime) -> dict[str, str]:
    """The Standard Webhooks headers for one attempt."""
    signature = Webhook(endpoint.secret).sign(message_id, at, payload)
    return {"webhook-id": message_id, "webhook-timestamp": str(int(at.timestamp())), "webhook-signature": signature}


def deliver(delivery_id: int, *, now: dt.datetime | None = None) -> WebhookDelivery | None:
    """Make one attempt if the delivery is due and nobody else is making it; None when there was nothing to do.

    Retried or run twice, it attempts once: the conditional UPDATE claims the attempt (and leases it
    for a minute, after which a worker that died mid-attempt is replaced).
    """
    now = now or timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + LEASE)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint", "event", "event__tenant").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.active:
        return _finish(delivery, now=now, failed=True, error="The endpoint is disabled; resend once it is active.")
    body = event_message(delivery.event, tenant_slug=delivery.event.tenant.slug)
    payload = json.dumps(body)
    headers = {
        "content-type": "application/json", "user-agent": "lead-crm-webhooks/1",
        **sign(endpoint, message_id=event_id(delivery.event), payload=payload, at=timezone.now()),
    }
    started = time.monotonic()
    status_code, error = None, ""
    try:
        check_target(endpoint.url, resolve=True)
        response = requests.post(endpoint.url, data=payload.encode(), headers=headers,
                                 timeout=settings.WEBHOOK_TIMEOUT_SECONDS, allow_redirects=False)
        status_code = response.status_code
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}: {response.text[:200]}"
    except requests.Timeout:
        error = f"No answer within {settings.WEBHOOK_TIMEOUT_SECONDS:g} s"
    except (requests.RequestException, WebhookTargetError) as exc:
        error = str(exc)[:500]
    duration_ms = int((time.monotonic() - started) * 1000)
    return _attempted(delivery, now=timezone.now(), status_code=status_code, duration_ms=duration_ms, error=error)


def _attempted(delivery, *, now, status_code, duration_ms, error) -> WebhookDelivery:
    delivery.attempts += 1
    delivery.status_code, delivery.duration_ms, delivery.error = status_code, duration_ms, error[:500]
    delivery.last_attempt_at = now
    endpoint = delivery.endpoint
    if not error:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = DeliveryStatus.SUCCEEDED, now, None
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(failing_since=None)
        delivery.save()
        return delivery
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    delays = settings.WEBHOOK_RETRY_DELAYS
    if delivery.attempts <= len(delays):
        delivery.next_attempt_at = now + dt.timedelta(seconds=delays[delivery.attempts - 1])
        delivery.save()
        return delivery
    return _finish(delivery, now=now, failed=True, error=error, give_up=True)


def _finish(delivery, *, now, failed: bool, error: str, give_up: bool = False) -> WebhookDelivery:
    delivery.status = DeliveryStatus.FAILED if failed else DeliveryStatus.SUCCEEDED
    delivery.next_attempt_at, delivery.error = None, error[:500]
    with transaction.atomic():
        delivery.save()
        if give_up:
            _disable_if_failing_throughout(delivery, now=now)
    return delivery


def _disable_if_failing_throughout(delivery: WebhookDelivery, *, now) -> None:
    # The delivery used its whole retry schedule (days) and the endpoint took nothing since it
    # began: it is down, not flaky. Switch it off and tell the workspace's admins.
    took_something = WebhookDelivery.objects.filter(
        endpoint_id=delivery.endpoint_id, delivered_at__gte=delivery.created_at
    ).exists()
    if took_something:
        return
    disabled = WebhookEndpoint.objects.filter(pk=delivery.endpoint_id, active=True).update(active=False, disabled_reason=f"Disabled {now:%Y-%m-%d %H:%M} UTC: every delivery failed since "
                                           f"{delivery.created_at:%Y-%m-%d %H:%M} UTC. Last error: {delivery.error}"[:300])
    if disabled:
        endpoint = WebhookEndpoint.objects.get(pk=delivery.endpoint_id)
        transaction.on_commit(lambda: _tell_admins(endpoint))


def _tell_admins(endpoint: WebhookEndpoint) -> None:
    recipients = list(
        User.objects.filter(tenant_id=endpoint.tenant_id, role=Role.ADMIN, is_active=True)
        .exclude(email="").values_list("email", flat=True)
    )
    if not recipients:
        return
    send_mail(
        subject=f"Webhook endpoint disabled: {endpoint}",
        message=(
            f"The webhook endpoint {endpoint.url} stopped accepting events, so it has been disabled.\n"
            f"{endpoint.disabled_reason}\n\nFix the receiver, switch the endpoint back on in the admin, and resend "
            "the failed deliveries from its delivery log.\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=recipients,
        fail_silently=True,
    )


def resend(deliveries) -> list[int]:
    """Attempt these deliveries again from the start of the retry schedule; return their ids."""
    ids = list(deliveries.values_list("pk", flat=True))
    WebhookDelivery.objects.filter(pk__in=ids).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=timezone.now(), error="", delivered_at=None
    )
    transaction.on_commit(lambda: queue_deliveries(ids))
    return ids


def failing_endpoints(tenant=None):
    """Endpoints that failed their last attempts (or were disabled for it), longest failing first."""
    endpoints = WebhookEndpoint.objects.filter(failing_since__isnull=False) | WebhookEndpoint.objects.exclude(
        disabled_reason=""
    )
    if tenant is not None:
        endpoints = endpoints.filter(tenant=tenant)
    return endpoints.order_by(F("failing_since").asc(nulls_last=True))
