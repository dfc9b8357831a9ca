from decimal import Decimal

import pytest

from contacts.models import Contact, Deal
from crm.choices import ActivityKind, EventType
from crm.models import Activity, Event
from leads.choices import LeadSource, LeadStatus
from leads.models import Lead
from tests.api_ids import api_id
from tests.conftest import api_client_for, session_client_for
from tests.factories import ChannelFactory, CompanyFactory, ContactFactory, DealFactory, LeadFactory, UserFactory
from tests.receipts import assert_receipt

pytestmark = pytest.mark.django_db


# --- capture -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/leads", "/api/v1/leads/"])
def test_a_website_form_posts_a_lead_with_its_key(anon_api, channel, path):
    body = {"name": "Ada King Lovelace", "email": "  Ada@Analytical.Example ", "phone": "(415) 555-0132",
            "company": "Analytical Engines", "utm_source": "newsletter", "message": "Call me"}

    response = anon_api.post(path, body, format="json", HTTP_X_FORM_KEY=channel.form_key)

    assert response.status_code == 201
    assert_receipt(response.json(), email=body["email"])
    lead = Lead.objects.get()
    assert lead.tenant == channel.tenant and lead.channel == channel
    assert (lead.first_name, lead.last_name) == ("Ada King", "Lovelace")
    assert lead.email == "ada@analytical.example"
    assert lead.phone == "+14155550132"
    assert (lead.source, lead.utm_source, lead.message) == (LeadSource.WEBSITE_FORM, "newsletter", "Call me")
    assert Activity.objects.get(lead=lead).kind == ActivityKind.FORM_SUBMITTED
    assert Event.objects.get(type=EventType.LEAD_CREATED).payload["lead_id"] == api_id(lead)


def test_the_form_key_may_come_in_the_body(anon_api, channel):
    response = anon_api.post("/api/v1/leads", {"email": "b@x.example", "form_key": channel.form_key}, format="json")

    assert response.status_code == 201
    assert Lead.objects.get().channel == channel


def test_posting_without_a_token_or_key_is_401(anon_api):
    response = anon_api.post("/api/v1/leads", {"email": "a@b.example"}, format="json")

    assert response.status_code == 401
    assert "X-Form-Key" in response.json()["detail"]
    assert not Lead.objects.exists()


def test_an_unknown_or_inactive_key_is_401(anon_api, channel):
    channel.is_active = False
    channel.save()
    for key in ["not-a-key", channel.form_key]:
        response = anon_api.post("/api/v1/leads", {"email": "a@b.example"}, format="json", HTTP_X_FORM_KEY=key)
        assert response.status_code == 401
    assert not Lead.objects.exists()


def test_an_integrator_creates_a_lead_and_gets_it_back(api, manager):
    response = api.post("/api/v1/leads", {"first_name": "Grace", "last_name": "Hopper", "email": "grace@navy.example",
                                          "annual_revenue": "2500000.00", "employee_count": 120}, format="json")

    assert response.status_code == 201
    body = response.json()
    lead = Lead.objects.get(public_id=body["id"])
    assert lead.tenant == manager.tenant and lead.source == LeadSource.API
    assert body["email"] == "grace@navy.example" and body["status"] == "new"
    assert body["annual_revenue"] == "2500000.00"
    assert Activity.objects.get(lead=lead).actor == manager


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": "not-an-email"}, "email"),
        ({"phone": "12"}, "phone"),
        ({"name": "No Way To Reach"}, "email"),
        ({"email": "ok@x.example", "employee_count": -3}, "employee_count"),
        ({"email": "ok@x.example", "source": "carrier-pigeon"}, "source"),
        ({"email": "ok@x.example", "custom_fields": ["not", "an", "object"]}, "custom_fields"),
    ],
)
def test_bad_input_is_400_naming_the_field(api, body, field):
    response = api.post("/api/v1/leads", body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Lead.objects.exists()


def test_a_second_submission_updates_the_open_lead_without_overwriting(api, tenant):
    lead = LeadFactory(tenant=tenant, email="dup@x.example", job_title="VP Sales", phone="")

    response = api.post("/api/v1/leads", {"email": "DUP@x.example", "job_title": "Intern", "phone": "+14155550100"},
                        format="json")

    assert response.status_code == 200
    assert response.json()["id"] == api_id(lead)
    lead.refresh_from_db()
    assert lead.job_title == "VP Sales", "what a rep typed is kept"
    assert lead.phone == "+14155550100", "empty fields are filled"
    assert Lead.objects.count() == 1
    assert Activity.objects.filter(lead=lead, kind=ActivityKind.FORM_SUBMITTED).count() == 1


def test_a_submission_from_a_contact_logs_on_the_contact_and_makes_no_lead(api, tenant):
    contact = ContactFactory(tenant=tenant, email="known@x.example")

    response = api.post("/api/v1/leads", {"email": "known@x.example"}, format="json")

    assert response.status_code == 200
    assert response.json()["contact_id"] == api_id(contact)
    assert not Lead.objects.exists()
    assert contact.activities.get().kind == ActivityKind.FORM_SUBMITTED


def test_an_authenticated_caller_cannot_use_another_tenants_form_key(api, other_tenant):
    foreign = ChannelFactory(tenant=other_tenant)

    response = api.post("/api/v1/leads", {"email": "x@y.example"}, format="json", HTTP_X_FORM_KEY=foreign.form_key)

    assert response.status_code == 400
    assert "form_key" in response.json()


# --- reading -------------------------------------------------------------------------------


def test_the_list_is_paginated_and_holds_only_the_callers_tenant(api, tenant, other_tenant):
    mine = [LeadFactory(tenant=tenant) for _ in range(5)]
    LeadFactory.create_batch(3, tenant=other_tenant)

    response = api.get("/api/v1/leads?page=2&limit=2")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "total", "page", "limit"}
    assert (body["total"], body["page"], body["limit"]) == (5, 2, 2)
    assert len(body["items"]) == 2
    all_ids = {item["id"] for item in api.get("/api/v1/leads/?limit=100").json()["items"]}
    assert all_ids == {api_id(lead) for lead in mine}


