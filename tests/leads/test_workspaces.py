import datetime as dt
import json
import re
from io import StringIO
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from rest_framework.test import APIClient

from crm.choices import Role
from crm.models import ApiToken, Tenant, User
from crm.tokens import hash_secret
from leads.choices import ChannelKind
from leads.models import Channel

pytestmark = pytest.mark.django_db

PASSWORD = "violet-harbour-71"


def run(*args, **options) -> str:
    out = StringIO()
    call_command("create_tenant", *args, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def create(slug="acme-west", **options) -> str:
    defaults = {"admin_username": "ann", "admin_password": PASSWORD}
    return run(slug, **{**defaults, **options})


def printed_token(out: str) -> str:
    return re.search(r"^API token:\s+(\S+)", out, re.MULTILINE).group(1)


def footprint() -> tuple[int, int, int, int]:
    return Tenant.objects.count(), User.objects.count(), Channel.objects.count(), ApiToken.objects.count()


# What it creates ---------------------------------------------------------------------------------


def test_creates_tenant_admin_website_channel_and_token():
    out = create(name="Acme West", admin_email="Ann@Acme.example")

    tenant = Tenant.objects.get(slug="acme-west")
    admin = User.objects.get(username="ann")
    channel = Channel.objects.get(tenant=tenant)
    token = ApiToken.objects.get(user=admin)
    assert tenant.name == "Acme West"
    assert (admin.tenant, admin.role, admin.is_staff, admin.is_superuser) == (tenant, Role.ADMIN, True, False)
    assert admin.email == "ann@acme.example"
    assert admin.check_password(PASSWORD)
    assert admin.user_permissions.count() == 0  # permissions come from the role
    assert (channel.name, channel.kind) == ("Website", ChannelKind.WEBSITE_FORM)
    assert channel.form_key
    for text in ("acme-west", "ann", channel.form_key, token.prefix, "/admin/"):
        assert text in out
    assert token.expires_at.date() == (token.created_at + dt.timedelta(days=90)).date()


def test_name_defaults_to_the_slug_in_title_case():
    create("north-shore")

    assert Tenant.objects.get(slug="north-shore").name == "North Shore"


@pytest.mark.usefixtures("without_lockout")
def test_admin_can_sign_in_to_the_admin_with_role_permissions(client):
    create()

    assert client.login(username="ann", password=PASSWORD)
    assert client.get("/admin/").status_code == 200
    admin = User.objects.get(username="ann")
    assert admin.has_perm("leads.add_channel") and admin.has_perm("crm.change_user")


def test_token_authenticates_the_api():
    key = printed_token(create())
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    response = api.get("/api/v1/leads")

    assert response.status_code == 200
    assert response.json()["total"] == 0


def test_json_prints_one_object_with_the_keys():
    out = create(json=True)

    data = json.loads(out)
    tenant = Tenant.objects.get(slug="acme-west")
    assert data["tenant"] == "acme-west"
    assert data["tenant_id"] == tenant.pk
    assert data["admin_username"] == "ann"
    assert data["form_key"] == Channel.objects.get(tenant=tenant).form_key
    assert hash_secret(data["api_token"]) == ApiToken.objects.get(user__username="ann").key_hash


# Errors say what to do and write nothing ---------------------------------------------------------


def test_existing_slug_is_refused(tenant):
    before = footprint()

    with pytest.raises(CommandError, match="Tenant 'acme' already exists; pick another slug"):
        create("acme")

    assert footprint() == before


@pytest.mark.parametrize("slug", ["Acme", "acme sales", "acme_sales", "acme-", "acme--west", "", "a" * 61])
def test_invalid_slug_is_refused_with_the_rule(slug):
    with pytest.raises(CommandError, match="not a valid tenant slug; use up to 60 lowercase letters"):
        create(slug)

    assert footprint() == (0, 0, 0, 0)


def test_invalid_slug_message_suggests_one():
    with pytest.raises(CommandError, match="e.g. 'acme-sales'"):
        create("Acme Sales")


def test_taken_username_leaves_no_new_tenant(rep):
    before = footprint()

    with pytest.raises(CommandError, match="User 'rita' already exists; pick another admin username"):
        create(admin_username="rita")

    assert footprint() == before
    assert not Tenant.objects.filter(slug="acme-west").exists()


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", "too short"),
        ("password123", "too common"),
        ("8372910465", "entirely numeric"),
        ("ann-acme-west", None),  # too similar to the username: validator text varies by attribute
    ],
)
def test_password_rejected_by_validators_shows_their_messages(password, message):
    with pytest.raises(CommandError, match="Admin password rejected") as excinfo:
        create(admin_username="ann-acme-west", admin_password=password)

    if message:
        assert message in str(excinfo.value)
    assert footprint() == (0, 0, 0, 0)


def test_invalid_email_is_refused():
    with pytest.raises(CommandError, match="Admin email 'not-an-email' is not valid"):
        create(admin_email="not-an-email")

    assert footprint() == (0, 0, 0, 0)


def test_invalid_username_is_refused():
    with pytest.raises(CommandError, match="Admin username 'ann smith' is not valid"):
        create(admin_username="ann smith")


def test_missing_admin_arguments_are_reported():
    with pytest.raises(CommandError, match="--admin-username"):
        run("acme-west", admin_password=PASSWORD)


def test_a_failure_midway_rolls_everything_back():
    # As if a concurrent run took the username between our check and our insert.
    with mock.patch.object(ApiToken.objects, "create", side_effect=IntegrityError("duplicate")):
        with pytest.raises(CommandError, match="created by someone else just now"):
            create()

    assert footprint() == (0, 0, 0, 0)
