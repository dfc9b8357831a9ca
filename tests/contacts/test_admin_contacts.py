"""Contacts, companies and deals in the admin: the inlines that tie them together, badges, autocomplete."""

import re

import pytest

from crm.models import Activity
from leads.models import Lead
from tests.factories import ActivityFactory, CompanyFactory, ContactFactory, DealFactory, LeadFactory, UserFactory


@pytest.fixture
def acme(tenant):
    company = CompanyFactory(tenant=tenant, name="Acme Widgets", domain="acme.example")
    carla = ContactFactory(tenant=tenant, first_name="Carla", last_name="Acmeson", email="carla@acme.example",
                           company=company)
    won = DealFactory(tenant=tenant, name="Acme Rollout", stage="closed_won", contact=carla, company=company)
    talking = DealFactory(tenant=tenant, name="Acme Expansion", stage="negotiation", contact=carla, company=company)
    return company, carla, won, talking


def test_deal_list_shows_the_stage_as_a_badge(client, rep, acme):
    client.force_login(rep)

    html = client.get("/admin/contacts/deal/").content.decode()

    assert '<span class="crm-badge crm-stage-closed_won">Closed won</span>' in html
    assert '<span class="crm-badge crm-stage-negotiation">Negotiation</span>' in html
    assert "crm/admin.css" in html


def test_company_page_lists_its_contacts_and_deals(client, rep, acme):
    company, carla, won, talking = acme
    client.force_login(rep)

    html = client.get(f"/admin/contacts/company/{company.pk}/change/").content.decode()

    assert f"/admin/contacts/contact/{carla.pk}/change/" in html and "carla@acme.example" in html
    for deal in (won, talking):
        assert f"/admin/contacts/deal/{deal.pk}/change/" in html
    assert "crm-stage-closed_won" in html and "crm-stage-negotiation" in html


def test_contact_page_shows_deals_timeline_and_the_lead_it_came_from(client, manager, tenant):
    lead = LeadFactory(tenant=tenant, first_name="Lena", last_name="Lead", email="lena@leadco.example",
                       campaign="spring-webinar")
    ActivityFactory(lead=lead, subject="Discovery call", kind="call")
    result = Lead.objects.convert(lead=lead, actor=manager, deal_name="Leadco pilot")
    client.force_login(manager)

    html = client.get(f"/admin/contacts/contact/{result.contact_id}/change/").content.decode()

    assert f"/admin/leads/lead/{lead.pk}/change/" in html and "spring-webinar" in html  # came from
    assert f"/admin/contacts/deal/{result.deal_id}/change/" in html and "Leadco pilot" in html
    assert "crm-stage-qualification" in html
    assert "Discovery call" in html and "Converted to contact" in html  # the timeline moved with the person


def test_foreign_keys_are_picked_by_autocomplete(client, manager, acme):
    company, carla, won, _ = acme
    client.force_login(manager)

    contact_form = client.get(f"/admin/contacts/contact/{carla.pk}/change/").content.decode()
    deal_form = client.get(f"/admin/contacts/deal/{won.pk}/change/").content.decode()

    assert re.search(r'<select name="company"[^>]*class="admin-autocomplete', contact_form)
    for field in ("contact", "company"):
        assert re.search(rf'<select name="{field}"[^>]*class="admin-autocomplete', deal_form), field
    found = client.get(
        "/admin/autocomplete/?app_label=contacts&model_name=deal&field_name=company&term=acme"
    ).json()["results"]
    assert [row["text"] for row in found] == ["Acme Widgets"]


# --- a rep changes their own and unassigned contacts, companies and deals only (crm.access) --------------

NO_TIMELINE_ROWS = {f"{p}-{n}": "0" for p in ("activities", "activities-2") for n in ("TOTAL_FORMS", "INITIAL_FORMS")}


@pytest.fixture
def colleague(tenant):
    return UserFactory(tenant=tenant, username="carl")


def contact_form(contact, **overrides):
    return {
        "first_name": contact.first_name, "last_name": contact.last_name, "email": contact.email, "phone": "",
        "job_title": contact.job_title, "company": contact.company_id or "", "owner": contact.owner_id or "",
        "status": contact.status,
        "deals-TOTAL_FORMS": "0", "deals-INITIAL_FORMS": "0", **NO_TIMELINE_ROWS, **overrides,
    }


def test_a_rep_cannot_change_a_colleagues_contact_nor_make_it_theirs(client, tenant, rep, colleague):
    contact = ContactFactory(tenant=tenant, owner=colleague, job_title="CFO")
    client.force_login(rep)

    response = client.post(f"/admin/contacts/contact/{contact.pk}/change/",
                           contact_form(contact, job_title="Intern", owner=rep.pk))

    assert response.status_code == 403
    contact.refresh_from_db()
    assert (contact.job_title, contact.owner) == ("CFO", colleague)
    page = client.get(f"/admin/contacts/contact/{contact.pk}/change/")
    assert page.status_code == 200 and 'name="job_title"' not in page.content.decode()  # read-only for her


def test_a_rep_still_changes_their_own_contact(client, tenant, rep):
    contact = ContactFactory(tenant=tenant, owner=rep, job_title="CFO")
    client.force_login(rep)

    response = client.post(f"/admin/contacts/contact/{contact.pk}/change/", contact_form(contact, job_title="CEO"))

    assert response.status_code == 302, response.content.decode()[:2000]
    contact.refresh_from_db()
    assert contact.job_title == "CEO"


def test_a_rep_cannot_move_a_colleagues_deal_to_closed_won(client, tenant, rep, colleague):
    deal = DealFactory(tenant=tenant, owner=colleague, stage="negotiation")
    client.force_login(rep)

    response = client.post(f"/admin/contacts/deal/{deal.pk}/change/", {
        "name": deal.name, "stage": "closed_won", "amount": "", "currency": "USD", "contact": "", "company": "",
        "owner": colleague.pk, "expected_close_date": "", **NO_TIMELINE_ROWS,
    })

    assert response.status_code == 403
    deal.refresh_from_db()
    assert (deal.stage, deal.closed_at) == ("negotiation", None)
    assert not Activity.objects.filter(deal=deal).exists()


def test_a_rep_cannot_change_a_colleagues_deal_through_her_own_contacts_page(client, tenant, rep, colleague):
    contact = ContactFactory(tenant=tenant, owner=rep)
    deal = DealFactory(tenant=tenant, owner=colleague, contact=contact, name="Carl's deal", amount=100)
    client.force_login(rep)

    response = client.post(f"/admin/contacts/contact/{contact.pk}/change/", contact_form(contact, **{
        "deals-TOTAL_FORMS": "1", "deals-INITIAL_FORMS": "1", "deals-0-id": deal.pk, "deals-0-contact": contact.pk,
        "deals-0-name": "Mine now", "deals-0-amount": "1", "deals-0-currency": "USD", "deals-0-owner": rep.pk,
        "deals-0-expected_close_date": "",
    }))

    assert response.status_code == 200  # the page again, with the refusal on the deal's row
    assert "own and unassigned deals only" in response.content.decode()
    deal.refresh_from_db()
    assert (deal.name, deal.amount, deal.owner) == ("Carl's deal", 100, colleague)