def test_the_detail_shows_the_lead_and_its_latest_activities(api, tenant):
    lead = LeadFactory(tenant=tenant, email="d@x.example")
    Activity.objects.create(tenant=tenant, lead=lead, kind=ActivityKind.CALL, body="Left a voicemail")

    for path in [f"/api/v1/leads/{api_id(lead)}", f"/api/v1/leads/{api_id(lead)}/"]:
        response = api.get(path)
        assert response.status_code == 200
        assert response.json()["email"] == "d@x.example"
        assert response.json()["latest_activities"][0]["body"] == "Left a voicemail"


def test_reading_without_credentials_or_with_a_bad_token_is_401(anon_api, tenant):
    assert anon_api.get("/api/v1/leads").status_code == 401
    anon_api.credentials(HTTP_AUTHORIZATION="Bearer not-a-real-token")
    assert anon_api.get("/api/v1/leads").status_code == 401


# --- conversion ----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/"])
def test_convert_answers_201_then_200_with_the_same_body(api, tenant, suffix):
    lead = LeadFactory(tenant=tenant, company="Convertible Co")
    url = f"/api/v1/leads/{api_id(lead)}/convert{suffix}"

    first = api.post(url, {"deal_name": "Pilot", "amount": "5000.00"}, format="json")
    again = api.post(url, {}, format="json")

    assert first.status_code == 201
    assert again.status_code == 200
    assert first.json() == again.json()
    assert set(first.json()) == {"lead_id", "contact_id", "company_id", "deal_id", "converted_at"}
    lead.refresh_from_db()
    assert lead.converted_deal.name == "Pilot" and lead.converted_deal.amount == Decimal("5000.00")
    assert Contact.objects.count() == 1


def test_convert_without_a_deal(api, tenant):
    lead = LeadFactory(tenant=tenant)

    response = api.post(f"/api/v1/leads/{api_id(lead)}/convert", {"create_deal": False}, format="json")

    assert response.status_code == 201
    assert response.json()["deal_id"] is None


def test_convert_attaches_to_a_named_contact(api, tenant):
    contact = ContactFactory(tenant=tenant)
    lead = LeadFactory(tenant=tenant)

    response = api.post(f"/api/v1/leads/{api_id(lead)}/convert", {"contact_id": api_id(contact)}, format="json")

    assert response.status_code == 201
    assert response.json()["contact_id"] == api_id(contact)


