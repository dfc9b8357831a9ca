import io

import pytest
from django.core.management import call_command

from crm.choices import ActivityKind
from crm.models import Activity
from leads.choices import LeadStatus
from leads.models import Lead, PredictionModel
from tests.api_ids import api_id
from tests.conftest import api_client_for
from tests.factories import LeadFactory, UserFactory
from tests.leads.prediction.test_prediction import make_history

pytestmark = pytest.mark.django_db

RESPONSE_KEYS = {"lead_id", "probability", "score", "recommendation", "reason", "model_version", "fallback",
                 "predicted_at", "factors"}


def analyze(client, lead):
    return client.post(f"/api/v1/leads/{api_id(lead)}/analyze", format="json")


def train(tenant):
    call_command("train_conversion_model", tenant=tenant.slug, stdout=io.StringIO())
    return PredictionModel.objects.get(tenant=tenant, is_active=True)


def test_analyze_with_a_learned_model(api, tenant):
    make_history(tenant)
    model = train(tenant)
    lead = LeadFactory(tenant=tenant, industry="Software")

    response = analyze(api, lead)

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == RESPONSE_KEYS
    assert body["lead_id"] == api_id(lead) and body["fallback"] is False and body["model_version"] == model.version
    assert 0 <= body["probability"] <= 1 and body["score"] == body["probability"]
    assert body["recommendation"] in {"transfer_to_sales", "continue_qualification", "drop_lead"}
    assert "industry is Software" in body["reason"]
    assert body["factors"][0].keys() == {"feature", "description", "contribution"}
    lead.refresh_from_db()
    assert (lead.probability, lead.recommendation, lead.recommendation_reason, lead.prediction_version) == (
        body["probability"], body["recommendation"], body["reason"], model.version,
    )


def test_analyze_runs_a_fixed_number_of_queries(api, tenant, django_assert_max_num_queries):
    make_history(tenant)
    train(tenant)
    lead = LeadFactory(tenant=tenant, industry="Software")
    Activity.objects.bulk_create([Activity(tenant=tenant, lead=lead, kind=kind) for kind in ActivityKind.values[:8]])

    # token+user, its last_used_at (first use), tenant, lead, active model, activity counts; savepoint, save,
    # release (first advice: no timeline row)
    with django_assert_max_num_queries(9):
        assert analyze(api, lead).status_code == 200


def test_analyze_falls_back_to_the_rule_score(api, tenant):
    lead = LeadFactory(tenant=tenant, score_total=45)

    body = analyze(api, lead).json()

    assert body["fallback"] is True and body["model_version"] == "rules" and body["factors"] == []
    assert (body["probability"], body["recommendation"]) == (0.45, "continue_qualification")
    assert body["reason"] == (
        "Not enough history for a learned model (0 converted, 0 disqualified; need 20 of each): "
        "based on the rule score 45."
    )


def test_another_tenants_lead_is_404(api, other_tenant):
    lead = LeadFactory(tenant=other_tenant, score_total=90)

    response = analyze(api, lead)

    assert response.status_code == 404
    lead.refresh_from_db()
    assert lead.probability is None


def test_a_rep_may_analyze_a_colleagues_lead_when_reps_read_every_lead(tenant, rep):
    colleague = UserFactory(tenant=tenant, username="colleague")
    lead = LeadFactory(tenant=tenant, owner=colleague, score_total=80)

    client = api_client_for(rep)
    assert analyze(client, lead).status_code == 404, "reps see their own and unassigned leads"
    lead.refresh_from_db()
    assert lead.probability is None

    tenant.reps_read_all_leads = True
    tenant.save()
    response = analyze(client, lead)

    assert response.status_code == 200, response.content
    assert response.json()["recommendation"] == "transfer_to_sales"


def test_a_closed_lead_is_409(api, tenant):
    lead = LeadFactory(tenant=tenant, status=LeadStatus.DISQUALIFIED, disqualification_reason="no budget")

    response = analyze(api, lead)

    assert response.status_code == 409
    assert "predictions are for open leads" in response.json()["detail"]


def test_analyze_needs_authentication(anon_api, tenant):
    lead = LeadFactory(tenant=tenant)

    assert analyze(anon_api, lead).status_code == 401


def test_strict_pipeline_refuses_a_low_probability_until_a_model_makes_it_high(api, tenant):
    tenant.strict_pipeline = True
    tenant.save(update_fields=["strict_pipeline"])
    lead = LeadFactory(tenant=tenant, status=LeadStatus.QUALIFIED, industry="Software", employee_count=2000,
                       score_total=10)
    Activity.objects.bulk_create(
        [Activity(tenant=tenant, lead=lead, kind=ActivityKind.DEMO_REQUESTED) for _ in range(3)]
    )

    low = analyze(api, lead).json()
    refused = api.post(f"/api/v1/leads/{api_id(lead)}/convert", {}, format="json")

    assert (low["probability"], low["fallback"]) == (0.1, True)
    assert refused.status_code == 409
    assert "predicted probability is 0.10, needs at least 0.6" in refused.json()["detail"]

    make_history(tenant)
    train(tenant)
    high = analyze(api, lead).json()
    converted = api.post(f"/api/v1/leads/{api_id(lead)}/convert", {}, format="json")

    assert high["fallback"] is False and high["probability"] >= 0.6, high
    assert high["recommendation"] == "transfer_to_sales"
    assert converted.status_code == 201, converted.content
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.CONVERTED
