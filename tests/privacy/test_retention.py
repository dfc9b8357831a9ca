"""Retention: per-workspace policies applied by the nightly task; the admin's dry run shows the next run."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from crm.choices import Role
from crm.models import AccessRecord, Activity, Event
from leads.models import ImportJob, Lead
from leads.privacy.retention import months_before, retention_plan
from leads.tasks import apply_retention
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db
NOW = timezone.now()
LONG_AGO = NOW - dt.timedelta(days=800)


def old(lead, **fields):
    Lead.objects.filter(pk=lead.pk).update(updated_at=LONG_AGO, **fields)
    return lead


def test_the_nightly_run_anonymises_old_leads_clears_reports_and_deletes_access_records(tenant, manager):
    tenant.retain_disqualified_months, tenant.retain_inactive_months = 12, 24
    tenant.save()
    gone = old(LeadFactory(tenant=tenant, email="gone@example.org", first_name="Gideon", status="disqualified",
                           disqualification_reason="No budget"), closed_at=NOW - dt.timedelta(days=400))
    recent_no = LeadFactory(tenant=tenant, email="recent@example.org", status="disqualified",
                            disqualification_reason="No budget")
    idle = old(LeadFactory(tenant=tenant, email="idle@example.org", first_name="Idris"),
               last_activity_at=LONG_AGO, created_at=LONG_AGO)
    busy = LeadFactory(tenant=tenant, email="busy@example.org")
    Event.objects.create(tenant=tenant, type="LeadCreated", payload={"lead_id": str(gone.public_id),
                                                                     "email": "gone@example.org"})
    ImportJob.objects.create(tenant=tenant, file_name="a.csv", error_report="line,column,value,message\n2,x,y,z\n",
                             finished_at=NOW - dt.timedelta(days=31))
    kept_report = ImportJob.objects.create(tenant=tenant, file_name="b.csv", error_report="line\n3\n",
                                           finished_at=NOW - dt.timedelta(days=2))
    AccessRecord.objects.create(tenant=tenant, door="api", model="leads.lead", at=NOW - dt.timedelta(days=366))
    AccessRecord.objects.create(tenant=tenant, door="api", model="leads.lead")

    plan = retention_plan(tenant=tenant).counts()
    assert plan == {"disqualified leads to anonymise": 1, "inactive leads to anonymise": 1,
                    "import error reports to clear": 1, "access records to delete": 1}
    assert apply_retention()["acme"] == plan

    gone.refresh_from_db()
    idle.refresh_from_db()
    assert (gone.first_name, gone.status) == ("", "disqualified") and gone.email.endswith("@erased.invalid")
    assert idle.first_name == "" and idle.email.endswith("@erased.invalid")
    assert Lead.objects.filter(email__in=["recent@example.org", "busy@example.org"]).count() == 2
    assert "gone@example.org" not in str(Event.objects.get(type="LeadCreated").payload)
    assert Activity.objects.filter(lead=gone, kind="erased").exists()
    assert list(ImportJob.objects.exclude(error_report="")) == [kept_report]
    assert AccessRecord.objects.count() == 1
    assert retention_plan(tenant=tenant).counts() == dict.fromkeys(plan, 0), "a second run has nothing to do"
    assert recent_no and busy


def test_an_empty_policy_keeps_for_ever(tenant):
    tenant.retain_disqualified_months = tenant.retain_inactive_months = None
    tenant.retain_import_reports_days = tenant.retain_access_records_days = None
    tenant.save()
    old(LeadFactory(tenant=tenant, status="disqualified", disqualification_reason="x"), closed_at=LONG_AGO)
    assert set(retention_plan(tenant=tenant).counts().values()) == {0}


def test_months_before_is_calendar_months():
    at = dt.datetime(2026, 3, 31, 12, tzinfo=dt.UTC)
    assert months_before(at, 1) == dt.datetime(2026, 2, 28, 12, tzinfo=dt.UTC)
    assert months_before(at, 24) == dt.datetime(2024, 3, 31, 12, tzinfo=dt.UTC)


def test_the_admin_dry_run_shows_the_next_run_and_changes_nothing(client, tenant, manager):
    tenant.retain_disqualified_months = 12
    tenant.save()
    lead = old(LeadFactory(tenant=tenant, first_name="Gideon", status="disqualified", disqualification_reason="x"),
               closed_at=NOW - dt.timedelta(days=400))
    url = reverse("admin:leads_lead_retention")
    client.force_login(manager)
    assert client.get(url).status_code == 403
    client.force_login(UserFactory(tenant=tenant, role=Role.ADMIN, is_staff=True))
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["counts"]["disqualified leads to anonymise"] == 1 and "Gideon" in page.content.decode()
    lead.refresh_from_db()
    assert lead.first_name == "Gideon"


def test_the_dry_run_is_linked_from_the_admin_index_the_lead_list_and_the_workspace(client, tenant, manager):
    url = reverse("admin:leads_lead_retention")
    admin_user = UserFactory(tenant=tenant, role=Role.ADMIN, is_staff=True)
    # No role grants the workspace page (the platform's); a workspace admin given it sees the link there too.
    admin_user.user_permissions.add(*Permission.objects.filter(codename="view_tenant"))
    client.force_login(admin_user)

    index = client.get(reverse("admin:index")).content.decode()
    lead_list = client.get(reverse("admin:leads_lead_changelist")).content.decode()
    workspace = client.get(reverse("admin:crm_tenant_change", args=[tenant.pk])).content.decode()

    for page in (index, lead_list, workspace):
        assert f'href="{url}"' in page
    assert client.get(url).status_code == 200  # the link leads somewhere

    client.force_login(manager)  # not a workspace admin: no link on the index or the lead list (the page is a 403)
    assert f'href="{url}"' not in client.get(reverse("admin:index")).content.decode()
    assert f'href="{url}"' not in client.get(reverse("admin:leads_lead_changelist")).content.decode()
