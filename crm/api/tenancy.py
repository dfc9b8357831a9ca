from typing import Any

from rest_framework.permissions import BasePermission

from crm import access


class HasTenant(BasePermission):
    """Signed in and belonging to a workspace (platform superusers without one see nothing)."""

    message = "Your account belongs to no workspace."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.tenant_id)


# Mixed into DRF's generic views, whose get_queryset() it narrows.
_ViewHooks: Any = object


class TenantScopedMixin(_ViewHooks):
    """Viewset mixin: the queryset is what the caller may see (crm.access), so every other row is 404."""

    def get_queryset(self):
        user = self.request.user
        # The API works in the caller's workspace, a platform superuser's too (the policy lets them see every one).
        return access.visible(user, super().get_queryset().for_tenant(user.tenant))

    def get_object(self: Any):
        # TRANSITIONAL (issue 13): a UUID names the row by its public id; integer pks still answer until the
        # API speaks public ids everywhere, then this fallback goes.
        from crm.public_ids import parse_public_id

        key = self.lookup_url_kwarg or self.lookup_field
        value = self.kwargs.get(key)
        public_id = parse_public_id(value) if value is not None and not str(value).isdigit() else None
        if public_id is not None:
            self.lookup_field, self.lookup_url_kwarg = "public_id", key
            self.kwargs = {**self.kwargs, key: public_id}
        return super().get_object()
