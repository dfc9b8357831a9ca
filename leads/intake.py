"""A lead's incoming values, whichever door they come through (capture, import): what a later
arrival may add to a lead that is already open.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

# Fields a later submission or import row may fill on an open lead when the lead has them empty.
FILLABLE_FIELDS = (
    "first_name", "last_name", "phone", "job_title", "company", "industry", "employee_count",
    "annual_revenue", "website", "country", "message", "campaign", "source_url", "referrer",
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "external_id",
)
EMPTY = (None, "")


def empty_fields_filled(*, current: Callable[[str], Any], incoming: Mapping[str, Any]) -> dict[str, Any]:
    """What `incoming` adds to a lead whose values `current(name)` reads: its values for the fillable
    fields the lead has empty (None or ""; a 0 is a value), and the custom fields the lead lacks
    (merged into the lead's under "custom_fields"). Never overwrites what the lead has."""
    changes = {
        name: incoming[name] for name in FILLABLE_FIELDS if incoming.get(name) not in EMPTY and current(name) in EMPTY
    }
    extra = incoming.get("custom_fields") or {}
    mine = current("custom_fields") or {}
    new_custom = {key: value for key, value in extra.items() if key not in mine}
    if new_custom:
        changes["custom_fields"] = {**mine, **new_custom}
    return changes
