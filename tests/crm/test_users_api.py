"""/api/v1/users: everyone lists the workspace's people (to assign); managers look after reps, admins after
everyone; deactivation is never a delete and stops new leads."""

import pytest

from crm.choices import Role, TokenRevokeReason
from crm.models import ApiToken, User
from leads.models import Lead
from tests.api_ids import api_id
from tests.conftest import api_client_for
from tests.factories import ApiTokenFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

STRONG = "a-long-and-unusual-passphrase-42"


@pytest.fixture
def admin_user(tenant):
    return UserFactory(tenant=tenant, username="ada", role=Role.ADMIN)


@pytest.fixture
def admin_api(admin_user):
    return api_client_for(admin_user)


@pytest.fixture
def rep_api(rep):
    return api_client_for(rep)


def _new(**overrides):
    return {"username": "nora", "email": "Nora@Example.com", "first_name": "Nora", "last_name": "New", **overrides}


# --- reading ---------------------------------------------------------------------------------


def test_a_rep_lists_the_workspace_to_find_whom_to_assign(rep_api, rep, manager, other_tenant):
    UserFactory(tenant=other_tenant, username="olga")
    UserFactory(tenant=rep.tenant, username="root", is_superuser=True)

    body = rep_api.get("/api/v1/users").json()

    assert body["total"] == 2 and body["page"] == 1
    assert {u["username"] for u in body["items"]} == {"rita", "manny"}
    rita = next(u for u in body["items"] if u["username"] == "rita")
    assert rita == {
        "id": api_id(rep), "username": "rita", "name": "Rita Rep", "first_name": "Rita", "last_name": "Rep",
        "email": "rita@example.com", "role": "rep", "is_available": True, "lead_capacity": None, "is_active": True,
        "last_assigned_at": None, "date_joined": rita["date_joined"],
    }
    assert "password" not in rita


def test_the_id_a_list_shows_is_the_one_assignment_takes(rep_api, api, rep):
    """The measured gap: `{"owner": "rita"}` had nothing to name rita by. Now the list gives her id."""
    lead = LeadFactory(tenant=rep.tenant)
    found = rep_api.get("/api/v1/users", {"search": "rita"}).json()["items"]
    assert [u["username"] for u in found] == ["rita"]

    response = api.post(f"/api/v1/leads/{api_id(lead)}/assign", {"owner": found[0]["id"]}, format="json")

    assert response.status_code == 200, response.json()
    lead.refresh_from_db()
    assert lead.owner == rep


def test_filters_role_availability_activity_and_search(api, tenant, rep, manager):
    away = UserFactory(tenant=tenant, username="wanda", first_name="Wanda", is_available=False)
    gone = UserFactory(tenant=tenant, username="gus", is_active=False)

    def names(**params):
        response = api.get("/api/v1/users", params)
        assert response.status_code == 200, response.json()
        return sorted(u["username"] for u in response.json()["items"])

    assert names(role="rep") == ["gus", "rita", "wanda"]
    assert names(role=["rep", "manager"]) == ["gus", "manny", "rita", "wanda"]
    assert names(is_available="false") == ["wanda"]
    assert names(active="false") == ["gus"]
    assert names(active="true", role="rep", is_available="true") == ["rita"]
    assert names(search="WANDA") == [away.username]
    assert names(search="rita@example") == ["rita"]
    assert api.get("/api/v1/users", {"role": "boss"}).status_code == 400
    assert gone.pk  # listed, never deleted


def test_pages_and_ordering(api, tenant, manager):
    for i in range(5):
        UserFactory(tenant=tenant, username=f"rep{i}")
    page = api.get("/api/v1/users", {"limit": 2, "page": 2, "ordering": "-username"}).json()
    assert page["total"] == 6 and page["limit"] == 2
    assert [u["username"] for u in page["items"]] == ["rep2", "rep1"]  # rep4 rep3 | rep2 rep1 | rep0 manny


