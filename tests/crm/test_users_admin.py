"""The back office follows the users API's rules (crm.access): managers look after reps, admins after everyone,
nobody promotes or deactivates themselves, and deactivating revokes the user's tokens."""

import pytest

from crm.choices import Role, TokenRevokeReason
from crm.models import ApiToken, User
from tests.admin_forms import form_data
from tests.factories import ApiTokenFactory, UserFactory

pytestmark = pytest.mark.django_db

STRONG = "a-long-and-unusual-passphrase-42"


def change_url(user) -> str:
    return f"/admin/crm/user/{user.pk}/change/"


def _add(client, role: str):
    return client.post("/admin/crm/user/add/", {
        "username": "nora", "usable_password": "true", "password1": STRONG, "password2": STRONG,
        "role": role, "email": "nora@example.com", "is_staff": "on",
    })


def test_a_manager_adds_a_rep_and_is_offered_no_other_role(client, manager, tenant):
    client.force_login(manager)
    page = client.get("/admin/crm/user/add/").content.decode()
    assert 'value="rep"' in page and 'value="manager"' not in page and 'value="admin"' not in page

    response = _add(client, Role.REP)

    assert response.status_code == 302, response.content.decode()[:2000]
    nora = User.objects.get(username="nora")
    assert (nora.tenant, nora.role) == (tenant, Role.REP)


def test_a_manager_cannot_add_a_manager_even_by_posting_it(client, manager):
    client.force_login(manager)
    response = _add(client, Role.MANAGER)
    assert response.status_code == 200  # the form again, with the error
    assert not User.objects.filter(username="nora").exists()


def test_a_managers_page_is_read_only_for_another_manager(client, manager, tenant):
    other = UserFactory(tenant=tenant, username="mona", role=Role.MANAGER, lead_capacity=4)
    client.force_login(manager)
    assert client.get(change_url(other)).status_code == 200  # they may look
    response = client.post(change_url(other), {"username": "mona", "role": Role.MANAGER, "lead_capacity": "99"})
    assert response.status_code == 403
    other.refresh_from_db()
    assert other.lead_capacity == 4


def test_a_manager_sets_a_reps_capacity_and_deactivates_them(client, manager, rep):
    token = ApiTokenFactory(user=rep)
    client.force_login(manager)
    data = form_data(client.get(change_url(rep)).content.decode(), "user_form")
    data["lead_capacity"] = ["7"]
    data.pop("is_active", None)  # unticked

    response = client.post(change_url(rep), data)

    assert response.status_code == 302, response.content.decode()[:3000]
    rep.refresh_from_db()
    assert (rep.lead_capacity, rep.is_active) == (7, False)
    assert ApiToken.objects.get(pk=token.pk).revoked_reason == TokenRevokeReason.USER_DEACTIVATED


def test_nobody_changes_their_own_role_or_deactivates_themselves_in_the_admin(client, tenant):
    ada = UserFactory(tenant=tenant, username="ada", role=Role.ADMIN)
    client.force_login(ada)
    data = form_data(client.get(change_url(ada)).content.decode(), "user_form")
    assert "role" not in data and "is_active" not in data  # shown, not offered

    client.post(change_url(ada), {**data, "role": [Role.REP]})

    ada.refresh_from_db()
    assert ada.role == Role.ADMIN and ada.is_active
