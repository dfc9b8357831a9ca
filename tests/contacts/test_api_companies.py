import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts.models import Company
from tests.api_ids import api_id
from tests.conftest import api_client_for
from tests.factories import CompanyFactory, UserFactory

pytestmark = pytest.mark.django_db


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


# --- create, read, update ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/companies", "/api/v1/companies/"])
def test_a_company_is_created_in_the_callers_tenant(api, tenant, other_tenant, rep, path):
    body = {
        "name": "Acme Rockets", "domain": "https://www.ACME-rockets.example/about", "industry": "Aerospace",
        "employee_count": 250, "annual_revenue": "1200000.50", "country": "de", "phone": "+49 30 901820",
        "owner": api_id(rep), "tenant": other_tenant.pk,
    }

    response = api.post(path, body, format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    company = Company.objects.get(public_id=data["id"])
    assert company.tenant == tenant
    assert data == {
        "id": api_id(company), "name": "Acme Rockets", "domain": "acme-rockets.example", "website": "",
        "industry": "Aerospace", "employee_count": 250, "annual_revenue": "1200000.50", "country": "DE",
        "phone": "+4930901820", "owner": api_id(rep), "owner_name": "rita",
        "created_at": data["created_at"], "updated_at": data["updated_at"],
    }


def test_the_domain_is_taken_from_the_website_when_not_given(api):
    response = api.post("/api/v1/companies", {"name": "Initech", "website": "https://www.initech.example/"}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["domain"] == "initech.example"


def test_the_list_is_paginated_and_holds_only_the_callers_tenant(api, tenant, other_tenant):
    mine = CompanyFactory.create_batch(3, tenant=tenant)
    CompanyFactory.create_batch(2, tenant=other_tenant)

    body = api.get("/api/v1/companies?limit=2").json()

    assert (body["total"], body["page"], body["limit"], len(body["items"])) == (3, 1, 2, 2)
    assert set(ids(api.get("/api/v1/companies/"))) == {api_id(c) for c in mine}


@pytest.mark.parametrize("suffix", ["", "/"])
def test_put_and_patch(api, tenant, suffix):
    company = CompanyFactory(tenant=tenant, name="Old Name", domain="old.example")
    url = f"/api/v1/companies/{api_id(company)}{suffix}"

    put = api.put(url, {"name": "New Name", "domain": "new.example", "industry": "Retail"}, format="json")
    patch = api.patch(url, {"country": "fr"}, format="json")

    assert put.status_code == 200, put.content
    assert patch.status_code == 200, patch.content
    company.refresh_from_db()
    assert (company.name, company.domain, company.industry, company.country) == ("New Name", "new.example", "Retail", "FR")
    assert api.put(url, {"name": "new name", "domain": "new.example"}, format="json").status_code == 200, "itself is no duplicate"


def test_there_is_no_delete(api, tenant):
    company = CompanyFactory(tenant=tenant)

    assert api.delete(f"/api/v1/companies/{api_id(company)}").status_code == 405


# --- bad input -----------------------------------------------------------------------------


def test_duplicate_domain_or_name_is_400_naming_the_field(api, tenant, other_tenant):
    CompanyFactory(tenant=tenant, name="Acme", domain="acme.example")
    CompanyFactory(tenant=other_tenant, name="Globex", domain="globex.example")
    other = CompanyFactory(tenant=tenant, name="Other", domain="other.example")

    by_domain = api.post("/api/v1/companies", {"name": "Acme 2", "domain": "www.ACME.example"}, format="json")
    by_website = api.post("/api/v1/companies", {"name": "Acme 3", "website": "https://acme.example"}, format="json")
    by_name = api.post("/api/v1/companies", {"name": "  aCME "}, format="json")
    renamed = api.patch(f"/api/v1/companies/{api_id(other)}", {"name": "ACME"}, format="json")
    elsewhere = api.post("/api/v1/companies", {"name": "Globex", "domain": "globex.example"}, format="json")

    assert by_domain.status_code == 400 and by_domain.json() == {"domain": ["A company with the domain acme.example already exists."]}
    assert by_website.status_code == 400 and "website" in by_website.json()
    assert by_name.status_code == 400 and by_name.json() == {"name": ["A company with this name already exists."]}
    assert renamed.status_code == 400 and "name" in renamed.json()
    assert elsewhere.status_code == 201, "unique per tenant only"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": ""}, "name"),
        ({"name": "X", "domain": "not a domain!"}, "domain"),
        ({"name": "X", "country": "Germany"}, "country"),
        ({"name": "X", "country": "1A"}, "country"),
        ({"name": "X", "employee_count": -1}, "employee_count"),
        ({"name": "X", "annual_revenue": "-5"}, "annual_revenue"),
        ({"name": "X", "owner": 999999}, "owner"),
    ],
)
def test_bad_input_is_400_naming_the_field(api, body, field):
    response = api.post("/api/v1/companies", body, format="json")

    assert response.status_code == 400
    assert field in response.json()


