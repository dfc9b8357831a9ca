"""The back office speaks the CRM's words on every page (issue 19, item 8): no "Select company to change" in the
browser tab, no "Add deal" where the lead page says "New lead", no "Go" under the actions, no "Save and continue
editing", no "… administration" over a section."""

import re

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.text import capfirst

from crm.roles import Role
from tests.factories import CompanyFactory, ContactFactory, DealFactory, UserFactory

DJANGO_WORDS = re.compile(r"Select [\w ]+ to (change|view)|Change [\w ]+ \||View [\w ]+ \||\badministration\b|"
                          r"Save and continue editing|>Go</button>|Add [a-z][\w ]+</h1>|&rsaquo; Add ")


@pytest.fixture
def tenant_admin(tenant):
    return UserFactory(tenant=tenant, username="ada", role=Role.ADMIN)


def _title(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html, re.S).group(1).strip()


def _pages_of(model_admin):
    opts = model_admin.model._meta
    for name in ("changelist", "add"):
        try:
            yield name, reverse(f"admin:{opts.app_label}_{opts.model_name}_{name}")
        except NoReverseMatch:
            continue


def test_every_list_and_new_page_a_workspace_admin_opens_uses_the_crms_words(client, tenant_admin):
    client.force_login(tenant_admin)
    visited = 0
    for model, model_admin in admin.site._registry.items():
        for name, url in _pages_of(model_admin):
            response = client.get(url)
            if response.status_code != 200:
                continue  # not this user's page (platform-only) or a form that redirects
            html = response.content.decode()
            visited += 1
            assert not DJANGO_WORDS.search(html), (url, DJANGO_WORDS.search(html).group(0))
            if name == "changelist":
                assert _title(html).startswith(str(capfirst(model._meta.verbose_name_plural))), (url, _title(html))
    assert visited > 20  # the lists and new-record forms of leads, contacts, deals, channels, rules, tokens, ...


def test_a_record_page_is_titled_by_the_record_and_its_buttons_say_what_they_do(client, tenant, tenant_admin):
    deal = DealFactory(tenant=tenant, name="Pilot for Engines Ltd")
    client.force_login(tenant_admin)

    html = client.get(f"/admin/contacts/deal/{deal.pk}/change/").content.decode()

    assert _title(html) == "Pilot for Engines Ltd | Lead CRM"
    assert 'value="Save and keep editing"' in html
    assert 'value="Save and add another deal"' in html
    assert ">Delete deal</a>" in html


def test_a_new_record_page_says_new(client, tenant_admin):
    client.force_login(tenant_admin)

    html = client.get("/admin/contacts/company/add/").content.decode()

    assert _title(html) == "New company | Lead CRM"
    assert "<h1>New company</h1>" in html
    assert re.search(r'class="breadcrumbs">.*&rsaquo; New company\s*</div>', html, re.S)


def test_a_section_page_is_titled_by_the_section(client, tenant, tenant_admin):
    CompanyFactory(tenant=tenant)
    ContactFactory(tenant=tenant)
    client.force_login(tenant_admin)

    html = client.get("/admin/contacts/").content.decode()

    assert "<h1>Contacts, companies and deals</h1>" in html
    assert _title(html) == "Contacts, companies and deals | Lead CRM"


def test_the_list_actions_are_applied_with_a_button_that_says_apply(client, tenant, tenant_admin):
    DealFactory(tenant=tenant)
    client.force_login(tenant_admin)

    html = client.get("/admin/contacts/deal/").content.decode()

    assert re.search(r'<button type="submit" class="button"[^>]*>Apply</button>', html)


def test_a_record_page_names_the_record_once(client, tenant, tenant_admin):
    company = CompanyFactory(tenant=tenant, name="Engines Holdings")
    client.force_login(tenant_admin)

    html = client.get(f"/admin/contacts/company/{company.pk}/change/").content.decode()

    assert "<h1>Engines Holdings</h1>" in html
    assert "<h2>Engines Holdings</h2>" not in html  # Django's subtitle would repeat it right under the heading
