"""Edits through the API are conditional on the version read: ETag out, If-Match in, 412 when stale."""

import pytest

from contacts.models import Company, Contact, Deal
from leads.models import Lead
from tests.api_ids import api_id
from tests.factories import CompanyFactory, ContactFactory, DealFactory, LeadFactory

pytestmark = pytest.mark.django_db


def rows(tenant):
    return {
        "leads": (LeadFactory(tenant=tenant, job_title="CTO"), "job_title", Lead),
        "contacts": (ContactFactory(tenant=tenant, job_title="CTO"), "job_title", Contact),
        "companies": (CompanyFactory(tenant=tenant, industry="Software"), "industry", Company),
        "deals": (DealFactory(tenant=tenant, name="Pilot"), "name", Deal),
    }


@pytest.mark.parametrize("resource", ["leads", "contacts", "companies", "deals"])
def test_a_change_with_the_etag_read_goes_through_and_answers_the_new_etag(api, tenant, resource):
    row, field, _ = rows(tenant)[resource]
    etag = api.get(f"/api/v1/{resource}/{api_id(row)}").headers["ETag"]

    response = api.patch(f"/api/v1/{resource}/{api_id(row)}", {field: "Changed"}, format="json", HTTP_IF_MATCH=etag)

    assert response.status_code == 200, response.content
    assert response.headers["ETag"] != etag
    assert api.get(f"/api/v1/{resource}/{api_id(row)}").headers["ETag"] == response.headers["ETag"]


@pytest.mark.parametrize("resource", ["leads", "contacts", "companies", "deals"])
def test_a_change_over_a_newer_version_is_412_and_keeps_the_newer_data(api, tenant, resource):
    row, field, model = rows(tenant)[resource]
    stale = api.get(f"/api/v1/{resource}/{api_id(row)}").headers["ETag"]
    assert api.patch(f"/api/v1/{resource}/{api_id(row)}", {field: "Newer"}, format="json").status_code == 200

    response = api.patch(f"/api/v1/{resource}/{api_id(row)}", {field: "Stale"}, format="json", HTTP_IF_MATCH=stale)

    assert response.status_code == 412
    assert "changed after you read it" in response.json()["detail"]
    assert getattr(model.objects.get(pk=row.pk), field) == "Newer"


def test_a_submission_that_fills_a_lead_moves_its_etag(api, tenant, client):
    from leads.models import Channel
    from tests.factories import ChannelFactory

    channel = Channel.objects.filter(tenant=tenant).first() or ChannelFactory(tenant=tenant)
    lead = LeadFactory(tenant=tenant, email="fill@example.com", phone="", company="", job_title="")
    seen = api.get(f"/api/v1/leads/{api_id(lead)}").headers["ETag"]

    client.post("/api/v1/leads", {"email": "fill@example.com", "name": "Fill Me", "phone": "+14155550199",
                                  "company": "Filled Co"}, content_type="application/json", HTTP_X_FORM_KEY=channel.form_key)

    lead.refresh_from_db()
    assert lead.company == "Filled Co"
    response = api.patch(f"/api/v1/leads/{api_id(lead)}", {"job_title": "CEO"}, format="json", HTTP_IF_MATCH=seen)
    assert response.status_code == 412


def test_without_if_match_a_change_is_unconditional(api, tenant):
    lead = LeadFactory(tenant=tenant)

    assert api.patch(f"/api/v1/leads/{api_id(lead)}", {"job_title": "CEO"}, format="json").status_code == 200


def test_the_schema_documents_if_match_and_412(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    patch = schema["paths"]["/api/v1/contacts/{id}/"]["patch"]
    assert any(p["name"] == "If-Match" for p in patch["parameters"])
    assert "412" in patch["responses"]
    assert "412" in schema["paths"]["/api/v1/leads/{id}/"]["patch"]["responses"]
