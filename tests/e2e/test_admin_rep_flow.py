"""A rep's day in the back-office, in a real browser: find a hot lead, log a call, convert it.

Headless Chromium from Debian, driven by playwright, against pytest-django's live server.
Screenshots of the lead list and the lead page go to a temporary folder; with
UPDATE_SCREENSHOTS=1 they refresh docs/img/admin-lead-list.png and admin-lead-page.png.
"""

import datetime as dt

import pytest
from django.utils import timezone

from crm.models import Activity
from leads.choices import LeadStatus
from leads.insights import refresh_insights
from leads.models import Lead
from leads.prediction.service import predict_lead
from leads.rules.defaults import install_default_rules
from tests.e2e.browser import BROWSER_MARKS
from tests.factories import ActivityFactory, CompanyFactory, LeadFactory, TenantFactory, UserFactory

pytestmark = [*BROWSER_MARKS, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-123"


@pytest.fixture
def workspace():
    tenant = TenantFactory(name="Acme Analytics", slug="acme-analytics")
    rep = UserFactory(tenant=tenant, username="rita", first_name="Rita", last_name="Rep")
    colleague = UserFactory(tenant=tenant, username="carl", first_name="Carl", last_name="Colleague")
    now = timezone.now()
    install_default_rules(tenant=tenant)
    hot = LeadFactory(
        tenant=tenant, first_name="Ada", last_name="Lovelace", email="ada@engines.example", company="Engines Ltd",
        website="https://engines.example", job_title="VP Engineering", industry="Software", owner=rep,
        employee_count=800, annual_revenue=25_000_000, country="GB", campaign="spring-webinar",
        source="website_form", created_at=now - dt.timedelta(hours=3), last_activity_at=now - dt.timedelta(hours=1),
    )
    timeline = [
        (3, "form_submitted", "Contact us form"),
        (2, "demo_requested", "Asked for a demo"),
        (30, "email_opened", "Spring webinar invite"),
        (20, "email_opened", "Webinar reminder"),
        (1, "email_opened", "Demo confirmation"),
    ]
    for hours, kind, subject in timeline:
        ActivityFactory(lead=hot, kind=kind, subject=subject, body="", occurred_at=now - dt.timedelta(hours=hours))
    refresh_insights(lead=hot)  # scored by the workspace's real rules, as capture would
    predict_lead(lead=hot)  # what "analyze" does; without a trained model it reads the rule score
    CompanyFactory(tenant=tenant, name="Engines Holdings", domain="engines.example")
    others = [
        ("Grace", "Hopper", "grace@navy.example", "US Navy", 91, "hot", colleague),
        ("Katherine", "Johnson", "katherine@nasa.example", "NASA", 78, "hot", None),
        ("Alan", "Turing", "alan@bletchley.example", "Bletchley Park", 64, "warm", None),
        ("Edsger", "Dijkstra", "edsger@tue.example", "TU Eindhoven", 45, "warm", rep),
        ("Barbara", "Liskov", "barbara@mit.example", "MIT", 22, "cold", None),
        ("Linus", "Torvalds", "linus@kernel.example", "Kernel Org", 12, "cold", colleague),
    ]
    for i, (first, last, email, company, score, band, owner) in enumerate(others):
        LeadFactory(
            tenant=tenant, first_name=first, last_name=last, email=email, company=company, score_total=score,
            score_band=band, owner=owner, created_at=now - dt.timedelta(days=i + 1),
            last_activity_at=now - dt.timedelta(days=i + 1, hours=2) if i % 2 == 0 else None,
            source=["google_lead_form", "website_form", "referral", "facebook_lead_ad", "api", "chat"][i],
        )
    LeadFactory(tenant=TenantFactory(name="Globex"), first_name="Boris", email="boris@globex.example",
                score_band="hot", score_total=99)
    return tenant, rep, hot


def test_a_rep_finds_a_hot_lead_logs_a_call_and_converts_it(live_server, page, screenshot_dir, workspace):
    tenant, rep, hot = workspace
    page.set_viewport_size({"width": 1440, "height": 900})

    page.goto(f"{live_server.url}/admin/login/?next=/admin/leads/lead/")
    page.fill("input[name=username]", rep.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#result_list")

    page.click("#changelist-filter details[data-filter-title='score band'] a:text-is('Hot')")
    page.wait_for_url("**score_band__exact=hot**")
    rows = page.inner_text("#result_list tbody")
    assert "Ada Lovelace" in rows and "Katherine Johnson" in rows  # hers, and unassigned
    assert "Grace Hopper" not in rows  # hot, but a colleague's: not in a rep's list
    assert "Alan Turing" not in rows and "Boris" not in rows  # warm, and another workspace's
    assert page.is_visible("#result_list .crm-band-hot")
    page.screenshot(path=str(screenshot_dir / "admin-lead-list.png"), full_page=True)

    page.click("#result_list a:text-is('Ada Lovelace')")
    page.wait_for_selector("#quick-log")
    panel = page.inner_text(".crm-score-panel")
    assert "Requested a demo" in panel and "Title: VP" in panel and "likely to convert" in panel
    page.fill("#quick-log input[name=subject]", "Intro call")
    page.fill("#quick-log textarea[name=body]", "Wants a demo for 12 analysts; budget approved for Q3.")
    page.click("#quick-log button[value=call]")
    page.wait_for_selector(".messagelist .success")
    assert "Call logged." in page.inner_text(".messagelist")
    assert "Intro call" in page.inner_text("#activities-group")
    page.screenshot(path=str(screenshot_dir / "admin-lead-page.png"), full_page=True)

    page.click(".crm-lead-actions a.crm-convert-link")
    page.wait_for_selector("#preview-company")
    assert "Engines Holdings" in page.inner_text("#preview-company")  # matched by the website's domain
    assert "creates a new contact" in page.inner_text("#preview-contact")
    page.fill("input[name=deal_name]", "Engines analytics rollout")
    page.click("input[name=_convert]")

    page.wait_for_url("**/admin/contacts/contact/*/change/")
    assert "is now the contact Ada Lovelace" in page.inner_text(".messagelist")
    hot.refresh_from_db()
    assert hot.status == LeadStatus.CONVERTED
    assert page.url.endswith(f"/admin/contacts/contact/{hot.converted_contact_id}/change/")
    assert hot.converted_company.name == "Engines Holdings"
    assert hot.converted_deal.name == "Engines analytics rollout"
    call = Activity.objects.get(lead=hot, kind="call")
    assert (call.actor, call.contact_id) == (rep, hot.converted_contact_id)
    assert "Intro call" in page.inner_text("body")  # the timeline came along to the contact
    assert Lead.objects.filter(tenant=tenant, status=LeadStatus.CONVERTED).count() == 1
