"""A workspace admin sets up a website channel (issue 19, item 7) and a rep opens a contact, a company and a deal,
at 1366 x 768 and 1440 x 900: no sideways scroll, no serious or critical axe-core violations, the CRM's words."""

import pytest

from crm.choices import Role
from leads.models import Channel
from tests.e2e.axe import axe_violations, horizontal_overflow
from tests.e2e.browser import BROWSER_MARKS
from tests.e2e.test_backoffice_layout import sign_in
from tests.factories import ChannelFactory, CompanyFactory, ContactFactory, DealFactory, TenantFactory, UserFactory

pytestmark = [*BROWSER_MARKS, pytest.mark.django_db(transaction=True)]

SIZES = [(1366, 768), (1440, 900)]


def _fits_and_passes_axe(page):
    assert horizontal_overflow(page) <= 0
    violations = axe_violations(page)
    assert not violations, "\n".join(violations)


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_an_admin_lists_the_allowed_websites_and_copies_the_snippet(live_server, page, screenshot_dir, width, height):
    tenant = TenantFactory(name="Acme Analytics", slug="acme-analytics")
    admin_user = UserFactory(tenant=tenant, username="ada", role=Role.ADMIN, is_staff=True)
    channel = ChannelFactory(tenant=tenant, name="Contact page", allowed_origins=[])
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, live_server, admin_user, next_url=f"/admin/leads/channel/{channel.pk}/change/")
    page.wait_for_selector("textarea[name=allowed_origins]")
    assert page.title() == "Contact page | Lead CRM"
    _fits_and_passes_axe(page)

    # A plain address without its scheme is refused by name, and what was typed stays in the box.
    page.fill("textarea[name=allowed_origins]", "https://www.example.com\nshop.example.com")
    page.click("input[name=_continue]")
    page.wait_for_selector(".errorlist")
    assert "shop.example.com" in page.inner_text(".field-allowed_origins .errorlist")
    assert "shop.example.com" in page.input_value("textarea[name=allowed_origins]")
    assert Channel.objects.get(pk=channel.pk).allowed_origins == []

    page.fill("textarea[name=allowed_origins]", "https://www.example.com/contact\nhttps://shop.example.com")
    page.click("input[value='Save and keep editing']")
    page.wait_for_selector(".messagelist")
    assert Channel.objects.get(pk=channel.pk).allowed_origins == ["https://www.example.com", "https://shop.example.com"]

    # The snippet and the hosted form's link are one click from the clipboard.
    page.click("button[data-copy=embed-snippet]")
    page.wait_for_selector("button[data-copy=embed-snippet]:text-is('Copied')")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert f'data-crm-form-key="{channel.form_key}"' in copied and "/static/crm/embed.js" in copied
    page.click("button[data-copy=hosted-form-url]")
    assert page.evaluate("() => navigator.clipboard.readText()") == f"{live_server.url}/f/{channel.form_key}/"
    _fits_and_passes_axe(page)
    if width == 1366:
        page.screenshot(path=str(screenshot_dir / "admin-channel-1366.png"), full_page=True)


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_a_reps_contact_company_and_deal_pages_fit_a_laptop(live_server, page, width, height):
    tenant = TenantFactory(name="Acme Analytics", slug="acme-analytics")
    rep = UserFactory(tenant=tenant, username="rita", first_name="Rita", last_name="Rep")
    company = CompanyFactory(tenant=tenant, name="Analytical Engines Holdings International",
                             domain="analytical-engines-holdings.example", owner=rep)
    contact = ContactFactory(tenant=tenant, company=company, owner=rep, first_name="Augusta Ada",
                             last_name="King-Noel, Countess of Lovelace",
                             email="augusta.ada.king-noel@analytical-engines-holdings.example")
    deal = DealFactory(tenant=tenant, company=company, contact=contact, owner=rep,
                       name="Analytical Engines Holdings International: enterprise pilot, 250 seats", amount=1_250_000)
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, live_server, rep, next_url=f"/admin/contacts/contact/{contact.pk}/change/")

    for url, title in (
        (f"/admin/contacts/contact/{contact.pk}/change/", "Augusta Ada King-Noel"),
        (f"/admin/contacts/company/{company.pk}/change/", "Analytical Engines Holdings International"),
        (f"/admin/contacts/deal/{deal.pk}/change/", "Analytical Engines Holdings International: enterprise pilot"),
    ):
        page.goto(live_server.url + url)
        page.wait_for_selector("#content h1")
        assert page.inner_text("#content h1").startswith(title), url
        assert "Save and continue editing" not in page.content()
        _fits_and_passes_axe(page)


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_every_list_a_workspace_admin_opens_fits_a_laptop(live_server, page, width, height):
    """Each list's columns show without a sideways scroll (the rep's lists and the admin's alike), with real-length
    names, emails, companies and amounts in them."""
    from django.contrib import admin
    from django.urls import NoReverseMatch, reverse

    from django.utils import timezone

    from crm.choices import ActivityKind
    from leads.models import ImportJob
    from tests.factories import ActivityFactory, ApiTokenFactory, LeadFactory

    tenant = TenantFactory(name="Acme Analytics", slug="acme-analytics")
    admin_user = UserFactory(tenant=tenant, username="ada", first_name="Adelaide", last_name="Montgomery-Fairweather",
                             email="adelaide.montgomery-fairweather@acme-analytics.example", role=Role.ADMIN,
                             is_staff=True)
    company = CompanyFactory(tenant=tenant, name="Analytical Engines Holdings International",
                             domain="analytical-engines-holdings.example", industry="Industrial machinery",
                             owner=admin_user)
    contact = ContactFactory(tenant=tenant, company=company, owner=admin_user, first_name="Augusta Ada",
                             last_name="King-Noel", phone="+14155550123",
                             email="augusta.ada.king-noel@analytical-engines-holdings.example")
    DealFactory(tenant=tenant, company=company, contact=contact, owner=admin_user, amount=1_250_000,
                name="Analytical Engines Holdings International: enterprise pilot, 250 seats")
    lead = LeadFactory(tenant=tenant, owner=admin_user, first_name="Bartholomew", last_name="Featherstonehaugh",
                       company="Featherstonehaugh & Cholmondeley Logistics",
                       email="bartholomew.featherstonehaugh@featherstonehaugh-logistics.example")
    ActivityFactory(lead=lead, contact=contact, kind=ActivityKind.CALL, actor=admin_user,
                    subject="Discovery call about the enterprise pilot and the procurement timeline")
    ImportJob.objects.create(tenant=tenant, created_by=admin_user, file_name="hubspot-crm-exports-all-contacts-2026-11-30.csv",
                             status="finished", rows_read=200_000, created=188_008, skipped=10_005, rejected=1_987,
                             warned=991, finished_at=timezone.now())
    ApiTokenFactory(user=admin_user, name="Website contact form on the marketing site (production)")
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, live_server, admin_user, next_url="/admin/")

    checked, too_wide = [], {}
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        try:
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        except NoReverseMatch:
            continue
        response = page.goto(live_server.url + url)
        if response.status != 200 or not page.query_selector("#changelist"):
            continue  # not a workspace admin's list
        checked.append(url)
        if (overflow := horizontal_overflow(page)) > 0:
            too_wide[url] = overflow
    assert len(checked) > 15
    assert not too_wide, too_wide  # pixels each list is wider than the page shows
