"""`/api/v1/activities`: the timeline across leads, contacts and deals (here because it references leads)."""

from typing import cast

import django_filters
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS, BasePermission

from contacts.api.serializers import TenantScopedSerializer
from crm.api.filters import DateTimeFilter, IdFilter, OwnerFilter
from crm.api.schema import crud_schema
from crm.api.tenancy import HasTenant
from crm.api.viewsets import CrudViewSet
from crm.choices import ActivityKind
from crm.models import FREE_TEXT_MAX_LENGTH, Activity, User

from ..activities import (
    DOCUMENT_ACTIVITY_TYPES,
    SYSTEM_KINDS,
    USER_KINDS,
    check_editable,
    document_activity_type,
    document_description,
    edit_activity,
    log_activity,
)

DATA_MAX_CHARS = 10_000
_USER_KIND_LIST = ", ".join(sorted(USER_KINDS))
_SYSTEM_KIND_LIST = ", ".join(sorted(SYSTEM_KINDS))


class ActivityKindField(serializers.ChoiceField):
    """Any kind reads back; only the kinds people log may be sent (validate_kind says so)."""


class ActivityKindFieldExtension(OpenApiSerializerFieldExtension):
    target_class = ActivityKindField

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "request":
            # Inline (under allOf), so the enum hook does not merge it into the KindEnum a response reads.
            described = {"description": schema["description"]} if "description" in schema else {}
            return {"allOf": [{"type": "string", "enum": sorted(USER_KINDS)}], **described}
        return schema


class DocumentActivityTypeField(serializers.Field):
    """Document 002's `activity_type`: read as its word for the entry; sent, the kind it names (source "*")."""

    def to_representation(self, activity: Activity) -> str:
        return document_activity_type(activity)

    def to_internal_value(self, data) -> dict:
        if not isinstance(data, str) or not data:
            raise serializers.ValidationError("Send one of: " + ", ".join(DOCUMENT_ACTIVITY_TYPES) + ".")
        kind = DOCUMENT_ACTIVITY_TYPES.get(data, data)
        if kind in SYSTEM_KINDS:
            raise serializers.ValidationError(
                f"{data!r} activities are written by the CRM itself; log note_added or contacted (or a kind: "
                f"{_USER_KIND_LIST})."
            )
        if kind not in USER_KINDS:
            raise serializers.ValidationError(f"Unknown activity type {data!r}; send note_added or contacted.")
        return {"kind": kind}


class DocumentActivityTypeFieldExtension(OpenApiSerializerFieldExtension):
    target_class = DocumentActivityTypeField

    def map_serializer_field(self, auto_schema, direction):
        described = {"description": self.target.help_text} if self.target.help_text else {}
        if direction == "request":
            return {"type": "string", "enum": sorted({"note_added", "contacted", *USER_KINDS}), **described}
        return {"type": "string", "enum": list(DOCUMENT_ACTIVITY_TYPES), **described}


class DescriptionField(serializers.CharField):
    """Document 002's `description`: the entry's subject and body read as one; sent, the body."""

    def get_attribute(self, instance):
        return instance  # source "*"

    def to_representation(self, value) -> str:
        return document_description(value) if isinstance(value, Activity) else super().to_representation(value)

    def to_internal_value(self, data) -> dict:  # type: ignore[override]  # source "*": a dict of attributes
        body = super().to_internal_value(data)
        if self.max_length is not None and len(body) > self.max_length:  # the validators see the dict, not the text
            raise serializers.ValidationError(f"At most {self.max_length} characters.")
        return {"body": body}


@extend_schema_field({"type": "object", "additionalProperties": True,
                      "description": f"Names to values, at most {DATA_MAX_CHARS} characters as text."})
class ActivityDataField(serializers.JSONField):
    pass


