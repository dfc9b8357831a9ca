"""A scoring rule saved or deleted in the admin rescores the workspace's leads on the engine."""

import pytest

from leads.models import BackgroundWork, Lead, ScoringRule
from leads.rules.rescoring import rescore_workspace
from leads.rules.scoring import rescore_lead
from leads.rules.sheet import rule_sheet
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

RULE = {"name": "Big", "category": "firmographic", "field": "employee_count", "operator": "gt", "value": "500",
        "active": "on"}


def test_adding_a_rule_in_the_admin_rescores_existing_leads(client, manager, tenant, django_capture_on_commit_callbacks):
    big = rescore_lead(lead=LeadFactory(tenant=tenant, employee_count=900))
    small = rescore_lead(lead=LeadFactory(tenant=tenant, employee_count=10))
    assert big.score_total == 0
    client.force_login(manager)

    with django_capture_on_commit_callbacks(execute=True):  # the queued task runs in-process in tests
        response = client.post("/admin/leads/scoringrule/add/", {**RULE, "points": "30"}, follow=True)

    assert "rescored in the background" in response.content.decode()
    assert Lead.objects.get(pk=big.pk).score_total == 30
    assert Lead.objects.get(pk=small.pk).score_total == 0


def test_deleting_a_rule_in_the_admin_takes_its_points_away(client, manager, tenant, django_capture_on_commit_callbacks):
    rule = ScoringRule.objects.create(tenant=tenant, **{**RULE, "active": True}, points=30)
    big = rescore_lead(lead=LeadFactory(tenant=tenant, employee_count=900))
    assert big.score_total == 30
    client.force_login(manager)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/leads/scoringrule/{rule.pk}/delete/", {"post": "yes"})

    assert Lead.objects.get(pk=big.pk).score_total == 0


def test_a_rescore_queued_for_older_rules_gives_way_to_the_later_one(tenant):
    lead = rescore_lead(lead=LeadFactory(tenant=tenant, employee_count=900))
    queued_for = rule_sheet(tenant.pk).version
    ScoringRule.objects.create(tenant=tenant, **{**RULE, "active": True}, points=30)  # a later edit queues its own

    assert rescore_workspace(tenant_id=tenant.pk, sheet_version=queued_for) == "superseded by a later rule change"
    assert Lead.objects.get(pk=lead.pk).score_total == 0
    assert rescore_workspace(tenant_id=tenant.pk, sheet_version=rule_sheet(tenant.pk).version).startswith("1 leads")
    assert Lead.objects.get(pk=lead.pk).score_total == 30


def test_a_queued_rescore_records_its_progress_for_managers(client, manager, tenant, django_capture_on_commit_callbacks):
    for size in (900, 10, 600):
        rescore_lead(lead=LeadFactory(tenant=tenant, employee_count=size))
    client.force_login(manager)

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/admin/leads/scoringrule/add/", {**RULE, "points": "30"})

    work = BackgroundWork.objects.get(tenant=tenant, kind="rescoring")
    assert (work.status, work.done, work.total, work.requested_by) == ("finished", 3, 3, manager)
    assert work.message.startswith("3 leads rescored")
    page = client.get("/admin/leads/backgroundwork/").content.decode()
    assert "3 of 3 (100%)" in page and "3 leads rescored" in page
