"""Filters shared by every list endpoint."""

import datetime

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django_filters.constants import EMPTY_VALUES
from drf_spectacular.utils import extend_schema_field

from .fields import INVALID_PUBLIC_ID, UUID_PATTERN


class IdFilter(django_filters.UUIDFilter):
    """A related row's id: its public id (a UUID); anything else is a 400 naming the filter."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("error_messages", {"invalid": INVALID_PUBLIC_ID})
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        return qs.filter(**{f"{self.field_name}__public_id": value})


@extend_schema_field({"type": "string", "pattern": f"^({UUID_PATTERN}|me|none)$"})
class OwnerFilter(django_filters.CharFilter):
    """A user id (a UUID), `me` (the caller) or `none` (no one)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "validators", [RegexValidator(rf"^({UUID_PATTERN}|me|none)$", 'Give a user id (a UUID), "me" or "none".')]
        )
        kwargs.setdefault("help_text", 'A user id (a UUID), "me" for yourself, or "none" for unassigned rows.')
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        if value == "me":
            # The FilterSet sets .parent on its filters; the stubs omit it.
            return qs.filter(**{f"{self.field_name}__exact": self.parent.request.user})  # type: ignore[attr-defined]
        if value == "none":
            return qs.filter(**{f"{self.field_name}__isnull": True})
        return qs.filter(**{f"{self.field_name}__public_id": value})


class UTCDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 date-time that has a UTC instant (9999-12-31T23:59:59-12:00 has none)."""

    def clean(self, value):
        value = super().clean(value)
        if value is not None:
            try:
                value.astimezone(datetime.UTC)
            except OverflowError:
                raise forms.ValidationError("Give a date-time between the years 1 and 9999 in UTC.") from None
        return value


class DateTimeFilter(django_filters.IsoDateTimeFilter):
    """ISO 8601 date-time, compared in UTC (PostgreSQL refuses offsets beyond +/-16 hours)."""

    field_class = UTCDateTimeField

    def filter(self, qs, value):
        if value is not None:
            value = value.astimezone(datetime.UTC)
        return super().filter(qs, value)
