"""What the CRM concludes about a lead after anything about it changes: score, auto-qualification, prediction.

Called from every path that changes a lead's data or timeline (capture, editing, activities),
inside that path's transaction, so a lead is never saved with a stale score.
"""

from __future__ import annotations

from django.db import transaction

from crm.models import User
from leads.prediction.service import refresh_prediction
from leads.rules.scoring import auto_qualify, rescore_lead

from .models import Lead


def refresh_insights(*, lead: Lead, actor: User | None = None) -> Lead:
    """Rescore the lead (and qualify / predict as the tenant's settings say); returns the fresh lead."""
    # Joins the caller's transaction (capture, edit, activity): a failure undoes the whole change,
    # and no savepoint round trips on the capture path.
    with transaction.atomic(savepoint=False):
        # --- rule score (leads/rules/scoring.py); a lead reaching the threshold is qualified by the system ---
        lead = rescore_lead(lead=lead)
        lead = auto_qualify(lead=lead)

        # --- prediction (leads/prediction/service.py): last, so it reads the fresh score ---
        lead = refresh_prediction(lead=lead, actor=actor)
    return lead
