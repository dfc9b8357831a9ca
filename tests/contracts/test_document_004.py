"""Document 004 (../shared/seeds/004_*.txt, a lead-qualification API), as its own client would use ours.

Written from the document: its endpoints (POST /leads/, GET /leads/{id}, PATCH /leads/{id}/stage,
POST /leads/{id}/analyze), its lead fields, its pipeline `new -> contacted -> qualified -> transferred`
with `lost`, its transition rules, its sales handoff rules (ai_score >= 0.6, business_domain defined, a
Sale created) and its AI example ({"score", "recommendation", "reason"}). The base URL is /api/v1.

The document's rules are the workspace's strict pipeline (docs/api.md, "Coming from document 004"), so
its workspace has it on. Two things of ours a client of the document meets: a lead needs an email or a
phone (the document's lead has no contact details, ours must reach a person), and a refusal is a 409
whose `rule` names the rule (the document only says "the API returns an error").
"""

import json
import urllib.error
import urllib.request

import pytest
from django.db import connection

from contacts.models import Deal
from crm.choices import ActivityKind
from crm.models import Activity
from leads.choices import LeadStatus
from leads.models import Lead
from tests.api_ids import api_id
from tests.concurrency import run_together
from tests.conftest import api_client_for
from tests.factories import ApiTokenFactory, LeadFactory, ManagerFactory, TenantFactory

BASE = "/api/v1"
STAGES = ["new", "contacted", "qualified", "transferred", "lost"]
PIPELINE = ["new", "contacted", "qualified", "transferred"]
FINAL = ["transferred", "lost"]
DOCUMENT_FIELDS = {"source", "stage", "business_domain", "activity_count", "ai_score", "ai_recommendation", "ai_reason"}


@pytest.fixture
def strict(tenant):
    """A workspace run by the document's rules."""
    tenant.strict_pipeline = True
    tenant.save(update_fields=["strict_pipeline"])
    return tenant


def lead_url(lead_id, suffix: str = "") -> str:
    return f"{BASE}/leads/{lead_id}{suffix}"


