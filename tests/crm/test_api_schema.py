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
