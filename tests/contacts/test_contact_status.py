"""A contact's status (document 000): active, inactive or customer; a won deal makes its contact a customer,
whichever door won it (deals API, admin, conversion)."""

import pytest

from contacts.choices import ContactStatus
from contacts.models import Contact, Deal
from crm.choices import ActivityKind
from crm.models import Activity
from tests.admin_forms import form_data
from tests.api_ids import api_id
from tests.factories import ContactFactory, DealFactory, LeadFactory

pytestmark = pytest.mark.django_db


def _customer_entries(contact):
    return Activity.objects.filter(contact=contact, kind=ActivityKind.STATUS_CHANGED, data__to="customer")


# --- the contacts API --------------------------------------------------------------------------


def test_a_contact_reads_and_writes_its_status(api, tenant):
    created = api.post("/api/v1/contacts", {"first_name": "Ann", "email": "ann@example.com"}, format="json")
    assert created.status_code == 201
    assert created.json()["status"] == "active"

    url = f"/api/v1/contacts/{created.json()['id']}"
    changed = api.patch(url, {"status": "inactive"}, format="json")

    assert changed.status_code == 200 and changed.json()["status"] == "inactive"
    assert api.get(url).json()["status"] == "inactive"
    refused = api.patch(url, {"status": "vip"}, format="json")
    assert refused.status_code == 400 and "status" in refused.json()


def test_contacts_filter_by_status(api, tenant):
    ContactFactory(tenant=tenant, email="a@example.com")
    ContactFactory(tenant=tenant, email="i@example.com", status=ContactStatus.INACTIVE)
    ContactFactory(tenant=tenant, email="c@example.com", status=ContactStatus.CUSTOMER)

    def emails(**params):
        response = api.get("/api/v1/contacts", params)
        assert response.status_code == 200, response.json()
        return sorted(c["email"] for c in response.json()["items"])

    assert emails(status="customer") == ["c@example.com"]
    assert emails(status=["active", "inactive"]) == ["a@example.com", "i@example.com"]
    assert api.get("/api/v1/contacts", {"status": "vip"}).status_code == 400


# --- winning a deal, door by door ----------------------------------------------------------------


def test_winning_a_deal_through_the_api_makes_its_contact_a_customer(api, tenant, manager):
    contact = ContactFactory(tenant=tenant, owner=manager)
    deal = DealFactory(tenant=tenant, contact=contact, stage="negotiation", owner=manager)

    response = api.patch(f"/api/v1/deals/{api_id(deal)}", {"stage": "closed_won"}, format="json")

    assert response.status_code == 200
    assert api.get(f"/api/v1/contacts/{api_id(contact)}").json()["status"] == "customer"
    entry = _customer_entries(contact).get()
    assert entry.deal_id == deal.pk and entry.actor == manager and entry.data["from"] == "active"
    # Reopened, they stay a customer (they bought once); won again, nothing new is logged.
    api.patch(f"/api/v1/deals/{api_id(deal)}", {"stage": "negotiation"}, format="json")
    api.patch(f"/api/v1/deals/{api_id(deal)}", {"stage": "closed_won"}, format="json")
    assert Contact.objects.get(pk=contact.pk).status == ContactStatus.CUSTOMER
    assert _customer_entries(contact).count() == 1


def test_a_lost_deal_changes_nobodys_status(api, tenant):
    contact = ContactFactory(tenant=tenant)
    deal = DealFactory(tenant=tenant, contact=contact, stage="negotiation")
    api.patch(f"/api/v1/deals/{api_id(deal)}", {"stage": "closed_lost"}, format="json")
    assert Contact.objects.get(pk=contact.pk).status == ContactStatus.ACTIVE


