import copy

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contacts.models import Company, Contact, Deal
from crm.api.fields import EmailField, PhoneField
from crm.models import Activity, User
from crm.normalize import split_name

from ..choices import LeadSource, LeadStatus, Recommendation
from ..intake import (
    CUSTOM_FIELD_NAME_MAX,
    CUSTOM_FIELDS_MAX_KEYS,
    CUSTOM_FIELDS_MAX_VALUE,
    IntakeError,
    check_reachable,
    country_code,
    custom_field_errors,
)
from ..models import Lead
from .stage_fields import BusinessDomainInputMixin, LeadStageFieldsMixin


class ActivitySummarySerializer(serializers.ModelSerializer):
    actor: serializers.StringRelatedField[User] = serializers.StringRelatedField()

    class Meta:
        model = Activity
        fields = ["id", "kind", "subject", "body", "actor", "occurred_at", "due_at", "done_at"]


class LeadSerializer(LeadStageFieldsMixin, serializers.ModelSerializer):
    full_name = serializers.CharField(read_only=True)
    # Blank until the lead is first analyzed; the schema says so (a read-only model field would not).
    recommendation = serializers.ChoiceField(choices=Recommendation.choices, allow_blank=True, read_only=True)
    owner_name = serializers.SerializerMethodField()

    class Meta:
        model = Lead
        fields = [
            "id", "full_name", "first_name", "last_name", "email", "phone", "job_title", "company",
            "industry", "employee_count", "annual_revenue", "website", "country", "message",
            "source", "channel", "campaign", "source_url", "referrer", "utm_source", "utm_medium",
            "utm_campaign", "utm_term", "utm_content", "external_id",
            "status", "priority", "disqualification_reason", "qualified_at", "owner", "owner_name", "assigned_at",
            "last_activity_at", "score_total", "score_band", "grade", "score_version", "score_updated_at",
            "score_factors", "probability", "recommendation", "recommendation_reason",
            "converted_at", "converted_contact", "converted_company", "converted_deal",
            "custom_fields", "created_at", "updated_at",
        ]
        read_only_fields = fields

    def get_owner_name(self, lead: Lead) -> str:
        return str(lead.owner) if lead.owner_id else ""


class LeadDetailSerializer(LeadSerializer):
    latest_activities = serializers.SerializerMethodField()

    class Meta(LeadSerializer.Meta):
        fields = [*LeadSerializer.Meta.fields, "qualification", "enrichment_data", "latest_activities"]
        read_only_fields = fields
        extra_kwargs = {"enrichment_data": {"help_text": (
            "What the enrichment provider found (docs/enrichment.md): provider, fetched_at, fields (everything "
            "found), filled (the fields it added to the lead, which were empty), attempts; after a lookup that "
            "failed for good, error and failed_at. {} until the lead is enriched."
        )}}

    def get_latest_activities(self, lead: Lead) -> list[dict]:
        activities = Activity.objects.filter(lead=lead).timeline()[:10]
        # many=True makes a ListSerializer, whose data is a list; the stubs type it as one row's.
        return ActivitySummarySerializer(activities, many=True).data  # type: ignore[return-value]


@extend_schema_field({
    "type": "object",
    "maxProperties": CUSTOM_FIELDS_MAX_KEYS,
    "additionalProperties": {
        "anyOf": [{"type": "string", "maxLength": CUSTOM_FIELDS_MAX_VALUE}, {"type": "number"}, {"type": "boolean"}],
    },
    "description": f"Up to {CUSTOM_FIELDS_MAX_KEYS} fields; names up to {CUSTOM_FIELD_NAME_MAX} characters, values up "
    f"to {CUSTOM_FIELDS_MAX_VALUE} (as text).",
})
class CustomFieldsField(serializers.JSONField):
    """A lead's custom fields as a client sends them (leads.intake says what fits)."""


