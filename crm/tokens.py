"""API tokens: issued, checked and revoked here, and nowhere else.

A token's secret is shown once, when it is created; the database keeps only its SHA-256, so a
copy of the database (a backup, a read replica, a leaked dump) holds no token anyone can use.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from .access import AccessDenied
from .choices import Role, TokenRevokeReason
from .models import ApiToken, User

SECRET_BYTES = 32  # 256 random bits, 43 characters of URL-safe base64
PREFIX_LENGTH = ApiToken._meta.get_field("prefix").max_length
MAX_DAYS = 3650
# last_used_at is for people ("used yesterday", "never used"): a minute's precision spares a write per request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
DEFAULT_NAME = "API token"


class TokenRefused(Exception):
    """The presented token does not sign anyone in; the message says why (the API answers 401 with it)."""


def hash_secret(secret: str) -> str:
    """The stored form of a secret.

    A plain SHA-256, not a slow salted password hash: the secrets are random with 256 bits (old
    DRF tokens 160), so there is nothing to guess from the hash however fast it is, and a
    deterministic hash lets one indexed lookup find the token on every request. Slow hashes
    exist for passwords that people choose.
    """
    return hashlib.sha256(secret.encode()).hexdigest()


def may_manage_tokens(actor: User, owner: User) -> bool:
    """The platform manages every token; a tenant admin the tokens of their workspace; anyone else their own."""
    if actor.is_superuser:
        return True
    if actor.tenant_id is None or actor.tenant_id != owner.tenant_id:
        return False
    return actor.role == Role.ADMIN or actor.pk == owner.pk


def _check_may_manage(actor: User | None, owner: User) -> None:
    if actor is not None and not may_manage_tokens(actor, owner):
        raise AccessDenied("Only a tenant admin manages the API tokens of other people in the workspace.")


def token_create(*, user: User, name: str, days: int | None = None, actor: User | None = None) -> tuple[ApiToken, str]:
    """Issue a token for `user` that expires in `days` (default API_TOKEN_DAYS).

    Returns the row and the secret; the secret is not kept anywhere, so show it now.
    """
    _check_may_manage(actor, user)
    if user.tenant_id is None:
        raise ValidationError(f"{user} belongs to no workspace; API tokens act inside one.")
    if not user.is_active:
        raise ValidationError(f"{user} is deactivated; reactivate them before issuing a token.")
    days = settings.API_TOKEN_DAYS if days is None else days
    if not 1 <= days <= MAX_DAYS:
        raise ValidationError({"days": f"A token lasts 1 to {MAX_DAYS} days."})
    secret = secrets.token_urlsafe(SECRET_BYTES)
    now = timezone.now()
    token = ApiToken.objects.create(
        tenant_id=user.tenant_id,
        user=user,
        name=name.strip() or DEFAULT_NAME,
        # 8 characters tell tokens apart in a list; the 35 (or 32) left are far beyond guessing.
        prefix=secret[:PREFIX_LENGTH],
        key_hash=hash_secret(secret),
        created_at=now,
        expires_at=now + dt.timedelta(days=days),
    )
    return token, secret


def token_revoke(*, token: ApiToken, actor: User | None) -> bool:
    """Revoke one token now; False when it was revoked already. `actor` None is the system."""
    _check_may_manage(actor, token.user)
    now = timezone.now()
    changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=actor, revoked_reason=TokenRevokeReason.REVOKED
    )
    if changed:
        token.revoked_at, token.revoked_by, token.revoked_reason = now, actor, TokenRevokeReason.REVOKED
    return bool(changed)


def tokens_revoke_for_user(
    *, user: User, reason: str = TokenRevokeReason.REVOKED, actor: User | None = None
) -> int:
    """Revoke every token of `user` that is not revoked yet; the number revoked."""
    _check_may_manage(actor, user)
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=actor, revoked_reason=reason
    )


def token_authenticate(*, secret: str) -> ApiToken:
    """The token this secret belongs to, with its user loaded; TokenRefused unless it may sign in now."""
    token = ApiToken.objects.select_related("user").filter(key_hash=hash_secret(secret)).first()
    if token is None:
        raise TokenRefused("Invalid token.")
    now = timezone.now()
    if token.revoked_at is not None:
        raise TokenRefused(
            f"This token was revoked on {token.revoked_at:%Y-%m-%d} ({token.get_revoked_reason_display().lower()}); "
            "ask your workspace admin for a new one."
        )
    if token.expires_at <= now:
        raise TokenRefused(f"This token expired on {token.expires_at:%Y-%m-%d}; ask your workspace admin for a new one.")
    if not token.user.is_active:
        raise TokenRefused("This token's user is deactivated.")
    if token.user.tenant_id != token.tenant_id:
        raise TokenRefused("This token's user has moved to another workspace; ask for a new token there.")
    _touch(token, now)
    return token


def _touch(token: ApiToken, now: dt.datetime) -> None:
    stale = now - LAST_USED_RESOLUTION
    if token.last_used_at is not None and token.last_used_at > stale:
        return
    # Conditional, so concurrent requests of one token write once a minute between them.
    ApiToken.objects.filter(pk=token.pk).filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale)).update(
        last_used_at=now
    )
    token.last_used_at = now


class RevokeTokensOnPasswordChange:
    """Revokes a user's API tokens whenever their password changes (listed in AUTH_PASSWORD_VALIDATORS).

    Django calls every password validator's `password_changed` after a user with a new password
    is saved, from every door that sets one (the admin's forms, `manage.py changepassword`, the
    shell), and not for hash upgrades on sign-in. It validates nothing.
    """

    def validate(self, password, user=None) -> None:
        return None

    def password_changed(self, password, user=None) -> None:
        if user is not None and user.pk is not None:
            tokens_revoke_for_user(user=user, reason=TokenRevokeReason.PASSWORD_CHANGED)

    def get_help_text(self) -> str:
        return "Changing a password revokes the user's API tokens."
