"""The lead page's Enrichment panel: what was added, by which provider, when, and a failure in words."""

import re

import pytest

from tests.factories import LeadFactory


def page(client, user, lead) -> str:
    client.force_login(user)
    html = client.get(f"/admin/leads/lead/{lead.pk}/change/").content.decode()
    return re.search(r'<div class="crm-enrich-panel">.*?</div>', html, re.S).group(0)


@pytest.fixture
def enriched(tenant, rep):
    return LeadFactory(tenant=tenant, owner=rep, company="Engines Ltd", website="https://engines.example",
                       enrichment_data={
                           "provider": "offline", "fetched_at": "2026-03-02T10:15:00+00:00",
                           "fields": {"company": "Engines Limited", "website": "https://engines.example",
                                      "phone_type": "mobile"},
                           "filled": ["website"], "attempts": 1,
                       })


def test_the_panel_lists_what_was_found_and_what_reached_the_lead(client, rep, enriched):
    panel = page(client, rep, enriched)
    assert "Looked up by <strong>offline</strong> on 2026-03-02 10:15" in panel
    assert "<tr><td>Website</td><td>https://engines.example</td><td>added</td></tr>" in panel
    assert "<tr><td>Company</td><td>Engines Limited</td><td>kept the lead&#x27;s own value</td></tr>" in panel
    assert "<tr><td>Phone number type</td><td>mobile</td><td>kept here only</td></tr>" in panel


def test_a_failed_lookup_reads_as_a_sentence(client, rep, tenant):
    lead = LeadFactory(tenant=tenant, owner=rep, enrichment_data={
        "provider": "http", "error": "The provider answered HTTP 503: <b>busy</b>",
        "failed_at": "2026-03-02T11:00:00+00:00", "attempts": 5,
    })
    panel = page(client, rep, lead)
    assert "The last lookup failed</strong> (http, 2026-03-02 11:00, after 5 attempts)" in panel
    assert "HTTP 503: &lt;b&gt;busy&lt;/b&gt;" in panel  # the provider's words are escaped


def test_a_lead_not_yet_enriched_says_so_and_why(client, rep, tenant):
    tenant.enrichment_enabled = True
    tenant.save()
    lead = LeadFactory(tenant=tenant, owner=rep)
    assert "Not enriched yet." in page(client, rep, lead)
    tenant.enrichment_enabled = False
    tenant.save()
    assert "enrichment is off for this workspace" in page(client, rep, lead)