def test_one_user_and_me(rep_api, rep, manager, other_tenant):
    stranger = UserFactory(tenant=other_tenant)
    assert rep_api.get(f"/api/v1/users/{api_id(rep)}").json()["username"] == "rita"
    assert rep_api.get(f"/api/v1/users/{api_id(manager)}").json()["role"] == "manager"
    assert rep_api.get(f"/api/v1/users/{api_id(stranger)}").status_code == 404
    assert rep_api.get("/api/v1/users/me").json()["id"] == api_id(rep)


def test_the_api_needs_a_signed_in_user(anon_api):
    assert anon_api.get("/api/v1/users").status_code == 401


# --- creating ----------------------------------------------------------------------------------


def test_a_manager_creates_a_rep_who_can_sign_in(api, tenant, client, without_lockout):
    response = api.post("/api/v1/users", _new(password=STRONG, lead_capacity=20), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["username"] == "nora" and body["role"] == "rep" and body["email"] == "nora@example.com"
    assert body["lead_capacity"] == 20 and body["is_available"] is True and body["is_active"] is True
    assert "password" not in body
    nora = User.objects.get(username="nora")
    assert nora.tenant == tenant and nora.is_staff and nora.check_password(STRONG)
    assert body["id"] == api_id(nora)
    assert client.login(username="nora", password=STRONG)


def test_a_manager_may_not_create_managers_or_admins(api):
    for role in ("manager", "admin"):
        response = api.post("/api/v1/users", _new(role=role, password=STRONG), format="json")
        assert response.status_code == 403, response.json()
        assert "tenant admin" in response.json()["detail"]
    assert not User.objects.filter(username="nora").exists()


def test_an_admin_creates_managers(admin_api, tenant):
    response = admin_api.post("/api/v1/users", _new(role="manager"), format="json")
    assert response.status_code == 201, response.json()
    nora = User.objects.get(username="nora")
    assert nora.role == Role.MANAGER and nora.tenant == tenant
    assert not nora.has_usable_password()  # no password given: none to sign in with until one is set


def test_a_rep_may_not_create_users(rep_api):
    response = rep_api.post("/api/v1/users", _new(password=STRONG), format="json")
    assert response.status_code == 403
    assert not User.objects.filter(username="nora").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_new(password="123"), "password"),
        (_new(password="nora@example.com"), "password"),  # the email itself
        (_new(email="not-an-email"), "email"),
        (_new(email=""), "email"),
        (_new(username="rita"), "username"),  # taken
        (_new(username="no spaces"), "username"),
        (_new(role="boss"), "role"),
        (_new(lead_capacity=-1), "lead_capacity"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, rep, body, field):
    response = api.post("/api/v1/users", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not User.objects.filter(username="nora").exists()


# --- changing and deactivating -------------------------------------------------------------------


def test_a_manager_changes_a_reps_availability_and_capacity(api, rep):
    response = api.patch(f"/api/v1/users/{api_id(rep)}", {"is_available": False, "lead_capacity": 5}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["is_available"] is False and response.json()["lead_capacity"] == 5
    rep.refresh_from_db()
    assert (rep.is_available, rep.lead_capacity) == (False, 5)


def test_a_rep_marks_themselves_away_but_changes_nothing_else(rep_api, rep, manager, tenant):
    colleague = UserFactory(tenant=tenant, username="carl")
    assert rep_api.patch(f"/api/v1/users/{api_id(rep)}", {"is_available": False}, format="json").status_code == 200

    assert rep_api.patch(f"/api/v1/users/{api_id(rep)}", {"lead_capacity": 99}, format="json").status_code == 403
    assert rep_api.patch(f"/api/v1/users/{api_id(rep)}", {"role": "manager"}, format="json").status_code == 403
    assert rep_api.patch(f"/api/v1/users/{api_id(colleague)}", {"is_available": False}, format="json").status_code == 403
    assert rep_api.post(f"/api/v1/users/{api_id(colleague)}/deactivate").status_code == 403
    rep.refresh_from_db()
    colleague.refresh_from_db()
    assert (rep.is_available, rep.lead_capacity, rep.role) == (False, None, Role.REP)
    assert colleague.is_available and colleague.is_active


def test_a_manager_may_not_change_managers_or_promote_reps(api, rep, tenant):
    other_manager = UserFactory(tenant=tenant, username="mona", role=Role.MANAGER)
    assert api.patch(f"/api/v1/users/{api_id(other_manager)}", {"lead_capacity": 3}, format="json").status_code == 403
    assert api.patch(f"/api/v1/users/{api_id(rep)}", {"role": "manager"}, format="json").status_code == 403
    rep.refresh_from_db()
    assert rep.role == Role.REP


def test_an_admin_promotes_a_rep(admin_api, rep):
    response = admin_api.patch(f"/api/v1/users/{api_id(rep)}", {"role": "manager"}, format="json")
    assert response.status_code == 200
    rep.refresh_from_db()
    assert rep.role == Role.MANAGER


def test_nobody_deactivates_themselves(admin_api, admin_user):
    response = admin_api.patch(f"/api/v1/users/{api_id(admin_user)}", {"is_active": False}, format="json")
    assert response.status_code == 403
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_a_username_is_for_good(api, rep):
    api.patch(f"/api/v1/users/{api_id(rep)}", {"username": "renamed"}, format="json")
    rep.refresh_from_db()
    assert rep.username == "rita"


def test_there_is_no_delete(api, rep):
    assert api.delete(f"/api/v1/users/{api_id(rep)}").status_code == 405
    assert User.objects.filter(pk=rep.pk).exists()


def test_deactivating_keeps_the_user_revokes_their_tokens_and_routing_passes_them_over(api, rep, tenant, channel,
                                                                                        anon_api):
    token = ApiTokenFactory(user=rep)
    LeadFactory(tenant=tenant, owner=rep)

    response = api.post(f"/api/v1/users/{api_id(rep)}/deactivate")

    assert response.status_code == 200, response.json()
    assert response.json()["is_active"] is False
    rep.refresh_from_db()
    assert not rep.is_active
    assert Lead.objects.filter(owner=rep).count() == 1  # their leads stay theirs until reassigned
    token = ApiToken.objects.get(pk=token.pk)
    assert token.revoked_reason == TokenRevokeReason.USER_DEACTIVATED
    colleague = UserFactory(tenant=tenant, username="carl")
    captured = anon_api.post("/api/v1/leads", {"email": "new@example.com", "name": "New Person"}, format="json",
                             HTTP_X_FORM_KEY=channel.form_key)
    assert captured.status_code == 201
    assert Lead.objects.get(email="new@example.com").owner == colleague


def test_a_deactivated_user_cannot_be_given_a_lead(api, rep, tenant):
    api.patch(f"/api/v1/users/{api_id(rep)}", {"is_active": False}, format="json")
    lead = LeadFactory(tenant=tenant)
    response = api.post(f"/api/v1/leads/{api_id(lead)}/assign", {"owner": api_id(rep)}, format="json")
    assert response.status_code == 400
    assert "owner" in response.json()


def test_an_away_rep_gets_no_routed_leads_until_back(api, rep, tenant, channel, anon_api):
    api.patch(f"/api/v1/users/{api_id(rep)}", {"is_available": False}, format="json")
    anon_api.post("/api/v1/leads", {"email": "a@example.com", "name": "A"}, format="json",
                  HTTP_X_FORM_KEY=channel.form_key)
    assert Lead.objects.get(email="a@example.com").owner is None

    api.patch(f"/api/v1/users/{api_id(rep)}", {"is_available": True}, format="json")
    anon_api.post("/api/v1/leads", {"email": "b@example.com", "name": "B"}, format="json",
                  HTTP_X_FORM_KEY=channel.form_key)
    assert Lead.objects.get(email="b@example.com").owner == rep


def test_the_schema_documents_the_users_api(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = {path.rstrip("/") for path in schema["paths"]}
    assert {"/api/v1/users", "/api/v1/users/{id}", "/api/v1/users/me", "/api/v1/users/{id}/deactivate"} <= paths
    schemas = schema["components"]["schemas"]
    assert "password" in schemas["UserRequest"]["properties"]
    assert "password" not in schemas["User"]["properties"]  # write-only: never read back
    assert {"role", "is_available", "lead_capacity", "is_active"} <= set(schemas["User"]["properties"])
