"""Document 002 (the Lead Service, /api/v1/leads), from its own request and response examples and rules.

A client written from the document alone, with nothing but our base URL: every endpoint, field,
status, activity type, event and rule the document states. Our richer answers keep their own
fields beside the document's (tests/leads/api covers those).
"""

import datetime
import json
import urllib.request

import pytest
from django.db import connection

from contacts.choices import DealStage
from contacts.models import Contact, Deal
from crm.choices import ActivityKind, EventType
from crm.models import Activity, Event
from crm.outbox import event_message
from leads.choices import LeadSource, LeadStatus
from leads.models import Lead
from leads.pipeline import move_lead
from tests.api_ids import api_id
from tests.concurrency import run_together
from tests.conftest import api_client_for
from tests.factories import (
    ApiTokenFactory,
    ContactFactory,
    LeadFactory,
    ManagerFactory,
    TenantFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# The document's examples, as written.
CREATE_BODY = {
    "name": "John Doe",
    "email": "john@example.com",
    "phone": "+919876543210",
    "company": "Acme Corp",
    "message": "Interested in your services",
    "source": "website",
}
CREATE_ANSWER = {"id", "name", "email", "status", "created_at"}
LIST_ITEM = {"id", "name", "email", "status", "source", "created_at"}
DETAIL = {"id", "name", "email", "phone", "company", "message", "source", "status", "priority", "assigned_to",
          "activities", "created_at", "updated_at"}
ACTIVITY = {"id", "activity_type", "description", "created_at"}
STATUSES = ["new", "contacted", "qualified", "proposal", "closed_won", "closed_lost"]
ACTIVITY_TYPES = {"created", "status_changed", "note_added", "contacted"}


def is_timestamp(value) -> bool:
    return isinstance(value, str) and datetime.datetime.fromisoformat(value.replace("Z", "+00:00")) is not None


def form_post(client, channel, body=CREATE_BODY, **headers):
    return client.post("/api/v1/leads", body, format="json", HTTP_X_FORM_KEY=channel.form_key, **headers)


def detail(api, lead_id):
    response = api.get(f"/api/v1/leads/{lead_id}")
    assert response.status_code == 200, response.content
    return response.json()


def patch_status(api, lead, status, notes=""):
    return api.patch(f"/api/v1/leads/{api_id(lead)}/status", {"status": status, "notes": notes}, format="json")


def messages(event_type):
    return [event_message(event, tenant_slug="acme") for event in Event.objects.filter(type=event_type).order_by("pk")]


# --- 1. Create Lead (Public) -------------------------------------------------------------------


def test_the_public_create_answers_the_documents_shape(anon_api, channel):
    response = form_post(anon_api, channel)

    assert response.status_code == 201
    body = response.json()
    assert set(body) == CREATE_ANSWER
    assert (body["name"], body["email"], body["status"]) == ("John Doe", "john@example.com", "new")
    assert isinstance(body["id"], str) and body["id"] and is_timestamp(body["created_at"])
    lead = Lead.objects.get()
    assert (lead.full_name, lead.email, lead.phone, lead.company, lead.message) == (
        "John Doe", "john@example.com", "+919876543210", "Acme Corp", "Interested in your services")


def test_the_create_answers_id_resolves_to_the_lead_for_an_admin(anon_api, api, channel):
    receipt = form_post(anon_api, channel).json()

    lead = detail(api, receipt["id"])

    assert lead["id"] == api_id(Lead.objects.get())
    assert (lead["name"], lead["email"], lead["status"]) == ("John Doe", "john@example.com", "new")


def test_a_known_person_gets_the_same_answer_and_their_id_finds_the_lead_it_landed_on(anon_api, api, channel, tenant):
    known = LeadFactory(tenant=tenant, email="john@example.com", first_name="Johnny", last_name="D")

    first, again = form_post(anon_api, channel).json(), form_post(anon_api, channel).json()

    assert set(first) == set(again) == CREATE_ANSWER
    assert (first["name"], first["email"], first["status"]) == (again["name"], again["email"], again["status"]) == (
        "John Doe", "john@example.com", "new"), "the answer never says the person was known"
    assert first["id"] != again["id"]
    assert detail(api, first["id"])["id"] == detail(api, again["id"])["id"] == api_id(known)
    assert Lead.objects.count() == 1


def test_a_submission_that_matched_a_contact_answers_alike_and_is_no_lead(anon_api, api, channel, tenant):
    ContactFactory(tenant=tenant, email="john@example.com")

    response = form_post(anon_api, channel)

    assert response.status_code == 201 and set(response.json()) == CREATE_ANSWER
    assert response.json()["status"] == "new"
    found = api.get(f"/api/v1/leads/{response.json()['id']}")
    assert found.status_code == 404 and found.json()["contact_id"] == api_id(Contact.objects.get())
    assert not Lead.objects.exists()


def test_a_submission_id_is_nothing_in_another_workspace_or_to_a_rep_who_cannot_see_the_lead(
    anon_api, channel, tenant, other_tenant
):
    colleague = UserFactory(tenant=tenant)
    LeadFactory(tenant=tenant, email="john@example.com", owner=colleague)
    receipt = form_post(anon_api, channel).json()

    outsider = api_client_for(ManagerFactory(tenant=other_tenant))
    other_rep = api_client_for(UserFactory(tenant=tenant))

    assert outsider.get(f"/api/v1/leads/{receipt['id']}").status_code == 404
    assert other_rep.get(f"/api/v1/leads/{receipt['id']}").status_code == 404
    assert api_client_for(colleague).get(f"/api/v1/leads/{receipt['id']}").status_code == 200


def test_a_post_the_spam_trap_caught_answers_alike_and_its_id_finds_nothing(anon_api, api, channel):
    response = form_post(anon_api, channel, {**CREATE_BODY, "website_url": "http://spam.example"})

    assert response.status_code == 201 and set(response.json()) == CREATE_ANSWER
    assert response.json()["status"] == "new"
    assert api.get(f"/api/v1/leads/{response.json()['id']}").status_code == 404
    assert not Lead.objects.exists()


def test_an_authenticated_create_answers_the_lead_in_the_documents_shape(api):
    response = api.post("/api/v1/leads", CREATE_BODY, format="json")

    assert response.status_code == 201
    body = response.json()
    assert CREATE_ANSWER <= set(body)
    assert (body["name"], body["email"], body["status"]) == ("John Doe", "john@example.com", "new")
    assert body["id"] == api_id(Lead.objects.get()) and is_timestamp(body["created_at"])


@pytest.mark.parametrize("source, stored", [
    ("website", LeadSource.WEBSITE_FORM), ("referral", LeadSource.REFERRAL), ("social", LeadSource.SOCIAL),
    ("other", LeadSource.OTHER),
])
def test_the_documents_sources_are_taken(api, source, stored):
    response = api.post("/api/v1/leads", {**CREATE_BODY, "source": source}, format="json")

    assert response.status_code == 201, response.content
    assert Lead.objects.get().source == stored


def test_the_public_create_is_limited_to_10_an_hour_per_ip(anon_api, channel):
    answers = [form_post(anon_api, channel, {**CREATE_BODY, "email": f"p{n}@example.com"}).status_code
               for n in range(11)]

    assert answers == [201] * 10 + [429]


def test_a_lead_created_emits_lead_created_with_the_documents_fields(anon_api, channel):
    form_post(anon_api, channel)

    [body] = messages(EventType.LEAD_CREATED)
    lead = Lead.objects.get()
    assert {"event_type", "lead_id", "email", "source", "timestamp"} <= set(body)
    assert (body["lead_id"], body["email"], body["source"]) == (api_id(lead), "john@example.com", lead.source)
    assert is_timestamp(body["timestamp"])


# --- 2. List Leads (Admin/CMS) -----------------------------------------------------------------


def test_the_list_answers_items_total_page_limit_20_by_default(api, tenant):
    LeadFactory.create_batch(25, tenant=tenant)

    first = api.get("/api/v1/leads").json()
    second = api.get("/api/v1/leads?page=2").json()

    assert (first["total"], first["page"], first["limit"], len(first["items"])) == (25, 1, 20, 20)
    assert (second["page"], len(second["items"])) == (2, 5)
    assert all(LIST_ITEM <= set(item) for item in first["items"])
    assert api.get("/api/v1/leads?limit=5").json()["limit"] == 5


def test_the_list_filters_by_status_source_and_assigned_to(api, tenant, rep):
    mine = LeadFactory(tenant=tenant, owner=rep, source=LeadSource.WEBSITE_FORM, status=LeadStatus.CONTACTED)
    LeadFactory(tenant=tenant, source=LeadSource.REFERRAL)

    def ids(query):
        response = api.get(f"/api/v1/leads?{query}")
        assert response.status_code == 200, response.content
        return [item["id"] for item in response.json()["items"]]

    assert ids(f"assigned_to={api_id(rep)}") == [api_id(mine)]
    assert ids("source=website") == [api_id(mine)]
    assert ids("status=contacted") == [api_id(mine)]
    assert ids("status=proposal") == []


def test_admin_endpoints_need_authentication(anon_api, tenant):
    lead = LeadFactory(tenant=tenant)

    assert anon_api.get("/api/v1/leads").status_code == 401
    assert anon_api.get(f"/api/v1/leads/{api_id(lead)}").status_code == 401
    assert anon_api.patch(f"/api/v1/leads/{api_id(lead)}/status", {"status": "contacted"}, format="json").status_code == 401


# --- 3. Get Lead Details -----------------------------------------------------------------------


def test_the_detail_has_the_documents_fields_and_activities(anon_api, api, channel):
    form_post(anon_api, channel)
    lead = Lead.objects.get()

    body = detail(api, api_id(lead))

    assert DETAIL <= set(body)
    assert (body["phone"], body["company"], body["message"]) == (
        "+919876543210", "Acme Corp", "Interested in your services")
    assert body["priority"] == "medium"
    assert body["assigned_to"] == (api_id(lead.owner) if lead.owner else None)
    assert body["activities"] and all(ACTIVITY <= set(entry) for entry in body["activities"])
    assert all(entry["activity_type"] in ACTIVITY_TYPES for entry in body["activities"])
    assert body["activities"][-1]["activity_type"] == "created"
    assert is_timestamp(body["updated_at"])


def test_priority_is_low_medium_or_high_and_normal_still_means_medium(api, tenant):
    lead = LeadFactory(tenant=tenant)

    for sent, stored in [("low", "low"), ("high", "high"), ("medium", "medium"), ("normal", "medium")]:
        response = api.patch(f"/api/v1/leads/{api_id(lead)}", {"priority": sent}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["priority"] == stored


# --- 4. Update Lead Status ---------------------------------------------------------------------


def test_a_status_update_answers_id_status_updated_at_and_logs_the_notes(api, tenant):
    lead = LeadFactory(tenant=tenant)

    response = patch_status(api, lead, "contacted", "Called customer, interested in proposal")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"]) == (api_id(lead), "contacted") and is_timestamp(body["updated_at"])
    entry = detail(api, api_id(lead))["activities"][0]
    assert entry["activity_type"] == "status_changed"
    assert "Called customer, interested in proposal" in entry["description"]


@pytest.mark.parametrize("last", ["closed_won", "closed_lost"])
def test_the_whole_pipeline_goes_through_the_status_endpoint(api, tenant, last):
    lead = LeadFactory(tenant=tenant, industry="Software")

    for status in ["contacted", "qualified", "proposal", last]:
        response = patch_status(api, lead, status)
        assert response.status_code == 200, (status, response.content)
        assert response.json()["status"] == status
        assert detail(api, api_id(lead))["status"] == status

    lead.refresh_from_db()
    deal = Deal.objects.get()
    assert deal.stage == last and lead.converted_deal == deal
    assert lead.closed_at is not None and lead.closed_at == deal.closed_at
    assert Contact.objects.count() == 1
    # Document 000: the person becomes a customer when their deal is won, whichever door won it.
    assert Contact.objects.get().status == ("customer" if last == "closed_won" else "active")
    listed = api.get(f"/api/v1/leads?status={last}").json()["items"]
    assert [item["id"] for item in listed] == [api_id(lead)]


def test_a_won_leads_deal_reopened_through_deals_reads_back_as_proposal_and_open(api, tenant):
    lead = LeadFactory(tenant=tenant, status=LeadStatus.QUALIFIED)
    patch_status(api, lead, "closed_won")
    deal = Deal.objects.get()

    response = api.patch(f"/api/v1/deals/{api_id(deal)}", {"stage": "negotiation"}, format="json")

    assert response.status_code == 200, response.content
    lead.refresh_from_db()
    assert lead.closed_at is None
    assert detail(api, api_id(lead))["status"] == "proposal"


def test_a_status_changed_event_carries_old_and_new_status_in_the_documents_words(api, tenant):
    lead = LeadFactory(tenant=tenant, status=LeadStatus.QUALIFIED)

    patch_status(api, lead, "proposal")
    patch_status(api, lead, "closed_won")

    moves = [(body["old_status"], body["new_status"]) for body in messages(EventType.LEAD_STATUS_CHANGED)]
    assert moves == [("qualified", "proposal"), ("proposal", "closed_won")]
    assert all({"event_type", "lead_id", "timestamp"} <= set(body) for body in messages(EventType.LEAD_STATUS_CHANGED))


def test_asking_for_the_status_a_lead_has_changes_nothing(api, tenant):
    lead = LeadFactory(tenant=tenant, status=LeadStatus.QUALIFIED)
    patch_status(api, lead, "closed_won")
    events, activities = Event.objects.count(), Activity.objects.count()

    again = patch_status(api, lead, "closed_won")

    assert (again.status_code, again.json()["status"]) == (200, "closed_won")
    assert (Event.objects.count(), Activity.objects.count(), Deal.objects.count()) == (events, activities, 1)


def test_the_pipeline_does_not_go_back(api, tenant):
    lead = LeadFactory(tenant=tenant, status=LeadStatus.QUALIFIED)
    patch_status(api, lead, "closed_lost")

    for status in ["proposal", "qualified", "closed_won"]:
        response = patch_status(api, lead, status)
        assert response.status_code == 409, status
        assert response.json()["detail"]
    assert detail(api, api_id(lead))["status"] == "closed_lost"


def test_the_strict_pipeline_takes_no_shortcut_to_a_deal(api, tenant):
    tenant.strict_pipeline = True
    tenant.save()
    lead = LeadFactory(tenant=tenant, status=LeadStatus.CONTACTED)

    response = patch_status(api, lead, "closed_won")

    assert response.status_code == 409 and "must be qualified" in response.json()["detail"]
    assert not Deal.objects.exists()


def test_an_unknown_status_is_a_400_naming_it(api, tenant):
    lead = LeadFactory(tenant=tenant)

    response = patch_status(api, lead, "won")

    assert response.status_code == 400 and "status" in response.json()


# --- 5. Assign Lead ----------------------------------------------------------------------------


def test_assigning_takes_assigned_to(api, tenant, rep):
    lead = LeadFactory(tenant=tenant)

    response = api.post(f"/api/v1/leads/{api_id(lead)}/assign", {"assigned_to": api_id(rep)}, format="json")

    assert response.status_code == 200, response.content
    lead.refresh_from_db()
    assert lead.owner == rep
    assert detail(api, api_id(lead))["assigned_to"] == api_id(rep)
    unassigned = api.post(f"/api/v1/leads/{api_id(lead)}/assign", {"assigned_to": None}, format="json")
    assert unassigned.status_code == 200 and unassigned.json()["assigned_to"] is None


def test_assigning_to_someone_of_another_workspace_is_a_400_naming_assigned_to(api, tenant, other_tenant):
    lead = LeadFactory(tenant=tenant)
    stranger = UserFactory(tenant=other_tenant)

    response = api.post(f"/api/v1/leads/{api_id(lead)}/assign", {"assigned_to": api_id(stranger)}, format="json")

    assert response.status_code == 400 and "assigned_to" in response.json()


# --- 6. Add Activity Note ----------------------------------------------------------------------


def test_a_note_is_added_with_activity_type_and_description(api, tenant):
    lead = LeadFactory(tenant=tenant)

    response = api.post(f"/api/v1/leads/{api_id(lead)}/activities",
                        {"activity_type": "note_added", "description": "Customer requested pricing information"},
                        format="json")

    assert response.status_code == 201, response.content
    entry = Activity.objects.get(lead=lead)
    assert (entry.kind, entry.body) == (ActivityKind.NOTE, "Customer requested pricing information")
    [shown] = detail(api, api_id(lead))["activities"]
    assert (shown["activity_type"], shown["description"]) == ("note_added", "Customer requested pricing information")


def test_a_contact_made_is_logged_as_contacted(api, tenant):
    lead = LeadFactory(tenant=tenant)

    response = api.post(f"/api/v1/leads/{api_id(lead)}/activities",
                        {"activity_type": "contacted", "description": "Left a voicemail"}, format="json")

    assert response.status_code == 201, response.content
    assert detail(api, api_id(lead))["activities"][0]["activity_type"] == "contacted"


@pytest.mark.parametrize("activity_type", ["created", "status_changed"])
def test_the_activity_types_the_service_writes_itself_are_refused_naming_activity_type(api, tenant, activity_type):
    lead = LeadFactory(tenant=tenant)

    response = api.post(f"/api/v1/leads/{api_id(lead)}/activities",
                        {"activity_type": activity_type, "description": "x"}, format="json")

    assert response.status_code == 400 and "activity_type" in response.json()
    assert not Activity.objects.exists()


# --- Health ------------------------------------------------------------------------------------


def test_health(anon_api):
    response = anon_api.get("/health")

    assert response.status_code == 200


# --- the pipeline under concurrency ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_closed_won_make_one_deal(live_server):
    tenant = TenantFactory()
    token = ApiTokenFactory(user=ManagerFactory(tenant=tenant))
    lead = LeadFactory(tenant=tenant, status=LeadStatus.QUALIFIED, email="race@contested.example",
                       company="Contested Inc", industry="Software")
    url = f"{live_server.url}/api/v1/leads/{api_id(lead)}/status"

    def patch(i):
        request = urllib.request.Request(
            url, data=json.dumps({"status": "closed_won"}).encode(), method="PATCH",
            headers={"Authorization": f"Bearer {token.secret}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())["status"]

    results = run_together(patch, n=2)

    assert results == [(200, "closed_won")] * 2, f"{connection.vendor}: {results}"
    lead.refresh_from_db()
    assert Deal.objects.filter(tenant=tenant).count() == 1
    assert Deal.objects.get(tenant=tenant).stage == DealStage.CLOSED_WON
    assert lead.status == LeadStatus.CONVERTED and lead.closed_at is not None
    assert Event.objects.filter(type=EventType.LEAD_CONVERTED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_ten_threads_moving_one_lead_to_closed_won_convert_it_once():
    tenant = TenantFactory()
    manager = ManagerFactory(tenant=tenant)
    lead = LeadFactory(tenant=tenant, status=LeadStatus.QUALIFIED, company="Contested Inc", industry="Software")

    results = run_together(lambda i: move_lead(lead=Lead(pk=lead.pk), status="closed_won", actor=manager), n=10)

    assert not [r for r in results if isinstance(r, Exception)], f"{connection.vendor}: {results[:3]}"
    assert Deal.objects.count() == 1 and Contact.objects.count() == 1
    assert Event.objects.filter(type=EventType.LEAD_STATUS_CHANGED).count() == 1
