from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import DomainNameValidator
from django.db import transaction
from rest_framework import serializers

from crm.api.fields import EmailField, PhoneField, PublicIdField, consent_source_field
from crm.api.serializers import PublicIdModelSerializer
from crm.choices import ConsentStatus
from crm.normalize import domain_from_url

from ..choices import ContactStatus
from ..consent import contact_consent_set
from ..deals import change_stage, settle_deal
from ..models import Company, Contact, Deal


class TenantScopedSerializer(PublicIdModelSerializer):
    """Related rows named in a body (company, owner, lead, ...) are looked up, by public id, in the caller's
    tenant only (crm.api.fields.PublicIdRelatedField)."""

    def current(self, attrs: dict, name: str):
        """The value after this write: from the body, else from the row being updated."""
        if name in attrs:
            return attrs[name]
        return getattr(self.instance, name, None)

    def others(self, model):
        """Rows of the caller's tenant other than the one being updated."""
        queryset = model.objects.for_tenant(self.context["request"].user.tenant)
        return queryset.exclude(pk=self.instance.pk) if self.instance is not None else queryset


class OwnedSerializer(TenantScopedSerializer):
    owner_name = serializers.SerializerMethodField()

    def get_owner_name(self, row) -> str:
        return str(row.owner) if row.owner_id else ""


class SourceLeadSerializer(serializers.Serializer):
    """A lead this contact was converted from (read through the reverse relation)."""

    id = PublicIdField()
    full_name = serializers.CharField()
    email = serializers.CharField()
    converted_at = serializers.DateTimeField(allow_null=True)


class ContactSerializer(OwnedSerializer):
    full_name = serializers.CharField(read_only=True)
    email = EmailField(help_text="Stored lowercased.")
    phone = PhoneField(help_text="Stored as E.164, e.g. +14155550100.")
    company_name = serializers.SerializerMethodField()
    source_leads = SourceLeadSerializer(many=True, read_only=True, help_text="The lead(s) this contact came from.")
    status = serializers.ChoiceField(
        choices=ContactStatus.choices, required=False,
        help_text="active (default), inactive or customer; becomes customer by itself when one of their deals is won.",
    )

    class Meta:
        model = Contact
        fields = [
            "id", "full_name", "first_name", "last_name", "email", "phone", "job_title", "company", "company_name",
            "owner", "owner_name", "status", "source_leads", "created_at", "updated_at",
            "marketing_consent", "consent_at", "consent_source", "consent_wording",
        ]
        # Consent is set through contacts.consent (source "api", when, a timeline entry; docs/privacy.md).
        read_only_fields = ["created_at", "updated_at", "consent_at", "consent_source"]

    marketing_consent = serializers.ChoiceField(
        choices=ConsentStatus.choices, required=False,
        help_text="given or withdrawn (empty in answers: never asked). Setting it records consent_source `api`, "
                  "consent_at now and a timeline entry; only given allows marketing email.",
    )
    consent_source = consent_source_field()
    consent_wording = serializers.CharField(
        required=False, allow_blank=True, max_length=100,
        help_text="Version of the consent wording the person saw; written with marketing_consent.",
    )

    def get_company_name(self, contact: Contact) -> str:
        return contact.company.name if contact.company else ""

    def validate_email(self, email: str) -> str:
        if email and self.others(Contact).with_email(email).exists():
            raise serializers.ValidationError("A contact with this email already exists.")
        return email

    def validate_marketing_consent(self, value: str) -> str:
        if not value:
            raise serializers.ValidationError("Give given or withdrawn; a recorded consent is not unasked.")
        return value

    def validate(self, attrs):
        if not any(self.current(attrs, key) for key in ("first_name", "last_name", "email", "phone")):
            message = "Give a name, an email or a phone number."
            raise serializers.ValidationError({"first_name": [message], "email": [message], "phone": [message]})
        if "consent_wording" in attrs and not self.current(attrs, "marketing_consent"):
            raise serializers.ValidationError({"consent_wording": ["Give marketing_consent (given or withdrawn) "
                                                                   "with the wording."]})
        return attrs

    def create(self, validated_data):
        consent = self._pop_consent(validated_data)
        contact = super().create(validated_data)
        return self._set_consent(contact, *consent)

    def update(self, instance, validated_data):
        consent = self._pop_consent(validated_data)
        contact = super().update(instance, validated_data)
        return self._set_consent(contact, *consent)

    @staticmethod
    def _pop_consent(validated_data) -> tuple[str | None, str | None]:
        return validated_data.pop("marketing_consent", None), validated_data.pop("consent_wording", None)

    def _set_consent(self, contact: Contact, status: str | None, wording: str | None) -> Contact:
        """A change of consent (or of its wording) goes through the consent rule; the same answer again is no change."""
        status = status or contact.marketing_consent
        if not status or (status == contact.marketing_consent and wording in (None, contact.consent_wording)):
            return contact
        return contact_consent_set(contact=contact, given=status == "given", source="api", wording=wording or "",
                                   actor=self.context["request"].user)