def test_converting_a_disqualified_lead_is_409(api, tenant):
    lead = LeadFactory(tenant=tenant, status=LeadStatus.DISQUALIFIED, disqualification_reason="Competitor")

    response = api.post(f"/api/v1/leads/{api_id(lead)}/convert", {}, format="json")

    assert response.status_code == 409
    assert "disqualified" in response.json()["detail"]
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"amount": "lots"}, "amount"),
        ({"amount": "-1"}, "amount"),
        ({"contact_id": 999999}, "contact_id"),
        ({"company_id": "abc"}, "company_id"),
        ({"create_deal": False, "amount": "10"}, "create_deal"),
    ],
)
def test_a_bad_convert_body_is_400_naming_the_field(api, tenant, body, field):
    lead = LeadFactory(tenant=tenant)

    response = api.post(f"/api/v1/leads/{api_id(lead)}/convert", body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW


def test_a_contact_of_another_tenant_is_refused_as_a_bad_field(api, tenant, other_tenant):
    foreign = ContactFactory(tenant=other_tenant)
    lead = LeadFactory(tenant=tenant)

    response = api.post(f"/api/v1/leads/{api_id(lead)}/convert", {"contact_id": api_id(foreign)}, format="json")

    assert response.status_code == 400
    assert "contact_id" in response.json()


def test_convert_attaches_a_named_deal(api, tenant):
    company = CompanyFactory(tenant=tenant, name="Dealco", domain="dealco.example")
    deal = DealFactory(tenant=tenant, name="Dealco pilot", company=company)
    lead = LeadFactory(tenant=tenant, email="pat@dealco.example", company="Dealco")
    url = f"/api/v1/leads/{api_id(lead)}/convert"

    first = api.post(url, {"deal_id": api_id(deal)}, format="json")
    again = api.post(url, {"deal_id": api_id(deal)}, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert (first.json()["deal_id"], first.json()["company_id"]) == (api_id(deal), api_id(company))
    assert Deal.objects.count() == 1
    deal.refresh_from_db()
    assert api_id(deal.contact) == first.json()["contact_id"]


@pytest.mark.parametrize(
    ("whose", "body", "words"),
    [
        ("other_tenant", {}, "No deal with id"),
        ("other_company", {}, "belongs to the company Initech"),
        ("same_company", {"deal_name": "Renamed"}, "only for a new deal"),
        ("same_company", {"create_deal": False}, "contradict"),
    ],
)
def test_a_deal_that_cannot_be_attached_is_400_on_deal_id(api, tenant, other_tenant, whose, body, words):
    dealco = CompanyFactory(tenant=tenant, name="Dealco", domain="dealco.example")
    initech = CompanyFactory(tenant=tenant, name="Initech", domain="initech.example")
    deal = {
        "other_tenant": lambda: DealFactory(tenant=other_tenant),
        "other_company": lambda: DealFactory(tenant=tenant, company=initech),
        "same_company": lambda: DealFactory(tenant=tenant, company=dealco),
    }[whose]()
    lead = LeadFactory(tenant=tenant, email="pat@dealco.example", company="Dealco")

    response = api.post(f"/api/v1/leads/{api_id(lead)}/convert", {"deal_id": api_id(deal), **body}, format="json")

    assert response.status_code == 400
    assert words in " ".join(response.json()["deal_id"])
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW
    assert not Contact.objects.exists() and Deal.objects.filter(tenant=tenant).count() == (whose != "other_tenant")


def test_a_rep_cannot_convert_a_colleagues_lead(tenant, rep, manager):
    lead = LeadFactory(tenant=tenant, owner=manager)
    client = api_client_for(rep)

    assert client.post(f"/api/v1/leads/{api_id(lead)}/convert", {}, format="json").status_code == 404
    tenant.reps_read_all_leads = True
    tenant.save()
    assert client.post(f"/api/v1/leads/{api_id(lead)}/convert", {}, format="json").status_code == 403
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW and not Contact.objects.exists()
    own = LeadFactory(tenant=tenant, owner=rep)
    assert client.post(f"/api/v1/leads/{api_id(own)}/convert", {}, format="json").status_code == 201


# --- tenant isolation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/v1/leads/{id}"),
        ("get", "/api/v1/leads/{id}/"),
        ("post", "/api/v1/leads/{id}/convert"),
        ("post", "/api/v1/leads/{id}/convert/"),
    ],
)
def test_another_tenants_lead_is_404_on_every_endpoint(api, other_tenant, method, path):
    foreign = LeadFactory(tenant=other_tenant)

    response = getattr(api, method)(path.format(id=foreign.pk), {}, format="json")

    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == LeadStatus.NEW


def test_a_user_without_a_tenant_sees_nothing(tenant):
    LeadFactory(tenant=tenant)
    platform = UserFactory(tenant=None, is_superuser=True, username="platform")

    response = session_client_for(platform).get("/api/v1/leads")

    assert response.status_code == 403


# --- conversion attaches only rows the caller may change ---------------------------------------


@pytest.mark.parametrize("attach", [("contact_id",), ("deal_id",), ("company_id",), ("contact_id", "deal_id")])
def test_a_rep_cannot_attach_a_colleagues_contact_company_or_deal_when_converting(tenant, rep, attach):
    colleague = UserFactory(tenant=tenant, username="carl")
    company = CompanyFactory(tenant=tenant, owner=colleague, name="Initech")
    contact = ContactFactory(tenant=tenant, owner=colleague, company=company)
    deal = DealFactory(tenant=tenant, owner=colleague, contact=contact, company=company, stage="negotiation")
    deal_before = (deal.stage, deal.contact_id, deal.company_id, deal.updated_at)
    lead = LeadFactory(tenant=tenant, owner=rep, email=contact.email)
    body = {name: {"contact_id": api_id(contact), "company_id": api_id(company), "deal_id": api_id(deal)}[name] for name in attach}

    response = api_client_for(rep).post(f"/api/v1/leads/{api_id(lead)}/convert", body, format="json")

    assert response.status_code == 403, response.content
    assert "belongs to carl" in response.json()["detail"]
    lead.refresh_from_db()
    deal.refresh_from_db()
    assert lead.status == LeadStatus.NEW and lead.converted_contact_id is None
    assert (deal.stage, deal.contact_id, deal.company_id, deal.updated_at) == deal_before
    assert list(Contact.objects.all()) == [contact] and Deal.objects.count() == 1
    assert not Activity.objects.filter(kind=ActivityKind.CONVERTED).exists()
    assert not Event.objects.filter(type=EventType.LEAD_CONVERTED).exists()
