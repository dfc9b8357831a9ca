"""`/api/v1/webhook-endpoints`: workspace admins register endpoints, see the secret once, read the delivery log."""

import pytest

from crm.choices import Role
from crm.models import WebhookDelivery, WebhookEndpoint
from crm.relay import relay_pending
from crm.webhook_models import DeliveryStatus
from crm.webhooks import endpoint_create
from leads.lifecycle import change_status
from tests.api_ids import api_id
from tests.conftest import api_client_for
from tests.factories import LeadFactory, UserFactory

URL = "/api/v1/webhook-endpoints"


@pytest.fixture
def admin_api(tenant):
    return api_client_for(UserFactory(tenant=tenant, username="ada", role=Role.ADMIN))


def test_an_admin_registers_an_endpoint_and_sees_its_secret_once(admin_api, tenant):
    response = admin_api.post(URL, {"url": "https://hooks.example.com/crm", "events": ["lead.created"],
                                    "description": "ERP"}, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["secret"].startswith("whsec_")
    assert WebhookEndpoint.objects.get(public_id=created["id"]).secret == created["secret"]
    assert created["events"] == ["lead.created"] and created["active"] is True

    shown_again = admin_api.get(f"{URL}/{created['id']}").json()
    assert "secret" not in shown_again
    assert all("secret" not in row for row in admin_api.get(URL).json()["items"])


def test_every_event_type_when_events_are_omitted(admin_api):
    response = admin_api.post(URL, {"url": "https://hooks.example.com/all"}, format="json")
    assert response.status_code == 201 and response.json()["events"] == []


@pytest.mark.parametrize("body, field", [
    ({"url": "http://127.0.0.1:9000/x"}, "url"),
    ({"url": "http://169.254.169.254/latest"}, "url"),
    ({"url": "https://hooks.example.com/x", "events": ["lead.exploded"]}, "events"),
])
def test_private_targets_and_unknown_event_types_are_400s_naming_the_field(admin_api, body, field):
    response = admin_api.post(URL, body, format="json")
    assert response.status_code == 400 and field in response.json()


def test_managers_and_reps_cannot_see_or_register_endpoints(api, tenant, rep):
    endpoint_create(tenant=tenant, url="https://hooks.example.com/x", events=[])
    for client in (api, api_client_for(rep)):
        assert client.get(URL).status_code == 403
        assert client.post(URL, {"url": "https://hooks.example.com/y"}, format="json").status_code == 403


def test_another_workspaces_endpoints_are_invisible(admin_api, other_tenant):
    theirs = endpoint_create(tenant=other_tenant, url="https://hooks.example.com/globex", events=[])
    assert admin_api.get(URL).json()["items"] == []
    assert admin_api.get(f"{URL}/{api_id(theirs)}").status_code == 404
    assert admin_api.patch(f"{URL}/{api_id(theirs)}", {"active": False}, format="json").status_code == 404


def test_the_delivery_log_lists_attempts_and_resend_queues_one_again(admin_api, tenant, manager, settings):
    settings.EVENTS_BROKER_URL = ""
    endpoint = endpoint_create(tenant=tenant, url="https://hooks.example.com/x", events=[])
    change_status(lead=LeadFactory(tenant=tenant), status="contacted", actor=manager)
    relay_pending()
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.FAILED, attempts=13, status_code=502, error="HTTP 502", next_attempt_at=None)

    log = admin_api.get(f"{URL}/{api_id(endpoint)}/deliveries").json()
    assert log["total"] == 1
    row = log["items"][0]
    assert (row["event_type"], row["status"], row["attempts"], row["status_code"]) == (
        "lead.status_changed", "failed", 13, 502)

    response = admin_api.post(f"{URL}/{api_id(endpoint)}/deliveries/{api_id(delivery)}/resend")
    assert response.status_code == 202
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at is not None) == ("pending", 0, True)


def test_switching_a_disabled_endpoint_back_on_clears_its_failure_record(admin_api, tenant):
    endpoint = endpoint_create(tenant=tenant, url="https://hooks.example.com/x", events=[])
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False, disabled_reason="down for days",
                                                          failing_since="2026-01-01T00:00:00Z")
    response = admin_api.patch(f"{URL}/{api_id(endpoint)}", {"active": True}, format="json")
    assert response.status_code == 200
    assert (response.json()["active"], response.json()["disabled_reason"], response.json()["failing_since"]) == (
        True, "", None)
