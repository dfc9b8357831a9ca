"""A platform's form fields to a lead's: the standard questions, a channel's own mapping, then
normalised as the capture service expects (email lowercased, phone in E.164, names split)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError

from crm.normalize import normalize_email, normalize_phone, split_name
from leads.intake import CUSTOM_FIELD_NAME_MAX, CUSTOM_FIELDS_MAX_KEYS, CUSTOM_FIELDS_MAX_VALUE, CUSTOM_PREFIX

# Lead fields a platform's field may be mapped to ("name" is split into first and last name);
# "custom_fields.<key>" keeps an answer among the lead's custom fields, "" drops it.
TARGETS = ("name", "first_name", "last_name", "email", "phone", "company", "job_title", "industry", "website",
           "country", "message")
MAX_LENGTHS = {"first_name": 100, "last_name": 100, "company": 200, "job_title": 150, "industry": 100,
               "website": 500, "message": 5000}

# Facebook's standard questions (field_data names) and Google's column ids, lowercased.
STANDARD = {
    "full_name": "name", "first_name": "first_name", "last_name": "last_name", "email": "email",
    "work_email": "email", "phone_number": "phone", "work_phone_number": "phone", "work_phone": "phone",
    "company_name": "company", "job_title": "job_title", "country": "country",
    "city": "custom_fields.city", "postal_code": "custom_fields.postal_code", "zip_code": "custom_fields.postal_code",
    "state": "custom_fields.state", "province": "custom_fields.state", "street_address": "custom_fields.street_address",
}


class MappingError(ValueError):
    """A channel's field mapping names a target that does not exist."""


def check_mapping(mapping: object) -> dict[str, str]:
    """A channel's field mapping as stored: {platform field: target}. Raises MappingError saying what is wrong."""
    if not isinstance(mapping, dict):
        raise MappingError('Send an object of form field names to lead fields, e.g. {"work_email": "email"}.')
    for name, target in mapping.items():
        if not isinstance(target, str):
            raise MappingError(f"'{name}': the target must be text (a lead field, custom_fields.<key>, or \"\").")
        if target and target not in TARGETS and not (
            target.startswith(CUSTOM_PREFIX) and 0 < len(target) - len(CUSTOM_PREFIX) <= CUSTOM_FIELD_NAME_MAX
        ):
            raise MappingError(
                f"'{name}': unknown target '{target}'; use one of {', '.join(TARGETS)}, custom_fields.<key>, or \"\"."
            )
    return {str(k): v for k, v in mapping.items()}


def lead_data(answers: Iterable[tuple[str, str]], *, mapping: Mapping[str, str] | None = None) -> dict:
    """Capture data from a form's (field name, answer) pairs. A field neither the channel's mapping nor
    the standard questions know goes to custom_fields under its own name; an answer that is not a usable
    email or phone number is kept there too rather than lost."""
    mapping = mapping or {}
    data: dict = {}
    custom: dict[str, str] = {}
    for raw_name, raw_value in answers:
        value = (raw_value or "").strip() if isinstance(raw_value, str) else str(raw_value or "")
        if not value:
            continue
        name = str(raw_name)
        target = mapping.get(name, STANDARD.get(name.lower(), CUSTOM_PREFIX + name))
        if not target:
            continue
        if target.startswith(CUSTOM_PREFIX):
            custom[target.removeprefix(CUSTOM_PREFIX)[:CUSTOM_FIELD_NAME_MAX]] = value[:CUSTOM_FIELDS_MAX_VALUE]
            continue
        try:
            cleaned = _clean(target, value)
        except ValidationError:
            custom[name[:CUSTOM_FIELD_NAME_MAX]] = value[:CUSTOM_FIELDS_MAX_VALUE]
            continue
        if target == "name":
            data.setdefault("_name", cleaned)
        elif cleaned:
            data.setdefault(target, cleaned)
    name = data.pop("_name", "")
    if name and not data.get("first_name") and not data.get("last_name"):
        first, last = split_name(name)
        data["first_name"], data["last_name"] = first[:100], last[:100]
    if custom:
        data["custom_fields"] = dict(list(custom.items())[:CUSTOM_FIELDS_MAX_KEYS])
    return data


def _clean(target: str, value: str) -> str:
    if target == "email":
        return normalize_email(value)
    if target == "phone":
        return normalize_phone(value)
    if target == "country":
        if len(value) == 2 and value.isalpha():
            return value.upper()
        raise ValidationError("not a two-letter country code")
    return value[:MAX_LENGTHS.get(target, 200)]
