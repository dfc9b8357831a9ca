"""The admin: an ad channel's setup (callback URL, verify token, last webhook, errors; secrets masked),
campaigns editable, and where a lead came from on its page."""

import pytest
from django.test import Client

from leads.choices import ChannelKind
from leads.models import Campaign, Channel, Lead
from tests.leads.integrations.conftest import APP_SECRET, GOOGLE_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(workspace_admin):
    client = Client()
    client.force_login(workspace_admin)
    return client


def test_an_admin_adds_a_facebook_channel_and_sees_its_setup_but_not_its_secrets(browser, tenant):
    response = browser.post("/admin/leads/channel/add/", {
        "tenant": tenant.pk, "name": "Our page", "kind": ChannelKind.FACEBOOK_LEAD_ADS, "default_source": "website_form",
        "is_active": "on", "allowed_origins": "[]", "rate_limit_per_hour": 10, "page_id": "5005",
        "app_secret": APP_SECRET, "page_access_token": "EAAB-page-token-xyz1", "verify_token": "verify-me",
        "field_mapping": "{}",
    })
    assert response.status_code == 302, response.context["adminform"].form.errors
    channel = Channel.objects.get(name="Our page")
    assert channel.app_secret == APP_SECRET and channel.default_source == "facebook_lead_ad"

    page = browser.get(f"/admin/leads/channel/{channel.pk}/change/").content.decode()
    assert "http://testserver/hooks/facebook" in page and "verify-me" in page
    assert APP_SECRET not in page and "EAAB-page-token-xyz1" not in page
    assert "••••0001" in page


def test_a_facebook_channel_without_its_secret_is_refused_by_the_form(browser, tenant):
    response = browser.post("/admin/leads/channel/add/", {
        "tenant": tenant.pk, "name": "Half done", "kind": ChannelKind.FACEBOOK_LEAD_ADS, "default_source": "website_form",
        "allowed_origins": "[]", "rate_limit_per_hour": 10, "page_id": "5005", "verify_token": "v", "field_mapping": "{}",
    })
    assert response.status_code == 200
    assert "app_secret" in response.context["adminform"].form.errors
    assert not Channel.objects.filter(name="Half done").exists()


def test_a_google_channel_page_shows_its_url_and_the_last_error(browser, google_channel):
    Client().post(f"/hooks/google/{google_channel.form_key}", {"lead_id": "1", "google_key": "bad"},
                  content_type="application/json")
    page = browser.get(f"/admin/leads/channel/{google_channel.pk}/change/").content.decode()
    assert f"/hooks/google/{google_channel.form_key}" in page
    assert "google_key that is not this channel" in page
    assert GOOGLE_KEY not in page


def test_a_leads_page_shows_its_platform_campaign_ad_and_form(browser, google_channel):
    Client().post(f"/hooks/google/{google_channel.form_key}", {
        "lead_id": "G7", "google_key": GOOGLE_KEY, "campaign_id": 55, "adgroup_id": 66, "creative_id": 77,
        "form_id": 88, "user_column_data": [{"column_id": "EMAIL", "string_value": "a@example.org"}],
    }, content_type="application/json")
    lead = Lead.objects.get()
    page = browser.get(f"/admin/leads/lead/{lead.pk}/change/").content.decode()
    assert "Google Ads (lead G7)" in page
    for value in ("55", "66", "77", "88"):
        assert f"<dd>{value}</dd>" in page


def test_a_campaign_is_renamed_in_the_admin(browser, tenant):
    campaign = Campaign.objects.create(tenant=tenant, platform="google", external_id="55")
    response = browser.post(f"/admin/leads/campaign/{campaign.pk}/change/", {"tenant": tenant.pk, "name": "Brand"})
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.name == "Brand"
