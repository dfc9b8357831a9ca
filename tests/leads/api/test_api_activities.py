import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.choices import ActivityKind
from crm.models import Activity
from leads.activities import SYSTEM_KINDS, log_activity
from leads.models import Lead
from tests.api_ids import api_id
from tests.conftest import api_client_for
from tests.factories import ActivityFactory, ContactFactory, DealFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


# --- logging activities --------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/activities", "/api/v1/activities/"])
def test_a_note_on_a_lead_is_logged_by_the_caller_and_moves_last_activity_at(api, tenant, other_tenant, manager, path):
    lead = LeadFactory(tenant=tenant)
    before = timezone.now()

    response = api.post(path, {"kind": "note", "subject": "Intro", "body": "Wants pricing", "lead": api_id(lead),
                               "tenant": other_tenant.pk, "actor": 12345}, format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    activity = Activity.objects.get(public_id=data["id"])
    assert (activity.tenant, activity.actor, activity.lead) == (tenant, manager, lead)
    assert data == {
        "id": api_id(activity), "activity_type": "note_added", "description": "Intro\nWants pricing",
        "kind": "note", "subject": "Intro", "body": "Wants pricing", "lead": api_id(lead),
        "contact": None, "deal": None, "actor": api_id(manager), "actor_name": "manny",
        "occurred_at": data["occurred_at"], "due_at": None, "done_at": None, "data": {},
    }
    lead.refresh_from_db()
    assert lead.last_activity_at >= before


def test_an_activity_logged_after_the_fact_never_moves_last_activity_at_back(api, tenant):
    recent = timezone.now()
    lead = LeadFactory(tenant=tenant, last_activity_at=recent)

    response = api.post("/api/v1/activities", {"kind": "call", "lead": api_id(lead), "occurred_at": "2020-01-01T09:00:00Z"},
                        format="json")

    assert response.status_code == 201
    lead.refresh_from_db()
    assert lead.last_activity_at == recent


def test_a_task_on_a_deal_lands_on_the_deals_contact_too(api, tenant):
    contact = ContactFactory(tenant=tenant)
    deal = DealFactory(tenant=tenant, contact=contact)

    response = api.post("/api/v1/activities", {"kind": "task", "subject": "Send contract", "deal": api_id(deal),
                                               "due_at": "2030-01-01T09:00:00Z"}, format="json")

    assert response.status_code == 201, response.content
    assert (response.json()["deal"], response.json()["contact"]) == (api_id(deal), api_id(contact))


def test_an_activity_on_a_converted_lead_lands_on_its_contact(api, tenant):
    lead = LeadFactory(tenant=tenant)
    result = Lead.objects.convert(lead=lead, create_deal=False)

    response = api.post("/api/v1/activities", {"kind": "email", "lead": api_id(lead)}, format="json")

    assert response.status_code == 201
    assert response.json()["contact"] == result.public_ids["contact_id"]


def test_log_activity_is_keyword_only_and_checks_the_tenant(tenant, other_tenant, rep):
    foreign = LeadFactory(tenant=other_tenant)

    with pytest.raises(TypeError):
        log_activity(tenant, ActivityKind.NOTE, rep)  # type: ignore[misc]
    with pytest.raises(ValidationError) as raised:
        log_activity(tenant=tenant, kind=ActivityKind.NOTE, actor=rep, lead=foreign)
    assert "lead" in raised.value.message_dict
    with pytest.raises(ValidationError):
        log_activity(tenant=tenant, kind=ActivityKind.NOTE, actor=rep)
    assert not Activity.objects.exists()


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(SYSTEM_KINDS))
def test_system_kinds_cannot_be_logged(api, tenant, kind):
    lead = LeadFactory(tenant=tenant)

    response = api.post("/api/v1/activities", {"kind": kind, "lead": api_id(lead)}, format="json")

    assert response.status_code == 400
    assert "written by the CRM itself" in response.json()["kind"][0]
    assert not Activity.objects.exists()


