"""Nurture in the API: /api/v1/sequences (read by all, written by managers) and POST /leads/{id}/nurture."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.api.fields import PublicIdRelatedField
from crm.api.serializers import PublicIdModelSerializer
from crm.api.tenancy import HasTenant, TenantScopedMixin

from ..models import Sequence, SequenceStep
from ..nurture import service
from ..nurture.sequences import sequence_save
from ..nurture_models import ExitReason, StepKind
from .serializers import LeadDetailSerializer


class SequenceStepSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=StepKind.choices)
    settings = serializers.JSONField(help_text=SequenceStep._meta.get_field("settings").help_text)

    class Meta:
        model = SequenceStep
        fields = ["position", "kind", "settings"]
        read_only_fields = ["position"]


class SequenceSerializer(PublicIdModelSerializer):
    steps = SequenceStepSerializer(many=True, required=False, help_text="In order; sent steps replace all steps.")
    enrolled = serializers.IntegerField(read_only=True, help_text="Leads active or paused in it now.")

    class Meta:
        model = Sequence
        fields = ["id", "name", "description", "active", "steps", "enrolled", "created_at"]
        read_only_fields = ["id", "created_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["enrolled"] = instance.current_leads.filter(nurture_status__in=service.ENROLLED_STATES).count()
        return data

    def save(self, **kwargs):
        data = dict(self.validated_data)
        steps = data.pop("steps", None)
        request = self.context["request"]
        self.instance = sequence_save(tenant=request.user.tenant, actor=request.user, fields=data,
                                      steps=None if steps is None else [dict(s) for s in steps],
                                      sequence=self.instance)
        return self.instance


class SequenceViewSet(TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Nurture sequences of the caller's workspace; managers create and change them (switch one off with
    `active: false` rather than deleting it: its history stays)."""

    queryset = Sequence.objects.prefetch_related("steps").order_by("name", "id")
    serializer_class = SequenceSerializer
    permission_classes = [HasTenant]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):  # sequences are workspace configuration: everyone in it reads them
        return self.queryset.filter(tenant=getattr(self.request.user, "tenant", None))  # HasTenant

    def perform_create(self, serializer):
        with transaction.atomic():
            serializer.save()


class NurtureActionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["enrol", "pause", "resume", "exit"], default="enrol")
    sequence = PublicIdRelatedField(queryset=Sequence.objects.all(), required=False,
                                    help_text="The sequence to enrol in (action enrol).")
    reason = serializers.ChoiceField(choices=ExitReason.choices, default=ExitReason.REMOVED,
                                     help_text="Why the lead leaves (action exit).")

    def validate(self, attrs):
        if attrs["action"] == "enrol":
            sequence = attrs.get("sequence")
            if sequence is None or sequence.tenant_id != self.context["tenant"].pk:
                raise serializers.ValidationError({"sequence": ["Name a sequence of this workspace to enrol in."]})
        return attrs


class LeadNurtureMixin:
    """POST /leads/{id}/nurture: enrol in a sequence, pause, resume or exit (the lead's nurture state is on the lead)."""

    @extend_schema(
        summary="Enrol a lead in a nurture sequence, pause, resume or remove it",
        request=NurtureActionSerializer,
        responses={200: LeadDetailSerializer, 400: OpenApiResponse(description="Field errors, e.g. a closed lead"),
                   403: OpenApiResponse(description="A rep acting on a colleague's lead")},
    )
    @action(detail=True, methods=["post"], url_path="nurture")
    def nurture(self, request, pk=None):
        lead = self.editable_lead()  # type: ignore[attr-defined]
        body = NurtureActionSerializer(data=request.data, context={"tenant": request.user.tenant})
        body.is_valid(raise_exception=True)
        what, user = body.validated_data["action"], request.user
        if what == "enrol":
            lead = service.enrol_lead(lead=lead, sequence=body.validated_data["sequence"], actor=user)
        elif what == "pause":
            lead = service.pause_nurture(lead=lead, actor=user)
        elif what == "resume":
            lead = service.resume_nurture(lead=lead, actor=user)
        else:
            lead = service.exit_nurture(lead=lead, reason=body.validated_data["reason"], actor=user)
        lead = self.get_object()  # type: ignore[attr-defined]
        return Response(LeadDetailSerializer(lead).data, status=status.HTTP_200_OK)
