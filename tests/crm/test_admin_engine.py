"""The admin's engine pages: relay backlog on the event list, webhook endpoints for workspace admins only."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from crm.choices import EventType, Role
from crm.models import Event, WebhookDelivery, WebhookEndpoint
from crm.relay import relay_pending
from crm.webhook_models import DeliveryStatus
from crm.webhooks import endpoint_create
from leads.lifecycle import change_status
from tests.factories import LeadFactory, UserFactory


@pytest.fixture
def tenant_admin(tenant):
    return UserFactory(tenant=tenant, username="ada", role=Role.ADMIN)


def test_the_event_list_shows_the_relay_backlog_of_the_users_workspace(client, tenant, other_tenant, tenant_admin):
    now = timezone.now()
    for minutes in (90, 5):
        Event.objects.create(tenant=tenant, type=EventType.LEAD_CREATED, payload={}, created_at=now - dt.timedelta(minutes=minutes))
    Event.objects.create(tenant=tenant, type=EventType.LEAD_CREATED, payload={}, delivered_at=now)
    Event.objects.create(tenant=other_tenant, type=EventType.LEAD_CREATED, payload={})
    client.force_login(tenant_admin)
    page = client.get("/admin/crm/event/").content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page))
    assert "Relay backlog: 2 undelivered events, the oldest written 1 hour, 30 minutes ago" in text


def test_webhook_pages_are_for_workspace_admins(client, tenant, tenant_admin, manager):
    client.force_login(manager)
    assert client.get("/admin/crm/webhookendpoint/").status_code == 403
    client.force_login(tenant_admin)
    assert client.get("/admin/crm/webhookendpoint/").status_code == 200


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(client, tenant, other_tenant, tenant_admin, settings):
    client.force_login(tenant_admin)
    response = client.post("/admin/crm/webhookendpoint/add/", {
        "tenant": other_tenant.pk, "url": "https://hooks.example.com/a", "events": ["lead.created", "lead.converted"],
        "description": "ERP", "active": "on",
    }, follow=True)
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.tenant == tenant, "always the admin's own workspace"
    assert endpoint.events == ["lead.created", "lead.converted"]
    assert endpoint.secret.startswith("whsec_") and endpoint.secret in response.content.decode()
    assert endpoint.secret not in client.get(f"/admin/crm/webhookendpoint/{endpoint.pk}/change/").content.decode()


def test_the_admin_refuses_a_loopback_endpoint(client, tenant_admin):
    client.force_login(tenant_admin)
    response = client.post("/admin/crm/webhookendpoint/add/", {"url": "http://127.0.0.1:8000/x", "active": "on"})
    assert response.status_code == 200 and "loopback" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_resend_from_the_delivery_log(client, tenant, tenant_admin, manager, settings):
    settings.EVENTS_BROKER_URL = ""
    endpoint_create(tenant=tenant, url="https://hooks.example.com/x", events=[])
    change_status(lead=LeadFactory(tenant=tenant), status="contacted", actor=manager)
    relay_pending()
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, attempts=13, next_attempt_at=None)
    client.force_login(tenant_admin)
    log = client.get("/admin/crm/webhookdelivery/").content.decode()
    assert "lead.status_changed" in log
    client.post("/admin/crm/webhookdelivery/", {"action": "resend_deliveries", "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
