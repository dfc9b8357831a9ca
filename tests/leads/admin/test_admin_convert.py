"""The "Convert selected leads" admin action: each lead on its own, through Lead.objects.convert."""

import re

import pytest

from contacts.models import Company, Contact, Deal
from crm.choices import EventType
from crm.models import Activity, Event
from leads.choices import LeadStatus
from tests.factories import CompanyFactory, ContactFactory, DealFactory, LeadFactory, UserFactory


def convert(client, *leads):
    """Pick the action, then confirm on its page (what "Yes, convert" posts)."""
    selection = {"action": "convert_leads", "_selected_action": [lead.pk for lead in leads]}
    return client.post("/admin/leads/lead/", {**selection, "apply": "yes"}, follow=True)


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

    assert '<option value="convert_leads">Convert selected leads…</option>' in html


def test_the_action_asks_for_confirmation_and_previews_matches_first(client, rep, alice, bert, tenant):
    existing = ContactFactory(tenant=tenant, first_name="Alice", last_name="Known", email="alice@acme.example")
    acme = CompanyFactory(tenant=tenant, name="Acme Inc", domain="acme.example")
    client.force_login(rep)

    page = client.post("/admin/leads/lead/", {"action": "convert_leads", "_selected_action": [alice.pk, bert.pk]})

    html = page.content.decode()
    assert page.status_code == 200 and "Yes, convert" in html
    assert f"/admin/contacts/contact/{existing.pk}/change/" in html and "same email" in html
    assert f"/admin/contacts/company/{acme.pk}/change/" in html and "same domain acme.example" in html
    assert "new contact" in html  # bert has no contact yet
    alice.refresh_from_db()
    assert alice.status == LeadStatus.NEW and not Deal.objects.exists()


def test_converts_the_selected_leads(client, rep, alice, bert):
    client.force_login(rep)

    response = convert(client, alice, bert)

    assert "Converted 2 leads." in response.content.decode()
    for lead in (alice, bert):
        lead.refresh_from_db()
        assert lead.status == LeadStatus.CONVERTED
        assert lead.converted_contact == Contact.objects.get(tenant=lead.tenant, email=lead.email)
    assert Event.objects.filter(type=EventType.LEAD_CONVERTED).count() == 2


def test_one_unconvertible_lead_is_named_and_the_others_are_converted(client, manager, alice, dora, bert):
    client.force_login(manager)

    response = convert(client, alice, dora, bert)

    html = response.content.decode()
    assert "Converted 2 leads." in html
    assert "Not converted: Dora Declined" in html and "disqualified" in html and "Bought a competitor" in html
    for lead in (alice, bert):
        lead.refresh_from_db()
        assert lead.status == LeadStatus.CONVERTED and lead.converted_contact is not None
    dora.refresh_from_db()
    assert dora.status == LeadStatus.DISQUALIFIED and dora.converted_contact is None
    assert not Contact.objects.filter(email=dora.email).exists()
    assert Event.objects.filter(type=EventType.LEAD_CONVERTED).count() == 2


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

    before = counts()

    selection = {"action": "convert_leads", "_selected_action": [alice.pk, carls_lead.pk]}
    preview = client.post("/admin/leads/lead/", selection)
    response = convert(client, alice, carls_lead)

    assert preview.status_code == 302 and "Carl Colleague" not in preview.content.decode()  # no confirmation page
    html = response.content.decode()
    assert "Nothing was done: 1 of the selected leads is not in your list" in html and "Carl Colleague" not in html
    alice.refresh_from_db()
    carls_lead.refresh_from_db()
    assert (alice.status, carls_lead.status) == (LeadStatus.NEW, LeadStatus.NEW)
    assert carls_lead.converted_contact_id is None and counts() == before


def test_converted_lead_page_is_read_only_and_links_what_it_became(client, manager, alice):
    client.force_login(manager)
    convert(client, alice)
    alice.refresh_from_db()
    url = f"/admin/leads/lead/{alice.pk}/change/"

    html = client.get(url).content.decode()

    assert f"<h1>{alice.full_name}</h1>" in html  # the lead's name heads its page (issue 19), not "View lead"
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


# --- the conversion page: attach an existing deal, create one, or none ---


def page_of(lead) -> str:
    return f"/admin/leads/lead/{lead.pk}/convert/"


def deal_choices(html: str) -> dict[str, str]:
    """The deal radio buttons: value -> label text."""
    found = re.findall(r'<input type="radio" name="deal" value="([^"]+)"[^>]*>\s*([^<]+)</label>', html)
    return {value: label.strip() for value, label in found}


@pytest.fixture
def acme(tenant):
    return CompanyFactory(tenant=tenant, name="Acme Inc", domain="acme.example")


@pytest.fixture
def deals(tenant, other_tenant, acme):
    alice_contact = ContactFactory(tenant=tenant, first_name="Alice", last_name="Known", email="alice@acme.example",
                                   company=acme)
    sam = ContactFactory(tenant=tenant, first_name="Sam", last_name="Else", email="sam@acme.example", company=acme)
    return {
        "alices": DealFactory(tenant=tenant, name="Alice pilot", contact=alice_contact, company=acme, amount=1200),
        "acmes": DealFactory(tenant=tenant, name="Acme renewal", company=acme, stage="proposal"),
        "sams": DealFactory(tenant=tenant, name="Sam's deal", contact=sam, company=acme),
        "won": DealFactory(tenant=tenant, name="Old win", contact=alice_contact, company=acme, stage="closed_won"),
        "globex": DealFactory(tenant=other_tenant, name="Globex secret"),
        "contact": alice_contact,
    }


