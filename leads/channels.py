"""Channels: the doors leads come in through (a website form, a Facebook page, a Google lead form).

Workspace admins create and change them here, from the admin or `/api/v1/channels`. Secrets
(CHANNEL_SECRETS) are write-only: an empty or missing value in a change keeps the stored one, and
nothing here logs them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from crm.access import AccessDenied
from crm.choices import Role
from crm.models import Tenant, User
from leads.choices import AD_CHANNEL_SOURCES, ChannelKind
from leads.integrations.mapping import MappingError, check_mapping
from leads.models import CHANNEL_SECRETS, Channel

# What each kind needs before it can take leads.
REQUIRED = {
    ChannelKind.FACEBOOK_LEAD_ADS: ("page_id", "app_secret", "page_access_token", "verify_token"),
    ChannelKind.GOOGLE_LEAD_FORM: ("google_key",),
    ChannelKind.WEBSITE_FORM: (),
}
EDITABLE = (
    "name", "kind", "allowed_origins", "default_source", "default_owner", "rate_limit_per_hour", "is_active",
    "page_id", "app_secret", "verify_token", "page_access_token", "google_key", "field_mapping",
)


def check_admin(actor: User | None) -> None:
    if actor is not None and not (actor.is_superuser or actor.role == Role.ADMIN):
        raise AccessDenied("Only your workspace's admins manage channels.")


def channel_create(*, actor: User | None, tenant: Tenant, values: dict[str, Any]) -> Channel:
    """A new channel; an ad channel's leads get its platform as their source. Raises ValidationError
    naming the field, AccessDenied for anyone but a workspace admin."""
    check_admin(actor)
    channel = Channel(tenant=tenant)
    return _save(channel, values, creating=True)


def channel_update(*, actor: User | None, channel: Channel, values: dict[str, Any]) -> Channel:
    """Change a channel; a secret sent empty (or not at all) keeps the one it has."""
    check_admin(actor)
    return _save(channel, values, creating=False)


def channel_check(*, channel: Channel, values: dict[str, Any], creating: bool) -> Channel:
    """The channel as `values` would leave it, checked but not saved (the admin's form asks before it saves).
    Raises ValidationError naming the field."""
    import copy

    prospective = copy.copy(channel)
    _apply(prospective, values, creating=creating)
    return prospective


def _save(channel: Channel, values: dict[str, Any], *, creating: bool) -> Channel:
    _apply(channel, values, creating=creating)
    try:
        with transaction.atomic():
            channel.save()
    except IntegrityError as exc:
        raise ValidationError({"name": ["A channel with this name already exists."]}) from exc
    return channel


def clean_origins(value: Any) -> list[str]:
    """Allowed origins as `scheme://host[:port]`, lower-cased, each once: a pasted page URL keeps its origin only.

    Raises ValidationError on allowed_origins naming the entry that is not an http(s) URL with a host."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.split()
    if not isinstance(value, (list, tuple)):
        raise ValidationError({"allowed_origins": ["A list of website addresses, e.g. https://www.example.com."]})
    origins: list[str] = []
    for entry in value:
        text = str(entry).strip() if isinstance(entry, str) else ""
        parts = urlsplit(text) if text else None
        try:
            port = parts.port if parts else None
        except ValueError:
            parts = None
        if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise ValidationError({"allowed_origins": [
                f"{entry!s} is not a website address: write it as https://www.example.com (scheme and host)."
            ]})
        origin = f"{parts.scheme.lower()}://{parts.hostname.lower()}" + (f":{port}" if port else "")
        if origin not in origins:
            origins.append(origin)
    return origins


def _apply(channel: Channel, values: dict[str, Any], *, creating: bool) -> None:
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise ValidationError({name: ["This field cannot be set."] for name in sorted(unknown)})
    if "allowed_origins" in values:
        values = {**values, "allowed_origins": clean_origins(values["allowed_origins"])}
    for name, value in values.items():
        if name in CHANNEL_SECRETS and not value:
            continue  # write-only: empty means "keep"
        setattr(channel, name, "" if value is None and name != "default_owner" else value)
    if channel.default_owner is not None and channel.default_owner.tenant_id != channel.tenant_id:
        raise ValidationError({"default_owner": ["Not a member of this workspace."]})
    if channel.kind in AD_CHANNEL_SOURCES and (creating or "kind" in values):
        channel.default_source = AD_CHANNEL_SOURCES[ChannelKind(channel.kind)]
    try:
        channel.field_mapping = check_mapping(channel.field_mapping or {})
    except MappingError as exc:
        raise ValidationError({"field_mapping": [str(exc)]}) from exc
    missing = [name for name in REQUIRED[ChannelKind(channel.kind)] if not getattr(channel, name)]
    if missing:
        raise ValidationError({name: [f"A {channel.get_kind_display()} channel needs this."] for name in missing})
    if channel.kind == ChannelKind.FACEBOOK_LEAD_ADS:
        taken = Channel.objects.filter(kind=channel.kind, page_id=channel.page_id, tenant=channel.tenant_id)
        if taken.exclude(pk=channel.pk).exists():
            raise ValidationError({"page_id": ["Another channel of this workspace already takes this page's leads."]})
    channel.full_clean(exclude=["tenant", "default_owner"])


def callback_path(channel: Channel) -> str:
    """Where the channel's platform posts its leads ('' for a website form): give it as an absolute URL."""
    from django.urls import reverse

    if channel.kind == ChannelKind.FACEBOOK_LEAD_ADS:
        return reverse("hook-facebook")
    if channel.kind == ChannelKind.GOOGLE_LEAD_FORM:
        return reverse("hook-google", kwargs={"channel_key": channel.form_key})
    return ""