def test_a_deal_created_won_or_given_a_contact_once_won_makes_a_customer(api, tenant):
    first = ContactFactory(tenant=tenant)
    created = api.post("/api/v1/deals", {"name": "Renewal", "stage": "closed_won", "contact": api_id(first)},
                       format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["closed_at"] is not None
    assert Contact.objects.get(pk=first.pk).status == ContactStatus.CUSTOMER

    second = ContactFactory(tenant=tenant)
    won = DealFactory(tenant=tenant, stage="closed_won")
    api.patch(f"/api/v1/deals/{api_id(won)}", {"contact": api_id(second)}, format="json")
    assert Contact.objects.get(pk=second.pk).status == ContactStatus.CUSTOMER


def test_a_rep_refused_the_deal_makes_no_customer(tenant, rep, manager):
    from tests.conftest import api_client_for

    contact = ContactFactory(tenant=tenant)
    deal = DealFactory(tenant=tenant, contact=contact, owner=manager, stage="negotiation")
    response = api_client_for(rep).patch(f"/api/v1/deals/{api_id(deal)}", {"stage": "closed_won"}, format="json")
    assert response.status_code == 403
    assert Contact.objects.get(pk=contact.pk).status == ContactStatus.ACTIVE


def test_converting_a_lead_onto_a_won_deal_makes_the_contact_a_customer(api, tenant, manager):
    lead = LeadFactory(tenant=tenant, owner=manager, email="buyer@example.com", company="")
    won = DealFactory(tenant=tenant, stage="closed_won", name="Signed already")

    response = api.post(f"/api/v1/leads/{api_id(lead)}/convert", {"deal_id": api_id(won)}, format="json")

    assert response.status_code == 201, response.json()
    contact = Contact.objects.get(email="buyer@example.com")
    assert contact.status == ContactStatus.CUSTOMER
    assert Deal.objects.get(pk=won.pk).contact == contact


def test_a_converted_lead_with_a_new_deal_is_not_yet_a_customer(api, tenant, manager):
    lead = LeadFactory(tenant=tenant, owner=manager, email="prospect@example.com")
    assert api.post(f"/api/v1/leads/{api_id(lead)}/convert", {}, format="json").status_code == 201
    assert Contact.objects.get(email="prospect@example.com").status == ContactStatus.ACTIVE


# --- the admin -----------------------------------------------------------------------------------


def test_winning_a_deal_in_the_admin_makes_its_contact_a_customer(client, tenant, manager):
    contact = ContactFactory(tenant=tenant, first_name="Wendy")
    deal = DealFactory(tenant=tenant, contact=contact, stage="proposal")
    client.force_login(manager)
    url = f"/admin/contacts/deal/{deal.pk}/change/"
    data = form_data(client.get(url).content.decode(), "deal_form")
    data["stage"] = ["closed_won"]

    assert client.post(url, data).status_code == 302

    assert Contact.objects.get(pk=contact.pk).status == ContactStatus.CUSTOMER
    page = client.get(f"/admin/contacts/contact/{contact.pk}/change/").content.decode()
    assert "Active → Customer" in page  # on the contact's timeline
    listing = client.get("/admin/contacts/contact/?status__exact=customer").content.decode()
    assert "Wendy" in listing


def test_a_deal_added_won_in_the_admin_makes_a_customer(client, tenant, manager):
    contact = ContactFactory(tenant=tenant)
    client.force_login(manager)
    data = form_data(client.get("/admin/contacts/deal/add/").content.decode(), "deal_form")
    data.update({"name": ["Signed"], "stage": ["closed_won"], "contact": [str(contact.pk)]})

    response = client.post("/admin/contacts/deal/add/", data)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Contact.objects.get(pk=contact.pk).status == ContactStatus.CUSTOMER
    assert Deal.objects.get(name="Signed").closed_at is not None


def test_the_admin_sets_a_contacts_status_by_hand(client, tenant, manager):
    contact = ContactFactory(tenant=tenant)
    client.force_login(manager)
    url = f"/admin/contacts/contact/{contact.pk}/change/"
    data = form_data(client.get(url).content.decode(), "contact_form")
    data["status"] = ["inactive"]
    assert client.post(url, data).status_code == 302
    assert Contact.objects.get(pk=contact.pk).status == ContactStatus.INACTIVE
