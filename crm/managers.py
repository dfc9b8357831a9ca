import uuid

from django.db import models
from django.utils import timezone

from .outbox import relay_soon


class TenantManager(models.Manager):
    def bump_config_version(self, tenant) -> None:
        """Name a new version of the tenant's rules and model, in the caller's transaction.

        Every change to scoring rules, assignment rules, the prediction model or the tenant's users
        calls this (leads/rules/config.py), so per-process caches keyed by the version drop stale rows.
        """
        tenant_id = getattr(tenant, "pk", tenant)
        # Random rather than a counter: a rolled-back change must never leave behind a version that a
        # later change would reuse (a worker may have cached the rolled-back rules under it).
        version = uuid.uuid4().hex
        self.filter(pk=tenant_id).update(config_version=version)
        if tenant is not tenant_id:
            tenant.config_version = version  # the caller's own row stays current too


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, tenant):
        """Rows of one tenant (none when the tenant is None)."""
        if tenant is None:
            return self.none()
        return self.filter(tenant=tenant)


class ActivityQuerySet(TenantQuerySet):
    def timeline(self):
        """Newest first, with the actor loaded."""
        return self.select_related("actor").order_by("-occurred_at", "-id")


class EventQuerySet(TenantQuerySet):
    def undelivered(self):
        """Events the outbox has not handed on yet, oldest first."""
        return self.filter(delivered_at__isnull=True).order_by("id")

    def bulk_create(self, objs, *args, **kwargs):
        relay_soon()  # events leave within a second of their commit
        return super().bulk_create(objs, *args, **kwargs)

class ApiTokenQuerySet(TenantQuerySet):
    def usable(self, now=None):
        """Tokens neither revoked nor expired."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())
