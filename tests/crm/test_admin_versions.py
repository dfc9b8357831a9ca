"""A change page saved after the record changed elsewhere never wipes the newer data."""

import pytest

from contacts.models import Contact
from leads.models import Channel, Lead
from tests.admin_forms import form_data
from tests.factories import ChannelFactory, ContactFactory, LeadFactory

pytestmark = pytest.mark.django_db


def submit_fill(client, tenant, email):
    channel = Channel.objects.filter(tenant=tenant).first() or ChannelFactory(tenant=tenant)
    response = client.post(
        "/api/v1/leads", {"email": email, "name": "Ada Filled", "phone": "+14155550199", "company": "Filled Co",
                          "job_title": "CTO"}, content_type="application/json", HTTP_X_FORM_KEY=channel.form_key,
    )
    assert response.status_code in (200, 201), response.content


def test_saving_a_lead_page_opened_before_a_submission_filled_it_keeps_the_filled_values(client, tenant, manager):
    lead = LeadFactory(tenant=tenant, email="ada@example.com", first_name="Ada", phone="", company="", job_title="")
    client.force_login(manager)
    url = f"/admin/leads/lead/{lead.pk}/change/"
    opened = form_data(client.get(url).content.decode(), "lead_form")
    submit_fill(client.__class__(), tenant, "ada@example.com")  # a website visitor, not the signed-in rep
    opened["message"] = ["Called, interested"]

    refused = client.post(url, opened)

    assert refused.status_code == 200, "the page is shown again, not saved"
    page = refused.content.decode()
    assert "Someone changed this lead after you opened the page" in page
    assert "phone" in page and "company" in page
    lead.refresh_from_db()
    assert (lead.phone, lead.company, lead.job_title) == ("+14155550199", "Filled Co", "CTO")
    assert lead.message != "Called, interested"

    again = form_data(page, "lead_form")
    assert again["company"] == ["Filled Co"], "the form now holds the saved value where it changed"
    assert again["message"] == ["Called, interested"], "what the user typed is kept"
    saved = client.post(url, again)

    assert saved.status_code == 302
    lead.refresh_from_db()
    assert (lead.phone, lead.company, lead.job_title, lead.message) == (
        "+14155550199", "Filled Co", "CTO", "Called, interested")


def test_a_contact_page_saved_after_a_colleagues_edit_is_refused(client, tenant, manager):
    contact = ContactFactory(tenant=tenant, job_title="CTO")
    client.force_login(manager)
    url = f"/admin/contacts/contact/{contact.pk}/change/"
    opened = form_data(client.get(url).content.decode(), "contact_form")
    Contact.objects.filter(pk=contact.pk).update(job_title="CEO", updated_at=contact.updated_at.replace(year=2099))

    response = client.post(url, opened)

    assert response.status_code == 200
    assert "Someone changed this contact after you opened the page (job title)" in response.content.decode()
    assert Contact.objects.get(pk=contact.pk).job_title == "CEO"


def test_an_unchanged_record_saves_as_before(client, tenant, manager):
    lead = LeadFactory(tenant=tenant, first_name="Ada")
    client.force_login(manager)
    url = f"/admin/leads/lead/{lead.pk}/change/"
    data = form_data(client.get(url).content.decode(), "lead_form")
    data["first_name"] = ["Augusta"]

    assert client.post(url, data).status_code == 302
    assert Lead.objects.get(pk=lead.pk).first_name == "Augusta"
