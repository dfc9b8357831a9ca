"""CORS on the capture path goes only to a channel's allowed origins; oversized bodies are 413."""

import json
import time

import pytest

from leads.capture.spam import TOKEN_FIELD, issue_token
from leads.models import Lead
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db

SITE = "https://www.acme.example"
OTHER_SITE = "https://shop.globex.example"
EVIL = "https://evil.example"


@pytest.fixture
def site_channel(tenant):
    return ChannelFactory(tenant=tenant, name="Acme site", allowed_origins=[SITE + "/"])


def preflight(client, origin, path="/api/v1/leads"):
    return client.options(
        path, HTTP_ORIGIN=origin, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type,x-form-key,idempotency-key",
    )


def post(client, channel, origin=None, body=None, **extra):
    headers = {"HTTP_X_FORM_KEY": channel.form_key, **extra}
    body = body or {"email": "cors@x.example"}
    if origin:
        headers["HTTP_ORIGIN"] = origin
        # A browser's form carries the token the server issued when it was shown (spam.py).
        body = {TOKEN_FIELD: issue_token(channel=channel, now=time.time() - 10), **body}
    return client.post("/api/v1/leads", body, format="json", **headers)


# --- preflight -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/leads", "/api/v1/leads/"])
def test_a_preflight_from_an_origin_some_channel_allows_gets_cors_headers(client, site_channel, path):
    response = preflight(client, SITE, path)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SITE
    allowed = {h.strip() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "x-form-key", "idempotency-key"} <= allowed
    assert "authorization" not in allowed, "browsers never send integrators' tokens here"
    assert "POST" in response["Access-Control-Allow-Methods"]


def test_a_preflight_from_an_unknown_origin_gets_no_cors_headers(client, site_channel):
    response = preflight(client, EVIL)

    assert "Access-Control-Allow-Origin" not in response


def test_an_inactive_channels_origins_do_not_count(client, site_channel):
    site_channel.is_active = False
    site_channel.save()

    assert "Access-Control-Allow-Origin" not in preflight(client, SITE)


def test_other_paths_never_get_cors_headers(client, site_channel):
    response = client.options("/api/v1/leads/1/convert", HTTP_ORIGIN=SITE, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")

    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Origin" not in client.get("/health", HTTP_ORIGIN=SITE)


@pytest.mark.parametrize("path", ["/api/v1/leads", "/api/v1/leads/", "/api/v1/leads/1", "/api/v1/activities"])
def test_reading_the_api_from_a_channels_origin_gets_no_cors_headers(api, site_channel, path):
    """Only the capture answers cross-origin: the lead list shares its address but not its CORS."""
    response = api.get(path, HTTP_ORIGIN=SITE)

    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Origin" not in api.options(
        path, HTTP_ORIGIN=SITE, HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")


# --- the post itself -------------------------------------------------------------------------


def test_a_post_from_the_channels_origin_is_accepted_with_cors_headers(anon_api, site_channel):
    response = post(anon_api, site_channel, origin=SITE)

    assert response.status_code == 201
    assert response["Access-Control-Allow-Origin"] == SITE
    assert "Retry-After" in response["Access-Control-Expose-Headers"]
    assert Lead.objects.get().channel == site_channel


def test_a_post_from_an_origin_the_channel_does_not_list_is_403_and_stores_nothing(anon_api, tenant, site_channel):
    ChannelFactory(tenant=tenant, allowed_origins=[OTHER_SITE])  # allowed elsewhere is not allowed here

    for origin in (EVIL, OTHER_SITE):
        response = post(anon_api, site_channel, origin=origin)
        assert response.status_code == 403
        assert origin in response.json()["detail"] and "allowed origins" in response.json()["detail"]
        assert "Access-Control-Allow-Origin" not in response
    assert not Lead.objects.exists()


def test_the_token_page_tells_a_refused_site_why_in_an_answer_it_can_read(client, site_channel):
    """A refused CORS post is opaque to the page (a network error); this answer is not, so the form can say so."""
    response = client.get(f"/f/{site_channel.form_key}/token", HTTP_ORIGIN=EVIL)

    assert response.status_code == 403
    assert response.json() == {"detail": "This form is not allowed on this site.", "code": "origin_not_allowed"}
    assert response["Access-Control-Allow-Origin"] == EVIL
    assert "token" not in response.json()


def test_a_post_without_an_origin_is_a_server_post_and_is_accepted(anon_api, site_channel):
    response = post(anon_api, site_channel)

    assert response.status_code == 201
    assert "Access-Control-Allow-Origin" not in response


def test_the_crms_own_origin_may_post_for_the_hosted_form(anon_api, site_channel):
    assert post(anon_api, site_channel, origin="http://testserver").status_code == 201


def test_origins_are_compared_without_case_or_trailing_slash(anon_api, site_channel):
    assert post(anon_api, site_channel, origin="HTTPS://WWW.ACME.EXAMPLE").status_code == 201


def test_a_refusal_before_the_channel_is_known_is_readable_by_listed_origins(anon_api, site_channel):
    response = anon_api.post("/api/v1/leads", {"email": "a@x.example"}, format="json",
                             HTTP_X_FORM_KEY="wrong-key", HTTP_ORIGIN=SITE)

    assert response.status_code == 401
    assert response["Access-Control-Allow-Origin"] == SITE


def test_a_rate_limited_answer_carries_cors_headers_so_the_form_can_say_so(anon_api, site_channel):
    site_channel.rate_limit_per_hour = 0
    site_channel.save()

    response = post(anon_api, site_channel, origin=SITE)

    assert response.status_code == 429
    assert response["Access-Control-Allow-Origin"] == SITE


def test_integrators_with_an_origin_header_are_not_refused(api, tenant):
    channel = ChannelFactory(tenant=tenant, allowed_origins=[SITE])

    assert post(api, channel, origin=EVIL).status_code == 201


# --- body size -------------------------------------------------------------------------------


def test_a_capture_body_over_the_limit_is_413_with_a_message(anon_api, site_channel, settings):
    body = {"email": "big@x.example", "message": "x" * (70 * 1024)}

    response = post(anon_api, site_channel, origin=SITE, body=body)

    assert response.status_code == 413
    assert "at most 65536 bytes" in response.json()["detail"]
    assert response["Access-Control-Allow-Origin"] == SITE, "the form can read why"
    assert not Lead.objects.exists()


def test_a_body_just_under_the_limit_is_not_refused_for_its_size(anon_api, site_channel):
    # Every field at its own limit (a message of 10,000 characters, 48 custom fields of 1,000): about 57 KB.
    custom = {f"field {i}": "y" * 1000 for i in range(48)}
    body = {"email": "big@x.example", "message": "x" * 10_000, "custom_fields": custom}
    assert 56 * 1024 < len(json.dumps(body)) < 64 * 1024

    assert post(anon_api, site_channel, body=body).status_code == 201


def test_other_paths_are_held_to_the_general_limit_but_uploads_are_not(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    payload = json.dumps({"x": "y" * 2000})

    assert client.post("/api/v1/leads/1/convert", payload, content_type="application/json").status_code == 413
    upload = client.post("/api/v1/leads/1/convert", {"file": "y" * 2000})  # multipart
    assert upload.status_code != 413
