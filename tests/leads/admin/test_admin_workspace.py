"""The lead page as a rep's workspace (issue 19): the quick log keeps what was typed, plain words, numbers."""

import re

import pytest

from crm.models import Activity
from tests.factories import LeadFactory


@pytest.fixture
def lead(tenant, rep):
    return LeadFactory(tenant=tenant, first_name="Ada", last_name="Lovelace", company="Engines Ltd", owner=rep,
                       annual_revenue=310_000_000, employee_count=12500, score_version="3f9a0c1d2e", score_total=72,
                       score_band="hot", probability=0.4, prediction_version="", recommendation="continue_qualification")


def page_url(lead) -> str:
    return f"/admin/leads/lead/{lead.pk}/change/"


def _input_value(html: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    value = re.search(r'value="([^"]*)"', match.group(0)) if match else None
    return value.group(1) if value else None


def test_a_task_without_a_due_date_keeps_what_was_typed(client, rep, lead):
    client.force_login(rep)

    response = client.post(f"/admin/leads/lead/{lead.pk}/log/", {
        "kind": "task", "subject": "Send the proposal", "body": "Pricing for 12 seats",
    }, follow=True)

    html = response.content.decode()
    assert not Activity.objects.filter(lead=lead).exists()
    assert "A task needs a due date." in html
    assert _input_value(html, "subject") == "Send the proposal"  # not thrown away
    assert "Pricing for 12 seats</textarea>" in html
    # the error sits by the due-date field, and the next visit starts clean
    assert re.search(r'crm-quick-error[^>]*>[^<]*A task needs a due date', html)
    again = client.get(page_url(lead)).content.decode()
    assert _input_value(again, "subject") in (None, "")


def test_the_score_panel_speaks_plain_words(client, rep, lead):
    client.force_login(rep)

    html = client.get(page_url(lead)).content.decode()

    panel = re.search(r'<div class="crm-score-panel">.*?</div></div>', html, re.S).group(0)
    assert "3f9a0c1d2e" not in html  # no rule-set hash anywhere
    assert "model -" not in panel and "predicted by model" not in panel


def test_money_and_headcount_are_formatted_in_the_header(client, rep, lead):
    client.force_login(rep)

    html = client.get(page_url(lead)).content.decode()

    header = re.search(r'<header class="crm-lead-header".*?</header>', html, re.S).group(0)
    assert "Ada Lovelace" in header and "Engines Ltd" in header and "72 hot" in header
    assert "$310 M" in header and "12,500 employees" in header
    assert "310000000.00" not in html


def test_saved_views_are_one_click_filters_of_open_leads(client, tenant, rep):
    import datetime as dt

    from django.utils import timezone

    now = timezone.now()
    mine_hot = LeadFactory(tenant=tenant, first_name="Mine", owner=rep, score_band="hot", last_activity_at=now)
    LeadFactory(tenant=tenant, first_name="Mywarm", owner=rep, score_band="warm", last_activity_at=now)
    LeadFactory(tenant=tenant, first_name="Lost", owner=rep, score_band="hot", status="disqualified",
                disqualification_reason="no budget", created_at=now - dt.timedelta(days=3))
    nobodys = LeadFactory(tenant=tenant, first_name="Nobodys", owner=None, last_activity_at=now)
    stale = LeadFactory(tenant=tenant, first_name="Stale", owner=rep, created_at=now - dt.timedelta(days=2),
                        last_activity_at=now - dt.timedelta(hours=30))
    never = LeadFactory(tenant=tenant, first_name="Never", owner=rep, created_at=now - dt.timedelta(days=2),
                        last_activity_at=None)
    LeadFactory(tenant=tenant, first_name="Fresh", owner=rep, created_at=now - dt.timedelta(hours=2),
                last_activity_at=None)  # new today: not untouched for 24 h yet
    client.force_login(rep)

    def shown(view):
        html = client.get(f"/admin/leads/lead/?view={view}").content.decode()
        return set(re.findall(r'href="/admin/leads/lead/(\d+)/change/"', html))

    home = client.get("/admin/leads/lead/").content.decode()
    for label in ("My hot leads", "Unassigned", "Untouched for 24 h"):
        assert f">{label}</a>" in home
    assert "<h1>Leads</h1>" in home and "Select lead to change" not in home
    assert shown("my-hot") == {str(mine_hot.pk)}
    assert shown("unassigned") == {str(nobodys.pk)}
    assert shown("untouched-24h") == {str(stale.pk), str(never.pk)}


def test_a_read_only_lead_shows_numbers_formatted_and_no_empty_rows(client, tenant, rep):
    lead = LeadFactory(tenant=tenant, first_name="Grace", owner=rep, status="disqualified",
                       disqualification_reason="No budget", annual_revenue=310_000_000, employee_count=12500,
                       phone="", job_title="")
    client.force_login(rep)

    html = client.get(page_url(lead)).content.decode()

    assert "$310 M" in html and "12,500" in html
    assert "310000000" not in html
    assert "field-phone" not in html and "field-job_title" not in html  # empty: left out, not "-"


def test_the_headers_disqualify_asks_the_reason_and_comes_back_to_the_lead(client, rep, lead):
    client.force_login(rep)
    html = client.get(page_url(lead)).content.decode()
    header = re.search(r'<header class="crm-lead-header".*?</header>', html, re.S).group(0)
    assert 'value="disqualify_leads"' in header and f'name="_from_lead" value="{lead.pk}"' in header
    posted = {"action": "disqualify_leads", "index": "0", "select_across": "0", "_selected_action": str(lead.pk),
              "_from_lead": str(lead.pk)}

    asked = client.post("/admin/leads/lead/", posted).content.decode()
    assert 'name="reason"' in asked and f'name="_from_lead" value="{lead.pk}"' in asked

    confirm = {name: value for name, value in posted.items() if name != "index"}  # as the reason page posts
    done = client.post("/admin/leads/lead/", {**confirm, "apply": "yes", "reason": "No budget"})
    assert done.status_code == 302 and done["Location"] == page_url(lead)
    lead.refresh_from_db()
    assert (lead.status, lead.disqualification_reason) == ("disqualified", "No budget")


def test_an_unassigned_lead_offers_assign_to_me_in_the_header(client, tenant, rep):
    unassigned = LeadFactory(tenant=tenant, first_name="Nobodys", owner=None)
    client.force_login(rep)

    header = re.search(r'<header class="crm-lead-header".*?</header>',
                       client.get(page_url(unassigned)).content.decode(), re.S).group(0)
    assert 'value="assign_to_me"' in header
    done = client.post("/admin/leads/lead/", {"action": "assign_to_me", "index": "0", "select_across": "0",
                                              "_selected_action": str(unassigned.pk), "_from_lead": str(unassigned.pk)})
    assert done.status_code == 302 and done["Location"] == page_url(unassigned)
    unassigned.refresh_from_db()
    assert unassigned.owner == rep


def test_the_header_enrols_the_lead_in_nurture_then_offers_pause_and_resume(client, tenant, rep, lead):
    # Issue 16: enrolment by hand from the lead page too, and back to the lead afterwards.
    from leads.nurture_models import NurtureStatus
    from tests.leads.nurture.support import three_step_sequence

    sequence = three_step_sequence(tenant)
    client.force_login(rep)
    header = re.search(r'<header class="crm-lead-header".*?</header>', client.get(page_url(lead)).content.decode(),
                       re.S).group(0)
    assert 'value="enrol_in_sequence"' in header and 'value="pause_nurture"' not in header
    posted = {"action": "enrol_in_sequence", "select_across": "0", "_selected_action": str(lead.pk),
              "_from_lead": str(lead.pk)}
    asked = client.post("/admin/leads/lead/", {**posted, "index": "0"}).content.decode()
    assert 'name="sequence"' in asked and f'name="_from_lead" value="{lead.pk}"' in asked

    done = client.post("/admin/leads/lead/", {**posted, "apply": "yes", "sequence": str(sequence.pk)})

    assert done.status_code == 302 and done["Location"] == page_url(lead)
    lead.refresh_from_db()
    assert (lead.nurture_status, lead.current_sequence) == (NurtureStatus.ACTIVE, sequence)
    header = re.search(r'<header class="crm-lead-header".*?</header>', client.get(page_url(lead)).content.decode(),
                       re.S).group(0)
    assert 'value="pause_nurture"' in header and 'value="enrol_in_sequence"' not in header
    paused = client.post("/admin/leads/lead/", {**posted, "action": "pause_nurture", "index": "0"})
    assert paused.status_code == 302 and paused["Location"] == page_url(lead)
    lead.refresh_from_db()
    assert lead.nurture_status == NurtureStatus.PAUSED
    header = re.search(r'<header class="crm-lead-header".*?</header>', client.get(page_url(lead)).content.decode(),
                       re.S).group(0)
    assert 'value="resume_nurture"' in header


def test_a_new_lead_form_asks_only_for_what_can_be_typed(client, rep):
    client.force_login(rep)

    html = client.get("/admin/leads/lead/add/").content.decode()

    assert 'name="first_name"' in html and 'name="email"' in html
    for nothing_yet in ("Assigned at", "Qualified at", "Last activity at", "Occurred at"):
        assert nothing_yet not in html  # empty read-only rows and an empty timeline say nothing on a new lead
    assert "Log an activity" in html  # a first call or note can be logged with the lead
