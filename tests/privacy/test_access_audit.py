"""Every read of personal data leaves one append-only access record (issue 17, docs/privacy.md)."""

import pytest
from django.urls import reverse

from crm.choices import Role
from crm.models import AccessRecord
from crm.privacy_models import AppendOnly
from tests.api_ids import api_id
from tests.conftest import api_client_for
from tests.factories import CompanyFactory, ContactFactory, DealFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_lead_list_leaves_one_record_naming_the_page_and_filter(api, manager, tenant):
    leads = [LeadFactory(tenant=tenant, status="new") for _ in range(3)]
    response = api.get("/api/v1/leads/?status=new&limit=2", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200
    record = AccessRecord.objects.get()
    assert (record.user, record.door, record.model, record.count) == (manager, "api", "leads.lead", 2)
    assert record.address == "203.0.113.9"
    assert record.query == "status=new&limit=2"
    shown = {item["id"] for item in response.json()["items"]}
    assert set(record.object_ids.split()) == shown
    assert shown <= {api_id(lead) for lead in leads}


def test_lead_detail_is_recorded_and_a_404_is_not(api, manager, tenant):
    lead = LeadFactory(tenant=tenant)
    assert api.get(f"/api/v1/leads/{api_id(lead)}/").status_code == 200
    assert api.get("/api/v1/leads/00000000-0000-7000-8000-000000000000/").status_code == 404
    record = AccessRecord.objects.get()
    assert (record.model, record.object_ids, record.count, record.door) == ("leads.lead", api_id(lead), 1, "api")


@pytest.mark.parametrize("factory,path,label", [
    (ContactFactory, "contacts", "contacts.contact"),
    (CompanyFactory, "companies", "contacts.company"),
    (DealFactory, "deals", "contacts.deal"),
])
def test_contact_company_deal_reads_are_recorded(api, tenant, factory, path, label):
    row = factory(tenant=tenant)
    assert api.get(f"/api/v1/{path}/").status_code == 200
    assert api.get(f"/api/v1/{path}/{api_id(row)}/").status_code == 200
    records = list(AccessRecord.objects.order_by("id"))
    assert [(r.model, r.object_ids) for r in records] == [(label, api_id(row)), (label, api_id(row))]


def test_a_write_is_not_a_read(api, tenant):
    lead = LeadFactory(tenant=tenant)
    api.patch(f"/api/v1/leads/{api_id(lead)}/", {"job_title": "CTO"}, format="json")
    assert not AccessRecord.objects.exists()


def test_admin_change_page_and_list_are_recorded(client, manager, tenant):
    lead = LeadFactory(tenant=tenant)
    client.force_login(manager)
    assert client.get(reverse("admin:leads_lead_change", args=[lead.pk])).status_code == 200
    assert client.get(reverse("admin:leads_lead_changelist") + "?status__exact=new").status_code == 200
    change, listing = AccessRecord.objects.order_by("id")
    assert (change.door, change.model, change.object_ids) == ("admin", "leads.lead", api_id(lead))
    assert listing.door == "admin" and listing.query == "status__exact=new"


def test_csv_export_records_every_exported_lead(client, manager, tenant):
    leads = [LeadFactory(tenant=tenant) for _ in range(3)]
    client.force_login(manager)
    response = client.post(reverse("admin:leads_lead_changelist"), {
        "action": "export_selected_csv", "_selected_action": [lead.pk for lead in leads],
    })
    assert response.status_code == 200
    b"".join(response.streaming_content)
    record = AccessRecord.objects.get(door="export")
    assert record.count == 3 and set(record.object_ids.split()) == {api_id(lead) for lead in leads}


def test_records_are_append_only(api, tenant):
    LeadFactory(tenant=tenant)
    api.get("/api/v1/leads/")
    record = AccessRecord.objects.get()
    with pytest.raises(AppendOnly):
        record.save()
    with pytest.raises(AppendOnly):
        record.delete()


def test_workspace_admin_searches_by_person_and_nobody_edits(client, tenant, manager):
    admin_user = UserFactory(tenant=tenant, role=Role.ADMIN, is_staff=True)
    lead = LeadFactory(tenant=tenant, email="zebulon@example.org")
    other = LeadFactory(tenant=tenant, email="someone@example.org")
    api_client_for(manager).get(f"/api/v1/leads/{api_id(lead)}/")
    api_client_for(manager).get(f"/api/v1/leads/{api_id(other)}/")
    client.force_login(admin_user)
    url = reverse("admin:crm_accessrecord_changelist")
    page = client.get(url, {"q": "zebulon@example.org"})
    assert page.status_code == 200
    assert [r.object_ids for r in page.context["cl"].result_list] == [api_id(lead)]
    record = AccessRecord.objects.first()
    assert client.post(reverse("admin:crm_accessrecord_delete", args=[record.pk]), {"post": "yes"}).status_code == 403
    assert AccessRecord.objects.count() == 2
    client.force_login(manager)  # a manager is not a workspace admin
    assert client.get(url).status_code == 403


def test_activity_reads_are_recorded(api, tenant):
    lead = LeadFactory(tenant=tenant)
    note = api.post("/api/v1/activities", {"kind": "note", "subject": "Called", "lead": api_id(lead)}, format="json")
    assert note.status_code == 201, note.content
    note_id = note.json()["id"]
    assert not AccessRecord.objects.exists()  # logging one is a write

    assert api.get("/api/v1/activities/?kind=note").status_code == 200
    assert api.get(f"/api/v1/activities/{note_id}/").status_code == 200

    listing, detail = AccessRecord.objects.order_by("id")
    assert (listing.model, listing.query, detail.model, detail.object_ids) == (
        "crm.activity", "kind=note", "crm.activity", note_id)
    assert note_id in listing.object_ids.split()


def test_user_reads_are_recorded_and_me_and_a_change_are_not(api, manager, tenant):
    colleague = UserFactory(tenant=tenant, role=Role.REP, email="rita@example.com")

    listed = api.get("/api/v1/users/?role=rep")
    shown = api.get(f"/api/v1/users/{api_id(colleague)}/")

    assert listed.status_code == 200 and shown.status_code == 200
    listing, detail = AccessRecord.objects.order_by("id")
    assert (listing.door, listing.model, listing.query, listing.user) == ("api", "crm.user", "role=rep", manager)
    assert api_id(colleague) in listing.object_ids.split()
    assert (detail.model, detail.object_ids) == ("crm.user", api_id(colleague))

    assert api.get("/api/v1/users/me/").status_code == 200  # one's own user is no one else's data
    assert api.patch(f"/api/v1/users/{api_id(colleague)}/", {"first_name": "Rita"}, format="json").status_code == 200
    assert AccessRecord.objects.count() == 2


@pytest.mark.parametrize("factory,model", [
    (ContactFactory, "contact"),
    (CompanyFactory, "company"),
    (DealFactory, "deal"),
])
def test_contact_company_deal_admin_pages_are_recorded(client, manager, tenant, factory, model):
    row = factory(tenant=tenant)
    client.force_login(manager)

    assert client.get(reverse(f"admin:contacts_{model}_change", args=[row.pk])).status_code == 200
    assert client.get(reverse(f"admin:contacts_{model}_changelist") + "?q=x").status_code == 200

    change, listing = AccessRecord.objects.order_by("id")
    assert (change.door, change.model, change.object_ids, change.user) == (
        "admin", f"contacts.{model}", api_id(row), manager)
    assert (listing.door, listing.model, listing.query) == ("admin", f"contacts.{model}", "q=x")
