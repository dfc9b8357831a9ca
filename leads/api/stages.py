"""`PATCH /api/v1/leads/{id}/stage`: document 004's stage machine, on our lifecycle and conversion."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.api.exceptions import Conflict

from ..conversion import LeadNotConvertible
from ..lifecycle import TransitionError
from ..stages import LeadStage, lead_change_stage
from .serializers import LeadDetailSerializer


class StageChangeSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(
        choices=LeadStage.choices,
        help_text="new -> contacted -> qualified -> transferred, or lost from any stage that is not final.",
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=500,
        help_text="Why the lead is lost (kept as its disqualification reason); optional.",
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class RefusalSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What refused the change and what to do.")
    rule = serializers.CharField(
        help_text="final_stage, forward_only, no_skipping, handoff_from_qualified or handoff_gate."
    )


def refusal(exc: TransitionError | LeadNotConvertible) -> Conflict:
    """The 409 for a refused move: the service's words, and the name of the rule that refused it."""
    return Conflict({"detail": str(exc), "rule": exc.rule})


# Mixed into LeadViewSet, whose editable_lead() it calls.
_ViewHooks: Any = object


class LeadStageMixin(_ViewHooks):
    @extend_schema(
        summary="Move a lead to a stage (document 004)",
        description="Document 004's stages on our lifecycle: new, contacted and qualified are the statuses of the "
        "same names; `lost` disqualifies the lead (optional `reason`); `transferred` hands it to sales: it converts "
        "the lead as POST /leads/{id}/convert does, creating the contact, company and deal (the document's Sale). "
        "Transferred and lost are final. Asking for the stage the lead is at changes nothing (200). With the "
        "workspace's strict pipeline on (document 004's rules) no stage may be skipped, and a lead is transferred "
        "only from qualified, with `ai_score` (probability) at least 0.6 and a known `business_domain` (industry). "
        "A refusal is 409 with `rule` naming the rule.",
        request=StageChangeSerializer,
        responses={
            200: LeadDetailSerializer,
            400: OpenApiResponse(description="Field errors (an unknown stage)"),
            403: OpenApiResponse(description="A rep moving a colleague's lead"),
            404: OpenApiResponse(description="No such lead in your workspace"),
            409: OpenApiResponse(RefusalSerializer, description="The move is refused; `rule` names why"),
        },
    )
    @action(detail=True, methods=["patch"], url_path="stage")
    def change_stage(self, request, pk=None):
        lead = self.editable_lead()
        serializer = StageChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            lead = lead_change_stage(
                lead=lead, stage=data["stage"], actor=request.user, reason=data["reason"], notes=data["notes"]
            )
        except (TransitionError, LeadNotConvertible) as exc:
            raise refusal(exc) from exc
        return Response(LeadDetailSerializer(lead).data)
