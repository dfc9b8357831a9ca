import datetime as dt
import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from crm.choices import Role, TokenRevokeReason
from crm.models import ApiToken
from crm.tokens import hash_secret, token_authenticate, token_create, token_revoke, tokens_revoke_for_user
from tests.factories import ApiTokenFactory, UserFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("crm.migrations.0009_migrate_drf_tokens")


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def every_stored_value():
    """Every value of every column of every table, as text."""
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                yield from (str(value) for value in row)


# Issuing -----------------------------------------------------------------------------------------


def test_the_database_holds_no_usable_token(manager):
    token, secret = token_create(user=manager, name="Zapier")

    assert not [value for value in every_stored_value() if secret in value]
    assert token.key_hash == hash_secret(secret) and token.prefix == secret[:8]
    assert len(secret) >= 40


def test_a_token_is_named_and_expires_after_the_configured_days(manager, settings):
    settings.API_TOKEN_DAYS = 7
    before = timezone.now()

    token, _ = token_create(user=manager, name="  Nightly sync  ")
    long_lived, _ = token_create(user=manager, name="", days=365)

    assert token.name == "Nightly sync" and long_lived.name == "API token"
    assert before + dt.timedelta(days=7) <= token.expires_at <= timezone.now() + dt.timedelta(days=7)
    assert long_lived.expires_at - long_lived.created_at == dt.timedelta(days=365)
    assert (token.tenant, token.user, token.last_used_at, token.revoked_at) == (manager.tenant, manager, None, None)


def test_a_user_without_a_workspace_gets_no_token(db):
    platform = UserFactory(tenant=None, is_superuser=True)

    with pytest.raises(ValidationError, match="belongs to no workspace"):
        token_create(user=platform, name="x")


def test_a_rep_cannot_issue_or_revoke_a_colleagues_token(rep, manager):
    token = ApiTokenFactory(user=manager)

    with pytest.raises(PermissionDenied):
        token_create(user=manager, name="x", actor=rep)
    with pytest.raises(PermissionDenied):
        token_revoke(token=token, actor=rep)
    assert token_revoke(token=ApiTokenFactory(user=rep), actor=rep)  # their own: yes


# Signing in --------------------------------------------------------------------------------------


def test_a_token_signs_its_user_in_and_records_when_it_was_used(manager):
    token = ApiTokenFactory(user=manager)

    response = bearer(token.secret).get("/api/v1/leads")

    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None and timezone.now() - token.last_used_at < dt.timedelta(seconds=10)


def test_last_used_is_written_at_most_once_a_minute(manager, django_assert_num_queries):
    token = ApiTokenFactory(user=manager)
    token_authenticate(secret=token.secret)
    first_use = ApiToken.objects.get().last_used_at

    with django_assert_num_queries(1):  # the lookup only
        token_authenticate(secret=token.secret)
    assert ApiToken.objects.get().last_used_at == first_use

    ApiToken.objects.update(last_used_at=first_use - dt.timedelta(minutes=2))
    with django_assert_num_queries(2):
        token_authenticate(secret=token.secret)
    assert ApiToken.objects.get().last_used_at > first_use


def test_an_expired_token_is_401_and_says_so(manager):
    token = ApiTokenFactory(user=manager)
    ApiToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    response = bearer(token.secret).get("/api/v1/leads")

    assert response.status_code == 401
    assert "This token expired on" in response.json()["detail"]
    assert "new one" in response.json()["detail"]


def test_a_revoked_token_is_401_and_says_so(manager):
    token = ApiTokenFactory(user=manager)
    assert token_revoke(token=token, actor=manager)
    assert not token_revoke(token=token, actor=manager), "already revoked"

    response = bearer(token.secret).get("/api/v1/leads")

    assert response.status_code == 401
    assert "This token was revoked on" in response.json()["detail"]
    token.refresh_from_db()
    assert (token.revoked_by, token.revoked_reason) == (manager, TokenRevokeReason.REVOKED)


def test_an_unknown_token_is_401(manager):
    ApiTokenFactory(user=manager)

    response = bearer("not-a-token-anyone-issued").get("/api/v1/leads")

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_deactivated_users_token_is_401_even_if_not_revoked(manager):
    token = ApiTokenFactory(user=manager)
    type(manager).objects.filter(pk=manager.pk).update(is_active=False)  # e.g. from the shell

    assert bearer(token.secret).get("/api/v1/leads").status_code == 401


