"""`/api/v1/privacy/export` and `/api/v1/privacy/erase`: data-subject requests, for workspace admins (docs/privacy.md)."""

from typing import cast

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from crm.api.tenancy import HasTenant
from crm.choices import Role
from crm.models import Tenant, User

from ..privacy.erase import privacy_erase
from ..privacy.export import privacy_export


class IsWorkspaceAdmin(BasePermission):
    message = "Only a workspace admin answers data-subject requests."

    def has_permission(self, request, view):
        user = request.user
        return bool(user.is_superuser or user.role == Role.ADMIN)


class ExportRequestSerializer(serializers.Serializer):
    email = serializers.EmailField(help_text="The person's email address.")


class EraseRequestSerializer(ExportRequestSerializer):
    confirm = serializers.BooleanField(help_text="Must be true: an erasure cannot be undone.")

    def validate_confirm(self, value):
        if not value:
            raise serializers.ValidationError("Send true to confirm: an erasure cannot be undone.")
        return value


class PrivacyViewSet(viewsets.GenericViewSet):
    permission_classes = [HasTenant, IsWorkspaceAdmin]
    serializer_class = ExportRequestSerializer

    def _tenant(self) -> Tenant:
        return cast(Tenant, cast(User, self.request.user).tenant)

    @extend_schema(
        request=ExportRequestSerializer,
        responses=inline_serializer("PrivacyExport", {
            "summary": serializers.CharField(), "data": serializers.DictField(),
        }),
        summary="Everything the workspace holds about a person (GDPR access and portability)",
    )
    @action(detail=False, methods=["post"])
    def export(self, request):
        form = ExportRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            result = privacy_export(tenant=self._tenant(), email=form.validated_data["email"],
                                    actor=request.user, door="api", request=request)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"email": exc.messages}) from exc
        return Response({"summary": result.summary, "data": result.document})

    @extend_schema(
        request=EraseRequestSerializer,
        responses=inline_serializer("PrivacyErasure", {
            "found": serializers.BooleanField(), "counts": serializers.DictField(child=serializers.IntegerField()),
        }),
        summary="Erase a person from the workspace (GDPR erasure); cannot be undone",
    )
    @action(detail=False, methods=["post"], serializer_class=EraseRequestSerializer)
    def erase(self, request):
        form = EraseRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            erasure = privacy_erase(tenant=self._tenant(), email=form.validated_data["email"], actor=request.user,
                                    door="api")
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"email": exc.messages}) from exc
        return Response({"found": erasure.found, "counts": erasure.counts})
