"""Facebook Lead Ads: the handshake, signed deliveries, fetching each lead from the (fake) Graph API."""

import logging

import pytest
from django.test import Client

from crm.models import Activity
from leads.choices import AdLeadStatus, CampaignPlatform, LeadSource
from leads.integrations.facebook import sign
from leads.models import AdLead, Campaign, Lead
from tests.factories import LeadFactory
from tests.leads.integrations.conftest import APP_SECRET, PAGE_TOKEN
from tests.leads.integrations.fake_graph import delivery

pytestmark = pytest.mark.django_db

ANSWERS = {
    "full_name": "Ada King Lovelace", "email": "Ada@Example.com", "phone_number": "+44 20 7946 0958",
    "company_name": "Analytical Engines", "job_title": "CTO", "city": "London", "country": "gb",
    "what_is_your_budget?": "50k+",
}


def post(body: bytes, *, secret: str = APP_SECRET, signature: str | None = None):
    header = signature if signature is not None else sign(body=body, app_secret=secret)
    return Client().post("/hooks/facebook", body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=header)


def deliver(body: bytes, capture, **kwargs):
    with capture(execute=True):
        return post(body, **kwargs)


def announce(graph, leadgen_id="L1", answers=None, **more):
    graph.add_lead(leadgen_id, answers or ANSWERS, ad_id="A1", adset_id="S1", form_id="F1", campaign_id="C1",
                   campaign_name="Spring launch", **more)
    return delivery({"leadgen_id": leadgen_id, "ad_id": "A1", "adgroup_id": "S1", "form_id": "F1"})


def test_the_handshake_answers_the_challenge_for_a_channels_verify_token(fb_channel):
    ok = Client().get("/hooks/facebook", {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "42"})
    assert ok.status_code == 200 and ok.content == b"42"
    wrong = Client().get("/hooks/facebook", {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "42"})
    assert wrong.status_code == 403
    assert b"42" not in wrong.content


def test_a_signed_delivery_makes_a_lead_with_its_answers_mapped(fb_channel, graph, django_capture_on_commit_callbacks):
    response = deliver(announce(graph), django_capture_on_commit_callbacks)

    assert response.status_code == 200
    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name, lead.email, lead.phone) == ("Ada King", "Lovelace", "ada@example.com",
                                                                       "+442079460958")
    assert (lead.company, lead.job_title, lead.country) == ("Analytical Engines", "CTO", "GB")
    assert lead.custom_fields == {"city": "London", "what_is_your_budget?": "50k+"}
    assert (lead.source, lead.external_id, lead.channel) == (LeadSource.FACEBOOK_LEAD_AD, "L1", fb_channel)
    assert lead.source_campaign.name == "Spring launch" and lead.campaign == "Spring launch"
    origin = AdLead.objects.get()
    assert (origin.lead, origin.ad_id, origin.adgroup_id, origin.form_id) == (lead, "A1", "S1", "F1")
    assert origin.status == AdLeadStatus.CAPTURED
    # The page's token went to the Graph API; the lead's timeline says where it came from.
    assert graph.requests[0][0] == "L1" and graph.requests[0][1]["access_token"] == [PAGE_TOKEN]
    assert Activity.objects.filter(lead=lead, subject="Submitted Facebook page").exists()
    fb_channel.refresh_from_db()
    assert fb_channel.last_webhook_at is not None


def test_a_wrong_signature_is_refused_and_nothing_is_fetched(fb_channel, graph, django_capture_on_commit_callbacks):
    body = announce(graph)
    assert deliver(body, django_capture_on_commit_callbacks, secret="not-the-secret").status_code == 403
    assert deliver(body, django_capture_on_commit_callbacks, signature="").status_code == 403
    assert not Lead.objects.exists() and not AdLead.objects.exists() and graph.requests == []
    fb_channel.refresh_from_db()
    assert "signature" in fb_channel.last_error


def test_the_same_delivery_twice_makes_one_lead(fb_channel, graph, django_capture_on_commit_callbacks):
    body = announce(graph)
    deliver(body, django_capture_on_commit_callbacks)
    again = deliver(body, django_capture_on_commit_callbacks)

    assert again.status_code == 200 and again.json()["queued"] == 0
    assert Lead.objects.count() == 1 and AdLead.objects.count() == 1
    assert len(graph.requests) == 1
    assert Activity.objects.filter(lead=Lead.objects.get()).filter(subject__startswith="Submitted").count() == 1


