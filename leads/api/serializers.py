import copy

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contacts.models import Company, Contact, Deal
from crm.api.fields import EmailField, PhoneField, PublicIdRelatedField, consent_source_field
from crm.api.serializers import PublicIdModelSerializer
from crm.models import Activity, User
from crm.normalize import split_name

from ..activities import document_activity_type, document_description
from ..choices import (
    PRIORITY_ALIASES,
    SOURCE_ALIASES,
    LeadSource,
    LeadStatus,
    PipelineStatus,
    Priority,
    Recommendation,
)
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
from ..pipeline import pipeline_status

# What `status` may read (ours and document 002's), and be sent as to PATCH /leads/{id}/status.
STATUS_CHOICES = [*LeadStatus.choices, *[(value, label) for value, label in PipelineStatus.choices
                                         if value not in LeadStatus.values]]


class AliasChoiceField(serializers.ChoiceField):
    """A choice that also takes a contract document's name for some values (`aliases`: theirs -> ours)."""

    def __init__(self, *, choices, aliases: dict[str, str], **kwargs):
        self.aliases = aliases
        named = [(alias, f"{alias} (the same as {ours})") for alias, ours in aliases.items()]
        super().__init__(choices=[*choices, *named], **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        return self.aliases.get(value, value)


class DocumentActivitySerializer(serializers.ModelSerializer):
    """One entry of document 002's `activities`: its four fields in its words, and ours beside them."""

    activity_type = serializers.SerializerMethodField(help_text=(
        "Document 002's word for `kind`: created, status_changed, note_added (notes, and entries it has no word "
        "for) or contacted (calls, emails, meetings)."))
    description = serializers.SerializerMethodField(help_text="The entry's subject and body.")
    created_at = serializers.DateTimeField(source="occurred_at", read_only=True, help_text="When it happened.")
    actor: serializers.StringRelatedField[User] = serializers.StringRelatedField(allow_null=True)  # the CRM: none

    class Meta:
        model = Activity
        fields = ["id", "activity_type", "description", "created_at", "kind", "subject", "body", "actor",
                  "occurred_at", "due_at", "done_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=["created", "status_changed", "note_added", "contacted"]))
    def get_activity_type(self, activity: Activity) -> str:
        return document_activity_type(activity)

    def get_description(self, activity: Activity) -> str:
        return document_description(activity)


class ActivitySummarySerializer(PublicIdModelSerializer):
    actor: serializers.StringRelatedField[User] = serializers.StringRelatedField(allow_null=True)  # the CRM: none

    class Meta:
        model = Activity
        fields = ["id", "kind", "subject", "body", "actor", "occurred_at", "due_at", "done_at"]


DETAIL_ACTIVITIES = 100


class LeadSerializer(LeadStageFieldsMixin, PublicIdModelSerializer):
    full_name = serializers.CharField(read_only=True)
    name = serializers.CharField(source="full_name", read_only=True, help_text="The same as full_name (document 002).")
    status = serializers.SerializerMethodField(help_text=(
        "new, contacted, qualified, disqualified or converted; a converted lead whose deal is past qualification "
        "reads as document 002's pipeline: proposal (deal in proposal or negotiation), closed_won or closed_lost."))
    assigned_to = PublicIdRelatedField(
        source="owner", read_only=True, allow_null=True, help_text="The same as owner (document 002): the user the lead is assigned to."
    )
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
            "name", "status", "priority", "disqualification_reason", "qualified_at", "owner", "assigned_to", "owner_name",
            "assigned_at",
            "last_activity_at", "score_total", "score_band", "grade", "score_version", "score_updated_at",
            "score_factors", "probability", "recommendation", "recommendation_reason",
            "converted_at", "closed_at", "converted_contact", "converted_company", "converted_deal",
            "custom_fields", "created_at", "updated_at",
            "nurture_status", "current_sequence", "next_nurture_step_on", "unsubscribed_at", "email_bounced_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=STATUS_CHOICES))
    def get_status(self, lead: Lead) -> str:
        return pipeline_status(lead)

    def get_owner_name(self, lead: Lead) -> str:
        return str(lead.owner) if lead.owner_id else ""


class LeadDetailSerializer(LeadSerializer):
    latest_activities = serializers.SerializerMethodField()
    consent_source = consent_source_field()
    activities = serializers.SerializerMethodField(
        help_text=f"Document 002's activities: the lead's {DETAIL_ACTIVITIES} latest timeline entries, newest first."
    )

    class Meta(LeadSerializer.Meta):
        fields = [*LeadSerializer.Meta.fields, "qualification", "enrichment_data", "latest_activities", "activities",
                  "marketing_consent", "consent_at", "consent_source", "consent_wording"]
        read_only_fields = fields
        extra_kwargs = {"enrichment_data": {"help_text": (
            "What the enrichment provider found (docs/enrichment.md): provider, fetched_at, fields (everything "
            "found), filled (the fields it added to the lead, which were empty), attempts; after a lookup that "
            "failed for good, error and failed_at. {} until the lead is enriched."
        )}}

    @extend_schema_field(DocumentActivitySerializer(many=True))
    def get_activities(self, lead: Lead) -> list[dict]:
        activities = Activity.objects.filter(lead=lead).select_related("actor").timeline()[:DETAIL_ACTIVITIES]
        return DocumentActivitySerializer(activities, many=True).data  # type: ignore[return-value]

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


class LeadFieldsSerializer(BusinessDomainInputMixin, PublicIdModelSerializer):
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
    source = AliasChoiceField(choices=LeadSource.choices, aliases=SOURCE_ALIASES, required=False)  # type: ignore[assignment]
    marketing_consent = serializers.BooleanField(
        required=False, allow_null=True, write_only=True, default=None,
        help_text="true: the person ticked the marketing consent box; false: they declined or withdrew; "
        "absent: not asked. Stored with when, how (form or api) and consent_wording (docs/privacy.md).",
    )
    consent_wording = serializers.CharField(
        required=False, allow_blank=True, max_length=100, write_only=True,
        help_text="Version of the consent wording the person saw; a form's channel version when not given.",
    )

    class Meta(LeadFieldsSerializer.Meta):
        fields = [
            "name", *LeadFieldsSerializer.Meta.fields, "source", "source_url", "referrer", "utm_source",
            "utm_medium", "utm_campaign", "utm_term", "utm_content", "external_id", "form_key",
            "marketing_consent", "consent_wording",
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

    priority = AliasChoiceField(choices=Priority.choices, aliases=PRIORITY_ALIASES, required=False)

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
                raise serializers.ValidationError({"email": [f"Lead {taken.public_id} is already open with this email."]})
        return attrs


class StatusChangeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=STATUS_CHOICES, help_text=(
        "A lifecycle status, or document 002's proposal, closed_won, closed_lost: the first of those converts the "
        "lead (creating its deal) and each moves the lead's deal to that stage."))
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    disqualification_reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=500,
        help_text="Required to disqualify (the lifecycle refuses without one).",
    )


class AssignSerializer(serializers.Serializer):
    owner = PublicIdRelatedField(
        queryset=User.objects.filter(is_active=True), allow_null=True, required=False,
        help_text="User id; null to unassign.",
        error_messages={"does_not_exist": "No active user with id {value} in this workspace."},
    )
    assigned_to = PublicIdRelatedField(
        queryset=User.objects.filter(is_active=True), allow_null=True, required=False,
        help_text="The same as owner (document 002's name); send one of the two.",
        error_messages={"does_not_exist": "No active user with id {value} in this workspace."},
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)

    def validate(self, attrs):
        if "owner" in attrs and "assigned_to" in attrs and attrs["owner"] != attrs["assigned_to"]:
            raise serializers.ValidationError({"assigned_to": ["owner and assigned_to name different users; send one."]})
        if "owner" not in attrs and "assigned_to" not in attrs:
            message = "Send the user to assign (owner, or assigned_to), or null to unassign."
            raise serializers.ValidationError({"owner": [message], "assigned_to": [message]})
        return {"owner": attrs["owner"] if "owner" in attrs else attrs["assigned_to"], "reason": attrs["reason"]}


class ConvertSerializer(serializers.Serializer):
    create_deal = serializers.BooleanField(default=True)
    deal_name = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True)
    contact_id = PublicIdRelatedField(queryset=Contact.objects.all(), required=False, allow_null=True)
    company_id = PublicIdRelatedField(queryset=Company.objects.all(), required=False, allow_null=True)
    deal_id = PublicIdRelatedField(
        queryset=Deal.objects.all(),
        required=False,
        allow_null=True,
        help_text="An existing deal to attach instead of creating one (leave out deal_name and amount). It must not "
        "belong to another contact or company than the ones the lead becomes.",
    )

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
    lead_id = serializers.UUIDField()
    contact_id = serializers.UUIDField()
    company_id = serializers.UUIDField(allow_null=True)
    deal_id = serializers.UUIDField(allow_null=True)
    converted_at = serializers.DateTimeField()


@extend_schema_field({"type": "string", "enum": ["new"]})
class ReceivedField(serializers.CharField):
    pass


class CaptureReceiptSerializer(serializers.Serializer):
    """What an anonymous form post is answered, whatever happened: document 002's create answer, from the request alone."""

    id = serializers.UUIDField(
        help_text="This submission's id: an authenticated GET /api/v1/leads/{id} answers the lead it landed on "
        "(404 when it landed on a contact, or was caught as spam). It is not the lead's id.",
    )
    name = serializers.CharField(help_text="The name as sent (or first and last name).")
    email = serializers.CharField(help_text="The email as sent, trimmed and lowercased.")
    status = ReceivedField(help_text='Always "new": the submission was received. It does not say whether the person '
                           'was already known (this answer was {"status": "received"} before; same meaning).')
    created_at = serializers.DateTimeField(help_text="When the submission was received.")


class ContactMatchSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="The email belongs to a contact: the submission went on their timeline.")
    contact_id = serializers.UUIDField()
