"""Answers to malformed requests: found by fuzzing the API (schemathesis), kept as regressions."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from leads.models import Channel, Lead
from tests.api_ids import api_id
from tests.factories import ApiTokenFactory, ChannelFactory, LeadFactory

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

    response = api.post(f"/api/v1/leads/{api_id(lead)}/activities/", [None, None], format="json")

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
            for code in ("400", "401", "403", "404", "429"):
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


@pytest.mark.parametrize(
    "path, field",
    [
        ("/api/v1/leads/?created_after=9999-12-31T23:59:59-12:00", "created_after"),
        ("/api/v1/contacts/?created_before=9999-12-31T23:59:59-12:00", "created_before"),
        ("/api/v1/deals/?created_after=9999-12-31T23:59:59-12:00", "created_after"),
        ("/api/v1/activities/?occurred_after=0001-01-01T00:00:00%2B12:00", "occurred_after"),
    ],
)
def test_a_date_past_the_last_utc_instant_is_400_naming_the_filter(api, path, field):
    response = api.get(path)

    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("path", ["/api/v1/leads/", "/api/v1/contacts/", "/api/v1/activities/"])
def test_json_nested_20000_deep_is_400_not_a_crash(api, path):
    body = "[" * 20_000 + "]" * 20_000

    response = api.post(path, body, content_type="application/json")

    assert response.status_code == 400
    assert "nested deeper than" in response.json()["detail"]


@pytest.mark.parametrize("depth, status", [(5, 201), (25, 400)])
def test_activity_data_nested_past_the_limit_is_400(api, tenant, depth, status):
    lead = LeadFactory(tenant=tenant)
    data = '{"a": ' * depth + "1" + "}" * depth

    response = api.post(
        f"/api/v1/leads/{api_id(lead)}/activities/", '{"kind": "note", "body": "hi", "data": ' + data + "}",
        content_type="application/json",
    )

    assert response.status_code == status
    assert lead.activities.filter(kind="note").count() == (1 if status == 201 else 0)


def test_a_nul_character_in_custom_fields_is_400_naming_the_field(api):
    response = api.post(
        "/api/v1/leads/", {"email": "nul@example.com", "name": "N", "custom_fields": {"budget": "a\x00b"}}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"custom_fields.budget": ["Null characters are not allowed."]}
    assert not Lead.objects.filter(email="nul@example.com").exists()


def test_a_nul_character_in_activity_data_is_400(api, tenant):
    lead = LeadFactory(tenant=tenant)

    response = api.post(
        f"/api/v1/leads/{api_id(lead)}/activities/", {"kind": "note", "body": "hi", "data": {"x\x00": 1}}, format="json"
    )

    assert response.status_code == 400
    assert "data" in response.json()


def test_a_nul_character_in_a_form_field_is_400_naming_it(client, tenant):
    channel = Channel.objects.filter(tenant=tenant).first() or ChannelFactory(tenant=tenant)

    response = client.post(
        "/api/v1/leads", {"email": "form@example.com", "name": "F", "favourite": "x\x00y"}, HTTP_X_FORM_KEY=channel.form_key
    )

    assert response.status_code == 400
    assert "favourite" in response.json()
    assert not Lead.objects.filter(email="form@example.com").exists()


def test_invalid_utf8_is_400(api):
    response = api.post("/api/v1/leads/", b'{"email": "a\xff@example.com"}', content_type="application/json")

    assert response.status_code == 400
    assert "utf-8" in response.json()["detail"]


@override_settings(DEBUG=True)
def test_an_unknown_api_path_is_json_even_with_debug_pages_on(api):
    response = api.get("/api/v1/nothing-here")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_a_change_to_an_unknown_api_path_is_a_json_404_not_a_csrf_page(manager, method):
    client = APIClient(enforce_csrf_checks=True)  # as a real client is treated; the test client skips CSRF
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {ApiTokenFactory(user=manager).secret}")

    response = getattr(client, method)("/api/v1/leads/0.5/activities/", {"kind": "note"}, format="json")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