def test_a_phone_only_lead_is_not_duplicated_by_a_repeat(fb_channel, graph, django_capture_on_commit_callbacks):
    body = announce(graph, answers={"full_name": "Bo Phone", "phone_number": "+14155550100"})
    deliver(body, django_capture_on_commit_callbacks)
    deliver(body, django_capture_on_commit_callbacks)
    assert list(Lead.objects.values_list("phone", flat=True)) == ["+14155550100"]


def test_a_failed_fetch_is_retried_and_makes_one_lead(fb_channel, graph, django_capture_on_commit_callbacks):
    graph.failures = 2  # two 500s, then the lead (FACEBOOK_FETCH_RETRY_DELAYS has two retries)
    deliver(announce(graph), django_capture_on_commit_callbacks)

    assert Lead.objects.count() == 1
    origin = AdLead.objects.get()
    assert (origin.status, origin.attempts, origin.error) == (AdLeadStatus.CAPTURED, 3, "")


def test_a_fetch_that_keeps_failing_is_recorded_on_the_channel_without_its_token(
    fb_channel, graph, django_capture_on_commit_callbacks, caplog
):
    graph.failures = 10
    with caplog.at_level(logging.DEBUG):
        response = deliver(announce(graph), django_capture_on_commit_callbacks)

    assert response.status_code == 200  # Facebook is answered at once, whatever the fetch does later
    assert not Lead.objects.exists()
    origin = AdLead.objects.get()
    assert origin.status == AdLeadStatus.FAILED and origin.attempts == 3 and "500" in origin.error
    fb_channel.refresh_from_db()
    assert "L1" in fb_channel.last_error and fb_channel.last_error_at is not None
    assert PAGE_TOKEN not in caplog.text and PAGE_TOKEN not in fb_channel.last_error and APP_SECRET not in caplog.text


def test_a_later_delivery_of_a_failed_lead_tries_again(fb_channel, graph, django_capture_on_commit_callbacks):
    body = announce(graph)
    graph.failures = 3
    deliver(body, django_capture_on_commit_callbacks)
    assert not Lead.objects.exists()
    deliver(body, django_capture_on_commit_callbacks)
    assert Lead.objects.count() == 1 and AdLead.objects.get().status == AdLeadStatus.CAPTURED


def test_a_channels_own_mapping_names_the_forms_fields(fb_channel, graph, django_capture_on_commit_callbacks):
    fb_channel.field_mapping = {"work_mail": "email", "budget": "custom_fields.budget_range", "consent": ""}
    fb_channel.save()
    body = announce(graph, answers={"full_name": "Grace Hopper", "work_mail": "grace@navy.example",
                                    "budget": "10-50k", "consent": "yes"})
    deliver(body, django_capture_on_commit_callbacks)

    lead = Lead.objects.get()
    assert lead.email == "grace@navy.example"
    assert lead.custom_fields == {"budget_range": "10-50k"}


def test_an_ad_lead_with_an_open_leads_email_joins_that_lead(fb_channel, graph, tenant, django_capture_on_commit_callbacks):
    existing = LeadFactory(tenant=tenant, email="ada@example.com", source=LeadSource.WEBSITE_FORM, phone="")
    deliver(announce(graph), django_capture_on_commit_callbacks)

    assert Lead.objects.count() == 1
    existing.refresh_from_db()
    assert existing.source == LeadSource.WEBSITE_FORM  # where it first came from
    assert existing.phone == "+442079460958" and existing.source_campaign is not None
    assert AdLead.objects.get().lead == existing


def test_leads_of_one_campaign_share_its_row(fb_channel, graph, django_capture_on_commit_callbacks):
    deliver(announce(graph, "L1"), django_capture_on_commit_callbacks)
    deliver(announce(graph, "L2", answers={"email": "b@example.com"}), django_capture_on_commit_callbacks)

    campaign = Campaign.objects.get()
    assert (campaign.platform, campaign.external_id, campaign.name) == (CampaignPlatform.FACEBOOK, "C1", "Spring launch")
    assert campaign.leads.count() == 2


def test_a_delivery_for_an_unknown_page_is_refused(fb_channel, graph, django_capture_on_commit_callbacks):
    body = delivery({"leadgen_id": "L9"}, page_id="777")
    assert deliver(body, django_capture_on_commit_callbacks).status_code == 403
    assert not AdLead.objects.exists()


def test_a_body_that_is_not_json_is_a_400(fb_channel):
    body = b"not json"
    assert post(body).status_code == 400
