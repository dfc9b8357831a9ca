from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from ..capture import capture_lead
from ..choices import LeadSource
from ..models import Channel
from .serializers import CaptureReceiptSerializer, LeadCaptureSerializer, LeadSerializer


class LeadCaptureMixin:
    """`POST /api/v1/leads`: the public door for website forms, and lead creation for integrators."""

    @extend_schema(
        summary="Capture a lead",
        description=(
            "Anonymous website forms send their channel's key (`X-Form-Key` header or `form_key` field) and get "
            '`{"status": "received"}`. Authenticated callers get the lead: 201 when created, 200 when the email '
            "matched an open lead, which is updated instead."
        ),
        parameters=[OpenApiParameter("X-Form-Key", str, OpenApiParameter.HEADER, required=False)],
        responses={201: LeadSerializer, 200: LeadSerializer, 400: OpenApiResponse(description="Field errors")},
        auth=[{"BearerAuth": []}, {}],
    )
    def create(self, request, *args, **kwargs):
        tenant, channel = self._capture_door(request)
        serializer = LeadCaptureSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        anonymous = not request.user.is_authenticated
        if anonymous:
            source = channel.default_source
        else:
            source = data.pop("source", None) or (channel.default_source if channel else LeadSource.API)
        data.pop("source", None)
        result = capture_lead(
            tenant=tenant, data=data, source=source, channel=channel, actor=None if anonymous else request.user
        )
        if anonymous:
            # The same answer whatever happened, so a form cannot be used to probe who is a lead.
            return Response(CaptureReceiptSerializer({"status": "received"}).data, status=status.HTTP_201_CREATED)
        if result.lead is None:
            return Response(
                {"detail": "This email belongs to a contact; the submission was logged on their timeline.",
                 "contact_id": result.contact.pk},
                status=status.HTTP_200_OK,
            )
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(LeadSerializer(result.lead).data, status=code)

    def _capture_door(self, request) -> tuple:
        key = request.headers.get("X-Form-Key") or (request.data.get("form_key") if hasattr(request.data, "get") else None)
        user = request.user
        if user.is_authenticated:
            if not user.tenant_id:
                raise exceptions.PermissionDenied("Your account belongs to no workspace.")
            if not key:
                return user.tenant, None
            channel = Channel.objects.for_tenant(user.tenant).filter(form_key=key).first()
            if channel is None:
                raise exceptions.ValidationError({"form_key": ["No channel with this key in your workspace."]})
            return user.tenant, channel
        if not key:
            raise exceptions.NotAuthenticated("Send a bearer token, or the website form's key as X-Form-Key.")
        channel = Channel.objects.select_related("tenant", "default_owner").filter(form_key=key, is_active=True).first()
        if channel is None:
            raise exceptions.AuthenticationFailed("Unknown or inactive form key.")
        return channel.tenant, channel