def test_revoking_a_users_tokens_leaves_others_alone(manager, rep):
    mine = [ApiTokenFactory(user=manager) for _ in range(2)]
    theirs = ApiTokenFactory(user=rep)

    assert tokens_revoke_for_user(user=manager, reason=TokenRevokeReason.USER_DEACTIVATED) == 2

    assert all(bearer(t.secret).get("/api/v1/leads").status_code == 401 for t in mine)
    assert bearer(theirs.secret).get("/api/v1/leads").status_code == 200


# Tokens from before (DRF's plaintext authtoken table) --------------------------------------------


@pytest.fixture
def drf_token_table():
    created = "timestamp with time zone" if connection.vendor == "postgresql" else "datetime"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created {created} NOT NULL, user_id bigint NOT NULL)"
        )
    yield "authtoken_token"
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE authtoken_token")


def test_a_migrated_drf_token_keeps_working_until_the_default_expiry(manager, drf_token_table, settings):
    settings.API_TOKEN_DAYS = 30
    platform = UserFactory(tenant=None, is_superuser=True)
    old_key, platform_key = "4f1c" * 10, "9a0b" * 10
    issued = timezone.now() - dt.timedelta(days=400)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {drf_token_table} (key, created, user_id) VALUES (%s, %s, %s)",
            [(old_key, issued, manager.pk), (platform_key, issued, platform.pk)],
        )

    migration.migrate_drf_tokens(apps, SimpleNamespace(connection=connection))

    token = ApiToken.objects.get()
    assert (token.user, token.tenant, token.prefix) == (manager, manager.tenant, old_key[:8])
    assert abs(token.created_at - issued) < dt.timedelta(seconds=1)
    assert dt.timedelta(days=29) < token.expires_at - timezone.now() <= dt.timedelta(days=30)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {drf_token_table}")
        assert cursor.fetchone()[0] == 0, "the plaintext is gone"
    assert not [value for value in every_stored_value() if old_key in value]
    assert bearer(old_key).get("/api/v1/leads").status_code == 200


def test_the_migration_does_nothing_on_a_database_that_never_had_drf_tokens(db):
    migration.migrate_drf_tokens(apps, SimpleNamespace(connection=connection))

    assert not ApiToken.objects.exists()


def test_a_tenant_admin_revokes_any_token_of_the_workspace_and_none_of_another(tenant, other_tenant, manager):
    admin = UserFactory(tenant=tenant, role=Role.ADMIN, username="ada")
    stranger = UserFactory(tenant=other_tenant, role=Role.ADMIN, username="olga")
    token = ApiTokenFactory(user=manager)

    with pytest.raises(PermissionDenied):
        token_revoke(token=token, actor=stranger)
    assert token_revoke(token=token, actor=admin)


# A password change or a deactivation revokes -----------------------------------------------------


class OldMD5Hasher(MD5PasswordHasher):
    """Stands for a hasher the site moved away from: signing in upgrades the stored hash."""

    algorithm = "old_md5"


@pytest.fixture
def tenant_admin(tenant):
    return UserFactory(tenant=tenant, username="ada", role=Role.ADMIN)


def assert_revoked(token, reason):
    token.refresh_from_db()
    assert (token.revoked_at is not None, token.revoked_reason) == (True, reason)
    assert bearer(token.secret).get("/api/v1/leads").status_code == 401


def test_a_tenant_admin_setting_a_users_password_revokes_their_tokens(client, tenant_admin, manager):
    token, others = ApiTokenFactory(user=manager), ApiTokenFactory(user=tenant_admin)
    client.force_login(tenant_admin)

    response = client.post(
        f"/admin/crm/user/{manager.pk}/password/",
        {"password1": "a-brand-new-secret-9", "password2": "a-brand-new-secret-9", "usable_password": "true"},
    )

    assert response.status_code == 302
    assert_revoked(token, TokenRevokeReason.PASSWORD_CHANGED)
    assert bearer(others.secret).get("/api/v1/leads").status_code == 200


def test_changing_your_own_password_revokes_your_tokens(client, manager):
    token = ApiTokenFactory(user=manager)
    client.force_login(manager)

    response = client.post(
        "/admin/password_change/",
        {"old_password": "pw-for-tests-123", "new_password1": "a-brand-new-secret-9", "new_password2": "a-brand-new-secret-9"},
    )

    assert response.status_code == 302
    assert_revoked(token, TokenRevokeReason.PASSWORD_CHANGED)


