"""The API names rows by public id (issue 13): UUIDs in paths, bodies, filters, answers, events and the schema.

Integer keys stay inside the database: `/api/v1/leads/12` is a 404, an integer filter is a 400 naming it,
and another workspace's UUID is as unknown as a made-up one.
"""

import uuid

import pytest
from django.test import Client

from crm.choices import EventType, Role
from crm.models import Event
from crm.outbox import event_message
from crm.webhooks import endpoint_create
from leads.models import Lead
from tests.api_ids import api_id
from tests.conftest import api_client_for
from tests.factories import ActivityFactory, CompanyFactory, ContactFactory, DealFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

FACTORIES = {
    "leads": LeadFactory,
    "contacts": ContactFactory,
    "companies": CompanyFactory,
    "deals": DealFactory,
}


def is_public_id(value) -> bool:
    """A UUIDv7 in its canonical text form."""
    if not isinstance(value, str):
        return False
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return False
    return str(parsed) == value and parsed.version == 7


@pytest.fixture
def admin_api(tenant):
    return api_client_for(UserFactory(tenant=tenant, username="ada-admin", role=Role.ADMIN))


@pytest.fixture
def rows(tenant, manager):
    contact = ContactFactory(tenant=tenant, owner=manager, company=CompanyFactory(tenant=tenant, owner=manager))
    lead = LeadFactory(tenant=tenant, owner=manager)
    return {
        "leads": lead,
        "contacts": contact,
        "companies": contact.company,
        "deals": DealFactory(tenant=tenant, owner=manager, contact=contact, company=contact.company),
        "activities": ActivityFactory(lead=lead, actor=manager),
        "webhook-endpoints": endpoint_create(tenant=tenant, url="https://hooks.example.com/crm", events=[]),
    }


# --- paths ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", ["leads", "contacts", "companies", "deals", "activities", "webhook-endpoints"])
def test_a_row_is_found_by_its_public_id_and_not_by_its_integer_key(admin_api, rows, resource):
    row = rows[resource]

    found = admin_api.get(f"/api/v1/{resource}/{api_id(row)}")
    by_pk = admin_api.get(f"/api/v1/{resource}/{row.pk}")
    by_pk_slash = admin_api.get(f"/api/v1/{resource}/{row.pk}/")

    assert found.status_code == 200 and found.json()["id"] == api_id(row)
    assert (by_pk.status_code, by_pk.json()) == (404, {"detail": "Not found."})
    assert by_pk_slash.status_code == 404


@pytest.mark.parametrize("action, method", [("status", "patch"), ("assign", "post"), ("activities", "post"),
                                            ("qualify", "post"), ("convert", "post"), ("analyze", "post")])
def test_a_lead_action_by_integer_key_is_a_404_and_changes_nothing(api, tenant, action, method):
    lead = LeadFactory(tenant=tenant)

    response = getattr(api, method)(f"/api/v1/leads/{lead.pk}/{action}", {}, format="json")

    assert response.status_code == 404
    assert not Event.objects.exclude(type=EventType.LEAD_CREATED).exists()


@pytest.mark.parametrize("resource", ["leads", "contacts", "companies", "deals"])
def test_another_workspaces_public_id_is_a_404(api, other_tenant, resource):
    theirs = FACTORIES[resource](tenant=other_tenant)

    assert api.get(f"/api/v1/{resource}/{api_id(theirs)}").status_code == 404
    assert api.patch(f"/api/v1/{resource}/{api_id(theirs)}", {"job_title": "x"}, format="json").status_code == 404


def test_another_workspaces_activity_and_webhook_endpoint_are_404(admin_api, other_tenant):
    activity = ActivityFactory(lead=LeadFactory(tenant=other_tenant))
    endpoint = endpoint_create(tenant=other_tenant, url="https://hooks.example.com/globex", events=[])

    assert admin_api.get(f"/api/v1/activities/{api_id(activity)}").status_code == 404
    assert admin_api.get(f"/api/v1/webhook-endpoints/{api_id(endpoint)}").status_code == 404
    assert admin_api.get(f"/api/v1/webhook-endpoints/{api_id(endpoint)}/deliveries").status_code == 404


