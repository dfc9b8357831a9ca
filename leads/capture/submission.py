"""What a capture request's body becomes before validation.

Fields the capture serializer knows pass through; the form's own machinery (the form key, the
honeypot, `_`-prefixed fields such as `_ts`) is dropped; any other field the site owner put on
their form is kept in `custom_fields`, within the same bounds as explicit custom fields.

Anonymous form posts are lenient about attribution a visitor cannot fix (the page address,
the referrer, UTM values): too long is trimmed, an unparseable URL is dropped, rather than
refusing the lead.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.http import QueryDict

from leads.capture.spam import honeypot_field
from leads.intake import CUSTOM_FIELD_NAME_MAX, CUSTOM_FIELDS_MAX_VALUE

MACHINERY_FIELDS = frozenset({"form_key", "csrfmiddlewaretoken"})
MAX_FIELD_NAME = CUSTOM_FIELD_NAME_MAX
URL_FIELDS = {"source_url": 2000, "referrer": 2000}
TEXT_ATTRIBUTION_FIELDS = {
    "campaign": 200, "utm_source": 200, "utm_medium": 200, "utm_campaign": 200, "utm_term": 200, "utm_content": 200,
}


def as_dict(data) -> dict:
    """The parsed body as a plain dict (a form-encoded field sent twice keeps its values as a list)."""
    if isinstance(data, QueryDict):
        return {key: values if len(values) > 1 else values[0] for key, values in data.lists()}
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": ["Send a JSON object of field names to values."]})
    return dict(data)


def capture_input(body: dict, *, known: Iterable[str], lenient_attribution: bool) -> dict:
    """The body the capture serializer validates. Raises ValidationError naming an unusable extra field."""
    known = set(known)
    machinery = MACHINERY_FIELDS | {honeypot_field()}
    data = {name: value for name, value in body.items() if name in known and name not in machinery}
    extras = {
        name: value for name, value in body.items()
        if name not in known and name not in machinery and not name.startswith("_")
    }
    errors = {name: [message] for name, value in extras.items() if (message := _extra_field_problem(name, value))}
    if errors:
        raise ValidationError(errors)
    if extras:
        explicit = data.get("custom_fields")
        # An explicit custom_fields object is validated (and refused) by the serializer if malformed.
        data["custom_fields"] = {**extras, **explicit} if isinstance(explicit, dict) else explicit or extras
    if lenient_attribution:
        _forgive_attribution(data)
    return data


def _extra_field_problem(name: str, value) -> str | None:
    if len(name) > MAX_FIELD_NAME:
        return f"Field names are at most {MAX_FIELD_NAME} characters."
    items = value if isinstance(value, list) else [value]
    if not all(item is None or isinstance(item, (str, int, float, bool)) for item in items):
        return "Send a text, number or true/false value (or a list of them)."
    if len(str(value)) > CUSTOM_FIELDS_MAX_VALUE:
        return f"At most {CUSTOM_FIELDS_MAX_VALUE} characters."
    return None


def _forgive_attribution(data: dict) -> None:
    for name, limit in TEXT_ATTRIBUTION_FIELDS.items():
        if isinstance(data.get(name), str):
            data[name] = data[name].strip()[:limit]
    for name, limit in URL_FIELDS.items():
        value = data.get(name)
        if value in (None, ""):
            continue
        try:
            URLValidator()(value)
        except (ValidationError, TypeError):
            data.pop(name)
            continue
        if len(value) > limit:
            data.pop(name)  # a cut URL is a wrong URL: keep none rather than a wrong one
