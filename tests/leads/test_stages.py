"""leads/stages.py: document 004's stages on our lifecycle, and what the stage door adds to the lead API."""

import pytest
from django.core.management import call_command

from contacts.models import Deal
from crm.choices import ActivityKind, EventType
from crm.models import Activity, Event
from leads.choices import LeadStatus
from leads.conversion import LeadNotConvertible
from leads.lifecycle import TransitionError
from leads.models import Lead
from leads.stages import LOST_WITHOUT_REASON, lead_change_stage, stage_of, with_activity_count
from tests.api_ids import api_id
from tests.conftest import api_client_for
from tests.factories import ActivityFactory, LeadFactory

pytestmark = pytest.mark.django_db


def test_every_status_has_its_stage(tenant):
    stages = {status: stage_of(Lead(tenant=tenant, status=status)) for status in LeadStatus.values}

    assert stages == {"new": "new", "contacted": "contacted", "qualified": "qualified", "converted": "transferred",
                      "disqualified": "lost"}, "a new status needs its document 004 stage (leads/stages.py)"


def test_a_stage_change_is_a_status_change_with_its_entry_and_event(tenant, rep):
    lead = LeadFactory(tenant=tenant, owner=rep)

    lead_change_stage(lead=lead, stage="contacted", actor=rep, notes="Called back")

    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONTACTED
    entry = Activity.objects.get(lead=lead, kind=ActivityKind.STATUS_CHANGED)
    assert (entry.data, entry.actor, entry.body) == ({"from": "new", "to": "contacted"}, rep, "Called back")
    assert Event.objects.get(type=EventType.LEAD_STATUS_CHANGED).payload["to"] == "contacted"


def test_lost_disqualifies_with_the_reason_given_or_says_none_was(tenant, rep):
    told, untold = LeadFactory(tenant=tenant), LeadFactory(tenant=tenant)

    lead_change_stage(lead=told, stage="lost", actor=rep, reason="  Bought elsewhere ")
    lead_change_stage(lead=untold, stage="lost", actor=rep)

    told.refresh_from_db()
    untold.refresh_from_db()
    assert (told.status, told.disqualification_reason) == (LeadStatus.DISQUALIFIED, "Bought elsewhere")
    assert (untold.status, untold.disqualification_reason) == (LeadStatus.DISQUALIFIED, LOST_WITHOUT_REASON)


def test_lost_again_changes_nothing_even_from_a_stale_read(tenant, rep):
    lead = LeadFactory(tenant=tenant)
    stale = Lead.objects.get(pk=lead.pk)
    lead_change_stage(lead=lead, stage="lost", actor=rep, reason="No budget")

    again = lead_change_stage(lead=stale, stage="lost", actor=rep, reason="Another reason")

    assert (again.status, again.disqualification_reason) == (LeadStatus.DISQUALIFIED, "No budget")
    assert Event.objects.filter(type=EventType.LEAD_STATUS_CHANGED).count() == 1


def test_transferred_converts_through_the_conversion_service(tenant, manager):
    lead = LeadFactory(tenant=tenant, email="ada@engines.example", company="Engines")

    moved = lead_change_stage(lead=lead, stage="transferred", actor=manager)

    assert moved.status == LeadStatus.CONVERTED and stage_of(moved) == "transferred"
    assert moved.converted_deal == Deal.objects.get() and moved.converted_contact.email == "ada@engines.example"
    assert Event.objects.filter(type=EventType.LEAD_CONVERTED).count() == 1


@pytest.mark.parametrize(("stage", "error", "rule"), [
    ("transferred", LeadNotConvertible, "final_stage"),
    ("qualified", TransitionError, "final_stage"),
])
def test_a_lost_lead_stays_lost(tenant, rep, stage, error, rule):
    lead = LeadFactory(tenant=tenant, status=LeadStatus.DISQUALIFIED, disqualification_reason="No budget")

    with pytest.raises(error) as refused:
        lead_change_stage(lead=lead, stage=stage, actor=rep)

    assert refused.value.rule == rule
    assert not Deal.objects.exists()


def test_a_rep_moves_only_leads_they_may_change(tenant, rep, manager):
    theirs = LeadFactory(tenant=tenant, owner=manager)

    response = api_client_for(rep).patch(f"/api/v1/leads/{api_id(theirs)}/stage", {"stage": "lost"}, format="json")

    assert response.status_code == 404  # a colleague's lead is not theirs to see
    theirs.refresh_from_db()
    assert theirs.status == LeadStatus.NEW


# --- a workspace without the strict pipeline: its looser lifecycle, on this door as on every other ----


def test_without_the_strict_pipeline_a_stage_may_be_skipped_and_any_open_lead_transferred(api, tenant):
    skipping, handing = LeadFactory(tenant=tenant), LeadFactory(tenant=tenant, industry="", probability=None)

    qualified = api.patch(f"/api/v1/leads/{api_id(skipping)}/stage", {"stage": "qualified"}, format="json")
    transferred = api.patch(f"/api/v1/leads/{api_id(handing)}/stage", {"stage": "transferred"}, format="json")

    assert (qualified.status_code, qualified.json()["stage"]) == (200, "qualified")
    assert (transferred.status_code, transferred.json()["stage"]) == (200, "transferred")


