import re

import pytest
from rest_framework.test import APIClient

from crm.choices import Role, TokenRevokeReason
from crm.models import ApiToken
from crm.tokens import hash_secret
from tests.factories import ApiTokenFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/crm/apitoken/"


@pytest.fixture
def tenant_admin(tenant):
    return UserFactory(tenant=tenant, username="ada", role=Role.ADMIN)


@pytest.fixture
def tokens(manager, rep, other_tenant):
    return {
        "manager": ApiTokenFactory(user=manager, name="Zapier sync"),
        "rep": ApiTokenFactory(user=rep, name="Rita's spreadsheet"),
        "globex": ApiTokenFactory(user=UserFactory(tenant=other_tenant, username="gus"), name="Globex warehouse"),
    }


def works(secret: str) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client.get("/api/v1/leads").status_code == 200


def test_a_tenant_admin_lists_the_workspaces_tokens_only(client, tenant_admin, tokens):
    client.force_login(tenant_admin)

    html = client.get(LIST).content.decode()

    for mine in (tokens["manager"], tokens["rep"]):
        assert mine.name.replace("'", "&#x27;") in html and f"{mine.prefix}…" in html
        assert (mine.user.get_full_name() or mine.user.username) in html  # whose token it is
    assert "Globex warehouse" not in html and tokens["globex"].prefix not in html
    assert "gus" not in html  # nor in the user filter
    # One cell per token (its name over whose it is and its first characters), then its dates and state.
    for column in ("Token", "Created", "Expires", "Last used", "State"):
        assert f">{column}<" in html or f">{column}</a>" in html, column
    assert "Usable" in html


def test_another_workspaces_token_page_does_not_exist(client, tenant_admin, tokens):
    client.force_login(tenant_admin)

    response = client.get(f"{LIST}{tokens['globex'].pk}/change/")

    assert response.status_code == 302  # "doesn't exist", back to the index
    assert client.get(f"{LIST}{tokens['manager'].pk}/change/").status_code == 200


@pytest.mark.parametrize("role", ["rep", "manager"])
def test_reps_and_managers_do_not_see_the_tokens_page(client, request, role, tokens):
    client.force_login(request.getfixturevalue(role))

    assert client.get(LIST).status_code == 403
    assert client.get(f"{LIST}add/").status_code == 403


def test_a_tenant_admin_revokes_selected_tokens(client, tenant_admin, tokens):
    client.force_login(tenant_admin)

    response = client.post(
        LIST,
        {"action": "revoke_selected", "_selected_action": [tokens["manager"].pk, tokens["globex"].pk]},
        follow=True,
    )

    assert "Revoked 1 token(s)" in response.content.decode()
    revoked = ApiToken.objects.get(pk=tokens["manager"].pk)
    assert (revoked.revoked_by, revoked.revoked_reason) == (tenant_admin, TokenRevokeReason.REVOKED)
    assert not works(tokens["manager"].secret)
    assert works(tokens["rep"].secret) and ApiToken.objects.get(pk=tokens["globex"].pk).revoked_at is None
    assert "Revoked" in client.get(LIST).content.decode()


def test_a_tenant_admin_creates_a_token_and_sees_it_once(client, tenant_admin, manager, settings):
    client.force_login(tenant_admin)

    form = client.get(f"{LIST}add/").content.decode()
    response = client.post(f"{LIST}add/", {"user": manager.pk, "name": "Nightly export", "days": "30"})

    html = response.content.decode()
    assert response.status_code == 200 and "shown only this once" in html
    secret = re.search(r'id="api-token-secret" readonly size="60" value="([^"]+)"', html).group(1)
    token = ApiToken.objects.get(name="Nightly export")
    assert (token.user, token.tenant, token.key_hash) == (manager, manager.tenant, hash_secret(secret))
    assert (token.expires_at - token.created_at).days == 30
    assert works(secret)
    assert secret not in client.get(LIST).content.decode()
    assert f"{settings.API_TOKEN_DAYS} days" in form


def test_the_add_form_offers_only_the_workspaces_users(client, tenant_admin, tokens):
    gus = tokens["globex"].user
    client.force_login(tenant_admin)

    assert "gus" not in client.get(f"{LIST}add/").content.decode()
    response = client.post(f"{LIST}add/", {"user": gus.pk, "name": "Sneaky"})

    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not ApiToken.objects.filter(name="Sneaky").exists()
