"""`/api/v1/channels`: workspace admins manage channels; secrets go in and never come back in full."""

import pytest

from leads.choices import ChannelKind, LeadSource
from leads.models import Channel
from tests.api_ids import api_id
from tests.conftest import api_client_for

pytestmark = pytest.mark.django_db

FACEBOOK = {
    "name": "Our page", "kind": "facebook_lead_ads", "page_id": "2002", "app_secret": "app-secret-123456789",
    "page_access_token": "EAAB-token-abcdefgh", "field_mapping": {"work_mail": "email"},
}


def test_an_admin_connects_a_facebook_page_and_reads_its_secrets_masked(workspace_admin):
    api = api_client_for(workspace_admin)
    response = api.post("/api/v1/channels", FACEBOOK, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["app_secret"] == "••••6789" and body["page_access_token"] == "••••efgh"
    assert body["key"] and body["verify_token"] and body["default_source"] == LeadSource.FACEBOOK_LEAD_AD
    assert body["callback_url"] == "http://testserver/hooks/facebook"
    channel = Channel.objects.get(name="Our page")
    assert channel.app_secret == "app-secret-123456789"
    assert "app-secret-123456789" not in api.get("/api/v1/channels").content.decode()


def test_a_change_without_the_secret_keeps_it(workspace_admin):
    api = api_client_for(workspace_admin)
    created = api.post("/api/v1/channels", FACEBOOK, format="json").json()
    response = api.patch(f"/api/v1/channels/{created['id']}", {"page_id": "3003", "app_secret": ""}, format="json")

    assert response.status_code == 200, response.json()
    channel = Channel.objects.get(name="Our page")
    assert (channel.page_id, channel.app_secret) == ("3003", "app-secret-123456789")


def test_a_google_channel_answers_its_callback_with_its_key(workspace_admin):
    api = api_client_for(workspace_admin)
    response = api.post("/api/v1/channels", {"name": "Google", "kind": "google_lead_form", "google_key": "k" * 20},
                        format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["callback_url"].endswith(f"/hooks/google/{body['key']}") and body["google_key"] == "••••kkkk"


def test_a_facebook_channel_without_its_page_is_a_400_naming_the_field(workspace_admin):
    api = api_client_for(workspace_admin)
    response = api.post("/api/v1/channels", {**FACEBOOK, "page_id": ""}, format="json")
    assert response.status_code == 400 and "page_id" in response.json()


def test_a_mapping_to_an_unknown_field_is_a_400(workspace_admin):
    api = api_client_for(workspace_admin)
    response = api.post("/api/v1/channels", {**FACEBOOK, "field_mapping": {"x": "salary"}}, format="json")
    assert response.status_code == 400 and "field_mapping" in response.json()


def test_only_workspace_admins_manage_channels(manager, channel, workspace_admin):
    api = api_client_for(manager)
    assert api.get("/api/v1/channels").status_code == 403
    assert api.post("/api/v1/channels", FACEBOOK, format="json").status_code == 403
    admin_api = api_client_for(workspace_admin)
    listed = admin_api.get("/api/v1/channels").json()
    assert [row["key"] for row in listed["items"]] == [channel.form_key]
    assert admin_api.get(f"/api/v1/channels/{api_id(channel)}").json()["kind"] == ChannelKind.WEBSITE_FORM


def test_another_workspaces_channel_is_not_found(workspace_admin, other_tenant):
    other = Channel.objects.create(tenant=other_tenant, name="Theirs")
    assert api_client_for(workspace_admin).get(f"/api/v1/channels/{api_id(other)}").status_code == 404
