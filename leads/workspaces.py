"""Opening a workspace: the tenant, its first admin, a website form and an API token, all or nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, cast

from django.apps import apps
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from crm.choices import Role
from crm.models import Tenant, User
from crm.tokens import token_create

# Lowercase only: the unique index is case-sensitive on PostgreSQL, so "Acme" and "acme" would both fit.
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX_LENGTH = cast(int, Tenant._meta.get_field("slug").max_length)  # a SlugField has one
WEBSITE_CHANNEL_NAME = "Website"
FIRST_TOKEN_NAME = "Created with the workspace"


class TenantSetupError(Exception):
    """The workspace cannot be created as asked; the message says what to change."""


@dataclass(frozen=True)
class TenantSetup:
    tenant: Tenant
    admin: User
    channel: Any  # leads.Channel; crm does not import leads (dependencies point leads -> crm)
    api_token: str  # the secret, shown once: only its hash is stored

    @property
    def form_key(self) -> str:
        return self.channel.form_key


def create_tenant(
    *,
    slug: str,
    name: str = "",
    admin_username: str,
    admin_password: str,
    admin_email: str = "",
) -> TenantSetup:
    """Create a tenant with an admin user (role admin, staff), a website channel, the admin's API token
    and the default scoring rules (leads/rules/defaults.py)."""
    slug = slug.strip()
    admin_username = admin_username.strip()
    admin_email = admin_email.strip().lower()
    _check_slug(slug)
    _check_username(admin_username)
    _check_email(admin_email)
    admin = User(username=admin_username, email=admin_email, role=Role.ADMIN, is_staff=True)
    _check_password(admin_password, admin)

    try:
        with transaction.atomic():
            # Checked again inside the transaction: the early checks give friendly messages,
            # these (and the unique indexes behind them) keep two concurrent runs honest.
            if Tenant.objects.filter(slug=slug).exists():
                raise TenantSetupError(_slug_taken(slug))
            if User.objects.filter(username=admin_username).exists():
                raise TenantSetupError(_username_taken(admin_username))
            tenant = Tenant.objects.create(slug=slug, name=name.strip() or _name_from_slug(slug))
            admin.tenant = tenant
            admin.set_password(admin_password)
            admin.save()
            channel = apps.get_model("leads", "Channel").objects.create(
                tenant=tenant, name=WEBSITE_CHANNEL_NAME, kind="website_form"
            )
            _token, secret = token_create(user=admin, name=FIRST_TOKEN_NAME)
            # Imported here: crm does not import leads at load time (dependencies point leads -> crm).
            from leads.rules.defaults import install_default_rules

            install_default_rules(tenant=tenant)
    except IntegrityError as exc:
        raise TenantSetupError(
            f"Tenant '{slug}' or user '{admin_username}' was created by someone else just now; "
            "pick another slug or username and run again."
        ) from exc
    return TenantSetup(tenant=tenant, admin=admin, channel=channel, api_token=secret)


def _check_slug(slug: str) -> None:
    if not slug or len(slug) > SLUG_MAX_LENGTH or not SLUG_RE.match(slug):
        suggestion = slugify(slug)[:SLUG_MAX_LENGTH].strip("-_").replace("_", "-")
        hint = f", e.g. '{suggestion}'" if suggestion and SLUG_RE.match(suggestion) else ""
        raise TenantSetupError(
            f"'{slug}' is not a valid tenant slug; use up to {SLUG_MAX_LENGTH} lowercase letters, "
            f"digits and single hyphens{hint}."
        )
    if Tenant.objects.filter(slug=slug).exists():
        raise TenantSetupError(_slug_taken(slug))


def _check_username(username: str) -> None:
    max_length = cast(int, User._meta.get_field("username").max_length)
    if not username or len(username) > max_length:
        raise TenantSetupError(f"Give an admin username of 1 to {max_length} characters.")
    try:
        User.username_validator(username)
    except ValidationError as exc:
        raise TenantSetupError(f"Admin username '{username}' is not valid: {' '.join(exc.messages)}") from exc
    if User.objects.filter(username=username).exists():
        raise TenantSetupError(_username_taken(username))


def _check_email(email: str) -> None:
    if not email:
        return
    try:
        validate_email(email)
    except ValidationError as exc:
        raise TenantSetupError(f"Admin email '{email}' is not valid; give an address like name@example.com.") from exc


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise TenantSetupError(f"Admin password rejected: {' '.join(exc.messages)} Choose a stronger one.") from exc


def _slug_taken(slug: str) -> str:
    return f"Tenant '{slug}' already exists; pick another slug."


def _username_taken(username: str) -> str:
    return f"User '{username}' already exists; pick another admin username."


def _name_from_slug(slug: str) -> str:
    return slug.replace("-", " ").title()
