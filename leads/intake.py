"""A lead's incoming values, whichever door they come through (capture, import): what a later
arrival may add to a lead that is already open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

# Fields a later submission or import row may fill on an open lead when the lead has them empty.
FILLABLE_FIELDS = (
    "first_name", "last_name", "phone", "job_title", "company", "industry", "employee_count",
    "annual_revenue", "website", "country", "message", "campaign", "source_url", "referrer",
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "external_id",
)
EMPTY = (None, "")
# One answer among a lead's custom fields is named "custom_fields.<key>" (in edited_fields and `differs`).
CUSTOM_PREFIX = "custom_fields."


def empty_fields_filled(
    *, current: Callable[[str], Any], incoming: Mapping[str, Any], edited: Iterable[str] = ()
) -> dict[str, Any]:
    """What `incoming` adds to a lead whose values `current(name)` reads: its values for the fillable
    fields the lead has empty (None or ""; a 0 is a value), and the custom fields the lead lacks
    (merged into the lead's under "custom_fields"). Never overwrites what the lead has, and never
    refills what a person set or cleared (`edited`: the lead's edited_fields)."""
    kept = set(edited)
    changes = {
        name: incoming[name] for name in FILLABLE_FIELDS
        if name not in kept and incoming.get(name) not in EMPTY and current(name) in EMPTY
    }
    extra = incoming.get("custom_fields") or {}
    mine = current("custom_fields") or {}
    new_custom = {
        key: value for key, value in extra.items() if key not in mine and CUSTOM_PREFIX + str(key) not in kept
    }
    if new_custom:
        changes["custom_fields"] = {**mine, **new_custom}
    return changes


def submitted_values(incoming: Mapping[str, Any]) -> dict[str, Any]:
    """What a submission said, as a timeline entry keeps it (JSON): its non-empty fillable fields and
    its custom answers ("custom_fields.<key>")."""
    return {name: _json_value(value) for name, value in _submitted(incoming)}


def values_differing(*, current: Callable[[str], Any], incoming: Mapping[str, Any]) -> dict[str, Any]:
    """The submitted values the lead does not hold, once filled: {name: submitted value, as JSON}.

    Where the lead has another value, or none because a person cleared it (the fill leaves those alone).
    """
    return {name: _json_value(value) for name, value in _submitted(incoming) if value_of(current, name) != value}


def _submitted(incoming: Mapping[str, Any]) -> list[tuple[str, Any]]:
    values = [(name, incoming[name]) for name in FILLABLE_FIELDS if incoming.get(name) not in EMPTY]
    values += [(CUSTOM_PREFIX + str(key), value) for key, value in (incoming.get("custom_fields") or {}).items()]
    return values


def value_of(current: Callable[[str], Any], name: str) -> Any:
    """The lead's value for a field name or a "custom_fields.<key>" answer (None when it has none)."""
    if name.startswith(CUSTOM_PREFIX):
        return (current("custom_fields") or {}).get(name.removeprefix(CUSTOM_PREFIX))
    return current(name)


def edited_names(*, before: Callable[[str], Any], after: Mapping[str, Any]) -> set[str]:
    """The names (fields, "custom_fields.<key>" answers) a person's change `after` sets differently from `before`."""
    names = {name for name, value in after.items() if name != "custom_fields" and before(name) != value}
    if "custom_fields" in after:
        old, new = before("custom_fields") or {}, after["custom_fields"] or {}
        names |= {CUSTOM_PREFIX + str(key) for key in {*old, *new} if old.get(key) != new.get(key)}
    return names


def _json_value(value: Any) -> Any:
    # annual_revenue arrives as a Decimal; the timeline's JSON keeps it as its text ("1200.50").
    return str(value) if isinstance(value, Decimal) else value


# --- checks both the capture serializer and the import's row parser make (each says it on its field or column)

CUSTOM_FIELDS_MAX_KEYS = 50
CUSTOM_FIELD_NAME_MAX = 100
CUSTOM_FIELDS_MAX_VALUE = 1000
UNREACHABLE = "Give an email or a phone number so the lead can be reached."


class IntakeError(ValueError):
    """An incoming value a lead cannot take; `key` names the custom field when the error is about one."""

    def __init__(self, message: str, *, key: str = ""):
        super().__init__(message)
        self.key = key


def check_reachable(*, email: str, phone: str) -> None:
    """A lead needs a way to reach the person."""
    if not email and not phone:
        raise IntakeError(UNREACHABLE)


def country_code(text: str) -> str:
    """' de' -> 'DE' ('' stays ''); raises IntakeError unless it is two letters."""
    code = text.strip().upper()
    if code and not (len(code) == 2 and code.isalpha()):
        raise IntakeError("Use the two-letter ISO country code, e.g. US, DE, GB.")
    return code


def custom_field_errors(values: Mapping[Any, Any]) -> list[IntakeError]:
    """What is wrong with a lead's custom fields: too many, or a name or value too long (one error each)."""
    errors = []
    if len(values) > CUSTOM_FIELDS_MAX_KEYS:
        errors.append(IntakeError(f"At most {CUSTOM_FIELDS_MAX_KEYS} custom fields per lead."))
    for key, item in values.items():
        name = str(key)
        if len(name) > CUSTOM_FIELD_NAME_MAX or len(str(item)) > CUSTOM_FIELDS_MAX_VALUE:
            errors.append(IntakeError(
                f"Custom field '{name[:CUSTOM_FIELD_NAME_MAX]}' is too long (names up to {CUSTOM_FIELD_NAME_MAX}, "
                f"values up to {CUSTOM_FIELDS_MAX_VALUE} characters).",
                key=name,
            ))
    return errors
