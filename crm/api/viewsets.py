from typing import cast

from django.db import IntegrityError, transaction
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import mixins, viewsets
from rest_framework.filters import OrderingFilter
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response

from .. import access, audit
from ..models import User
from ..versions import check_version, etag_of, expected_from_if_match
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


class VersionedMixin(GenericAPIView):
    """`ETag` on a row read or changed here; `If-Match` makes a change conditional on it (412 when stale)."""

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        return Response(self.get_serializer(instance).data, headers={"ETag": etag_of(instance)})

    def if_match(self) -> list[str] | None:
        return expected_from_if_match(self.request.headers.get("If-Match"))


class AuditedReadMixin(GenericAPIView):
    """Lists and detail reads leave one access record each (crm/audit.py): the page's rows and the filter."""

    audit_page: list | None = None

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        self.audit_page = page
        return page

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)  # type: ignore[misc]
        if response.status_code == 200:
            rows = self.audit_page if self.audit_page is not None else []
            audit.record_access(
                request=request, door="api", model=self.get_queryset().model, rows=rows, query=audit.query_of(request)
            )
        return response

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)  # type: ignore[misc]
        if response.status_code == 200:
            audit.record_access(request=request, door="api", model=self.get_queryset().model, rows=[self.audited_row])
        return response

    def get_object(self):
        self.audited_row = super().get_object()
        return self.audited_row


class CrudViewSet(
    AuditedReadMixin,
    VersionedMixin,
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

    def update(self, request, *args, **kwargs):
        response = super().update(request, *args, **kwargs)
        response["ETag"] = etag_of(self.saved)
        return response

    def perform_update(self, serializer):
        self._save(serializer, expected=self.if_match())
        self.saved = serializer.instance

    def _save(self, serializer, expected: list[str] | None = None, **extra):
        try:
            with transaction.atomic():
                if expected is not None:  # the row as it is now, locked until this change commits
                    locked = type(serializer.instance).objects.select_for_update().get(pk=serializer.instance.pk)
                    check_version(locked, expected)
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
