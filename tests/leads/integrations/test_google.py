"""Google Ads lead forms: the webhook with its key, captured at once, once per lead_id; test leads kept apart."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from leads.choices import AdLeadStatus, CampaignPlatform, LeadSource
from leads.dashboard.figures import Scope, by_source, funnel_and_bands, last_days
from leads.models import AdLead, Campaign, Lead
from tests.leads.integrations.conftest import GOOGLE_KEY

pytestmark = pytest.mark.django_db


def body(lead_id="G1", *, key=GOOGLE_KEY, is_test=False, **more):
    return {
        "lead_id": lead_id, "api_version": "1.0", "form_id": 40000, "campaign_id": 12345, "adgroup_id": 678,
        "creative_id": 999, "gcl_id": "gclid-abc", "google_key": key, "is_test": is_test,
        "user_column_data": [
            {"column_id": "FULL_NAME", "column_name": "Full Name", "string_value": "Alan Turing"},
            {"column_id": "EMAIL", "column_name": "User Email", "string_value": "Alan@Example.org"},
            {"column_id": "PHONE_NUMBER", "column_name": "User Phone", "string_value": "+1 415 555 0101"},
            {"column_id": "COMPANY_NAME", "column_name": "Company", "string_value": "Bletchley"},
            {"column_id": "POSTAL_CODE", "column_name": "Postal Code", "string_value": "MK3 6EB"},
            {"column_id": "COUNTRY", "column_name": "Country", "string_value": "GB"},
            {"column_name": "How many seats?", "string_value": "25"},
        ],
        **more,
    }


def post(channel, payload):
    return Client().post(f"/hooks/google/{channel.form_key}", payload, content_type="application/json")


def test_a_lead_form_webhook_makes_a_lead_linked_to_its_campaign(google_channel):
    response = post(google_channel, body())

    assert response.status_code == 200 and response.json() == {"status": "captured"}
    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name, lead.email, lead.phone) == ("Alan", "Turing", "alan@example.org",
                                                                       "+14155550101")
    assert (lead.company, lead.country, lead.source, lead.external_id) == ("Bletchley", "GB",
                                                                          LeadSource.GOOGLE_LEAD_FORM, "G1")
    assert lead.custom_fields == {"postal_code": "MK3 6EB", "How many seats?": "25", "gclid": "gclid-abc"}
    assert not lead.is_test
    campaign = Campaign.objects.get()
    assert (campaign.platform, campaign.external_id, lead.source_campaign) == (CampaignPlatform.GOOGLE, "12345", campaign)
    origin = AdLead.objects.get()
    assert (origin.form_id, origin.adgroup_id, origin.ad_id, origin.status) == ("40000", "678", "999",
                                                                                 AdLeadStatus.CAPTURED)


def test_a_wrong_google_key_is_refused(google_channel):
    response = post(google_channel, body(key="guessed"))
    assert response.status_code == 403
    assert not Lead.objects.exists() and not AdLead.objects.exists()
    google_channel.refresh_from_db()
    assert "google_key" in google_channel.last_error
    assert post(google_channel, body(key="")).status_code == 403


def test_an_unknown_channel_key_is_a_404(google_channel):
    assert Client().post("/hooks/google/nope", body(), content_type="application/json").status_code == 404


def test_the_same_lead_id_twice_makes_one_lead(google_channel):
    post(google_channel, body())
    again = post(google_channel, body())
    assert again.status_code == 200
    assert Lead.objects.count() == 1 and AdLead.objects.count() == 1


def test_a_body_without_lead_id_is_a_400_naming_it(google_channel):
    payload = body()
    del payload["lead_id"]
    response = post(google_channel, payload)
    assert response.status_code == 400 and "lead_id" in response.json()


def test_a_test_lead_is_stored_marked_and_left_out_of_the_dashboard(google_channel, tenant):
    post(google_channel, body("T1", is_test=True))
    post(google_channel, body("G2", user_column_data=[{"column_id": "EMAIL", "string_value": "real@example.org"}]))

    assert Lead.objects.get(external_id="T1").is_test
    period = last_days(days=7, today=timezone.localdate() + dt.timedelta(days=0))
    scope = Scope(tenant=tenant, owner=None)
    funnel, _ = funnel_and_bands(scope=scope, period=period)
    assert funnel.leads == 1
    [row] = by_source(scope=scope, period=period)
    assert (row.key, row.leads) == (LeadSource.GOOGLE_LEAD_FORM, 1)