def test_an_activity_must_belong_to_someone(api):
    response = api.post("/api/v1/activities", {"kind": "note", "body": "Floating"}, format="json")

    assert response.status_code == 400
    assert {"lead", "contact", "deal"} <= set(response.json())


@pytest.mark.parametrize("field, factory", [("lead", LeadFactory), ("contact", ContactFactory), ("deal", DealFactory)])
def test_a_row_of_another_tenant_is_400_naming_the_field(api, tenant, other_tenant, field, factory):
    foreign = factory(tenant=other_tenant)

    response = api.post("/api/v1/activities", {"kind": "note", field: api_id(foreign)}, format="json")

    assert response.status_code == 400
    assert response.json()[field] == [f"No {field} with id {api_id(foreign)} in your workspace."]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"kind": "smoke_signal"}, "kind"),
        ({"kind": "note", "due_at": "2030-01-01T00:00:00Z"}, "due_at"),
        ({"kind": "call", "done_at": "2030-01-01T00:00:00Z"}, "done_at"),
        ({"kind": "note", "data": ["not", "an", "object"]}, "data"),
        ({"kind": "note", "occurred_at": "last tuesday"}, "occurred_at"),
    ],
)
def test_bad_input_is_400_naming_the_field(api, tenant, body, field):
    lead = LeadFactory(tenant=tenant)

    response = api.post("/api/v1/activities", {**body, "lead": api_id(lead)}, format="json")

    assert response.status_code == 400
    assert field in response.json()


# --- updating ------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/"])
def test_a_task_is_marked_done_and_its_body_edited(api, tenant, manager, suffix):
    task = ActivityFactory(
        lead=LeadFactory(tenant=tenant), kind=ActivityKind.TASK, actor=manager, body="Call back",
        due_at=dt.datetime(2030, 1, 1, 9, tzinfo=dt.UTC),
    )
    url = f"/api/v1/activities/{api_id(task)}{suffix}"

    done = api.patch(url, {"done_at": "2030-01-02T10:00:00Z", "body": "Called back"}, format="json")

    assert done.status_code == 200, done.content
    task.refresh_from_db()
    assert (task.done_at, task.body) == (dt.datetime(2030, 1, 2, 10, tzinfo=dt.UTC), "Called back")
    put = api.put(url, {"kind": "note", "body": "Now a note", "lead": api_id(task.lead)}, format="json")
    assert put.status_code == 400 and "done_at" in put.json(), "a note has no done date"
    put = api.put(
        url, {"kind": "note", "body": "Now a note", "lead": api_id(task.lead), "due_at": None, "done_at": None}, format="json"
    )
    assert put.status_code == 200, put.content


def test_an_activity_cannot_be_turned_into_a_system_kind_or_detached(api, tenant, manager):
    note = ActivityFactory(lead=LeadFactory(tenant=tenant), actor=manager)

    assert "kind" in api.patch(f"/api/v1/activities/{api_id(note)}", {"kind": "converted"}, format="json").json()
    assert api.patch(f"/api/v1/activities/{api_id(note)}", {"lead": None}, format="json").status_code == 400


def test_system_activities_cannot_be_edited_even_by_a_manager(api, tenant):
    logged = ActivityFactory(lead=LeadFactory(tenant=tenant), kind=ActivityKind.STATUS_CHANGED, body="new -> contacted")

    response = api.patch(f"/api/v1/activities/{api_id(logged)}", {"body": "rewritten"}, format="json")

    assert response.status_code == 403
    assert "cannot be edited" in response.json()["detail"]
    logged.refresh_from_db()
    assert logged.body == "new -> contacted"


