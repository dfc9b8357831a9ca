"""`/api/v1/webhook-endpoints`: a workspace admin registers URLs for events and reads their delivery log."""

from typing import cast

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from ..choices import Role
from ..models import User, WebhookDelivery, WebhookEndpoint
from ..outbox import event_id, routing_key
from ..webhooks import EVENT_TYPES, check_target, endpoint_create, endpoint_update, resend
from .fields import UUID_PATTERN
from .schema import crud_schema
from .serializers import PublicIdModelSerializer
from .tenancy import HasTenant, TenantScopedMixin


class IsWorkspaceAdmin(BasePermission):
    message = "Only your workspace's admins manage webhook endpoints."

    def has_permission(self, request, view):
        return request.user.is_superuser or request.user.role == Role.ADMIN


class WebhookEndpointSerializer(PublicIdModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES), required=False, max_length=len(EVENT_TYPES),
        help_text="Event types as routing keys; empty or omitted: every type.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "events", "description", "active", "failing_since", "disabled_reason", "created_at"]
        read_only_fields = ["failing_since", "disabled_reason", "created_at"]

    def validate_url(self, value: str) -> str:
        try:
            check_target(value)  # the service's rule; a 400 naming the field rather than a 500
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return value

    def create(self, validated_data):
        return endpoint_create(tenant=self.context["request"].user.tenant, **validated_data)

    def update(self, instance, validated_data):
        return endpoint_update(endpoint=instance, changes=validated_data)


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="Signing secret (whsec_...): shown in this answer only.")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookDeliverySerializer(PublicIdModelSerializer):
    event = serializers.SerializerMethodField(help_text="The event's id, as its message's event_id.")
    event_type = serializers.SerializerMethodField()
    status = serializers.CharField(read_only=True, help_text="pending (being tried), succeeded or failed (gave up).")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id", "event", "event_type", "status", "attempts", "status_code", "duration_ms", "error",
            "next_attempt_at", "last_attempt_at", "delivered_at", "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.UUID)
    def get_event(self, delivery: WebhookDelivery) -> str:
        return event_id(delivery.event)

    def get_event_type(self, delivery: WebhookDelivery) -> str:
        return routing_key(delivery.event.type)


@crud_schema(
    WebhookEndpointSerializer, plural="webhook endpoints",
    edit_rule="Switching an endpoint back on (`active: true`) clears its failure record.",
)
class WebhookEndpointViewSet(
    TenantScopedMixin, mixins.ListModelMixin, mixins.CreateModelMixin, mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet,
):
    queryset = WebhookEndpoint.objects.all()
    serializer_class = WebhookEndpointSerializer
    permission_classes = [HasTenant, IsWorkspaceAdmin]

    def get_queryset(self):
        return WebhookEndpoint.objects.filter(tenant=cast(User, self.request.user).tenant).order_by("id")  # HasTenant

    @extend_schema(summary="Register a webhook endpoint", responses={201: WebhookEndpointCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = serializer.save()
        return Response(WebhookEndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="An endpoint's delivery log, newest first", responses={200: WebhookDeliverySerializer(many=True)})
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        deliveries = WebhookDelivery.objects.filter(endpoint=self.get_object()).select_related("event").order_by("-id")
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    @extend_schema(summary="Send a delivery again", request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"], url_path=rf"deliveries/(?P<delivery_id>{UUID_PATTERN})/resend")
    def resend(self, request, pk=None, delivery_id=None):
        deliveries = WebhookDelivery.objects.filter(endpoint=self.get_object(), public_id=delivery_id)
        if not deliveries.exists():
            return Response({"detail": "No such delivery of this endpoint."}, status=status.HTTP_404_NOT_FOUND)
        with transaction.atomic():
            resend(deliveries)
        return Response(WebhookDeliverySerializer(deliveries.get()).data, status=status.HTTP_202_ACCEPTED)
