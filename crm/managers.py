from django.db import models


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
