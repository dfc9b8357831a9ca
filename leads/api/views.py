from collections.abc import Mapping
from typing import cast

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from crm.access import check_change
from crm.api.exceptions import Conflict
from crm.api.schema import IF_MATCH
from crm.api.tenancy import HasTenant, TenantScopedMixin
from crm.api.viewsets import AuditedReadMixin, VersionedMixin
from crm.models import User
from crm.versions import etag_of
from leads.api.filtersets import LeadFilterSet
from leads.prediction.features import LeadNotPredictable
from leads.prediction.service import predict_lead

from ..assignment import AssignmentError, assign_lead
from ..capture.service import find_submission
from ..conversion import ConversionInputError, LeadNotConvertible
from ..editing import update_lead
from ..lifecycle import MissingReason, TransitionError
from ..models import Lead
from ..pipeline import move_lead
from ..qualification import qualify_lead
from ..stages import with_activity_count
from .activities import ActivitySerializer
from .capture_views import LeadCaptureMixin
from .nurture import LeadNurtureMixin
from .prediction import LeadAnalysisSerializer
from .qualification import QualifiedLeadSerializer, QualifySerializer
from .serializers import (
    AssignSerializer,
    ConversionResultSerializer,
    ConvertSerializer,
    LeadCaptureSerializer,
    LeadDetailSerializer,
    LeadSerializer,
    LeadUpdateSerializer,
    StatusChangeSerializer,
)
from .stages import LeadStageMixin, refusal


class SubmissionOnContact(exceptions.NotFound):
    """A submission id that landed on a contact's timeline (no lead): 404, naming the contact."""

    def __init__(self, contact_id):
        super().__init__("This submission matched a contact, not a lead; it is on the contact's timeline.")
        self.contact_id = contact_id


