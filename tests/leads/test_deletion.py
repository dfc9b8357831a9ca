"""Deleting a lead: managers only, with a reason, an audit event, and the contact's history kept."""

import pytest

from crm.access import AccessDenied
from crm.choices import ActivityKind, EventType
from crm.models import Activity, Event
from leads.deletion import DeletionError, delete_lead
from leads.models import Lead
from tests.api_ids import api_id
from tests.factories import ActivityFactory, LeadFactory

pytestmark = pytest.mark.django_db


def converted_lead(tenant, manager):
    lead = LeadFactory(tenant=tenant, email="kept@example.com", owner=manager)
    ActivityFactory(lead=lead, kind=ActivityKind.CALL, body="First call")
    result = Lead.objects.convert(lead=lead, actor=manager)
    return Lead.objects.get(pk=lead.pk), result


def test_deleting_a_converted_lead_keeps_the_timeline_its_contact_shows(tenant, manager):
    lead, result = converted_lead(tenant, manager)
    on_contact = set(Activity.objects.filter(contact_id=result.contact_id).values_list("pk", flat=True))
    assert on_contact, "the conversion moved the timeline onto the contact"

    deleted = delete_lead(lead=lead, actor=manager, reason="Duplicate of another lead")

    assert not Lead.objects.filter(pk=lead.pk).exists()
    assert set(Activity.objects.filter(contact_id=result.contact_id).values_list("pk", flat=True)) == on_contact
    assert deleted.kept_entries == len(on_contact)
    event = Event.objects.get(type=EventType.LEAD_DELETED)
    assert event.payload["lead_id"] == api_id(lead) and event.payload["reason"] == "Duplicate of another lead"
    assert event.payload["actor_id"] == api_id(manager)


def test_a_lead_only_entry_goes_with_the_lead(tenant, manager):
    lead = LeadFactory(tenant=tenant)
    own = ActivityFactory(lead=lead, kind=ActivityKind.NOTE)

    delete_lead(lead=lead, actor=manager, reason="Test entry")

    assert not Activity.objects.filter(pk=own.pk).exists()


def test_even_a_plain_delete_keeps_the_contacts_history(tenant, manager):
    lead, result = converted_lead(tenant, manager)
    before = Activity.objects.filter(contact_id=result.contact_id).count()

    Lead.objects.filter(pk=lead.pk).delete()  # the database's last guard, whatever the door

    assert Activity.objects.filter(contact_id=result.contact_id).count() == before


def test_a_reason_is_required_and_nothing_is_deleted_without_one(tenant, manager):
    lead = LeadFactory(tenant=tenant)

    with pytest.raises(DeletionError, match="a reason is required"):
        delete_lead(lead=lead, actor=manager, reason="  ")

    assert Lead.objects.filter(pk=lead.pk).exists()
    assert not Event.objects.filter(type=EventType.LEAD_DELETED).exists()


def test_a_rep_may_not_delete_even_their_own_lead(tenant, rep):
    lead = LeadFactory(tenant=tenant, owner=rep)

    with pytest.raises(AccessDenied, match="for managers"):
        delete_lead(lead=lead, actor=rep, reason="Mine")

    assert Lead.objects.filter(pk=lead.pk).exists()


def test_the_admin_delete_asks_for_a_reason_and_keeps_the_contacts_history(client, tenant, manager):
    lead, result = converted_lead(tenant, manager)
    before = Activity.objects.filter(contact_id=result.contact_id).count()
    client.force_login(manager)
    url = f"/admin/leads/lead/{lead.pk}/delete/"

    page = client.get(url)
    assert page.status_code == 200 and "reason" in page.content.decode()
    missing = client.post(url, {"apply": "yes", "reason": ""})
    assert missing.status_code == 200 and "a reason is required" in missing.content.decode()
    assert Lead.objects.filter(pk=lead.pk).exists()

    done = client.post(url, {"apply": "yes", "reason": "Duplicate"})

    assert done.status_code == 302
    assert not Lead.objects.filter(pk=lead.pk).exists()
    assert Activity.objects.filter(contact_id=result.contact_id).count() == before
    assert Event.objects.get(type=EventType.LEAD_DELETED).payload["reason"] == "Duplicate"


def test_the_list_offers_delete_with_a_reason_not_djangos_delete(client, tenant, manager):
    leads = [LeadFactory(tenant=tenant) for _ in range(2)]
    client.force_login(manager)
    page = client.get("/admin/leads/lead/").content.decode()
    assert 'value="delete_leads"' in page and 'value="delete_selected"' not in page

    response = client.post("/admin/leads/lead/", {"action": "delete_leads", "apply": "yes", "reason": "Test data",
                                                  "_selected_action": [lead.pk for lead in leads]})

    assert response.status_code == 302
    assert not Lead.objects.filter(pk__in=[lead.pk for lead in leads]).exists()
    assert Event.objects.filter(type=EventType.LEAD_DELETED).count() == 2


def test_a_rep_gets_no_delete_in_the_admin(client, tenant, rep):
    lead = LeadFactory(tenant=tenant, owner=rep)
    client.force_login(rep)

    assert client.get(f"/admin/leads/lead/{lead.pk}/delete/").status_code == 403
    assert 'value="delete_leads"' not in client.get("/admin/leads/lead/").content.decode()
