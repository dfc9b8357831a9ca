"""A manager builds a three-step sequence in the admin, enrols leads from the list, and sees how it does."""

import json

import pytest
from django.core import mail

from leads.models import Enrolment, Lead, Sequence
from leads.nurture import service
from leads.nurture_models import ExitReason, NurtureStatus
from tests.factories import LeadFactory

from .support import three_step_sequence

pytestmark = pytest.mark.django_db


def steps_data(*steps):
    data = {"steps-TOTAL_FORMS": str(len(steps)), "steps-INITIAL_FORMS": "0", "steps-MIN_NUM_FORMS": "0",
            "steps-MAX_NUM_FORMS": "1000"}
    for i, (kind, settings_) in enumerate(steps):
        data |= {f"steps-{i}-position": str(i + 1), f"steps-{i}-kind": kind, f"steps-{i}-settings": json.dumps(settings_)}
    return data


def test_a_manager_builds_a_sequence_enrols_leads_and_the_emails_go(client, manager, tenant, run):
    client.force_login(manager)
    response = client.post("/admin/leads/sequence/add/", {
        "name": "Cold web leads", "description": "", "active": "on",
        **steps_data(("email", {"subject": "Hi {{ lead.first_name }}", "body": "Welcome"}),
                     ("wait", {"days": 3}),
                     ("email", {"subject": "Checking in", "body": "Any questions?"})),
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    sequence = Sequence.objects.get(tenant=tenant)
    assert list(sequence.steps.values_list("kind", flat=True)) == ["email", "wait", "email"]

    lead = LeadFactory(tenant=tenant, first_name="Grace")
    response = client.post("/admin/leads/lead/", {"action": "enrol_in_sequence", "_selected_action": [lead.pk],
                                                  "apply": "yes", "sequence": sequence.pk}, follow=True)
    assert "Enrolled 1 lead in Cold web leads." in response.content.decode()
    lead.refresh_from_db()
    assert lead.nurture_status == NurtureStatus.ACTIVE

    run()
    assert [m.subject for m in mail.outbox] == ["Hi Grace"]
    page = client.get("/admin/leads/sequence/").content.decode()
    assert "Cold web leads" in page
    assert client.get(f"/admin/leads/lead/{lead.pk}/change/").status_code == 200
    assert client.get("/admin/leads/lead/?nurture_status__exact=active").status_code == 200


def test_a_step_with_bad_settings_is_a_form_error(client, manager):
    client.force_login(manager)
    response = client.post("/admin/leads/sequence/add/", {
        "name": "Broken", "active": "on", **steps_data(("wait", {"weeks": 2})),
    })
    assert response.status_code == 200
    assert "Unknown settings for a wait step: weeks." in response.content.decode()
    assert not Sequence.objects.exists()
    assert Lead.objects.count() == 0


def test_the_lead_list_pauses_resumes_and_removes_leads(client, manager, tenant):
    sequence = three_step_sequence(tenant)
    lead = LeadFactory(tenant=tenant, first_name="Grace")
    idle = LeadFactory(tenant=tenant, first_name="Idle")
    service.enrol_lead(lead=lead, sequence=sequence, actor=None)
    client.force_login(manager)

    def act(action, *leads):
        response = client.post("/admin/leads/lead/", {"action": action, "_selected_action": [x.pk for x in leads]},
                               follow=True)
        return response.content.decode()

    assert "Paused nurture of 1 lead." in act("pause_nurture", lead)
    lead.refresh_from_db()
    assert lead.nurture_status == NurtureStatus.PAUSED
    page = act("pause_nurture", lead)
    assert "Not changed:" in page and "Only an active enrolment is paused" in page
    assert "Resumed nurture of 1 lead." in act("resume_nurture", lead)
    lead.refresh_from_db()
    assert lead.nurture_status == NurtureStatus.ACTIVE
    page = act("remove_from_nurture", lead, idle)
    assert "Removed from nurture: 1 lead." in page and "Not in a sequence (not_enrolled)." in page
    lead.refresh_from_db()
    assert lead.nurture_status == NurtureStatus.EXITED
    assert Enrolment.objects.get(lead=lead).exit_reason == ExitReason.REMOVED


def _figures(page: str, name: str) -> dict[str, str]:
    import re

    row = next(row for row in re.findall(r"<tr>.*?</tr>", page, re.S) if f">{name}</a>" in row)
    return dict(re.findall(r'<td class="field-(\w+)">([^<]*)</td>', row))


def test_the_sequence_list_counts_each_sequences_sends_opens_and_clicks(client, manager, tenant, run,
                                                                         django_assert_max_num_queries):
    from crm.models import Activity
    from leads.models import StepRun

    cold, warm = three_step_sequence(tenant), three_step_sequence(tenant, name="Warm web leads")
    ada, bob, cy, dee = (LeadFactory(tenant=tenant, first_name=name) for name in ("Ada", "Bob", "Cy", "Dee"))
    for lead in (ada, bob, cy):
        service.enrol_lead(lead=lead, sequence=cold, actor=None)
    service.enrol_lead(lead=dee, sequence=warm, actor=None)
    run()
    sent = {run_.lead_id: run_ for run_ in StepRun.objects.filter(step__kind="email")}
    for lead, kind in ((ada, "email_opened"), (ada, "email_opened"), (ada, "email_clicked"), (bob, "email_opened")):
        Activity.objects.create(tenant=tenant, lead=lead, kind=kind, data={"nurture_run": sent[lead.pk].pk})
    client.force_login(manager)

    page = client.get("/admin/leads/sequence/").content.decode()

    assert _figures(page, "Cold web leads").items() >= {"enrolled": "3", "emails_sent": "3", "opened": "2", "clicked": "1"}.items()
    assert _figures(page, "Warm web leads").items() >= {"enrolled": "1", "emails_sent": "1", "opened": "0", "clicked": "0"}.items()
    # A page of sequences is a fixed number of queries, however many sequences it lists.
    for n in range(8):
        three_step_sequence(tenant, name=f"Sequence {n}")
    with django_assert_max_num_queries(12):
        client.get("/admin/leads/sequence/")