class LeadViewSet(
    LeadNurtureMixin, LeadCaptureMixin, LeadStageMixin, AuditedReadMixin, VersionedMixin, TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin, viewsets.GenericViewSet,
):
    # The related rows' public ids are the API's ids, and the deal is a converted lead's status: read in the same query.
    queryset = with_activity_count(
        Lead.objects.select_related("owner", "converted_contact", "converted_company", "converted_deal",
                                    "current_sequence")
    )
    serializer_class = LeadSerializer
    filterset_class = LeadFilterSet

    def get_permissions(self):
        if self.action == "create":
            return [AllowAny()]  # a form key is checked in create()
        return [HasTenant()]

    def get_serializer_class(self):
        return self.serializer_classes.get(self.action, LeadSerializer)

    serializer_classes = {
        "retrieve": LeadDetailSerializer,
        "create": LeadCaptureSerializer,
        "partial_update": LeadUpdateSerializer,
        "change_status": StatusChangeSerializer,
        "assign": AssignSerializer,
        "convert": ConvertSerializer,
        "log_activity": ActivitySerializer,
    }

    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            # Not a lead's id: an anonymous form's receipt names its submission (document 002's create
            # answer), which resolves to the lead it landed on, in the caller's workspace and sight only.
            user = cast(User, self.request.user)  # HasTenant: signed in, with a workspace
            submission = find_submission(tenant=cast(int, user.tenant_id), submission_id=self.kwargs.get("pk"))
            if submission is None:
                raise
            if submission.lead_id is None:
                raise SubmissionOnContact(submission.contact_id) from None
            self.kwargs = {**self.kwargs, "pk": submission.lead_id}
            self.lookup_field = self.lookup_url_kwarg = "pk"
            return super().get_object()

    def handle_exception(self, exc):
        if isinstance(exc, SubmissionOnContact):
            return Response({"detail": str(exc.detail), "contact_id": exc.contact_id}, status=status.HTTP_404_NOT_FOUND)
        return super().handle_exception(exc)

    def editable_lead(self) -> Lead:
        """The URL's lead, if the caller may change it (404 when they may not see it, 403 when only see it)."""
        lead = self.get_object()
        check_change(cast(User, self.request.user), lead)  # IsAuthenticated
        return lead

    @extend_schema(
        summary="Edit a lead's details",
        request=LeadUpdateSerializer,
        responses={200: LeadDetailSerializer, 400: OpenApiResponse(description="Field errors"),
                   403: OpenApiResponse(description="A rep editing a colleague's lead"),
                   409: OpenApiResponse(description="The lead is converted or disqualified (read-only)"),
                   412: OpenApiResponse(description="If-Match named a version the lead has moved past")},
        parameters=[IF_MATCH],
    )
    def partial_update(self, request, pk=None):
        lead = self.editable_lead()
        serializer = LeadUpdateSerializer(lead, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            lead = update_lead(lead=lead, changes=serializer.validated_data, actor=request.user,
                               expected_version=self.if_match())
        except TransitionError as exc:
            raise Conflict(str(exc)) from exc
        return Response(LeadDetailSerializer(lead).data, headers={"ETag": etag_of(lead)})

    @extend_schema(
        summary="Move a lead along the lifecycle",
        description="new -> contacted -> qualified; disqualified (with a reason) from any open status. "
        "Converted and disqualified are final; conversion has its own endpoint. With the strict pipeline "
        "on, no step may be skipped. Document 002's pipeline goes on: proposal (converts the lead, creating its "
        "deal, and moves the deal to proposal), then closed_won or closed_lost (the deal's stage; the lead's "
        "closed_at is stamped). The lead's status reads back in those words. Asking for the status the lead "
        "already has changes nothing.",
        request=StatusChangeSerializer,
        responses={200: LeadDetailSerializer, 400: OpenApiResponse(description="Field errors"),
                   409: OpenApiResponse(description="Transition not allowed; the detail says why")},
    )
    @action(detail=True, methods=["patch"], url_path="status")
    def change_status(self, request, pk=None):
        lead = self.editable_lead()
        serializer = StatusChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            lead = move_lead(
                lead=lead, status=data["status"], actor=request.user, notes=data["notes"],
                reason=data["disqualification_reason"],
            )
        except MissingReason as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from exc
        except (TransitionError, LeadNotConvertible) as exc:
            raise Conflict(str(exc)) from exc
        return Response(LeadDetailSerializer(lead).data)

    @extend_schema(
        summary="Assign a lead",
        description="Managers assign to anyone in the workspace; reps may only take an unassigned lead "
        "(owner = their own id) or give back their own (owner = null).",
        request=AssignSerializer,
        responses={200: LeadDetailSerializer, 400: OpenApiResponse(description="Field errors"),
                   403: OpenApiResponse(description="Not allowed for a rep"),
                   409: OpenApiResponse(description="The lead is closed")},
    )
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        lead = self.editable_lead()
        serializer = AssignSerializer(data=request.data, context={"tenant": request.user.tenant})
        serializer.is_valid(raise_exception=True)
        owner = serializer.validated_data["owner"]
        reason = serializer.validated_data["reason"] or f"assigned by {request.user}"
        try:
            lead = assign_lead(lead=lead, owner=owner, actor=request.user, reason=reason)
        except AssignmentError as exc:
            raise Conflict(str(exc)) from exc
        return Response(LeadDetailSerializer(lead).data)

    @extend_schema(
        summary="Log an activity on a lead's timeline",
        description="A note, call, email, meeting or task (with `due_at`), or a tracked behaviour. Moves the "
        "lead's `last_activity_at`; on a converted lead the activity also lands on its contact.",
        request=ActivitySerializer,
        responses={201: ActivitySerializer, 400: OpenApiResponse(description="Field errors"),
                   403: OpenApiResponse(description="A rep logging on a colleague's lead")},
    )
    @action(detail=True, methods=["post"], url_path="activities")
    def log_activity(self, request, pk=None):
        lead = self.editable_lead()
        if not isinstance(request.data, Mapping):
            raise exceptions.ValidationError({"non_field_errors": ["Send a JSON object."]})
        serializer = ActivitySerializer(
            data={**request.data, "lead": str(lead.public_id)}, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        activity = serializer.save(tenant=request.user.tenant, actor=request.user)
        return Response(serializer.to_representation(activity), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Qualify a lead with BANT answers",
        description="Budget, authority, need and timeline, each `met` (true/false) with optional `detail`. All "
        "four met: the lead becomes qualified (with the strict pipeline on it must be contacted first) and its "
        "owner gets a \"Schedule discovery call\" task due the next working day at 09:00. Otherwise the lead "
        "is disqualified with a reason naming the unmet criteria, or, with `keep_open`, stays as it is. The "
        "answers are kept on the lead either way (`qualification`); `unmet` lists the criteria not met.",
        request=QualifySerializer,
        responses={200: QualifiedLeadSerializer, 400: OpenApiResponse(description="Field errors"),
                   403: OpenApiResponse(description="A rep qualifying a colleague's lead"),
                   404: OpenApiResponse(description="No such lead in your workspace"),
                   409: OpenApiResponse(description="The lead is closed, or the strict pipeline needs it "
                                        "contacted first; the detail says why")},
    )
    @action(detail=True, methods=["post"])
    def qualify(self, request, pk=None):
        lead = self.editable_lead()
        serializer = QualifySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            result = qualify_lead(
                lead=lead, answers=serializer.answers(), actor=request.user,
                notes=serializer.validated_data["notes"], keep_open=serializer.validated_data["keep_open"],
            )
        except TransitionError as exc:
            raise Conflict(str(exc)) from exc
        return Response(QualifiedLeadSerializer(result.lead).data)

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
        lead = self.editable_lead()
        serializer = ConvertSerializer(data=request.data, context={"tenant": request.user.tenant})
        serializer.is_valid(raise_exception=True)
        try:
            result = Lead.objects.convert(lead=lead, actor=request.user, **serializer.validated_data)
        except LeadNotConvertible as exc:
            raise refusal(exc) from exc
        except ConversionInputError as exc:
            raise exceptions.ValidationError({exc.field: [str(exc)]}) from exc
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(ConversionResultSerializer(result.public_dict()).data, status=code)

    @extend_schema(
        summary="Predict a lead's chance to convert and recommend the next step",
        description="Decision support, not a decision: stores `probability` (0-1), `recommendation` "
        "(transfer_to_sales from 0.6, drop_lead under 0.2, else continue_qualification) and the reason on "
        "the lead. Uses the workspace's learned model (manage.py train_conversion_model); without one, the "
        "rule score (`fallback`: true). Anyone who can read the lead may analyze it.",
        request=None,
        responses={200: LeadAnalysisSerializer, 404: OpenApiResponse(description="No such lead in your workspace"),
                   409: OpenApiResponse(description="The lead is converted or disqualified")},
    )
    @action(detail=True, methods=["post"])
    def analyze(self, request, pk=None):
        lead = self.get_object()
        lead.tenant = request.user.tenant  # the queryset is the caller's workspace: no second read of it
        try:
            result = predict_lead(lead=lead, actor=request.user)
        except LeadNotPredictable as exc:
            raise Conflict(str(exc)) from exc
        return Response(LeadAnalysisSerializer(result).data)
