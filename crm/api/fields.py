"""Serializer fields that store people's details the way every lookup expects them (crm.normalize)."""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from crm.choices import ConsentSource
from crm.normalize import normalize_email, normalize_phone
from crm.public_ids import parse_public_id


class EmailField(serializers.CharField):
    """Trimmed, lowercased and validated; blank allowed (a person may have only a phone)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("max_length", 254)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            return normalize_email(super().to_internal_value(data))
        except DjangoValidationError:
            raise serializers.ValidationError("Enter a valid email address.") from None


class PhoneField(serializers.CharField):
    """E.164; numbers without a country code are read in PHONE_DEFAULT_REGION."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            return normalize_phone(super().to_internal_value(data))
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages[0]) from exc


# --- public ids (issue 13): the API names rows by UUID; integer keys stay inside the database

UUID_PATTERN = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
INVALID_PUBLIC_ID = "Give the id as a UUID, e.g. 0190b2a4-5c1e-7d3f-9a0b-1c2d3e4f5a6b."


def has_public_id(model) -> bool:
    return any(field.name == "public_id" for field in model._meta.concrete_fields)


def context_tenant(context: Mapping[str, Any]):
    """The caller's workspace: the serializer's `tenant`, else the signed-in user's."""
    if context.get("tenant") is not None:
        return context["tenant"]
    request = context.get("request")
    return getattr(getattr(request, "user", None), "tenant", None)


class PublicIdField(serializers.UUIDField):
    """A row's own `id`: its public id, read-only."""

    def __init__(self, **kwargs):
        kwargs.setdefault("source", "public_id")
        kwargs["read_only"] = True
        super().__init__(**kwargs)


class PublicIdRelatedField(serializers.SlugRelatedField):
    """A related row named by its public id, looked up in the caller's workspace only (another workspace's id
    is as unknown as a made-up one). Every ModelSerializer of the API builds its foreign keys with this."""

    default_error_messages = {
        "invalid": INVALID_PUBLIC_ID,
        "does_not_exist": "No {name} with id {value} in your workspace.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "public_id")
        super().__init__(**kwargs)

    def get_queryset(self):
        queryset = super().get_queryset()
        assert queryset is not None  # DRF requires one of a writable related field
        tenant = context_tenant(self.context)
        return queryset.filter(tenant=tenant) if tenant is not None else queryset.none()

    def to_internal_value(self, data):
        public_id = None if isinstance(data, bool) else parse_public_id(data)
        if public_id is None:
            self.fail("invalid")
        queryset = self.get_queryset()
        try:
            return queryset.get(**{self.slug_field: public_id})
        except queryset.model.DoesNotExist:
            self.fail("does_not_exist", name=queryset.model._meta.verbose_name, value=public_id)

    def to_representation(self, obj):
        return str(getattr(obj, self.slug_field))



def consent_source_field() -> serializers.ChoiceField:
    """A lead's or contact's consent_source as the API shows it: blank until consent was ever asked (the schema
    says so; a read-only model field's enum would leave the blank out)."""
    return serializers.ChoiceField(
        choices=ConsentSource.choices, allow_blank=True, read_only=True,
        help_text="How consent was last given or withdrawn; empty when never asked (docs/privacy.md).",
    )
