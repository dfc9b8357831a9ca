"""Contacts, companies and deals in the admin: the inlines that tie them together, badges, autocomplete."""

import re

import pytest

from leads.models import Lead
from tests.factories import ActivityFactory, CompanyFactory, ContactFactory, DealFactory, LeadFactory


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
