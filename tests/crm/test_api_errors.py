"""Answers to malformed requests: found by fuzzing the API (schemathesis), kept as regressions."""

import pytest

from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

HUGE = "395840540543309274152960"


@pytest.mark.parametrize(
    "path, field",
    [
        (f"/api/v1/deals/?company={HUGE}", "company"),
        (f"/api/v1/activities/?lead={HUGE}", "lead"),
        (f"/api/v1/leads/?owner={HUGE}", "owner"),
        ("/api/v1/deals/?contact=-69", "contact"),
    ],
)
def test_an_id_filter_out_of_range_is_400_not_a_crash(api, path, field):
    response = api.get(path)

    assert response.status_code == 400
    assert field in response.json()


def test_a_json_array_body_is_400(api, tenant):
    lead = LeadFactory(tenant=tenant)

    response = api.post(f"/api/v1/leads/{lead.pk}/activities/", [None, None], format="json")

    assert response.status_code == 400
    assert "non_field_errors" in response.json()


@pytest.mark.parametrize("path", ["/api/v1/leads/abc/", "/api/v1/deals/0.5/", "/api/v1/nothing-here"])
def test_an_unknown_api_path_is_a_json_404(api, path):
    response = api.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_an_unknown_page_elsewhere_is_still_html(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_every_api_operation_documents_its_error_answers(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    for path, operations in schema["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            responses = operation["responses"]
            for code in ("400", "401", "403", "404"):
                assert code in responses, f"{method.upper()} {path} does not document {code}"
            assert responses["404"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorDetail"
            }
    capture = schema["paths"].get("/api/v1/leads/") or schema["paths"]["/api/v1/leads"]
    assert {"413", "422", "429"} <= set(capture["post"]["responses"])


@pytest.mark.parametrize(
    "query",
    [
        "created_after=0193-02-26T09%3A17%3A07Z",
        "created_before=6565-08-13T04%3A07%3A56%2B17%3A46",
        "country=%F2%8B%A7%A8%2F0%C3%AB%3C",
        "search=%C3%84s%C2%BD%C3%B0v%C3%88+%F2%96%98%8A%00",
    ],
)
def test_odd_filter_values_never_crash_a_list(api, query):
    for endpoint in ("companies", "contacts", "deals", "activities", "leads"):
        response = api.get(f"/api/v1/{endpoint}/?{query}")
        assert response.status_code in (200, 400), (endpoint, response.status_code)


@pytest.mark.parametrize(
    "endpoint, body",
    [
        ("contacts", {"first_name": "Pat", "phone": "12"}),
        ("companies", {"name": "Phoneless Ltd", "phone": "not a number"}),
        ("leads", {"email": "ok@x.example", "phone": "12"}),
    ],
)
def test_a_bad_phone_is_400_naming_the_field_on_every_resource(api, endpoint, body):
    response = api.post(f"/api/v1/{endpoint}/", body, format="json")

    assert response.status_code == 400
    assert "phone" in response.json()
