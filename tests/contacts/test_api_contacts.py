import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts.api.serializers import ContactSerializer
from contacts.models import Contact
from crm.normalize import normalize_email
from leads.models import Lead
from tests.api_ids import api_id
from tests.conftest import api_client_for, session_client_for
from tests.factories import CompanyFactory, ContactFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db
NO_SUCH_ID = "0190b2a4-5c1e-7d3f-9a0b-1c2d3e4f5a6b"  # a well-formed id no row has


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


# --- create, read, update ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/contacts", "/api/v1/contacts/"])
def test_a_contact_is_created_in_the_callers_tenant_with_normalised_details(api, tenant, other_tenant, rep, path):
    company = CompanyFactory(tenant=tenant, name="Analytical Engines")
    body = {
        "first_name": "Ada", "last_name": "Lovelace", "email": "  Ada@Analytical.Example ", "phone": "(415) 555-0132",
        "job_title": "Countess", "company": api_id(company), "owner": api_id(rep), "tenant": other_tenant.pk,
    }

    response = api.post(path, body, format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    contact = Contact.objects.get(public_id=data["id"])
    assert contact.tenant == tenant, "the tenant comes from the caller, never the body"
    assert data == {
        "id": api_id(contact), "full_name": "Ada Lovelace", "first_name": "Ada", "last_name": "Lovelace",
        "email": "ada@analytical.example", "phone": "+14155550132", "job_title": "Countess",
        "company": api_id(company), "company_name": "Analytical Engines", "owner": api_id(rep), "owner_name": "rita",
        "status": "active", "source_leads": [], "created_at": data["created_at"], "updated_at": data["updated_at"],
        "marketing_consent": "", "consent_at": None, "consent_source": "", "consent_wording": "",  # issue 17
    }


def test_the_list_is_paginated_and_holds_only_the_callers_tenant(api, tenant, other_tenant):
    mine = ContactFactory.create_batch(5, tenant=tenant)
    ContactFactory.create_batch(3, tenant=other_tenant)

    body = api.get("/api/v1/contacts?page=2&limit=2").json()

    assert set(body) == {"items", "total", "page", "limit"}
    assert (body["total"], body["page"], body["limit"], len(body["items"])) == (5, 2, 2, 2)
    assert set(ids(api.get("/api/v1/contacts/", {"limit": 100}))) == {api_id(c) for c in mine}


@pytest.mark.parametrize("suffix", ["", "/"])
def test_put_replaces_and_patch_changes_some_fields(api, tenant, suffix):
    contact = ContactFactory(tenant=tenant, first_name="Old", last_name="Name", job_title="CTO")
    url = f"/api/v1/contacts/{api_id(contact)}{suffix}"

    put = api.put(url, {"first_name": "Grace", "last_name": "Hopper", "email": "grace@navy.example"}, format="json")
    assert put.status_code == 200, put.content
    assert put.json()["full_name"] == "Grace Hopper"

    patch = api.patch(url, {"phone": "+44 20 7946 0958"}, format="json")
    assert patch.status_code == 200, patch.content
    contact.refresh_from_db()
    assert (contact.first_name, contact.email, contact.phone) == ("Grace", "grace@navy.example", "+442079460958")
    assert api.get(url).json()["phone"] == "+442079460958"


def test_keeping_the_own_email_is_not_a_duplicate(api, tenant):
    contact = ContactFactory(tenant=tenant, email="same@x.example")

    response = api.put(f"/api/v1/contacts/{api_id(contact)}", {"email": "SAME@x.example", "first_name": "Sam"}, format="json")

    assert response.status_code == 200, response.content


def test_there_is_no_delete(api, tenant):
    contact = ContactFactory(tenant=tenant)

    assert api.delete(f"/api/v1/contacts/{api_id(contact)}").status_code == 405
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_a_contact_shows_the_lead_it_came_from(api, tenant):
    lead = LeadFactory(tenant=tenant, first_name="Lin", last_name="Cheng", email="lin@cheng.example")
    result = Lead.objects.convert(lead=lead)

    response = api.get(f"/api/v1/contacts/{result.public_ids['contact_id']}")

    assert response.status_code == 200
    [source] = response.json()["source_leads"]
    lead.refresh_from_db()
    assert source["id"] == api_id(lead)
    assert (source["full_name"], source["email"]) == ("Lin Cheng", "lin@cheng.example")
    assert source["converted_at"] is not None
    assert ids(api.get("/api/v1/contacts"))[0] == result.public_ids["contact_id"]
    assert api.get("/api/v1/contacts").json()["items"][0]["source_leads"][0]["id"] == api_id(lead)


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"email": "a@b.example", "phone": "12"}, "phone", "phone"),
        ({"job_title": "Nobody"}, "email", "name, an email or a phone"),
        ({"email": "a@b.example", "company": NO_SUCH_ID}, "company", f"No company with id {NO_SUCH_ID}"),
        ({"email": "a@b.example", "company": 999999}, "company", "Give the id as a UUID"),
        ({"email": "a@b.example", "owner": "abc"}, "owner", ""),
    ],
)
def test_bad_input_is_400_naming_the_field(api, body, field, message):
    response = api.post("/api/v1/contacts", body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert message in " ".join(response.json()[field])
    assert not Contact.objects.exists()


def test_a_duplicate_email_is_400_on_create_and_update(api, tenant, other_tenant):
    ContactFactory(tenant=tenant, email="taken@x.example")
    ContactFactory(tenant=other_tenant, email="elsewhere@x.example")
    other = ContactFactory(tenant=tenant, email="other@x.example")

    created = api.post("/api/v1/contacts", {"email": "Taken@X.example"}, format="json")
    updated = api.patch(f"/api/v1/contacts/{api_id(other)}", {"email": "taken@x.example"}, format="json")
    elsewhere = api.post("/api/v1/contacts", {"email": "elsewhere@x.example"}, format="json")

    assert created.status_code == 400 and created.json() == {"email": ["A contact with this email already exists."]}
    assert updated.status_code == 400 and "email" in updated.json()
    assert elsewhere.status_code == 201, "emails are unique per tenant, not across tenants"


def test_a_company_or_owner_of_another_tenant_is_400(api, tenant, other_tenant):
    foreign_company = CompanyFactory(tenant=other_tenant)
    foreign_user = UserFactory(tenant=other_tenant, username="gus")
    contact = ContactFactory(tenant=tenant)

    created = api.post("/api/v1/contacts", {"email": "a@b.example", "company": api_id(foreign_company)}, format="json")
    updated = api.patch(f"/api/v1/contacts/{api_id(contact)}", {"owner": api_id(foreign_user)}, format="json")

    assert created.status_code == 400
    assert created.json()["company"] == [f"No company with id {api_id(foreign_company)} in your workspace."]
    assert updated.status_code == 400 and "owner" in updated.json()
    contact.refresh_from_db()
    assert contact.owner is None


def test_a_duplicate_that_slips_past_the_check_is_still_a_400_not_a_500(api, tenant, monkeypatch):
    ContactFactory(tenant=tenant, email="race@x.example")
    checked = ContactSerializer.validate_email
    calls = []

    def concurrent_insert_between_check_and_save(self, value):
        calls.append(value)
        return normalize_email(value) if len(calls) == 1 else checked(self, value)

    monkeypatch.setattr(ContactSerializer, "validate_email", concurrent_insert_between_check_and_save)

    response = api.post("/api/v1/contacts", {"email": "race@x.example"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"email": ["A contact with this email already exists."]}
    assert Contact.objects.count() == 1


# --- filters and ordering ------------------------------------------------------------------


def test_search_matches_name_email_phone_and_company(api, tenant):
    acme = CompanyFactory(tenant=tenant, name="Acme Rockets")
    ada = ContactFactory(tenant=tenant, first_name="Ada", last_name="Lovelace", email="ada@engines.example")
    grace = ContactFactory(tenant=tenant, first_name="Grace", last_name="Hopper", company=acme)
    phoned = ContactFactory(tenant=tenant, first_name="Phil", last_name="Phone", phone="+14155550199")

    assert ids(api.get("/api/v1/contacts", {"search": "lovelace"})) == [api_id(ada)]
    assert ids(api.get("/api/v1/contacts", {"search": "ENGINES"})) == [api_id(ada)]
    assert ids(api.get("/api/v1/contacts", {"search": "rockets"})) == [api_id(grace)]
    assert ids(api.get("/api/v1/contacts", {"search": "5550199"})) == [api_id(phoned)]
    assert ids(api.get("/api/v1/contacts", {"search": "grace acme"})) == [api_id(grace)], "every term must match"
    assert ids(api.get("/api/v1/contacts", {"search": "ada hopper"})) == []


def test_filter_by_company_owner_and_created_range(api, tenant, rep, manager):
    acme = CompanyFactory(tenant=tenant)
    at_acme = ContactFactory(tenant=tenant, company=acme, owner=rep)
    mine = ContactFactory(tenant=tenant, owner=manager, created_at=dt.datetime(2024, 1, 10, tzinfo=dt.UTC))
    unassigned = ContactFactory(tenant=tenant, created_at=dt.datetime(2024, 3, 1, tzinfo=dt.UTC))

    assert ids(api.get("/api/v1/contacts", {"company": api_id(acme)})) == [api_id(at_acme)]
    assert ids(api.get("/api/v1/contacts", {"owner": api_id(rep)})) == [api_id(at_acme)]
    assert ids(api.get("/api/v1/contacts", {"owner": "me"})) == [api_id(mine)]
    assert ids(api.get("/api/v1/contacts", {"owner": "none"})) == [api_id(unassigned)]
    window = {"created_after": "2024-01-01T00:00:00Z", "created_before": "2024-02-01T00:00:00Z"}
    assert ids(api.get("/api/v1/contacts", window)) == [api_id(mine)]
    assert set(ids(api.get("/api/v1/contacts", {"created_after": "2024-02-01T00:00:00Z"}))) == {api_id(unassigned), api_id(at_acme)}


@pytest.mark.parametrize("params, field", [({"owner": "someone"}, "owner"), ({"company": "x"}, "company"),
                                           ({"created_after": "yesterday"}, "created_after")])
def test_a_bad_filter_is_400_naming_it(api, params, field):
    response = api.get("/api/v1/contacts", params)

    assert response.status_code == 400
    assert field in response.json()


def test_ordering(api, tenant):
    b = ContactFactory(tenant=tenant, email="b@x.example", last_name="Alpha")
    a = ContactFactory(tenant=tenant, email="a@x.example", last_name="Zulu")
    c = ContactFactory(tenant=tenant, email="c@x.example", last_name="Mike")

    assert ids(api.get("/api/v1/contacts")) == [api_id(b), api_id(c), api_id(a)], "default: by last name"
    assert ids(api.get("/api/v1/contacts", {"ordering": "email"})) == [api_id(a), api_id(b), api_id(c)]
    assert ids(api.get("/api/v1/contacts", {"ordering": "-email"})) == [api_id(c), api_id(b), api_id(a)]
    assert ids(api.get("/api/v1/contacts", {"ordering": "tenant__name"})) == [api_id(b), api_id(c), api_id(a)], "unknown: ignored"


def test_the_list_query_count_does_not_grow_with_rows(api, tenant, rep, django_assert_max_num_queries):
    def add(count):
        for _ in range(count):
            lead = LeadFactory(tenant=tenant, owner=rep)
            Lead.objects.convert(lead=lead, create_deal=False)
        ContactFactory.create_batch(count, tenant=tenant, owner=rep, company=CompanyFactory(tenant=tenant))

    add(5)
    with CaptureQueriesContext(connection) as baseline:
        assert api.get("/api/v1/contacts?limit=100").status_code == 200
    add(25)
    with django_assert_max_num_queries(len(baseline.captured_queries)):
        assert len(ids(api.get("/api/v1/contacts?limit=100"))) == 60


# --- roles and tenants ---------------------------------------------------------------------


def test_a_rep_edits_own_and_unassigned_contacts_but_not_a_colleagues(tenant, rep, manager):
    client = api_client_for(rep)
    own = ContactFactory(tenant=tenant, owner=rep)
    unassigned = ContactFactory(tenant=tenant)
    colleagues = ContactFactory(tenant=tenant, owner=manager, job_title="Buyer")

    assert client.patch(f"/api/v1/contacts/{api_id(own)}", {"job_title": "CEO"}, format="json").status_code == 200
    assert client.patch(f"/api/v1/contacts/{api_id(unassigned)}", {"owner": api_id(rep)}, format="json").status_code == 200
    assert client.get(f"/api/v1/contacts/{api_id(colleagues)}").status_code == 200, "reps read the whole tenant"
    refused = client.patch(f"/api/v1/contacts/{api_id(colleagues)}", {"job_title": "Mine now"}, format="json")
    assert refused.status_code == 403
    assert "own and unassigned" in refused.json()["detail"]
    colleagues.refresh_from_db()
    assert colleagues.job_title == "Buyer"


def test_a_manager_edits_any_contact_of_the_tenant(api, tenant, rep):
    contact = ContactFactory(tenant=tenant, owner=rep)

    assert api.patch(f"/api/v1/contacts/{api_id(contact)}", {"job_title": "VP"}, format="json").status_code == 200


@pytest.mark.parametrize("method", ["get", "put", "patch"])
@pytest.mark.parametrize("suffix", ["", "/"])
def test_another_tenants_contact_is_404(api, other_tenant, method, suffix):
    foreign = ContactFactory(tenant=other_tenant, first_name="Theirs")

    response = getattr(api, method)(f"/api/v1/contacts/{api_id(foreign)}{suffix}", {"first_name": "Mine"}, format="json")

    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.first_name == "Theirs"


def test_without_credentials_401_and_without_a_tenant_403(anon_api, tenant):
    ContactFactory(tenant=tenant)
    platform = UserFactory(tenant=None, is_superuser=True, username="platform")

    assert anon_api.get("/api/v1/contacts").status_code == 401
    assert session_client_for(platform).get("/api/v1/contacts").status_code == 403