class LeadFieldsSerializer(BusinessDomainInputMixin, serializers.ModelSerializer):
    """Field-level normalisation shared by capture and editing."""

    email = EmailField()
    phone = PhoneField()
    custom_fields = CustomFieldsField(required=False)

    class Meta:
        model = Lead
        fields = [
            "first_name", "last_name", "email", "phone", "job_title", "company", "industry",
            "employee_count", "annual_revenue", "website", "country", "message", "campaign", "custom_fields",
            "business_domain",
        ]


    # The limits and normalisation are the lead's (leads.intake), shared with the import's row parser.

    def validate_country(self, value: str) -> str:
        try:
            return country_code(value)
        except IntakeError as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def validate_custom_fields(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Send an object of field names to values.")
        errors = custom_field_errors(value)
        if errors:
            raise serializers.ValidationError([str(error) for error in errors])
        return value


class LeadCaptureSerializer(LeadFieldsSerializer):
    """What a form or an integrator may send to create a lead. Everything is normalised here."""

    name = serializers.CharField(required=False, allow_blank=True, max_length=200, write_only=True,
                                 help_text="Full name; split into first and last name when those are not given.")
    form_key = serializers.CharField(required=False, allow_blank=True, write_only=True,
                                     help_text="The website channel's key (or send the X-Form-Key header).")
    # The serializer's metaclass takes declared fields off the class: this does not replace Field.source.
    source = serializers.ChoiceField(choices=LeadSource.choices, required=False)  # type: ignore[assignment]

    class Meta(LeadFieldsSerializer.Meta):
        fields = [
            "name", *LeadFieldsSerializer.Meta.fields, "source", "source_url", "referrer", "utm_source",
            "utm_medium", "utm_campaign", "utm_term", "utm_content", "external_id", "form_key",
        ]

    _built_fields = None

    def get_fields(self):
        # Every capture builds this serializer; reading the model's fields into serializer fields
        # each time was a fifth of a capture's time. Built once; each use binds its own shallow copy
        # of every field (a bound field cannot be bound again). Deep copies, as DRF makes of declared
        # fields, re-run every field's __init__ and cost a tenth of a capture.
        cls = type(self)
        if cls._built_fields is None:
            cls._built_fields = super().get_fields()
        return {name: copy.copy(field) for name, field in cls._built_fields.items()}

    def validate(self, attrs):
        name = attrs.pop("name", "")
        attrs.pop("form_key", None)
        if name and not attrs.get("first_name") and not attrs.get("last_name"):
            attrs["first_name"], attrs["last_name"] = split_name(name)
        for key in ("first_name", "last_name", "company", "job_title"):
            if key in attrs:
                attrs[key] = attrs[key].strip()
        try:
            check_reachable(email=attrs.get("email", ""), phone=attrs.get("phone", ""))
        except IntakeError as exc:
            raise serializers.ValidationError({"email": [str(exc)], "phone": [str(exc)]}) from exc
        return attrs


class LeadUpdateSerializer(LeadFieldsSerializer):
    """PATCH /leads/{id}: details only; status, owner and score have their own endpoints."""

    class Meta(LeadFieldsSerializer.Meta):
        fields = [*LeadFieldsSerializer.Meta.fields, "priority"]

    def validate(self, attrs):
        lead = self.instance
        assert lead is not None  # an update
        email = attrs.get("email", lead.email)
        phone = attrs.get("phone", lead.phone)
        if not email and not phone:
            message = "A lead needs an email or a phone number; keep one of them."
            raise serializers.ValidationError({"email": [message], "phone": [message]})
        if email and email != lead.email and lead.is_open:
            taken = Lead.objects.for_tenant(lead.tenant).open().with_email(email).exclude(pk=lead.pk).first()
            if taken is not None:
                raise serializers.ValidationError({"email": [f"Lead {taken.pk} is already open with this email."]})
        return attrs


class StatusChangeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=LeadStatus.choices)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    disqualification_reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=500,
        help_text="Required to disqualify (the lifecycle refuses without one).",
    )


class AssignSerializer(serializers.Serializer):
    owner = serializers.IntegerField(allow_null=True, help_text="User id; null to unassign.")
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)

    def validate_owner(self, value):
        if value is None:
            return None
        user = User.objects.filter(tenant=self.context["tenant"], pk=value, is_active=True).first()
        if user is None:
            raise serializers.ValidationError(f"No active user with id {value} in this workspace.")
        return user


class ConvertSerializer(serializers.Serializer):
    create_deal = serializers.BooleanField(default=True)
    deal_name = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True)
    contact_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    company_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    deal_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="An existing deal to attach instead of creating one (leave out deal_name and amount). It must not "
        "belong to another contact or company than the ones the lead becomes.",
    )

    def _in_tenant(self, model, pk):
        if pk is None:
            return None
        found = model.objects.for_tenant(self.context["tenant"]).filter(pk=pk).first()
        if found is None:
            raise serializers.ValidationError(f"No {model._meta.verbose_name} with id {pk} in this workspace.")
        return found

    def validate_contact_id(self, value):
        return self._in_tenant(Contact, value)

    def validate_company_id(self, value):
        return self._in_tenant(Company, value)

    def validate_deal_id(self, value):
        return self._in_tenant(Deal, value)

    def validate(self, attrs):
        if not attrs["create_deal"] and (attrs.get("deal_name") or attrs.get("amount") is not None):
            raise serializers.ValidationError({"create_deal": ["deal_name and amount need create_deal to be true."]})
        return {
            "create_deal": attrs["create_deal"],
            "deal_name": attrs.get("deal_name", ""),
            "amount": attrs.get("amount"),
            "contact": attrs.get("contact_id"),
            "company": attrs.get("company_id"),
            "deal": attrs.get("deal_id"),
        }


class ConversionResultSerializer(serializers.Serializer):
    lead_id = serializers.IntegerField()
    contact_id = serializers.IntegerField()
    company_id = serializers.IntegerField(allow_null=True)
    deal_id = serializers.IntegerField(allow_null=True)
    converted_at = serializers.DateTimeField()


@extend_schema_field({"type": "string", "pattern": "^received$"})  # so a lead (whose status is never this) is not one
class ReceivedField(serializers.CharField):
    pass


class CaptureReceiptSerializer(serializers.Serializer):
    """What an anonymous form post is answered, whatever happened."""

    status = ReceivedField(help_text='Always "received" for anonymous form posts.')


class ContactMatchSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="The email belongs to a contact: the submission went on their timeline.")
    contact_id = serializers.IntegerField()
