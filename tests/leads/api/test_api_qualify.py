"""POST /api/v1/leads/{id}/qualify: BANT answers through the API."""

import pytest

from crm.choices import ActivityKind
from crm.models import Activity
from leads.choices import LeadStatus
from leads.models import Lead
from tests.api_ids import api_id
from tests.conftest import api_client_for
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def bant(*unmet: str, **extra) -> dict:
    body = {name: {"met": name not in unmet} for name in ("budget", "authority", "need", "timeline")}
    return {**body, **extra}


def qualify(client, lead, body):
    return client.post(f"/api/v1/leads/{api_id(lead)}/qualify", body, format="json")


def test_all_met_qualifies_and_answers_with_the_lead_and_the_answers(api, tenant, rep, manager):
    lead = LeadFactory(tenant=tenant, owner=rep, status=LeadStatus.CONTACTED)
    body = bant(notes="Strong fit")
    body["budget"]["detail"] = "50k approved"

    response = qualify(api, lead, body)

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["id"] == api_id(lead) and data["status"] == "qualified" and data["qualified_at"]
    assert data["unmet"] == []
    q = data["qualification"]
    assert q["outcome"] == "qualified" and q["notes"] == "Strong fit"
    assert q["answers"]["budget"] == {"met": True, "detail": "50k approved"}
    assert q["answered_by"] == api_id(manager)
    task = Activity.objects.get(lead=lead, kind=ActivityKind.TASK)
    assert task.actor == rep and task.due_at is not None and task.due_at.weekday() < 5
    assert task.due_at.hour == 9
    assert any(a["subject"] == "Schedule discovery call" for a in data["latest_activities"])


def test_unmet_criteria_disqualify_naming_them(api, tenant):
    lead = LeadFactory(tenant=tenant)

    response = qualify(api, lead, bant("budget", "timeline"))

    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "disqualified"
    assert data["disqualification_reason"] == "BANT not met: budget, timeline"
    assert data["unmet"] == ["budget", "timeline"]
    assert data["qualification"]["outcome"] == "disqualified"


def test_keep_open_shows_the_unmet_criteria_and_keeps_the_status(api, tenant):
    lead = LeadFactory(tenant=tenant, status=LeadStatus.CONTACTED)

    response = qualify(api, lead, bant("authority", keep_open=True))

    assert response.status_code == 200
    data = response.json()
    assert (data["status"], data["unmet"]) == ("contacted", ["authority"])
    assert data["qualification"]["outcome"] == "kept_open"
    lead.refresh_from_db()
    assert lead.qualification["unmet"] == ["authority"]


def test_strict_pipeline_wants_the_lead_contacted_first(api, tenant):
    tenant.strict_pipeline = True
    tenant.save()
    lead = LeadFactory(tenant=tenant, status=LeadStatus.NEW)

    response = qualify(api, lead, bant())

    assert response.status_code == 409
    assert "contacted" in response.json()["detail"]
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW and lead.qualification == {}


@pytest.mark.parametrize("status", [LeadStatus.CONVERTED, LeadStatus.DISQUALIFIED])
def test_a_converted_or_disqualified_lead_is_409(api, tenant, status):
    lead = LeadFactory(tenant=tenant)
    if status == LeadStatus.CONVERTED:
        Lead.objects.convert(lead=lead)
    else:
        Lead.objects.filter(pk=lead.pk).update(status=status, disqualification_reason="Gone")

    response = qualify(api, lead, bant())

    assert response.status_code == 409
    assert status in response.json()["detail"]


def test_another_tenants_lead_is_404(api, other_tenant):
    foreign = LeadFactory(tenant=other_tenant)

    response = qualify(api, foreign, bant())

    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == LeadStatus.NEW and foreign.qualification == {}


def test_a_rep_qualifies_their_own_lead_but_not_a_colleagues(tenant, rep, manager):
    client = api_client_for(rep)
    mine = LeadFactory(tenant=tenant, owner=rep)
    theirs = LeadFactory(tenant=tenant, owner=manager)

    assert qualify(client, mine, bant()).status_code == 200
    assert qualify(client, theirs, bant()).status_code == 404  # not in a rep's list
    tenant.reps_read_all_leads = True
    tenant.save()
    assert qualify(client, theirs, bant()).status_code == 403  # readable, still not theirs to change
    theirs.refresh_from_db()
    assert theirs.status == LeadStatus.NEW


@pytest.mark.parametrize(
    "body, field",
    [
        ({"budget": {"met": True}, "authority": {"met": True}, "need": {"met": True}}, "timeline"),
        ({**bant(), "need": {"detail": "no answer"}}, "need"),
        ({**bant(), "budget": True}, "budget"),
        ({**bant(), "keep_open": "perhaps"}, "keep_open"),
    ],
)
def test_bad_answers_are_400_naming_the_field(api, tenant, body, field):
    lead = LeadFactory(tenant=tenant)

    response = qualify(api, lead, body)

    assert response.status_code == 400
    assert field in response.json()
    lead.refresh_from_db()
    assert lead.qualification == {}


def test_the_schema_documents_qualify(client):
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    operation = next(item["post"] for path, item in paths.items() if path.rstrip("/").endswith("/qualify"))
    assert set(operation["responses"]) >= {"200", "400", "403", "404", "409"}


def test_the_lead_detail_shows_the_latest_answers(api, tenant):
    lead = LeadFactory(tenant=tenant)
    assert api.get(f"/api/v1/leads/{api_id(lead)}").json()["qualification"] == {}
    answers = {name: {"met": True} for name in ("budget", "authority", "need", "timeline")}

    api.post(f"/api/v1/leads/{api_id(lead)}/qualify", answers, format="json")

    shown = api.get(f"/api/v1/leads/{api_id(lead)}").json()["qualification"]
    assert shown["outcome"] == "qualified" and shown["answers"]["budget"]["met"] is True