def create(api, **body) -> dict:
    body.setdefault("email", f"{body.get('source', 'lead')}-{Lead.objects.count()}@doc004.example")
    response = api.post(f"{BASE}/leads/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def stage(api, lead_id, to: str, **extra):
    return api.patch(lead_url(lead_id, "/stage"), {"stage": to, **extra}, format="json")


def walk(api, lead_id, to: str) -> None:
    """Move a new lead along the pipeline, one stage at a time, up to `to` (not past qualified)."""
    for step in PIPELINE[1 : PIPELINE.index(to) + 1]:
        response = stage(api, lead_id, step)
        assert response.status_code == 200, response.content


def ready_for_sales(api, lead_id, *, score: int = 78, domain: str = "fintech") -> dict:
    """A qualified lead with a business domain, analyzed: what the handoff rules ask for."""
    walk(api, lead_id, "qualified")
    assert api.patch(lead_url(lead_id), {"business_domain": domain}, format="json").status_code == 200
    # Without a learned model the analysis is the rule score (score_total / 100): set it to know the score.
    Lead.objects.filter(pk=lead_of(lead_id).pk).update(score_total=score)
    analysis = api.post(lead_url(lead_id, "/analyze"), format="json")
    assert analysis.status_code == 200, analysis.content
    return analysis.json()


def lead_of(lead_id) -> Lead:
    """The row behind an id the API gave."""
    return next(lead for lead in Lead.objects.all() if api_id(lead) == lead_id)


def assert_refused(response, rule: str) -> None:
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["rule"] == rule and body["detail"], body


# --- endpoints and fields -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("source", ["scanner", "partner", "manual"])
def test_create_a_lead_with_the_documents_fields_and_read_it_back(api, strict, source):
    created = create(api, source=source, business_domain="fintech")

    assert DOCUMENT_FIELDS <= set(created)
    assert (created["source"], created["stage"], created["business_domain"]) == (source, "new", "fintech")
    assert created["activity_count"] == 0
    assert (created["ai_score"], created["ai_recommendation"], created["ai_reason"]) == (None, None, None)

    response = api.get(lead_url(created["id"]))

    assert response.status_code == 200
    read = response.json()
    assert read["id"] == created["id"]
    assert {name: read[name] for name in DOCUMENT_FIELDS} == {name: created[name] for name in DOCUMENT_FIELDS}
    assert read["industry"] == "fintech", "business_domain is our industry"


@pytest.mark.django_db
def test_business_domain_may_be_unknown(api, strict):
    created = create(api, source="scanner")

    assert created["business_domain"] is None


@pytest.mark.django_db
def test_paths_answer_with_and_without_a_trailing_slash(api, strict):
    lead_id = create(api, source="partner")["id"]

    assert api.get(lead_url(lead_id) + "/").status_code == 200
    assert api.patch(lead_url(lead_id, "/stage/"), {"stage": "contacted"}, format="json").status_code == 200
    assert api.post(lead_url(lead_id, "/analyze/"), format="json").status_code == 200


@pytest.mark.django_db
def test_a_lead_of_nobody_we_know_is_404(api, strict, other_tenant):
    elsewhere = LeadFactory(tenant=other_tenant)

    assert api.get(lead_url(api_id(elsewhere))).status_code == 404
    assert stage(api, api_id(elsewhere), "contacted").status_code == 404
    assert api.post(lead_url(api_id(elsewhere), "/analyze"), format="json").status_code == 404


@pytest.mark.django_db
def test_activity_count_is_the_number_of_interactions(api, strict, manager):
    lead_id = create(api, source="scanner")["id"]
    for kind in ("call", "email", "note"):
        assert api.post(lead_url(lead_id, "/activities"), {"kind": kind, "body": "hi"}, format="json").status_code == 201
    stage(api, lead_id, "contacted")  # the CRM's own entries are no interactions

    assert api.get(lead_url(lead_id)).json()["activity_count"] == 3
    listed = api.get(f"{BASE}/leads/?stage=contacted").json()["items"]
    assert [(item["id"], item["activity_count"]) for item in listed] == [(lead_id, 3)]


@pytest.mark.django_db
def test_the_list_filters_by_stage(api, strict):
    leads = {name: create(api, source="manual")["id"] for name in ("fresh", "called", "gone")}
    stage(api, leads["called"], "contacted")
    stage(api, leads["gone"], "lost")

    def listed(query: str) -> set:
        response = api.get(f"{BASE}/leads/?{query}")
        assert response.status_code == 200, response.content
        return {item["id"] for item in response.json()["items"]}

    assert listed("stage=new") == {leads["fresh"]}
    assert listed("stage=contacted&stage=lost") == {leads["called"], leads["gone"]}
    assert listed("stage=transferred") == set()
    assert api.get(f"{BASE}/leads/?stage=won").status_code == 400


# --- the pipeline and its transition rules ---------------------------------------------------


@pytest.mark.django_db
def test_a_lead_moves_through_the_pipeline_one_stage_at_a_time(api, strict):
    lead_id = create(api, source="scanner", business_domain="logistics")["id"]

    for step in ("contacted", "qualified"):
        response = stage(api, lead_id, step)
        assert response.status_code == 200, response.content
        assert response.json()["stage"] == step
        assert api.get(lead_url(lead_id)).json()["stage"] == step


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "target", "rule"),
    [
        ("new", "qualified", "no_skipping"),
        ("new", "transferred", "handoff_from_qualified"),
        ("contacted", "transferred", "handoff_from_qualified"),
    ],
)
def test_stage_skipping_is_not_allowed(api, strict, start, target, rule):
    lead_id = create(api, source="partner", business_domain="fintech")["id"]
    walk(api, lead_id, start)
    Lead.objects.filter(pk=lead_of(lead_id).pk).update(probability=0.9)  # the handoff's gate is not what refuses

    assert_refused(stage(api, lead_id, target), rule)
    assert api.get(lead_url(lead_id)).json()["stage"] == start
    assert not Deal.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("start", ["new", "contacted", "qualified"])
def test_a_lead_can_be_moved_to_lost_from_any_non_final_stage(api, strict, start):
    lead_id = create(api, source="manual")["id"]
    walk(api, lead_id, start)

    response = stage(api, lead_id, "lost")

    assert response.status_code == 200, response.content
    assert response.json()["stage"] == "lost"
    assert lead_of(lead_id).status == LeadStatus.DISQUALIFIED