class CompanySerializer(OwnedSerializer):
    phone = PhoneField(help_text="Stored as E.164, e.g. +14155550100.")
    domain = serializers.CharField(
        required=False, allow_blank=True, max_length=253,
        help_text="Lowercase, without www; taken from the website when not given. Unique in the workspace.",
    )

    class Meta:
        model = Company
        fields = [
            "id", "name", "domain", "website", "industry", "employee_count", "annual_revenue", "country", "phone",
            "owner", "owner_name", "created_at", "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate_name(self, value: str) -> str:
        if self.others(Company).named(value).exists():
            raise serializers.ValidationError("A company with this name already exists.")
        return value

    def validate_domain(self, value: str) -> str:
        return self._domain(value, field="domain")

    def validate_country(self, value: str) -> str:
        country = value.strip().upper()
        if country and not (len(country) == 2 and country.isalpha()):
            raise serializers.ValidationError("Use the two-letter ISO 3166 code, e.g. DE.")
        return country


    def validate(self, attrs):
        if "domain" not in attrs and attrs.get("website") and not getattr(self.instance, "domain", ""):
            try:
                attrs["domain"] = self._domain(attrs["website"], field="website")
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({"website": exc.detail}) from exc
        return attrs

    def _domain(self, value: str, *, field: str) -> str:
        domain = domain_from_url(value)
        if not domain:
            return ""
        try:
            DomainNameValidator()(domain)
        except DjangoValidationError:
            raise serializers.ValidationError(f"{value!r} has no valid domain name, e.g. acme.com.") from None
        if self.others(Company).filter(domain=domain).exists():
            raise serializers.ValidationError(f"A company with the domain {domain} already exists.")
        return domain


class DealSerializer(OwnedSerializer):
    contact_name = serializers.SerializerMethodField()
    company_name = serializers.SerializerMethodField()

    class Meta:
        model = Deal
        fields = [
            "id", "name", "stage", "amount", "currency", "owner", "owner_name", "contact", "contact_name",
            "company", "company_name", "expected_close_date", "closed_at", "created_at", "updated_at",
        ]
        read_only_fields = ["closed_at", "created_at", "updated_at"]
        extra_kwargs = {"amount": {"min_value": 0}}

    def get_contact_name(self, deal: Deal) -> str:
        return str(deal.contact) if deal.contact_id else ""

    def get_company_name(self, deal: Deal) -> str:
        return deal.company.name if deal.company else ""

    def validate_currency(self, value: str) -> str:
        currency = value.strip().upper()
        if not (len(currency) == 3 and currency.isalpha()):
            raise serializers.ValidationError("Use the three-letter ISO 4217 code, e.g. EUR.")
        return currency

    def create(self, validated_data):
        with transaction.atomic():
            deal = super().create(validated_data)
            # A deal created closed gets closed_at; created won, its contact becomes a customer.
            return settle_deal(deal=deal, actor=self.context["request"].user)

    def update(self, instance, validated_data):
        stage = validated_data.pop("stage", None)
        with transaction.atomic():
            deal = super().update(instance, validated_data)
            if stage is not None and stage != deal.stage:
                deal = change_stage(deal=deal, stage=stage, actor=self.context["request"].user)
            elif "contact" in validated_data:
                deal = settle_deal(deal=deal, actor=self.context["request"].user)
        return deal
