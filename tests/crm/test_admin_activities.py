"""The activity admin shows a rep the timeline of their own and unassigned leads only, as the lead list does."""

import datetime as dt

import pytest

from crm.choices import ActivityKind
from crm.models import Activity
from tests.factories import ActivityFactory, ContactFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def timeline(tenant, rep, manager):
    colleague = UserFactory(tenant=tenant, username="carl")
    leads = {
        "mine": LeadFactory(tenant=tenant, owner=rep),
        "free": LeadFactory(tenant=tenant, owner=None),
        "carls": LeadFactory(tenant=tenant, owner=colleague),
    }
    for name, lead in leads.items():
        ActivityFactory(tenant=tenant, lead=lead, kind=ActivityKind.NOTE, subject=f"note on {name} lead")
    return leads


def test_a_rep_sees_no_entry_of_a_colleagues_lead(client, rep, timeline):
    client.force_login(rep)

    html = client.get("/admin/crm/activity/").content.decode()

    assert "note on mine lead" in html and "note on free lead" in html
    assert "note on carls lead" not in html
    carls_note = Activity.objects.get(subject="note on carls lead")
    assert client.get(f"/admin/crm/activity/{carls_note.pk}/change/", follow=True).redirect_chain[-1][0] == "/admin/"


def test_a_manager_sees_the_whole_workspace_timeline(client, manager, timeline):
    client.force_login(manager)

    html = client.get("/admin/crm/activity/").content.decode()

    assert all(f"note on {name} lead" in html for name in ("mine", "free", "carls"))


def test_a_rep_cannot_log_an_entry_on_a_colleagues_lead_by_its_id(client, rep, timeline):
    client.force_login(rep)

    response = client.post("/admin/crm/activity/add/", {
        "kind": ActivityKind.CALL, "subject": "sneaky call", "body": "", "lead": timeline["carls"].pk,
        "occurred_at_0": "2026-11-22", "occurred_at_1": "10:00:00",
    })

    assert response.status_code == 200  # the form again, with the error on the lead field
    assert "lead" in response.context["adminform"].form.errors
    assert not Activity.objects.filter(subject="sneaky call").exists()


def activity_form(activity, **overrides):
    return {
        "kind": activity.kind, "subject": activity.subject, "body": activity.body,
        "lead": activity.lead_id or "", "contact": activity.contact_id or "", "deal": activity.deal_id or "",
        "occurred_at_0": "2026-11-22", "occurred_at_1": "10:00:00", "due_at_0": "", "due_at_1": "",
        "done_at_0": "", "done_at_1": "", **overrides,
    }


def test_a_rep_cannot_edit_a_note_someone_else_logged(client, rep, manager, timeline):
    note = ActivityFactory(lead=timeline["mine"], actor=manager, subject="manager's note", body="as said")
    client.force_login(rep)

    response = client.post(f"/admin/crm/activity/{note.pk}/change/", activity_form(note, body="rewritten"))

    assert response.status_code == 403
    note.refresh_from_db()
    assert note.body == "as said"
    page = client.get(f"/admin/crm/activity/{note.pk}/change/")
    assert page.status_code == 200 and 'name="body"' not in page.content.decode()  # she may read it


def test_a_rep_edits_her_own_note_but_cannot_move_it_onto_a_colleagues_contact(client, tenant, rep, timeline):
    note = ActivityFactory(lead=timeline["mine"], actor=rep, subject="my note", body="first")
    theirs = ContactFactory(tenant=tenant, owner=UserFactory(tenant=tenant, username="cora"))
    client.force_login(rep)

    moved = client.post(f"/admin/crm/activity/{note.pk}/change/", activity_form(note, contact=theirs.pk))
    edited = client.post(f"/admin/crm/activity/{note.pk}/change/", activity_form(note, body="second"))

    assert moved.status_code == 200 and "contact" in moved.context["adminform"].form.errors
    assert edited.status_code == 302
    note.refresh_from_db()
    assert (note.contact_id, note.body) == (None, "second")


def test_a_manager_edits_anyones_note(client, rep, manager, timeline):
    note = ActivityFactory(lead=timeline["carls"], actor=rep, subject="rep's note", body="draft")
    client.force_login(manager)

    response = client.post(f"/admin/crm/activity/{note.pk}/change/", activity_form(note, body="tidied"))

    assert response.status_code == 302
    note.refresh_from_db()
    assert note.body == "tidied"


def test_a_call_logged_from_the_activities_page_counts_on_the_lead_as_one_from_its_page_would(client, rep, timeline):
    lead = timeline["mine"]
    lead.__class__.objects.filter(pk=lead.pk).update(last_activity_at=None, first_contacted_at=None,
                                                     created_at=dt.datetime(2026, 11, 20, 9, tzinfo=dt.timezone.utc))
    client.force_login(rep)

    response = client.post("/admin/crm/activity/add/", {
        "kind": ActivityKind.CALL, "subject": "Intro call", "body": "", "lead": lead.pk,
        "occurred_at_0": "2026-11-22", "occurred_at_1": "10:00:00",
    })

    assert response.status_code == 302, response.context["adminform"].form.errors
    lead.refresh_from_db()
    call = Activity.objects.get(subject="Intro call")
    assert call.actor == rep
    assert lead.last_activity_at == call.occurred_at  # the lead list's "last activity" and "untouched" views
    assert lead.first_contacted_at == call.occurred_at  # the dashboard's time to first contact
