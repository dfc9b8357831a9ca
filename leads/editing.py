"""Editing a lead's details (not its status, owner or score: those have their own entry points)."""

from __future__ import annotations

from django.db import transaction

from crm.choices import EventType
from crm.models import Event, User

from .insights import refresh_insights
from .lifecycle import TransitionError
from .models import Lead

EDITABLE_FIELDS = (
    "first_name", "last_name", "email", "phone", "job_title", "company", "industry", "employee_count",
    "annual_revenue", "website", "country", "message", "priority", "campaign", "custom_fields",
)


def update_lead(*, lead: Lead, changes: dict, actor: User | None) -> Lead:
    """Apply validated field changes to an open lead and record which fields changed."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable here: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead.pk)
        if not lead.is_open:
            raise TransitionError(f"Lead {lead.pk} is {lead.status}; a closed lead is read-only.")
        changed = [name for name, value in changes.items() if getattr(lead, name) != value]
        if not changed:
            return lead
        for name in changed:
            setattr(lead, name, changes[name])
        lead.save(update_fields=[*changed, "updated_at"])
        Event.objects.create(
            tenant_id=lead.tenant_id,
            type=EventType.LEAD_UPDATED,
            payload={"lead_id": lead.pk, "email": lead.email, "source": lead.source, "fields": changed,
                     "actor_id": actor.pk if actor else None},
        )
        return refresh_insights(lead=lead, actor=actor)
