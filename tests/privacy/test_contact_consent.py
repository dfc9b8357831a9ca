"""A contact's marketing consent is editable by a rep through the API (source api) and the admin (source admin),
through the one consent rule: when, how and which wording, and a timeline entry (docs/privacy.md)."""

import pytest
from django.utils import timezone

from crm.models import Activity
from leads.privacy.consent import may_market
from tests.admin_forms import form_data
from tests.api_ids import api_id
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def consent_entries(contact):
    return list(Activity.objects.filter(contact=contact, subject__startswith="Marketing consent")
                .values_list("subject", "actor_id"))


def test_patch_gives_then_withdraws_consent_with_source_api_and_timeline(api, manager, tenant):
    contact = ContactFactory(tenant=tenant, email="carla@example.com")
    url = f"/api/v1/contacts/{api_id(contact)}"
    before = timezone.now()

    given = api.patch(url, {"marketing_consent": "given", "consent_wording": "newsletter-v2"}, format="json")

    assert given.status_code == 200, given.content
    body = given.json()
    assert (body["marketing_consent"], body["consent_source"], body["consent_wording"]) == ("given", "api",
                                                                                              "newsletter-v2")
    contact.refresh_from_db()
    assert contact.consent_at >= before and may_market(contact)
    assert consent_entries(contact) == [("Marketing consent given (api)", manager.pk)]

    withdrawn = api.patch(url, {"marketing_consent": "withdrawn"}, format="json")

    assert withdrawn.status_code == 200 and withdrawn.json()["marketing_consent"] == "withdrawn"
    contact.refresh_from_db()
    assert not may_market(contact) and contact.consent_source == "api"
    assert len(consent_entries(contact)) == 2


def test_the_same_answer_again_records_nothing_and_other_fields_still_save(api, tenant):
    contact = ContactFactory(tenant=tenant, email="carla@example.com")
    url = f"/api/v1/contacts/{api_id(contact)}"
    api.patch(url, {"marketing_consent": "given"}, format="json")

    again = api.patch(url, {"marketing_consent": "given", "job_title": "CTO"}, format="json")

    assert again.status_code == 200 and again.json()["job_title"] == "CTO"
    assert len(consent_entries(contact)) == 1


def test_bad_consent_input_is_a_400_naming_the_field(api, tenant):
    contact = ContactFactory(tenant=tenant, email="carla@example.com")
    url = f"/api/v1/contacts/{api_id(contact)}"

    wrong = api.patch(url, {"marketing_consent": "maybe"}, format="json")
    unasked = api.patch(url, {"marketing_consent": ""}, format="json")
    wording_alone = api.patch(url, {"consent_wording": "v3"}, format="json")

    assert wrong.status_code == 400 and "marketing_consent" in wrong.json()
    assert unasked.status_code == 400 and "marketing_consent" in unasked.json()
    assert wording_alone.status_code == 400 and "consent_wording" in wording_alone.json()
    contact.refresh_from_db()
    assert contact.marketing_consent == "" and consent_entries(contact) == []


def test_consent_source_and_date_are_not_writable(api, tenant):
    contact = ContactFactory(tenant=tenant, email="carla@example.com")

    api.patch(f"/api/v1/contacts/{api_id(contact)}", {"consent_source": "form", "consent_at": "2020-01-01T00:00:00Z"},
              format="json")

    contact.refresh_from_db()
    assert (contact.consent_source, contact.consent_at) == ("", None)


def test_a_new_contact_may_carry_consent(api, tenant):
    created = api.post("/api/v1/contacts", {"email": "new@example.com", "marketing_consent": "given"}, format="json")

    assert created.status_code == 201, created.content
    assert (created.json()["marketing_consent"], created.json()["consent_source"]) == ("given", "api")


def test_admin_records_consent_with_source_admin_and_timeline(client, manager, tenant):
    contact = ContactFactory(tenant=tenant, email="carla@example.com", owner=manager)
    client.force_login(manager)
    url = f"/admin/contacts/contact/{contact.pk}/change/"
    data = form_data(client.get(url).content.decode(), "contact_form")
    data["marketing_consent"] = ["given"]
    data["consent_wording"] = ["phone script v1"]

    saved = client.post(url, data)

    assert saved.status_code == 302, saved.content.decode()[:3000]
    contact.refresh_from_db()
    assert (contact.marketing_consent, contact.consent_source, contact.consent_wording) == (
        "given", "admin", "phone script v1")
    assert contact.consent_at is not None
    assert consent_entries(contact) == [("Marketing consent given (admin)", manager.pk)]

    page = client.get(url).content.decode()
    assert "Marketing consent given (admin)" in page  # on the contact's timeline

    data = form_data(page, "contact_form")
    data["job_title"] = ["Buyer"]
    client.post(url, data)  # another field changed, consent as it was: no new consent entry
    assert len(consent_entries(contact)) == 1

    data = form_data(client.get(url).content.decode(), "contact_form")
    data["marketing_consent"] = [""]
    refused = client.post(url, data)
    assert refused.status_code == 200 and "choose withdrawn" in refused.content.decode()
    contact.refresh_from_db()
    assert contact.marketing_consent == "given"
