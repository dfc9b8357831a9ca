"""Filters shared by every list endpoint."""

import datetime

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django_filters.constants import EMPTY_VALUES

MAX_ID = 2**63 - 1  # the database's bigint; larger numbers are a 400, not an overflow


class IdFilter(django_filters.NumberFilter):
    """A related row's id (whole numbers only)."""

    # The stubs pin NumberFilter's field to DecimalField; django-filter documents swapping it.
    field_class = forms.IntegerField  # type: ignore[assignment]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class OwnerFilter(django_filters.CharFilter):
    """A user id, `me` (the caller) or `none` (no one)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("validators", [RegexValidator(r"^(\d{1,18}|me|none)$", 'Give a user id, "me" or "none".')])
        kwargs.setdefault("help_text", 'A user id, "me" for yourself, or "none" for unassigned rows.')
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        if value == "me":
            # The FilterSet sets .parent on its filters; the stubs omit it.
            return qs.filter(**{f"{self.field_name}__exact": self.parent.request.user})  # type: ignore[attr-defined]
        if value == "none":
            return qs.filter(**{f"{self.field_name}__isnull": True})
        return qs.filter(**{f"{self.field_name}_id": int(value)})


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
