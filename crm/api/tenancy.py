from typing import Any

from rest_framework.permissions import BasePermission

from crm import access

from .fields import UUID_PATTERN


class HasTenant(BasePermission):
    """Signed in and belonging to a workspace (platform superusers without one see nothing)."""

    message = "Your account belongs to no workspace."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.tenant_id)


# Mixed into DRF's generic views, whose get_queryset() it narrows.
_ViewHooks: Any = object


class TenantScopedMixin(_ViewHooks):
    """Viewset mixin: the queryset is what the caller may see (crm.access), so every other row is 404.

    A detail route names its row by public id (a UUID, issue 13): `/leads/12` matches no route (404), and
    another workspace's id is not in the queryset (404). The URL keyword stays `pk`, so actions keep `pk=None`.
    """

    lookup_field = "public_id"
    lookup_url_kwarg: str | None = "pk"
    lookup_value_regex = UUID_PATTERN

    def get_queryset(self):
        user = self.request.user
        # The API works in the caller's workspace, a platform superuser's too (the policy lets them see every one).
        return access.visible(user, super().get_queryset().for_tenant(user.tenant))