def test_a_rep_edits_only_activities_they_logged(tenant, rep, manager):
    client = api_client_for(rep)
    lead = LeadFactory(tenant=tenant, owner=rep)
    own = ActivityFactory(lead=lead, actor=rep)
    colleagues = ActivityFactory(lead=lead, actor=manager, body="Manager's note")

    assert client.patch(f"/api/v1/activities/{api_id(own)}", {"body": "edited"}, format="json").status_code == 200
    assert client.get(f"/api/v1/activities/{api_id(colleagues)}").status_code == 200
    refused = client.patch(f"/api/v1/activities/{api_id(colleagues)}", {"body": "edited"}, format="json")
    assert refused.status_code == 403
    assert "logged themselves" in refused.json()["detail"]
    colleagues.refresh_from_db()
    assert colleagues.body == "Manager's note"


def test_there_is_no_delete(api, tenant):
    note = ActivityFactory(lead=LeadFactory(tenant=tenant))

    assert api.delete(f"/api/v1/activities/{api_id(note)}").status_code == 405


# --- listing, filters, ordering ------------------------------------------------------------


def test_the_list_is_paginated_and_holds_only_the_callers_tenant(api, tenant, other_tenant):
    mine = [ActivityFactory(lead=LeadFactory(tenant=tenant)) for _ in range(3)]
    ActivityFactory(lead=LeadFactory(tenant=other_tenant))

    body = api.get("/api/v1/activities?limit=2").json()

    assert (body["total"], body["page"], body["limit"], len(body["items"])) == (3, 1, 2, 2)
    assert set(ids(api.get("/api/v1/activities/"))) == {api_id(a) for a in mine}


def test_filters(api, tenant, rep, manager):
    lead = LeadFactory(tenant=tenant)
    contact = ContactFactory(tenant=tenant)
    deal = DealFactory(tenant=tenant)
    old = dt.datetime(2024, 1, 5, tzinfo=dt.UTC)
    on_lead = ActivityFactory(lead=lead, kind=ActivityKind.CALL, actor=rep, occurred_at=old)
    on_contact = ActivityFactory(tenant=tenant, lead=None, contact=contact, kind=ActivityKind.NOTE, actor=manager)
    open_task = ActivityFactory(tenant=tenant, lead=None, deal=deal, kind=ActivityKind.TASK, actor=manager)
    done_task = ActivityFactory(tenant=tenant, lead=None, deal=deal, kind=ActivityKind.TASK, done_at=timezone.now())
    every = {api_id(on_lead), api_id(on_contact), api_id(open_task), api_id(done_task)}

    assert ids(api.get("/api/v1/activities", {"lead": api_id(lead)})) == [api_id(on_lead)]
    assert ids(api.get("/api/v1/activities", {"contact": api_id(contact)})) == [api_id(on_contact)]
    assert set(ids(api.get("/api/v1/activities", {"deal": api_id(deal)}))) == {api_id(open_task), api_id(done_task)}
    assert set(ids(api.get("/api/v1/activities?kind=call&kind=note"))) == {api_id(on_lead), api_id(on_contact)}
    assert ids(api.get("/api/v1/activities", {"actor": api_id(rep)})) == [api_id(on_lead)]
    assert set(ids(api.get("/api/v1/activities", {"actor": "me"}))) == {api_id(on_contact), api_id(open_task)}
    assert ids(api.get("/api/v1/activities", {"actor": "none"})) == [api_id(done_task)]
    assert ids(api.get("/api/v1/activities", {"occurred_before": "2024-02-01T00:00:00Z"})) == [api_id(on_lead)]
    assert set(ids(api.get("/api/v1/activities", {"occurred_after": "2024-02-01T00:00:00Z"}))) == every - {api_id(on_lead)}
    assert ids(api.get("/api/v1/activities", {"open_task": "true"})) == [api_id(open_task)]
    assert set(ids(api.get("/api/v1/activities", {"open_task": "false"}))) == every - {api_id(open_task)}
    assert api.get("/api/v1/activities", {"kind": "nope"}).status_code == 400