def test_a_password_set_anywhere_else_revokes_too(manager):
    token = ApiTokenFactory(user=manager)

    manager.set_password("a-brand-new-secret-9")  # what `manage.py changepassword` and the shell do
    manager.save()

    assert_revoked(token, TokenRevokeReason.PASSWORD_CHANGED)


def test_a_hash_upgrade_on_sign_in_is_not_a_password_change(manager, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", f"{__name__}.OldMD5Hasher"]
    manager.password = OldMD5Hasher().encode("the-same-password-3", OldMD5Hasher().salt())
    manager.save(update_fields=["password"])
    token = ApiTokenFactory(user=manager)

    assert manager.check_password("the-same-password-3")

    assert type(manager).objects.get(pk=manager.pk).password.startswith("md5$"), "upgraded"
    assert bearer(token.secret).get("/api/v1/leads").status_code == 200


def test_deactivating_a_user_in_the_admin_revokes_their_tokens(client, tenant_admin, manager):
    token = ApiTokenFactory(user=manager)
    client.force_login(tenant_admin)

    response = client.post(
        f"/admin/crm/user/{manager.pk}/change/",
        {"username": manager.username, "email": manager.email, "role": manager.role, "is_staff": "on"},
    )

    assert response.status_code == 302
    manager.refresh_from_db()
    assert not manager.is_active
    assert_revoked(token, TokenRevokeReason.USER_DEACTIVATED)
    token.refresh_from_db()
    assert token.revoked_by == tenant_admin


def test_editing_an_active_user_revokes_nothing(client, tenant_admin, manager):
    token = ApiTokenFactory(user=manager)
    client.force_login(tenant_admin)

    client.post(
        f"/admin/crm/user/{manager.pk}/change/",
        {"username": manager.username, "email": manager.email, "role": manager.role, "is_staff": "on", "is_active": "on",
         "first_name": "Manny"},
    )

    manager.refresh_from_db()
    assert manager.first_name == "Manny"
    assert bearer(token.secret).get("/api/v1/leads").status_code == 200


# Guessing tokens ---------------------------------------------------------------------------------


def test_repeated_bad_tokens_from_one_address_are_answered_429_without_checking_more(manager, settings):
    settings.API_TOKEN_FAILURE_LIMIT = 5
    good = ApiTokenFactory(user=manager)
    for attempt in range(5):
        response = bearer(f"guess-{attempt}").get("/api/v1/leads")
        assert response.status_code == 401, attempt

    throttled = bearer("guess-5").get("/api/v1/leads")
    even_the_right_one = bearer(good.secret).get("/api/v1/leads")

    assert throttled.status_code == 429
    assert "Too many failed token attempts from your address" in throttled.json()["detail"]
    assert 0 < int(throttled["Retry-After"]) <= settings.API_TOKEN_FAILURE_WINDOW_SECONDS
    assert even_the_right_one.status_code == 429
    assert ApiToken.objects.get().last_used_at is None, "the right token was not even looked up"
    other_address = bearer(good.secret).get("/api/v1/leads", REMOTE_ADDR="198.51.100.7")
    assert other_address.status_code == 200


def test_good_tokens_and_requests_without_one_are_not_counted(manager, settings):
    settings.API_TOKEN_FAILURE_LIMIT = 2
    good = ApiTokenFactory(user=manager)

    for _ in range(5):
        assert bearer(good.secret).get("/api/v1/leads").status_code == 200
        assert APIClient().get("/api/v1/leads").status_code == 401

    assert bearer("guess").get("/api/v1/leads").status_code == 401
    assert bearer(good.secret).get("/api/v1/leads").status_code == 200


def test_the_throttle_counts_the_address_our_proxy_saw(manager, settings):
    settings.API_TOKEN_FAILURE_LIMIT = 2
    settings.TRUSTED_PROXY_COUNT = 1
    good = ApiTokenFactory(user=manager)

    def attempt(secret, client_address):
        return bearer(secret).get("/api/v1/leads", HTTP_X_FORWARDED_FOR=f"10.9.9.9, {client_address}")

    assert [attempt("guess", "203.0.113.5").status_code for _ in range(3)] == [401, 401, 429]
    assert attempt(good.secret, "203.0.113.6").status_code == 200
