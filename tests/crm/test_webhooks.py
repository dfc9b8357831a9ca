"""Webhook deliveries: signed per Standard Webhooks, retried with backoff, one endpoint never holding up another."""

import socket

import pytest
from django.core import mail
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from crm.choices import Role
from crm.models import Event, WebhookDelivery
from crm.outbox import event_id
from crm.relay import relay_pending
from crm.webhook_models import DeliveryStatus
from crm.webhooks import WebhookTargetError, check_target, deliver, due_deliveries, endpoint_create
from leads.lifecycle import change_status
from tests.api_ids import api_id
from tests.crm.webhook_receiver import Receiver
from tests.factories import LeadFactory, UserFactory


@pytest.fixture(autouse=True)
def webhook_settings(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True  # the receiver listens on 127.0.0.1
    settings.WEBHOOK_RETRY_DELAYS = [1, 2, 4]
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    settings.EVENTS_BROKER_URL = ""  # webhooks only


@pytest.fixture
def receiver():
    receivers = []

    def start(*answers):
        receivers.append(Receiver(answers=list(answers) or [200]).start())
        return receivers[-1]

    yield start
    for one in receivers:
        one.stop()


def _status_change(tenant, manager):
    lead = LeadFactory(tenant=tenant, email="ada@example.com")
    change_status(lead=lead, status="contacted", actor=manager)
    relay_pending()
    return lead


def _retry_when_due(delivery: WebhookDelivery) -> WebhookDelivery:
    """The beat sweep's view once the retry delay has passed (no waiting in tests)."""
    delivery.refresh_from_db()
    assert delivery.pk in due_deliveries(now=delivery.next_attempt_at)
    return deliver(delivery.pk, now=delivery.next_attempt_at)


def test_the_receiver_gets_the_event_signed_with_the_endpoints_secret(tenant, manager, receiver):
    hook = receiver(200)
    endpoint = endpoint_create(tenant=tenant, url=hook.url, events=[])
    assert endpoint.secret.startswith("whsec_")
    lead = _status_change(tenant, manager)

    delivery = deliver(WebhookDelivery.objects.get().pk)
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.status_code == 200
    request = hook.requests[0]
    body = Webhook(endpoint.secret).verify(request.body, request.headers)  # raises unless the signature holds
    assert body["event_type"] == "lead.status_changed" and body["lead_id"] == api_id(lead)
    assert (body["old_status"], body["new_status"]) == ("new", "contacted")
    assert request.headers["webhook-id"] == body["event_id"] == event_id(Event.objects.get(type="LeadStatusChanged"))
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(request.body.replace(b"contacted", b"converted"), request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint_create(tenant=tenant, url=hook.url, events=[]).secret).verify(request.body, request.headers)


def test_a_receiver_answering_500_twice_gets_the_event_on_the_third_attempt(tenant, manager, receiver):
    hook = receiver(500, 500, 200)
    endpoint_create(tenant=tenant, url=hook.url, events=[])
    _status_change(tenant, manager)
    delivery = deliver(WebhookDelivery.objects.get().pk)
    assert (delivery.status, delivery.attempts, delivery.status_code) == (DeliveryStatus.PENDING, 1, 500)
    assert deliver(delivery.pk) is None, "not due yet: the retry waits its delay"

    delivery = _retry_when_due(delivery)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 2)
    delivery = _retry_when_due(delivery)
    assert (delivery.status, delivery.attempts, delivery.status_code) == (DeliveryStatus.SUCCEEDED, 3, 200)
    assert len(hook.requests) == 3
    assert len({r.headers["webhook-id"] for r in hook.requests}) == 1, "one id across retries: receivers dedupe by it"


def test_a_hanging_receiver_is_timed_out_and_retried(tenant, manager, receiver):
    hook = receiver("hang", 200)
    endpoint_create(tenant=tenant, url=hook.url, events=[])
    _status_change(tenant, manager)
    delivery = deliver(WebhookDelivery.objects.get().pk)
    assert delivery.status == DeliveryStatus.PENDING and "No answer within 0.5 s" in delivery.error
    assert _retry_when_due(delivery).status == DeliveryStatus.SUCCEEDED


def test_a_failing_endpoint_does_not_hold_up_another(tenant, manager, receiver, django_capture_on_commit_callbacks):
    slow, fine = receiver("hang"), receiver(200)
    endpoint_create(tenant=tenant, url=slow.url, events=[])
    good = endpoint_create(tenant=tenant, url=fine.url, events=[])
    lead = LeadFactory(tenant=tenant)
    change_status(lead=lead, status="contacted", actor=manager)
    with django_capture_on_commit_callbacks(execute=True):  # the relay queues one task per delivery
        relay_pending()
    assert WebhookDelivery.objects.get(endpoint=good).status == DeliveryStatus.SUCCEEDED
    assert len(fine.requests) == 1


def test_an_endpoint_takes_only_the_event_types_it_asked_for(tenant, manager, receiver):
    hook = receiver(200)
    endpoint_create(tenant=tenant, url=hook.url, events=["lead.converted"])
    _status_change(tenant, manager)
    assert not WebhookDelivery.objects.exists()


def test_an_endpoint_failing_through_the_whole_schedule_is_disabled_and_its_admins_emailed(
    tenant, manager, receiver, django_capture_on_commit_callbacks
):
    admin = UserFactory(tenant=tenant, username="ann", role=Role.ADMIN, email="ann@example.com")
    hook = receiver(500)
    endpoint = endpoint_create(tenant=tenant, url=hook.url, events=[])
    _status_change(tenant, manager)
    delivery = deliver(WebhookDelivery.objects.get().pk)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            delivery = _retry_when_due(delivery)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 4)
    endpoint.refresh_from_db()
    assert not endpoint.active and "HTTP 500" in endpoint.disabled_reason
    assert [m.to for m in mail.outbox] == [[admin.email]]
    assert hook.url in mail.outbox[0].body


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/hook", "http://localhost:8000/", "http://10.1.2.3/", "http://192.168.0.10/",
    "http://169.254.169.254/latest/meta-data", "http://[::1]/", "ftp://example.com/hook",
])
def test_private_loopback_and_link_local_targets_are_refused(settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(WebhookTargetError):
        check_target(url)


def test_a_name_resolving_to_a_private_address_is_refused_at_delivery(tenant, manager, settings, monkeypatch):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    endpoint_create(tenant=tenant, url="https://hooks.internal.example/x", events=[])
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(socket.AF_INET, 1, 6, "", ("10.0.0.7", 443))])
    _status_change(tenant, manager)
    delivery = deliver(WebhookDelivery.objects.get().pk)
    assert delivery.status == DeliveryStatus.PENDING and "private" in delivery.error
    assert delivery.status_code is None
