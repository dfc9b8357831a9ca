import pytest

pytestmark = pytest.mark.django_db


def test_the_openapi_schema_describes_the_lead_endpoints(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/leads" in paths or "/api/v1/leads/" in paths
    assert any(path.endswith("/convert") or path.endswith("/convert/") for path in paths)


def test_the_api_docs_page_serves_swagger_ui_from_our_own_static_files(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()


def test_the_schema_states_the_limits_the_api_checks(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    components = schema["components"]["schemas"]
    capture = components["LeadCaptureRequest"]["properties"]
    company = components["CompanyRequest"]["properties"]
    deal = components["DealRequest"]["properties"]
    activity = components["ActivityRequest"]

    assert capture["message"]["maxLength"] == 10_000
    assert capture["employee_count"]["minimum"] == 0 and capture["employee_count"]["maximum"] == 2_147_483_647
    assert not capture["annual_revenue"]["pattern"].startswith("^-")  # never negative
    assert not deal["amount"]["pattern"].startswith("^-")
    assert capture["email"]["oneOf"][0]["format"] == "email"
    assert "pattern" in capture["phone"]["oneOf"][0]
    assert capture["country"]["pattern"] == company["country"]["pattern"] == "^([A-Za-z]{2})?$"
    assert deal["currency"]["pattern"] == "^[A-Za-z]{3}$"
    assert capture["custom_fields"]["maxProperties"] == 50
    assert deal["contact"]["format"] == "uuid" and "minimum" not in deal["contact"]  # a public id (issue 13)
    assert activity["properties"]["body"]["maxLength"] == 10_000
    sendable = activity["properties"]["kind"]["allOf"][0]["enum"]
    assert "task" in sendable and "status_changed" not in sendable


def test_only_capture_documents_form_bodies(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if content and not (method == "post" and path.rstrip("/") == "/api/v1/leads"):
                assert list(content) == ["application/json"], (method, path)