class ActivitySerializer(TenantScopedSerializer):
    kind = ActivityKindField(
        choices=ActivityKind.choices, required=False,
        help_text=f"You may log: {_USER_KIND_LIST}. The rest ({_SYSTEM_KIND_LIST}) are written by the CRM itself. "
        "Or send activity_type.",
    )
    activity_type = DocumentActivityTypeField(
        source="*", required=False,
        help_text="Document 002's name for kind: note_added (a note) or contacted, when sent (kind wins when both "
        "are); read, its word for the entry: created, status_changed, note_added or contacted.",
    )
    description = DescriptionField(
        source="*", required=False, allow_blank=True, max_length=FREE_TEXT_MAX_LENGTH,
        help_text="Document 002's name for body, when sent (body wins when both are); read, the subject and body.",
    )
    # As `source` in LeadCaptureSerializer: the metaclass takes declared fields off the class (not Serializer.data).
    data = ActivityDataField(required=False)  # type: ignore[assignment]
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = Activity
        fields = [
            "id", "activity_type", "description", "kind", "subject", "body", "lead", "contact", "deal", "actor",
            "actor_name", "occurred_at", "due_at", "done_at", "data",
        ]
        read_only_fields = ["actor"]
        extra_kwargs = {
            "occurred_at": {"required": False, "help_text": "Defaults to now; may be in the past for a call logged later."},
            "due_at": {"help_text": "Tasks only, and a task needs one."},
            "done_at": {"help_text": "Tasks only: set it to mark the task done, null to reopen."},
        }

    def get_actor_name(self, activity: Activity) -> str:
        return str(activity.actor) if activity.actor_id else ""

    def validate_kind(self, value: str) -> str:
        if value in SYSTEM_KINDS:
            raise serializers.ValidationError(
                f"{value!r} activities are written by the CRM itself; log one of: {_USER_KIND_LIST}."
            )
        return value

    def validate_data(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Send an object of names to values.")
        if len(str(value)) > DATA_MAX_CHARS:
            raise serializers.ValidationError(f"At most {DATA_MAX_CHARS} characters of data.")
        return value

    def validate(self, attrs):
        if self.instance is None and not attrs.get("kind"):
            message = "Say what happened: send kind (or document 002's activity_type)."
            raise serializers.ValidationError({"kind": [message], "activity_type": [message]})
        if not any(self.current(attrs, name) for name in ("lead", "contact", "deal")):
            message = "An activity belongs to a lead, a contact or a deal: give at least one."
            raise serializers.ValidationError({"lead": [message], "contact": [message], "deal": [message]})
        # A task's dates and the text's lengths are the entry's rules (crm.models.Activity.clean), raised by
        # log_activity / edit_activity as field errors.
        return attrs

    def create(self, validated_data):
        # tenant and actor come from the view (the caller), never from the body.
        return log_activity(**validated_data)

    def update(self, instance, validated_data):
        return edit_activity(activity=instance, changes=validated_data, actor=self.context["request"].user)


class ActivityFilterSet(django_filters.FilterSet):
    lead = IdFilter(field_name="lead")
    contact = IdFilter(field_name="contact")
    deal = IdFilter(field_name="deal")
    kind = django_filters.MultipleChoiceFilter(choices=ActivityKind.choices, help_text="Repeat for several kinds.")
    actor = OwnerFilter(
        field_name="actor", help_text='Who logged it: a user id (a UUID), "me", or "none" (the system).'
    )
    occurred_after = DateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = DateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    open_task = django_filters.BooleanFilter(
        method="filter_open_task", help_text="true: tasks not done yet; false: everything else."
    )

    class Meta:
        model = Activity
        fields = ["lead", "contact", "deal", "kind", "actor", "occurred_after", "occurred_before", "open_task"]

    def filter_open_task(self, queryset, name, value: bool):
        if value is None:
            return queryset
        open_tasks = {"kind": ActivityKind.TASK, "done_at__isnull": True}
        return queryset.filter(**open_tasks) if value else queryset.exclude(**open_tasks)


class EditOwnActivities(BasePermission):
    """System activities are never edited; a rep edits what they logged, a manager any logged activity."""

    def has_object_permission(self, request, view, obj):
        if request.method not in SAFE_METHODS:
            check_editable(activity=obj, actor=request.user)
        return True


@crud_schema(
    ActivitySerializer,
    plural="activities",
    edit_rule=(
        "Only activities people log can be edited (e.g. mark a task done with `done_at`); reps edit the ones they "
        "logged, managers any. Logging one on a lead moves the lead's `last_activity_at`."
    ),
)
class ActivityViewSet(CrudViewSet):
    queryset = Activity.objects.select_related("actor", "lead", "contact", "deal")  # their public ids are shown
    serializer_class = ActivitySerializer
    filterset_class = ActivityFilterSet
    ordering_fields = ["occurred_at", "due_at", "done_at", "kind"]
    permission_classes = [HasTenant, EditOwnActivities]

    def perform_create(self, serializer):
        user = cast(User, self.request.user)  # HasTenant: signed in
        self._save(serializer, tenant=user.tenant, actor=user)
