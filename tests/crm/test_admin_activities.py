"""The activity admin shows a rep the timeline of their own and unassigned leads only, as the lead list does."""

import pytest

from crm.choices import ActivityKind
from crm.models import Activity
from tests.factories import ActivityFactory, LeadFactory, UserFactory

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