def test_an_owner_of_another_tenant_is_400(api, other_tenant):
    foreign = UserFactory(tenant=other_tenant, username="gus")

    response = api.post("/api/v1/companies", {"name": "X", "owner": api_id(foreign)}, format="json")

    assert response.status_code == 400
    assert response.json()["owner"] == [f"No user with id {api_id(foreign)} in your workspace."]


# --- filters and ordering ------------------------------------------------------------------


def test_filters(api, tenant, rep):
    acme = CompanyFactory(tenant=tenant, name="Acme Rockets", domain="acme.example", industry="Aerospace",
                          country="US", owner=rep, created_at=dt.datetime(2024, 1, 5, tzinfo=dt.UTC))
    initech = CompanyFactory(tenant=tenant, name="Initech", domain="initech.example", industry="Software", country="DE")

    assert ids(api.get("/api/v1/companies", {"search": "rocket"})) == [api_id(acme)]
    assert ids(api.get("/api/v1/companies", {"search": "initech.ex"})) == [api_id(initech)]
    assert ids(api.get("/api/v1/companies", {"industry": "software"})) == [api_id(initech)]
    assert ids(api.get("/api/v1/companies", {"country": "us"})) == [api_id(acme)]
    assert ids(api.get("/api/v1/companies", {"owner": api_id(rep)})) == [api_id(acme)]
    assert ids(api.get("/api/v1/companies", {"owner": "none"})) == [api_id(initech)]
    assert ids(api.get("/api/v1/companies", {"created_before": "2024-02-01T00:00:00Z"})) == [api_id(acme)]


def test_ordering(api, tenant):
    small = CompanyFactory(tenant=tenant, name="B Small", employee_count=10)
    big = CompanyFactory(tenant=tenant, name="C Big", employee_count=5000)
    mid = CompanyFactory(tenant=tenant, name="A Mid", employee_count=300)

    assert ids(api.get("/api/v1/companies")) == [api_id(mid), api_id(small), api_id(big)], "default: by name"
    assert ids(api.get("/api/v1/companies", {"ordering": "-employee_count"})) == [api_id(big), api_id(mid), api_id(small)]


def test_the_list_query_count_does_not_grow_with_rows(api, tenant, rep, django_assert_max_num_queries):
    CompanyFactory.create_batch(5, tenant=tenant, owner=rep)
    with CaptureQueriesContext(connection) as baseline:
        assert api.get("/api/v1/companies?limit=100").status_code == 200
    CompanyFactory.create_batch(25, tenant=tenant, owner=rep)

    with django_assert_max_num_queries(len(baseline.captured_queries)):
        assert len(ids(api.get("/api/v1/companies?limit=100"))) == 30


# --- roles and tenants ---------------------------------------------------------------------


def test_a_rep_edits_own_and_unassigned_companies_but_not_a_colleagues(tenant, rep, manager):
    client = api_client_for(rep)
    own = CompanyFactory(tenant=tenant, owner=rep)
    unassigned = CompanyFactory(tenant=tenant)
    colleagues = CompanyFactory(tenant=tenant, owner=manager, industry="Retail")

    assert client.patch(f"/api/v1/companies/{api_id(own)}", {"industry": "Energy"}, format="json").status_code == 200
    assert client.patch(f"/api/v1/companies/{api_id(unassigned)}", {"industry": "Energy"}, format="json").status_code == 200
    refused = client.put(f"/api/v1/companies/{api_id(colleagues)}", {"name": colleagues.name, "industry": "Energy"}, format="json")
    assert refused.status_code == 403
    assert "own and unassigned companies" in refused.json()["detail"]
    colleagues.refresh_from_db()
    assert colleagues.industry == "Retail"


@pytest.mark.parametrize("method", ["get", "put", "patch"])
@pytest.mark.parametrize("suffix", ["", "/"])
def test_another_tenants_company_is_404(api, other_tenant, method, suffix):
    foreign = CompanyFactory(tenant=other_tenant, name="Theirs")

    response = getattr(api, method)(f"/api/v1/companies/{api_id(foreign)}{suffix}", {"name": "Mine"}, format="json")

    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.name == "Theirs"
