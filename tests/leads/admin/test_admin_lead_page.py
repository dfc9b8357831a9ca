"""The lead page: fieldsets, score panel, timeline with quick logging, and the conversion page."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from contacts.models import Company, Contact, Deal
from crm.models import Activity
from leads.choices import LeadStatus
from leads.models import Lead
from tests.factories import ActivityFactory, CompanyFactory, ContactFactory, DealFactory, LeadFactory, UserFactory


@pytest.fixture
def lead(tenant, rep):
    return LeadFactory(
        tenant=tenant, first_name="Ada", last_name="Lovelace", email="ada@engines.example", company="Engines Ltd",
        website="https://www.engines.example/about", owner=rep, score_total=72, score_band="hot", grade="A",
        score_version="v7", score_factors=[
            {"rule_id": 1, "name": "Decision maker title", "category": "demographic", "points": 30},
            {"rule_id": 2, "name": "Software industry", "category": "firmographic", "points": 25},
            {"rule_id": 3, "name": "Requested a demo", "category": "behavioural", "points": 17},
        ],
        probability=0.81, recommendation="transfer_to_sales",
        recommendation_reason="Industry Software and 3 demo requests raise the odds.", prediction_version="m3",
    )


def page_url(lead) -> str:
    return f"/admin/leads/lead/{lead.pk}/change/"


def convert_url(lead) -> str:
    return f"/admin/leads/lead/{lead.pk}/convert/"


def test_fieldsets_a_rep_can_scan(client, rep, lead):
    client.force_login(rep)

    html = client.get(page_url(lead)).content.decode()

    headings = re.findall(r'<h2 id="fieldset-0-\d+-heading" class="fieldset-heading">([^<]+)</h2>', html)
    assert headings[:4] == ["Contact details", "Qualification", "Attribution", "Score"]
    assert "Conversion" not in headings  # only once there is something it became


def test_score_panel_lists_every_factor_and_the_prediction(client, rep, lead):
    client.force_login(rep)

    html = client.get(page_url(lead)).content.decode()

    panel = re.search(r'<div class="crm-score-panel">.*?</div></div>', html, re.S).group(0)
    for name, points in (("Decision maker title", "+30"), ("Software industry", "+25"), ("Requested a demo", "+17")):
        assert re.search(rf'<td>{name}</td><td>\w+</td><td style="text-align:right">{re.escape(points)}</td>', panel)
    assert "72 hot" in panel and "grade <strong>A</strong>" in panel
    assert "<strong>81%</strong> likely to convert" in panel and "Transfer to sales" in panel
    assert "Industry Software and 3 demo requests raise the odds." in panel


def test_timeline_is_inline_newest_first(client, rep, lead):
    now = timezone.now()
    ActivityFactory(lead=lead, subject="First touch", occurred_at=now - dt.timedelta(days=3))
    ActivityFactory(lead=lead, subject="Latest call", kind="call", occurred_at=now - dt.timedelta(hours=1))
    ActivityFactory(lead=lead, subject="Middle note", occurred_at=now - dt.timedelta(days=1))
    client.force_login(rep)

    html = client.get(page_url(lead)).content.decode()

    positions = [html.index(subject) for subject in ("Latest call", "Middle note", "First touch")]
    assert positions == sorted(positions)


@pytest.mark.parametrize(
    ("kind", "fields", "message"),
    [
        ("call", {"subject": "Intro call", "body": "Wants a demo next week"}, "Call logged."),
        ("note", {"body": "Prefers email"}, "Note added."),
        ("task", {"subject": "Send proposal", "due_at": "2030-01-15T09:30"}, "Task added."),
    ],
)
def test_quick_log_adds_to_the_timeline(client, rep, lead, kind, fields, message):
    client.force_login(rep)
    assert 'id="quick-log"' in client.get(page_url(lead)).content.decode()

    response = client.post(f"/admin/leads/lead/{lead.pk}/log/", {"kind": kind, **fields}, follow=True)

    assert message in response.content.decode()
    activity = Activity.objects.get(lead=lead, kind=kind)
    assert (activity.actor, activity.tenant_id) == (rep, lead.tenant_id)
    if kind == "task":
        assert activity.due_at == dt.datetime(2030, 1, 15, 9, 30, tzinfo=dt.UTC)
    lead.refresh_from_db()
    assert lead.last_activity_at == activity.occurred_at
    assert (fields.get("subject") or fields.get("body")) in response.content.decode()  # shown in the timeline


def test_a_task_without_a_due_date_is_refused(client, rep, lead):
    client.force_login(rep)

    response = client.post(f"/admin/leads/lead/{lead.pk}/log/", {"kind": "task", "subject": "Follow up"}, follow=True)

    assert "Nothing was logged" in response.content.decode() and "A task needs a due date." in response.content.decode()
    assert not Activity.objects.filter(lead=lead).exists()


def test_a_colleagues_lead_does_not_exist_for_a_rep(client, tenant, rep):
    colleague = UserFactory(tenant=tenant, username="carl")
    theirs = LeadFactory(tenant=tenant, first_name="Tess", last_name="Theirs", email="tess@x.example", owner=colleague)
    client.force_login(rep)

    for suffix in ("change/", "history/"):
        # As for another workspace's lead: the admin's "doesn't exist", back to the index, nothing shown.
        response = client.get(f"/admin/leads/lead/{theirs.pk}/{suffix}")
        assert (response.status_code, response.url) == (302, "/admin/"), suffix
    followed = client.get(page_url(theirs), follow=True).content.decode()
    assert "doesn’t exist" in followed and "Tess" not in followed and "tess@x.example" not in followed
    logged = client.post(f"/admin/leads/lead/{theirs.pk}/log/", {"kind": "note", "body": "x"})
    assert logged.status_code == 404
    assert client.get(convert_url(theirs)).status_code == 404
    assert client.post(convert_url(theirs), {"deal": "new"}).status_code == 404
    theirs.refresh_from_db()
    assert (theirs.status, theirs.owner, theirs.converted_contact_id) == (LeadStatus.NEW, colleague, None)
    assert not Activity.objects.filter(lead=theirs).exists() and not Contact.objects.exists()


def test_a_rep_reads_but_cannot_work_their_disqualified_lead(client, tenant, rep):
    lead = LeadFactory(tenant=tenant, owner=rep, status=LeadStatus.DISQUALIFIED, disqualification_reason="No budget")
    client.force_login(rep)

    html = client.get(page_url(lead)).content.decode()

    assert 'id="quick-log"' not in html and convert_url(lead) not in html and 'name="_save"' not in html
    assert "Disqualified: No budget. A disqualified lead is read-only." in html
    assert client.post(f"/admin/leads/lead/{lead.pk}/log/", {"kind": "note", "body": "x"}).status_code == 403
    assert not Activity.objects.filter(lead=lead).exists()


# --- conversion page ---


def test_conversion_page_previews_matches_by_email_and_domain(client, rep, tenant, lead):
    known = ContactFactory(tenant=tenant, first_name="Ada", last_name="Byron", email="ada@engines.example")
    engines = CompanyFactory(tenant=tenant, name="Engines Incorporated", domain="engines.example")
    open_deal = DealFactory(tenant=tenant, name="Engines pilot", company=engines)
    client.force_login(rep)

    html = client.get(page_url(lead)).content.decode()
    assert f'href="{convert_url(lead)}"' in html  # the Convert button
    page = client.get(convert_url(lead)).content.decode()

    contact = re.search(r'<li id="preview-contact">.*?</li>', page, re.S).group(0)
    company = re.search(r'<li id="preview-company">.*?</li>', page, re.S).group(0)
    deal = re.search(r'<li id="preview-deal">.*?</li>', page, re.S).group(0)
    assert "existing contact" in contact and f"/admin/contacts/contact/{known.pk}/change/" in contact
    assert "same email" in contact
    assert "existing company" in company and f"/admin/contacts/company/{engines.pk}/change/" in company
    assert "same domain, engines.example" in company
    assert f"/admin/contacts/deal/{open_deal.pk}/change/" in deal and "crm-stage-qualification" in deal
    # The pickers start on the matches and search through the (tenant-scoped) autocomplete.
    assert re.search(rf'<option value="{known.pk}" selected>', page)
    assert re.search(rf'<option value="{engines.pk}" selected>', page)
    assert 'data-app-label="leads" data-model-name="lead" data-field-name="converted_contact"' in page


def test_conversion_page_says_what_is_new_when_nothing_matches(client, rep, lead):
    client.force_login(rep)

    page = client.get(convert_url(lead)).content.decode()

    assert "creates a new contact Ada Lovelace" in page
    assert "creates a new company Engines Ltd" in page and "(engines.example)" in page


def test_converting_with_new_records_lands_on_the_contact(client, rep, lead):
    client.force_login(rep)

    response = client.post(convert_url(lead), {"deal": "new", "deal_name": "Engines rollout", "amount": "5000"})

    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED
    contact = lead.converted_contact
    assert response.status_code == 302 and response.url == f"/admin/contacts/contact/{contact.pk}/change/"
    assert (contact.email, contact.company.name, contact.company.domain) == (
        "ada@engines.example", "Engines Ltd", "engines.example")
    deal = lead.converted_deal
    assert (deal.name, deal.amount, deal.contact, deal.company) == ("Engines rollout", 5000, contact, contact.company)
    landed = client.get(response.url).content.decode()
    assert "is now the contact Ada Lovelace" in landed


def test_converting_attaches_what_the_rep_picked(client, rep, tenant, lead):
    picked_contact = ContactFactory(tenant=tenant, first_name="Augusta", last_name="King", email="augusta@king.example")
    picked_company = CompanyFactory(tenant=tenant, name="Analytical Society", domain="society.example")
    CompanyFactory(tenant=tenant, name="Engines Inc", domain="engines.example")  # the match the rep overrides
    client.force_login(rep)

    client.post(convert_url(lead), {"contact": picked_contact.pk, "company": picked_company.pk, "deal": "none"})

    lead.refresh_from_db()
    became = (lead.converted_contact, lead.converted_company, lead.converted_deal)
    assert became == (picked_contact, picked_company, None)
    assert Contact.objects.filter(tenant=tenant).count() == 1 and not Deal.objects.exists()


def test_conversion_refuses_another_workspaces_contact(client, rep, lead, other_tenant):
    foreign = ContactFactory(tenant=other_tenant, email="boris@globex.example")
    client.force_login(rep)

    response = client.post(convert_url(lead), {"contact": foreign.pk})

    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW


def test_conversion_page_shows_why_the_lead_cannot_be_converted(client, rep, tenant, lead):
    tenant.strict_pipeline = True
    tenant.save()
    Lead.objects.filter(pk=lead.pk).update(status=LeadStatus.QUALIFIED, probability=0.3, industry="")
    client.force_login(rep)

    response = client.post(convert_url(lead), {"deal": "new"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was converted" in html and "Strict pipeline" in html and "industry is unknown" in html
    assert not Contact.objects.exists() and not Company.objects.exists()


def test_a_converted_lead_is_read_only_and_links_what_it_became(client, rep, lead):
    client.force_login(rep)
    client.post(convert_url(lead), {"deal": "new"})
    lead.refresh_from_db()

    html = client.get(page_url(lead)).content.decode()

    banner = re.search(r'<div class="crm-converted">.*?</div>', html, re.S).group(0)
    for url in (
        f"/admin/contacts/contact/{lead.converted_contact_id}/change/",
        f"/admin/contacts/company/{lead.converted_company_id}/change/",
        f"/admin/contacts/deal/{lead.converted_deal_id}/change/",
    ):
        assert url in banner
    assert "Conversion" in html and 'name="_save"' not in html and 'id="quick-log"' not in html
    assert convert_url(lead) not in html
    again = client.get(convert_url(lead), follow=True)
    assert again.redirect_chain[-1][0] == page_url(lead) and "nothing to convert" in again.content.decode()
    assert client.post(f"/admin/leads/lead/{lead.pk}/log/", {"kind": "note", "body": "late"}).status_code == 403


def test_a_rep_cannot_hand_a_lead_to_a_colleague_from_the_form(client, tenant, rep, lead):
    colleague = UserFactory(tenant=tenant, username="carl")
    client.force_login(rep)
    form = client.get(page_url(lead)).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, (dict, list))}
    data.update({"owner": colleague.pk, "custom_fields": "{}"})
    for prefix in [fs.formset.prefix for fs in client.get(page_url(lead)).context["inline_admin_formsets"]]:
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})

    response = client.post(page_url(lead), data)

    assert response.status_code == 200
    assert "Reps assign leads to themselves only" in response.content.decode()
    lead.refresh_from_db()
    assert lead.owner == rep


def test_disqualifying_from_the_form_without_a_reason_shows_the_lifecycles_refusal(client, rep, lead):
    client.force_login(rep)
    form = client.get(page_url(lead)).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, (dict, list))}
    data.update({"status": LeadStatus.DISQUALIFIED, "disqualification_reason": "  ", "custom_fields": "{}"})
    for prefix in [fs.formset.prefix for fs in client.get(page_url(lead)).context["inline_admin_formsets"]]:
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})

    response = client.post(page_url(lead), data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["disqualification_reason"] == ["Say why the lead is disqualified: a reason is required."]
    lead.refresh_from_db()
    assert (lead.status, lead.disqualification_reason) == (LeadStatus.NEW, "")
    assert not Activity.objects.filter(lead=lead).exists()