def test_going_back_is_refused_on_every_workspace(api, tenant):
    lead = LeadFactory(tenant=tenant, status=LeadStatus.QUALIFIED)

    response = api.patch(f"/api/v1/leads/{api_id(lead)}/stage", {"stage": "contacted"}, format="json")

    assert response.status_code == 409 and response.json()["rule"] == "forward_only"


def test_convert_names_the_rule_that_refused_it(api, tenant):
    tenant.strict_pipeline = True
    tenant.save()
    lead = LeadFactory(tenant=tenant, industry="Software", probability=0.9)

    response = api.post(f"/api/v1/leads/{api_id(lead)}/convert", {}, format="json")

    assert response.status_code == 409
    assert response.json()["rule"] == "handoff_from_qualified" and "it is new" in response.json()["detail"]


# --- the document's fields beside ours ----------------------------------------------------------


def test_business_domain_and_industry_are_one_field(api, tenant):
    lead = LeadFactory(tenant=tenant, industry="Software")
    url = f"/api/v1/leads/{api_id(lead)}"

    renamed = api.patch(url, {"business_domain": "Fintech"}, format="json")
    same = api.patch(url, {"business_domain": "Retail", "industry": "Retail"}, format="json")
    clash = api.patch(url, {"business_domain": "Mining", "industry": "Retail"}, format="json")

    assert (renamed.json()["industry"], renamed.json()["business_domain"]) == ("Fintech", "Fintech")
    assert same.status_code == 200 and same.json()["industry"] == "Retail"
    assert clash.status_code == 400 and "business_domain" in clash.json()
    assert api.patch(url, {"business_domain": "x" * 101}, format="json").status_code == 400
    lead.refresh_from_db()
    assert lead.industry == "Retail"


def test_the_ai_fields_are_the_prediction_under_the_documents_names(api, tenant):
    lead = LeadFactory(tenant=tenant, probability=0.42, recommendation="continue_qualification",
                       recommendation_reason="Top factors: industry")

    body = api.get(f"/api/v1/leads/{api_id(lead)}").json()

    assert (body["ai_score"], body["ai_recommendation"], body["ai_reason"]) == (
        0.42, "continue_qualification", "Top factors: industry",
    )
    assert (body["probability"], body["recommendation"], body["recommendation_reason"]) == (
        0.42, "continue_qualification", "Top factors: industry",
    )


def test_activity_count_counts_interactions_not_the_crms_own_entries(tenant):
    lead = LeadFactory(tenant=tenant)
    for kind in (ActivityKind.CALL, ActivityKind.DEMO_REQUESTED, ActivityKind.STATUS_CHANGED, ActivityKind.SCORED):
        ActivityFactory(lead=lead, tenant=tenant, kind=kind)
    ActivityFactory(lead=LeadFactory(tenant=tenant), tenant=tenant, kind=ActivityKind.CALL)

    assert with_activity_count(Lead.objects.filter(pk=lead.pk)).get().activity_count == 2


def test_the_lead_list_shows_activity_count_in_one_query(api, tenant, django_assert_num_queries):
    for n in range(3):
        lead = LeadFactory(tenant=tenant)
        for _ in range(n):
            ActivityFactory(lead=lead, tenant=tenant, kind=ActivityKind.NOTE)
    api.get("/api/v1/leads")  # the token's first use writes last_used_at

    with django_assert_num_queries(5):  # token + user, tenant, count, page; the access record (issue 17)
        items = api.get("/api/v1/leads").json()["items"]

    assert sorted(item["activity_count"] for item in items) == [0, 1, 2]


# --- the schema ----------------------------------------------------------------------------------


def test_the_schema_documents_the_stage_door_and_both_names(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    components = schema["components"]["schemas"]
    stage_path = next(path for path in schema["paths"] if path.rstrip("/").endswith("/stage"))

    assert "patch" in schema["paths"][stage_path]
    assert components["LeadStageEnum"]["enum"] == ["new", "contacted", "qualified", "transferred", "lost"]
    assert "closed_won" in components["DealStageEnum"]["enum"]
    lead = components["Lead"]["properties"]
    for ours, theirs in [("status", "stage"), ("industry", "business_domain"), ("probability", "ai_score"),
                         ("recommendation", "ai_recommendation"), ("recommendation_reason", "ai_reason")]:
        assert ours in lead and theirs in lead
    assert "activity_count" in lead
    assert "business_domain" in components["LeadCaptureRequest"]["properties"]
    assert {"score", "probability"} <= set(components["LeadAnalysis"]["properties"])


def test_the_schema_generates_without_warnings(tmp_path):
    """Two fields named `stage` (a lead's, a deal's) once made drf-spectacular guess an enum name."""
    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