def test_the_page_offers_the_open_deals_the_lead_may_join(client, rep, alice, deals):
    client.force_login(rep)

    html = client.get(page_of(alice)).content.decode()

    choices = deal_choices(html)
    assert list(choices) == ["new", str(deals["acmes"].pk), str(deals["alices"].pk), "none"]  # newest deal first
    assert choices["new"] == "Create a new deal" and choices["none"] == "No deal"
    alices = "Attach to the deal Alice pilot (Qualification, 1,200.00 USD, Alice Known)"
    assert choices[str(deals["alices"].pk)] == alices
    assert choices[str(deals["acmes"].pk)] == "Attach to the deal Acme renewal (Proposal)"
    assert re.search(r'<input type="radio" name="deal" value="new"[^>]*checked', html)
    for absent in ("sams", "won", "globex"):  # another person's, closed, another workspace's
        # Among the deal choices: a company or contact option elsewhere on the page may share the id.
        assert str(deals[absent].pk) not in choices, absent
    assert "Globex secret" not in html


def test_attaching_an_offered_deal_converts_into_it(client, rep, alice, deals):
    client.force_login(rep)
    before = Deal.objects.count()

    response = client.post(page_of(alice), {"contact": deals["contact"].pk, "deal": deals["acmes"].pk})

    alice.refresh_from_db()
    assert response.status_code == 302 and response.url == f"/admin/contacts/contact/{deals['contact'].pk}/change/"
    assert alice.status == LeadStatus.CONVERTED and alice.converted_deal == deals["acmes"]
    assert Deal.objects.count() == before
    acmes = Deal.objects.get(pk=deals["acmes"].pk)
    assert (acmes.contact, acmes.name, acmes.stage) == (deals["contact"], "Acme renewal", "proposal")
    contact_page = client.get(response.url).content.decode()
    assert "Acme renewal" in contact_page


@pytest.mark.parametrize("which", ["sams", "won", "globex"])
def test_a_deal_that_was_not_offered_is_refused_and_nothing_is_written(client, rep, alice, deals, which):
    client.force_login(rep)
    before = counts()

    response = client.post(page_of(alice), {"contact": deals["contact"].pk, "deal": deals[which].pk})

    html = response.content.decode()
    assert response.status_code == 200 and "Nothing was converted" in html
    assert "That deal is not an open deal of this contact or company" in html
    assert counts() == before
    alice.refresh_from_db()
    assert (alice.status, alice.converted_deal_id) == (LeadStatus.NEW, None)
    other = Deal.objects.get(pk=deals[which].pk)
    assert other.contact_id == (deals[which].contact_id)


def test_a_name_or_amount_goes_with_a_new_deal_only(client, rep, alice, deals):
    client.force_login(rep)
    before = counts()

    response = client.post(page_of(alice), {"deal": deals["acmes"].pk, "deal_name": "Renamed", "amount": "5"})

    assert response.status_code == 200
    assert "A name and an amount are for a new deal" in response.content.decode()
    assert counts() == before and Deal.objects.get(pk=deals["acmes"].pk).name == "Acme renewal"


def test_show_their_deals_lists_the_deals_of_the_company_just_picked(client, rep, alice, deals, tenant):
    initech = CompanyFactory(tenant=tenant, name="Initech", domain="initech.example")
    initech_deal = DealFactory(tenant=tenant, name="Initech rollout", company=initech)
    client.force_login(rep)
    before = counts()

    shown = client.post(page_of(alice), {"company": initech.pk, "deal": "new", "_deals": "Show their deals"})

    html = shown.content.decode()
    assert shown.status_code == 200 and counts() == before  # nothing converted yet
    assert str(initech_deal.pk) in deal_choices(html)
    assert str(deals["acmes"].pk) not in deal_choices(html)  # Acme's deals do not go with Initech
    assert re.search(rf'<option value="{initech.pk}" selected>', html)

    client.post(page_of(alice), {"company": initech.pk, "deal": initech_deal.pk})

    alice.refresh_from_db()
    assert (alice.converted_company, alice.converted_deal) == (initech, initech_deal)
    assert Deal.objects.get(pk=initech_deal.pk).contact == alice.converted_contact


def test_no_deal_and_a_new_deal_still_work_beside_the_offered_ones(client, rep, alice, bert, deals):
    client.force_login(rep)

    client.post(page_of(alice), {"deal": "none"})
    client.post(page_of(bert), {"deal": "new", "deal_name": "Bert trial"})

    alice.refresh_from_db()
    bert.refresh_from_db()
    assert (alice.status, alice.converted_deal) == (LeadStatus.CONVERTED, None)
    assert bert.converted_deal.name == "Bert trial" and bert.converted_deal.contact == bert.converted_contact
