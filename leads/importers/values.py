"""Our own words for the fields a value mapping translates (what a mapping may map a word to)."""

from __future__ import annotations

from ..choices import LeadSource, LeadStatus, Priority

_ALLOWED = {
    "status": list(LeadStatus.values),
    "lifecycle_stage": list(LeadStatus.values),
    "source": list(LeadSource.values),
    "priority": list(Priority.values),
}


def allowed_values(name: str) -> list[str]:
    return _ALLOWED[name]


def choices_for(name: str) -> list[tuple[str, str]]:
    enum = {"source": LeadSource, "priority": Priority}.get(name, LeadStatus)
    return [(value, str(label)) for value, label in enum.choices]
