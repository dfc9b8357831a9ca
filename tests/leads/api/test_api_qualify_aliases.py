"""Document 001's BANT answers (`hasBudget`, `hasAuthority`, `hasNeed`, `hasTimeline`, `notes`) on the qualify
endpoint, as aliases of our own `budget`/`authority`/`need`/`timeline`."""

import pytest
from django.test import Client

from crm.choices import ActivityKind
from crm.models import Activity
from leads.choices import LeadStatus
from leads.models import Lead
from tests.api_ids import api_id
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

ALL_MET = {"hasBudget": True, "hasAuthority": True, "hasNeed": True, "hasTimeline": True}


def qualify(client, lead, body):
    return client.post(f"/api/v1/leads/{api_id(lead)}/qualify", body, format="json")


def test_document_001s_answers_qualify_a_lead(api, tenant, rep):
    lead = LeadFactory(tenant=tenant, owner=rep, status=LeadStatus.CONTACTED)

    response = qualify(api, lead, {**ALL_MET, "notes": "Budget approved for Q3"})

    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["status"] == "qualified" and data["qualified"] is True and data["unmet"] == []
    assert data["qualification"]["notes"] == "Budget approved for Q3"
    assert data["qualification"]["answers"]["budget"] == {"met": True, "detail": ""}
    assert Activity.objects.filter(lead=lead, kind=ActivityKind.TASK, subject="Schedule discovery call").exists()


def test_an_unmet_alias_disqualifies_naming_our_criterion(api, tenant):
    lead = LeadFactory(tenant=tenant)

    response = qualify(api, lead, {**ALL_MET, "hasTimeline": False})

    data = response.json()
    assert data["status"] == "disqualified" and data["qualified"] is False
    assert data["disqualification_reason"] == "BANT not met: timeline"


def test_both_shapes_mix_and_our_detail_is_kept(api, tenant):
    lead = LeadFactory(tenant=tenant, status=LeadStatus.CONTACTED)
    body = {"budget": {"met": True, "detail": "50k"}, "hasAuthority": True, "hasNeed": True, "hasTimeline": True}

    response = qualify(api, lead, body)

    assert response.status_code == 200
    assert response.json()["qualification"]["answers"]["budget"] == {"met": True, "detail": "50k"}


def test_a_missing_or_contradicting_answer_is_a_400_naming_it(api, tenant):
    lead = LeadFactory(tenant=tenant)

    missing = qualify(api, lead, {"hasBudget": True, "hasAuthority": True, "hasNeed": True})
    contradicting = qualify(api, lead, {**ALL_MET, "budget": {"met": False}})
    not_a_boolean = qualify(api, lead, {**ALL_MET, "hasNeed": "perhaps"})

    assert missing.status_code == 400 and "timeline" in missing.json() and "hasTimeline" in missing.json()["timeline"][0]
    assert contradicting.status_code == 400 and "hasBudget" in contradicting.json()
    assert not_a_boolean.status_code == 400 and "hasNeed" in not_a_boolean.json()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW and not lead.qualification
    assert Lead.objects.count() == 1


def test_the_schema_documents_both_names():
    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    props = schema["components"]["schemas"]["QualifyRequest"]["properties"]
    assert {"budget", "authority", "need", "timeline", "hasBudget", "hasAuthority", "hasNeed", "hasTimeline",
            "notes"} <= set(props)
    assert "budget" in props["hasBudget"]["description"]
