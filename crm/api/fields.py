"""Serializer fields that store people's details the way every lookup expects them (crm.normalize)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from crm.normalize import normalize_email, normalize_phone


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