def test_ordering(api, tenant):
    lead = LeadFactory(tenant=tenant)
    first = ActivityFactory(lead=lead, occurred_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    last = ActivityFactory(lead=lead, occurred_at=dt.datetime(2024, 3, 1, tzinfo=dt.UTC))
    middle = ActivityFactory(lead=lead, occurred_at=dt.datetime(2024, 2, 1, tzinfo=dt.UTC))

    assert ids(api.get("/api/v1/activities")) == [api_id(last), api_id(middle), api_id(first)], "default: newest first"
    assert ids(api.get("/api/v1/activities", {"ordering": "occurred_at"})) == [api_id(first), api_id(middle), api_id(last)]


def test_the_list_query_count_does_not_grow_with_rows(api, tenant, rep, django_assert_max_num_queries):
    def add(count):
        for _ in range(count):
            contact = ContactFactory(tenant=tenant)
            ActivityFactory(lead=LeadFactory(tenant=tenant), contact=contact, deal=DealFactory(tenant=tenant), actor=rep)

    add(5)
    with CaptureQueriesContext(connection) as baseline:
        assert api.get("/api/v1/activities?limit=100").status_code == 200
    add(25)
    with django_assert_max_num_queries(len(baseline.captured_queries)):
        assert len(ids(api.get("/api/v1/activities?limit=100"))) == 30


# --- tenants -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "put", "patch"])
@pytest.mark.parametrize("suffix", ["", "/"])
def test_another_tenants_activity_is_404(api, other_tenant, method, suffix):
    foreign = ActivityFactory(lead=LeadFactory(tenant=other_tenant), body="Theirs")

    response = getattr(api, method)(f"/api/v1/activities/{api_id(foreign)}{suffix}", {"kind": "note", "body": "Mine"},
                                    format="json")

    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.body == "Theirs"


# --- side doors: a rep works their own and unassigned leads through this endpoint too ---------------


@pytest.fixture
def colleagues_lead(tenant):
    colleague = UserFactory(tenant=tenant, username="carl")
    return LeadFactory(tenant=tenant, owner=colleague, last_activity_at=None)


def test_a_rep_cannot_log_an_activity_on_a_colleagues_lead_here_either(tenant, rep, colleagues_lead):
    client = api_client_for(rep)

    response = client.post("/api/v1/activities", {"kind": "note", "lead": api_id(colleagues_lead), "body": "sneaky"},
                           format="json")

    assert response.status_code == 403, response.content
    assert response.json()["detail"] == "No such lead in your workspace."  # neither the lead nor its owner named
    assert not Activity.objects.filter(lead=colleagues_lead).exists()
    colleagues_lead.refresh_from_db()
    assert colleagues_lead.last_activity_at is None
    # The lead's own endpoint refuses it too (404: the lead is not in a rep's list).
    own_door = client.post(f"/api/v1/leads/{api_id(colleagues_lead)}/activities", {"kind": "note"}, format="json")
    assert own_door.status_code == 404


def test_a_rep_cannot_move_their_entry_onto_a_colleagues_lead(tenant, rep, colleagues_lead):
    own_lead = LeadFactory(tenant=tenant, owner=rep)
    entry = ActivityFactory(lead=own_lead, actor=rep, body="mine")
    client = api_client_for(rep)

    response = client.patch(f"/api/v1/activities/{api_id(entry)}", {"lead": api_id(colleagues_lead)}, format="json")

    assert response.status_code == 403, response.content
    entry.refresh_from_db()
    assert entry.lead_id == own_lead.pk
    assert not Activity.objects.filter(lead=colleagues_lead).exists()


def test_a_rep_lists_no_entry_of_a_colleagues_lead(tenant, rep, colleagues_lead):
    ActivityFactory(lead=colleagues_lead, subject="carl's note")
    ActivityFactory(lead=LeadFactory(tenant=tenant, owner=rep), subject="my note")

    listed = api_client_for(rep).get("/api/v1/activities").json()["items"]

    assert [item["subject"] for item in listed] == ["my note"]