@pytest.mark.django_db
@pytest.mark.parametrize("final", FINAL)
@pytest.mark.parametrize("target", STAGES)
def test_final_stages_are_immutable(api, strict, final, target):
    lead_id = create(api, source="scanner")["id"]
    if final == "transferred":
        ready_for_sales(api, lead_id)
    assert stage(api, lead_id, final).status_code == 200
    before = api.get(lead_url(lead_id)).json()
    deals = Deal.objects.count()

    response = stage(api, lead_id, target)

    if target == final:  # asking for the stage it is at changes nothing
        assert response.status_code == 200, response.content
    else:
        assert_refused(response, "final_stage")
    after = api.get(lead_url(lead_id)).json()
    assert after["stage"] == final and after["updated_at"] == before["updated_at"]
    assert Deal.objects.count() == deals


@pytest.mark.django_db
@pytest.mark.parametrize("body", [{"stage": "won"}, {"stage": "converted"}, {"stage": ""}, {}, {"stage": None}])
def test_an_unknown_stage_is_a_400_naming_the_field(api, strict, body):
    lead_id = create(api, source="manual")["id"]

    response = api.patch(lead_url(lead_id, "/stage"), body, format="json")

    assert response.status_code == 400, response.content
    assert "stage" in response.json()


# --- sales handoff ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_transfer_to_sales_creates_a_sale(api, strict):
    lead_id = create(api, source="partner")["id"]
    ready_for_sales(api, lead_id)

    response = stage(api, lead_id, "transferred")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["stage"] == "transferred"
    sale = api.get(f"{BASE}/deals/{body['converted_deal']}")
    assert sale.status_code == 200, sale.content
    assert sale.json()["contact"] == body["converted_contact"]
    assert Deal.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(("score", "allowed"), [(59, False), (60, True)])
def test_transfer_needs_an_ai_score_of_at_least_0_6(api, strict, score, allowed):
    lead_id = create(api, source="scanner")["id"]
    analysis = ready_for_sales(api, lead_id, score=score)
    assert analysis["score"] == score / 100

    response = stage(api, lead_id, "transferred")

    if allowed:
        assert response.status_code == 200 and response.json()["stage"] == "transferred"
        assert Deal.objects.count() == 1
    else:
        assert_refused(response, "handoff_gate")
        assert "0.59" in response.json()["detail"]
        assert api.get(lead_url(lead_id)).json()["stage"] == "qualified"
        assert not Deal.objects.exists()


@pytest.mark.django_db
def test_transfer_needs_an_ai_score_so_an_unanalyzed_lead_stays(api, strict):
    lead_id = create(api, source="scanner", business_domain="fintech")["id"]
    walk(api, lead_id, "qualified")

    assert_refused(stage(api, lead_id, "transferred"), "handoff_gate")
    assert not Deal.objects.exists()


@pytest.mark.django_db
def test_transfer_needs_a_business_domain(api, strict):
    lead_id = create(api, source="manual")["id"]
    ready_for_sales(api, lead_id, domain="")

    refused = stage(api, lead_id, "transferred")

    assert_refused(refused, "handoff_gate")
    assert "industry is unknown" in refused.json()["detail"]
    assert not Deal.objects.exists()
    assert api.patch(lead_url(lead_id), {"business_domain": "retail"}, format="json").status_code == 200
    # An edit rescores the lead and renews its analysis (our rule sheet): give it its score back.
    Lead.objects.filter(pk=lead_of(lead_id).pk).update(probability=0.78)
    transferred = stage(api, lead_id, "transferred")
    assert transferred.status_code == 200, transferred.content
    assert Deal.objects.count() == 1


@pytest.mark.django_db
def test_transferring_again_creates_no_second_sale(api, strict):
    lead_id = create(api, source="partner")["id"]
    ready_for_sales(api, lead_id)

    first = stage(api, lead_id, "transferred").json()
    again = stage(api, lead_id, "transferred")

    assert again.status_code == 200
    assert again.json()["converted_deal"] == first["converted_deal"]
    assert Deal.objects.count() == 1


# --- AI-assisted scoring ------------------------------------------------------------------------


@pytest.mark.django_db
def test_analysis_answers_score_recommendation_and_reason_and_the_lead_keeps_them(api, strict):
    lead_id = create(api, source="scanner", business_domain="fintech")["id"]

    analysis = ready_for_sales(api, lead_id, score=78)

    assert analysis["score"] == 0.78  # the document's example
    assert analysis["recommendation"] == "transfer_to_sales"
    assert isinstance(analysis["reason"], str) and analysis["reason"]
    lead = api.get(lead_url(lead_id)).json()
    assert (lead["ai_score"], lead["ai_recommendation"], lead["ai_reason"]) == (
        analysis["score"], analysis["recommendation"], analysis["reason"],
    )


