"""The "Convert selected leads" admin action: all or nothing, through Lead.objects.convert."""

import pytest

from contacts.models import Company, Contact, Deal
from crm.choices import EventType
from crm.models import Activity, Event
from leads.choices import LeadStatus
from tests.factories import LeadFactory, UserFactory


def convert(client, *leads):
    return client.post(
        "/admin/leads/lead/", {"action": "convert_leads", "_selected_action": [lead.pk for lead in leads]}, follow=True
    )


def counts() -> dict:
    return {m.__name__: m.objects.count() for m in (Contact, Company, Deal, Activity, Event)}


@pytest.fixture
def alice(tenant, rep):
    return LeadFactory(tenant=tenant, first_name="Alice", last_name="Anders", email="alice@acme.example", owner=rep)


@pytest.fixture
def bert(tenant):
    return LeadFactory(tenant=tenant, first_name="Bert", last_name="Brown", email="bert@bertco.example", owner=None)


@pytest.fixture
def dora(tenant):
    return LeadFactory(
        tenant=tenant,
        first_name="Dora",
        last_name="Declined",
        email="dora@acme.example",
        status=LeadStatus.DISQUALIFIED,
        disqualification_reason="Bought a competitor",
    )


def test_action_is_offered_on_the_lead_list(client, rep, alice):
    client.force_login(rep)

    html = client.get("/admin/leads/lead/").content.decode()

    assert '<option value="convert_leads">Convert selected leads</option>' in html


def test_converts_the_selected_leads(client, rep, alice, bert):
    client.force_login(rep)

    response = convert(client, alice, bert)

    assert "Converted 2 leads." in response.content.decode()
    for lead in (alice, bert):
        lead.refresh_from_db()
        assert lead.status == LeadStatus.CONVERTED
        assert lead.converted_contact == Contact.objects.get(tenant=lead.tenant, email=lead.email)
    assert Event.objects.filter(type=EventType.LEAD_CONVERTED).count() == 2


def test_one_unconvertible_lead_converts_nothing_and_is_named(client, manager, alice, dora):
    client.force_login(manager)
    before = counts()

    response = convert(client, alice, dora)

    html = response.content.decode()
    assert "Nothing was converted" in html
    assert "Dora Declined" in html and "disqualified" in html and "Bought a competitor" in html
    alice.refresh_from_db()
    assert alice.status == LeadStatus.NEW
    assert counts() == before


def test_converting_again_creates_nothing_new(client, manager, alice):
    client.force_login(manager)
    convert(client, alice)
    after_first = counts()
    alice.refresh_from_db()
    first_contact = alice.converted_contact_id

    response = convert(client, alice)

    assert "Converted 0 leads. 1 was already converted." in response.content.decode()
    assert counts() == after_first
    alice.refresh_from_db()
    assert alice.converted_contact_id == first_contact


def test_other_tenants_leads_in_the_selection_are_ignored(client, manager, alice, other_tenant):
    globex_lead = LeadFactory(tenant=other_tenant, email="boris@globex.example")
    client.force_login(manager)

    response = convert(client, alice, globex_lead)

    assert "Converted 1 lead." in response.content.decode()
    globex_lead.refresh_from_db()
    assert globex_lead.status == LeadStatus.NEW
    assert not Contact.objects.filter(tenant=other_tenant).exists()


def test_a_rep_cannot_convert_a_colleagues_lead(client, rep, tenant, alice):
    colleague = UserFactory(tenant=tenant, username="carl")
    carls_lead = LeadFactory(tenant=tenant, first_name="Carl", last_name="Colleague", owner=colleague)
    client.force_login(rep)

    response = convert(client, alice, carls_lead)

    html = response.content.decode()
    assert "Nothing was converted" in html and "Carl Colleague" in html
    alice.refresh_from_db()
    assert alice.status == LeadStatus.NEW


def test_converted_lead_page_is_read_only_and_links_what_it_became(client, manager, alice):
    client.force_login(manager)
    convert(client, alice)
    alice.refresh_from_db()
    url = f"/admin/leads/lead/{alice.pk}/change/"

    html = client.get(url).content.decode()

    assert "View lead" in html
    assert 'name="email"' not in html and 'name="_save"' not in html
    assert f"/admin/contacts/contact/{alice.converted_contact_id}/change/" in html
    assert f"/admin/contacts/deal/{alice.converted_deal_id}/change/" in html
    assert client.post(url, {"email": "changed@acme.example"}).status_code == 403
    alice.refresh_from_db()
    assert alice.email == "alice@acme.example"


def test_contact_page_shows_the_lead_it_came_from(client, manager, alice):
    client.force_login(manager)
    convert(client, alice)
    alice.refresh_from_db()

    html = client.get(f"/admin/contacts/contact/{alice.converted_contact_id}/change/").content.decode()

    assert f"/admin/leads/lead/{alice.pk}/change/" in html
    assert "Converted to contact" in html  # the timeline moved onto the contact


def test_a_status_change_in_the_admin_goes_through_the_lifecycle(client, tenant, manager, rep):
    lead = LeadFactory(tenant=tenant, first_name="Stella", email="stella@x.example")
    client.force_login(manager)
    url = f"/admin/leads/lead/{lead.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, (dict, list))}
    data.update({"status": "contacted", "owner": rep.pk, "first_name": "Stella", "email": "stella@x.example"})
    for prefix in [fs.formset.prefix for fs in client.get(url).context["inline_admin_formsets"]]:
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    lead.refresh_from_db()
    assert (lead.status, lead.owner) == ("contacted", rep)
    kinds = set(lead.activities.values_list("kind", flat=True))
    assert {"status_changed", "assigned"} <= kinds
    assert {EventType.LEAD_STATUS_CHANGED, EventType.LEAD_ASSIGNED} <= set(Event.objects.values_list("type", flat=True))

    data["status"] = "new"
    back = client.post(url, data)
    assert back.status_code == 200
    assert "forward" in str(back.context["adminform"].form.errors["status"])
