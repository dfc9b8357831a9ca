"""Campaigns: named by a form or an import, one row per name; the dashboard splits a source into them."""

import pytest
from django.utils import timezone

from leads.choices import CampaignPlatform, LeadSource, LeadStatus
from leads.dashboard.figures import Scope, by_source, last_days
from leads.importers.engine import ImportOptions, import_leads
from leads.models import Campaign, Lead
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_form_captures_naming_a_campaign_share_its_row(anon_api, channel):
    for email in ("a@example.com", "b@example.com"):
        response = anon_api.post("/api/v1/leads", {"email": email, "campaign": "Newsletter May"},
                                  format="json", HTTP_X_FORM_KEY=channel.form_key)
        assert response.status_code == 201
    campaign = Campaign.objects.get()
    assert (campaign.platform, campaign.name) == (CampaignPlatform.OTHER, "Newsletter May")
    assert set(Lead.objects.values_list("source_campaign", flat=True)) == {campaign.pk}


def test_an_import_naming_a_campaign_links_its_leads(tenant, manager, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text("email,campaign\nx@example.com,Trade fair\ny@example.com,Trade fair\nz@example.com,\n")
    import_leads(tenant=tenant, path=path, options=ImportOptions(), actor=manager)

    campaign = Campaign.objects.get()
    assert campaign.name == "Trade fair"
    assert Lead.objects.filter(source_campaign=campaign).count() == 2
    assert Lead.objects.get(email="z@example.com").source_campaign is None


def test_the_dashboard_splits_a_source_into_its_campaigns_with_conversion_rates(tenant):
    spring = Campaign.objects.create(tenant=tenant, platform=CampaignPlatform.FACEBOOK, external_id="C1", name="Spring")
    autumn = Campaign.objects.create(tenant=tenant, platform=CampaignPlatform.FACEBOOK, external_id="C2", name="Autumn")
    for status in (LeadStatus.NEW, LeadStatus.NEW, LeadStatus.DISQUALIFIED):
        LeadFactory(tenant=tenant, source=LeadSource.FACEBOOK_LEAD_AD, source_campaign=spring, status=status,
                    disqualification_reason="x" if status == LeadStatus.DISQUALIFIED else "")
    LeadFactory(tenant=tenant, source=LeadSource.FACEBOOK_LEAD_AD, source_campaign=autumn)
    LeadFactory(tenant=tenant, source=LeadSource.WEBSITE_FORM)

    rows = by_source(scope=Scope(tenant=tenant, owner=None), period=last_days(days=7, today=timezone.localdate()))

    facebook = next(row for row in rows if row.key == LeadSource.FACEBOOK_LEAD_AD)
    assert facebook.leads == 4
    assert [(part.label, part.leads, part.conversion_pct) for part in facebook.campaigns] == [
        ("Spring", 3, 0.0), ("Autumn", 1, 0.0)
    ]
    website = next(row for row in rows if row.key == LeadSource.WEBSITE_FORM)
    assert website.campaigns == ()
