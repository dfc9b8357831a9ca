from typing import Any

from rest_framework.permissions import BasePermission


class HasTenant(BasePermission):
    """Signed in and belonging to a workspace (platform superusers without one see nothing)."""

    message = "Your account belongs to no workspace."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.tenant_id)


# Mixed into DRF's generic views, whose get_queryset() it narrows.
_ViewHooks: Any = object


class TenantScopedMixin(_ViewHooks):
    """Viewset mixin: the queryset is always cut down to the caller's tenant, so others' rows are 404."""

    def get_queryset(self):
        return super().get_queryset().for_tenant(self.request.user.tenant)