# --- answers ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("resource, related", [
    ("leads", ["owner"]),
    ("contacts", ["company", "owner"]),
    ("companies", ["owner"]),
    ("deals", ["owner", "contact", "company"]),
    ("activities", ["lead", "actor"]),
    ("webhook-endpoints", []),
])
def test_ids_in_lists_are_public_ids(admin_api, rows, resource, related):
    items = admin_api.get(f"/api/v1/{resource}").json()["items"]

    assert [item["id"] for item in items] == [api_id(rows[resource])]
    assert all(is_public_id(items[0][name]) for name in ["id", *related]), items[0]


def test_a_converted_lead_names_what_it_became_by_public_id(api, tenant):
    lead = LeadFactory(tenant=tenant)

    converted = api.post(f"/api/v1/leads/{api_id(lead)}/convert", {}, format="json").json()
    detail = api.get(f"/api/v1/leads/{api_id(lead)}").json()
    contact = api.get(f"/api/v1/contacts/{converted['contact_id']}").json()

    assert converted["lead_id"] == api_id(lead)
    assert all(is_public_id(converted[name]) for name in ("contact_id", "company_id", "deal_id"))
    assert (detail["converted_contact"], detail["converted_company"], detail["converted_deal"]) == (
        converted["contact_id"], converted["company_id"], converted["deal_id"])
    assert contact["source_leads"][0]["id"] == api_id(lead)
    assert contact["company"] == converted["company_id"]


def test_a_lead_is_assigned_and_analyzed_by_public_ids(api, tenant, rep):
    lead = LeadFactory(tenant=tenant)

    assigned = api.post(f"/api/v1/leads/{api_id(lead)}/assign", {"owner": api_id(rep)}, format="json")
    analyzed = api.post(f"/api/v1/leads/{api_id(lead)}/analyze")

    assert assigned.status_code == 200 and assigned.json()["owner"] == api_id(rep)
    assert analyzed.json()["lead_id"] == api_id(lead)


def test_an_integer_or_foreign_id_in_a_body_is_a_400_naming_the_field(api, tenant, other_tenant, rep):
    lead = LeadFactory(tenant=tenant)
    foreign_user = UserFactory(tenant=other_tenant)

    by_pk = api.post(f"/api/v1/leads/{api_id(lead)}/assign", {"owner": rep.pk}, format="json")
    foreign = api.post(f"/api/v1/leads/{api_id(lead)}/assign", {"owner": api_id(foreign_user)}, format="json")
    contact = api.post(f"/api/v1/leads/{api_id(lead)}/convert", {"contact_id": "12"}, format="json")

    assert by_pk.status_code == 400 and "UUID" in by_pk.json()["owner"][0]
    assert foreign.status_code == 400 and api_id(foreign_user) in foreign.json()["owner"][0]
    assert contact.status_code == 400 and "UUID" in contact.json()["contact_id"][0]
    lead.refresh_from_db()
    assert lead.owner is None and lead.converted_at is None


def test_the_etag_names_no_integer_key(api, tenant):
    lead = LeadFactory(tenant=tenant)

    etag = api.get(f"/api/v1/leads/{api_id(lead)}").headers["ETag"]

    assert etag.startswith(f'"{api_id(lead)}-')


# --- filters ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path, name", [
    ("/api/v1/activities", "lead"),
    ("/api/v1/activities", "contact"),
    ("/api/v1/activities", "deal"),
    ("/api/v1/activities", "actor"),
    ("/api/v1/contacts", "company"),
    ("/api/v1/contacts", "owner"),
    ("/api/v1/companies", "owner"),
    ("/api/v1/deals", "company"),
    ("/api/v1/deals", "contact"),
    ("/api/v1/leads", "owner"),
])
@pytest.mark.parametrize("value", ["12", "not-an-id", "0190b2a4-5c1e-7d3f-9a0b"])
def test_a_malformed_id_filter_is_a_400_naming_it(api, path, name, value):
    response = api.get(path, {name: value})

    assert response.status_code == 400
    assert list(response.json()) == [name]
    assert "UUID" in response.json()[name][0]


