from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from crm.api.exceptions import Conflict
from crm.api.tenancy import HasTenant, TenantScopedMixin

from ..conversion import ConversionInputError, LeadNotConvertible
from ..models import Lead
from .capture_views import LeadCaptureMixin
from .serializers import (
    ConversionResultSerializer,
    ConvertSerializer,
    LeadCaptureSerializer,
    LeadDetailSerializer,
    LeadSerializer,
)


class LeadViewSet(LeadCaptureMixin, TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Lead.objects.select_related("owner")
    serializer_class = LeadSerializer

    def get_permissions(self):
        if self.action == "create":
            return [AllowAny()]  # a form key is checked in create()
        return [HasTenant()]

    def get_serializer_class(self):
        if self.action == "retrieve":
            return LeadDetailSerializer
        if self.action == "create":
            return LeadCaptureSerializer
        if self.action == "convert":
            return ConvertSerializer
        return LeadSerializer

    @extend_schema(
        summary="Convert a lead into a contact (and company, deal)",
        request=ConvertSerializer,
        responses={
            201: ConversionResultSerializer,
            200: OpenApiResponse(ConversionResultSerializer, description="Already converted: the first result."),
            400: OpenApiResponse(description="Field errors"),
            404: OpenApiResponse(description="No such lead in your workspace"),
            409: OpenApiResponse(description="The lead cannot be converted (e.g. disqualified)"),
        },
    )
    @action(detail=True, methods=["post"])
    def convert(self, request, pk=None):
        lead = self.get_object()
        if not Lead.objects.editable_by(request.user).filter(pk=lead.pk).exists():
            raise exceptions.PermissionDenied("Reps convert their own and unassigned leads only.")
        serializer = ConvertSerializer(data=request.data, context={"tenant": request.user.tenant})
        serializer.is_valid(raise_exception=True)
        try:
            result = Lead.objects.convert(lead=lead, actor=request.user, **serializer.validated_data)
        except LeadNotConvertible as exc:
            raise Conflict(str(exc)) from exc
        except ConversionInputError as exc:
            raise exceptions.ValidationError({exc.field: [str(exc)]}) from exc
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(ConversionResultSerializer(result.as_dict()).data, status=code)
