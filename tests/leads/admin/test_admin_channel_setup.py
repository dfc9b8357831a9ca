"""A website channel's setup in the admin (issue 19, item 7): allowed websites one a line, checked; the embed
snippet and the hosted form's link ready to copy."""

import pytest
from django.test import Client

from crm.choices import Role
from leads.models import Channel
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(tenant):
    client = Client()
    client.force_login(UserFactory(tenant=tenant, username="ada", role=Role.ADMIN, is_staff=True))
    return client


def form(tenant, **values):
    return {"tenant": tenant.pk, "name": "Contact page", "kind": "website_form", "default_source": "website_form",
            "is_active": "on", "rate_limit_per_hour": 10, "field_mapping": "{}", **values}


def test_allowed_websites_are_typed_one_a_line_and_kept_as_origins(browser, tenant):
    response = browser.post("/admin/leads/channel/add/", form(
        tenant, allowed_origins="https://www.Example.com/contact\nhttp://localhost:8000\n\nhttps://www.example.com"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    channel = Channel.objects.get(name="Contact page")
    assert channel.allowed_origins == ["https://www.example.com", "http://localhost:8000"]
    page = browser.get(f"/admin/leads/channel/{channel.pk}/change/").content.decode()
    assert "https://www.example.com\nhttp://localhost:8000</textarea>" in page  # shown as typed lines, not JSON


@pytest.mark.parametrize("typed", ["www.example.com", "ftp://files.example.com", "https://", "not a url"])
def test_an_address_without_scheme_and_host_is_refused_by_name(browser, tenant, typed):
    response = browser.post("/admin/leads/channel/add/", form(tenant, allowed_origins=f"https://ok.example\n{typed}"))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["allowed_origins"]
    assert typed.split()[0] in errors[0] and "https://www.example.com" in errors[0]
    assert "Enter a valid JSON" not in response.content.decode()
    assert not Channel.objects.filter(name="Contact page").exists()


def test_the_channel_page_offers_the_snippet_and_the_hosted_link_to_copy(browser, tenant, channel):
    page = browser.get(f"/admin/leads/channel/{channel.pk}/change/").content.decode()

    assert f"data-crm-form-key=&quot;{channel.form_key}&quot;" in page
    assert "http://testserver/static/crm/embed.js" in page
    assert f'value="http://testserver/f/{channel.form_key}/"' in page
    assert page.count('data-copy="') == 2


def test_the_api_refuses_the_same_addresses_naming_the_field(tenant):
    from tests.conftest import api_client_for

    admin_user = UserFactory(tenant=tenant, username="grace", role=Role.ADMIN, is_staff=True)
    api = api_client_for(admin_user)

    refused = api.post("/api/v1/channels", {"name": "Site", "allowed_origins": ["www.example.com"]}, format="json")
    kept = api.post("/api/v1/channels", {"name": "Site", "allowed_origins": ["https://WWW.example.com/contact"]},
                    format="json")

    assert refused.status_code == 400 and "allowed_origins" in refused.json()
    assert kept.status_code == 201, kept.json()
    assert Channel.objects.get(name="Site").allowed_origins == ["https://www.example.com"]


def _section(page: str, title: str) -> str:
    """The fieldset (open) or folded <details> holding a section's heading."""
    import re

    for block in re.findall(r"<fieldset.*?</fieldset>", page, re.S):
        if f"fieldset-heading\">{title}<" in block:
            return block
    raise AssertionError(f"no section {title!r}")


def test_a_website_channels_page_folds_away_the_ad_platform_sections(browser, tenant, channel):
    page = browser.get(f"/admin/leads/channel/{channel.pk}/change/").content.decode()

    assert "<details" not in _section(page, "Website form")
    for ads in ("Facebook Lead Ads", "Google Ads lead form", "Ad platform setup"):
        assert "<details" in _section(page, ads)  # still there for a change of kind, but out of the way


def test_a_facebook_channels_page_folds_away_the_website_form(browser, tenant):
    channel = Channel.objects.create(tenant=tenant, name="Our page", kind="facebook_lead_ads",
                                     default_source="facebook_lead_ad", page_id="5005")

    page = browser.get(f"/admin/leads/channel/{channel.pk}/change/").content.decode()

    assert "<details" in _section(page, "Website form") and "<details" in _section(page, "Google Ads lead form")
    assert "<details" not in _section(page, "Facebook Lead Ads") and "<details" not in _section(page, "Ad platform setup")