def test_id_filters_take_public_ids(api, tenant, manager, other_tenant):
    company = CompanyFactory(tenant=tenant)
    mine = ContactFactory(tenant=tenant, company=company, owner=manager)
    ContactFactory(tenant=tenant)
    theirs = CompanyFactory(tenant=other_tenant)

    def ids(params):
        response = api.get("/api/v1/contacts", params)
        assert response.status_code == 200, response.content
        return [item["id"] for item in response.json()["items"]]

    assert ids({"company": api_id(company)}) == [api_id(mine)]
    assert ids({"owner": api_id(manager)}) == [api_id(mine)]
    assert ids({"company": api_id(theirs)}) == []  # another workspace's id: nothing, and no hint it exists


# --- events -----------------------------------------------------------------------------------------------


def test_event_payloads_name_rows_and_people_by_public_id(api, tenant, manager, rep):
    created = api.post("/api/v1/leads", {"email": "ada@example.com", "name": "Ada Lovelace"}, format="json").json()
    lead = Lead.objects.get(public_id=created["id"])
    api.post(f"/api/v1/leads/{created['id']}/assign", {"owner": api_id(rep)}, format="json")
    api.post(f"/api/v1/leads/{created['id']}/assign", {"owner": api_id(manager)}, format="json")
    converted = api.post(f"/api/v1/leads/{created['id']}/convert", {}, format="json").json()

    bodies = [event_message(event, tenant_slug=tenant.slug) for event in Event.objects.order_by("id")]

    assert {body["lead_id"] for body in bodies} == {created["id"]} == {api_id(lead)}
    reassigned = [body for body in bodies if body["event_type"] == "lead.assigned"][-1]
    assert (reassigned["previous_owner_id"], reassigned["owner_id"]) == (api_id(rep), api_id(manager))
    [done] = [body for body in bodies if body["event_type"] == "lead.converted"]
    assert {name: done[name] for name in ("contact_id", "company_id", "deal_id", "actor_id")} == {
        "contact_id": converted["contact_id"], "company_id": converted["company_id"],
        "deal_id": converted["deal_id"], "actor_id": api_id(manager),
    }
    assert all(uuid.UUID(body["event_id"]).version == 5 for body in bodies)  # an event's own id, as before


# --- schema -----------------------------------------------------------------------------------------------


def test_the_schema_says_ids_are_uuids():
    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    components = schema["components"]["schemas"]

    for path in ("/api/v1/leads/{id}/", "/api/v1/leads/{id}/convert/", "/api/v1/contacts/{id}/",
                 "/api/v1/activities/{id}/", "/api/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/resend/"):
        operation = next(iter(schema["paths"][path].values()))
        for parameter in (p for p in operation["parameters"] if p["in"] == "path"):
            assert parameter["schema"] == {"type": "string", "format": "uuid"}, (path, parameter)
    for name in ("Lead", "LeadDetail", "Contact", "Company", "Deal", "Activity", "WebhookEndpoint", "WebhookDelivery"):
        assert components[name]["properties"]["id"]["format"] == "uuid", name
    assert components["Deal"]["properties"]["contact"]["format"] == "uuid"
    assert components["ActivityRequest"]["properties"]["lead"]["format"] == "uuid"
    assert components["AssignRequest"]["properties"]["owner"]["format"] == "uuid"
    assert components["ConversionResult"]["properties"]["contact_id"]["format"] == "uuid"
    filters = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/activities/"]["get"]["parameters"]}
    assert filters["lead"]["format"] == "uuid"