@pytest.mark.django_db
def test_the_ai_does_not_make_the_final_decision(api, strict):
    lead_id = create(api, source="partner", business_domain="fintech")["id"]

    analysis = ready_for_sales(api, lead_id, score=95)

    assert analysis["recommendation"] == "transfer_to_sales"
    assert api.get(lead_url(lead_id)).json()["stage"] == "qualified", "only a person's PATCH hands it over"
    assert not Deal.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("score", "recommendation"), [(10, "drop_lead"), (40, "continue_qualification")])
def test_the_recommendation_follows_the_score(api, strict, score, recommendation):
    lead_id = create(api, source="manual", business_domain="fintech")["id"]

    assert ready_for_sales(api, lead_id, score=score)["recommendation"] == recommendation


# --- the document's example workflow -----------------------------------------------------------


@pytest.mark.django_db
def test_the_example_workflow(strict, manager):
    """A manager creates a lead; it moves through the early stages; the user runs the analysis; the transfer
    is validated and creates a Sale."""
    api = api_client_for(manager)
    lead_id = create(api, source="scanner", business_domain="fintech")["id"]
    assert stage(api, lead_id, "contacted").json()["stage"] == "contacted"
    assert stage(api, lead_id, "qualified").json()["stage"] == "qualified"
    Lead.objects.filter(pk=lead_of(lead_id).pk).update(score_total=80)
    stored = api.post(lead_url(lead_id, "/analyze"), format="json").json()

    handed = stage(api, lead_id, "transferred")

    assert handed.status_code == 200
    body = handed.json()
    assert (body["stage"], body["ai_score"], body["ai_recommendation"]) == ("transferred", stored["score"],
                                                                          "transfer_to_sales")
    assert Deal.objects.count() == 1
    assert Activity.objects.filter(kind=ActivityKind.CONVERTED).count() == 1


# --- concurrency: the handoff happens once ----------------------------------------------------


def qualified_ready_lead(tenant) -> Lead:
    return LeadFactory(tenant=tenant, status=LeadStatus.QUALIFIED, industry="fintech", probability=0.8,
                       company="Contested Inc")


def http_patch_stage(url: str, token: str, to: str):
    request = urllib.request.Request(
        url, data=json.dumps({"stage": to}).encode(), method="PATCH",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("threads", [2, 10])
def test_concurrent_transfers_make_one_sale(live_server, threads):
    tenant = TenantFactory(strict_pipeline=True)
    token = ApiTokenFactory(user=ManagerFactory(tenant=tenant))
    lead = qualified_ready_lead(tenant)
    url = f"{live_server.url}{lead_url(api_id(lead), '/stage')}"

    results = run_together(lambda i: http_patch_stage(url, token.secret, "transferred"), n=threads)

    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, f"{connection.vendor}: {errors[:3]}"
    assert [code for code, _ in results] == [200] * threads, results
    assert len({body["converted_deal"] for _, body in results}) == 1
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED
    assert Deal.objects.count() == 1 and lead.converted_deal_id == Deal.objects.get().pk


@pytest.mark.django_db(transaction=True)
def test_a_transfer_racing_a_loss_ends_in_one_of_them(live_server):
    tenant = TenantFactory(strict_pipeline=True)
    token = ApiTokenFactory(user=ManagerFactory(tenant=tenant))
    lead = qualified_ready_lead(tenant)
    url = f"{live_server.url}{lead_url(api_id(lead), '/stage')}"

    results = run_together(lambda i: http_patch_stage(url, token.secret, ["transferred", "lost"][i % 2]), n=6)

    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, f"{connection.vendor}: {errors[:3]}"
    lead.refresh_from_db()
    won = "transferred" if lead.status == LeadStatus.CONVERTED else "lost"
    for i, (code, body) in enumerate(results):
        if ["transferred", "lost"][i % 2] == won:
            assert (code, body["stage"]) == (200, won), body
        else:
            assert (code, body["rule"]) == (409, "final_stage"), body
    assert Deal.objects.count() == (1 if won == "transferred" else 0)
