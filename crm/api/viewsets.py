from typing import cast

from django.db import IntegrityError, transaction
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import mixins, viewsets
from rest_framework.filters import OrderingFilter
from rest_framework.permissions import SAFE_METHODS, BasePermission

from ..models import User
from .. import access
from .exceptions import Conflict
from .tenancy import HasTenant, TenantScopedMixin


class MayChange(BasePermission):
    """Reading is decided by the queryset (crm.access.visible); changing a row by crm.access.check_change."""

    def has_object_permission(self, request, view, obj):
        if request.method not in SAFE_METHODS:
            access.check_change(request.user, obj)
        return True


class StableOrderingFilter(OrderingFilter):
    """`?ordering=` with the primary key as a tie-breaker, so pages never repeat or skip rows."""

    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view)
        if ordering and not {"id", "-id", "pk", "-pk"} & set(ordering):
            return [*ordering, "-id"]
        return ordering

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        fields = ", ".join(view.ordering_fields)
        parameters[0]["description"] = f"Sort by {fields}; prefix a field with - for descending, comma-separate several."
        return parameters


class CrudViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """List, create, retrieve, update: no delete through the API. Rows are created in the caller's tenant."""

    permission_classes = [HasTenant, MayChange]
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]

    def perform_create(self, serializer):
        self._save(serializer, tenant=cast(User, self.request.user).tenant)  # HasTenant: signed in

    def perform_update(self, serializer):
        self._save(serializer)

    def _save(self, serializer, **extra):
        try:
            with transaction.atomic():
                serializer.save(**extra)
        except IntegrityError as exc:
            # A concurrent write took the email/domain/name between our check and our insert:
            # validating again names the field; anything else is a conflict, not a 500.
            again = type(serializer)(
                instance=serializer.instance,
                data=serializer.initial_data,
                partial=serializer.partial,
                context=serializer.context,
            )
            again.is_valid(raise_exception=True)
            raise Conflict("This change conflicts with another row; reload and try again.") from exc
