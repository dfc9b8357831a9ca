"""Editing a lead's details (not its status, owner or score: those have their own entry points)."""

from __future__ import annotations

from django.db import transaction

from crm.access import check_change
from crm import timeline
from crm.choices import EventType
from crm.models import User
from crm.versions import check_version

from .insights import refresh_insights
from .lifecycle import TransitionError
from .locks import claim_email, lock_lead
from .models import Lead

EDITABLE_FIELDS = (
    "first_name", "last_name", "email", "phone", "job_title", "company", "industry", "employee_count",
    "annual_revenue", "website", "country", "message", "priority", "campaign", "custom_fields",
)


def update_lead(*, lead: Lead, changes: dict, actor: User | None, expected_version: list[str] | str | None = None) -> Lead:
    """Apply validated field changes to an open lead and record which fields changed.

    `expected_version` (crm.versions) makes the edit conditional: StaleEdit when the lead moved on since.
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable here: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        new_email = changes.get("email")
        if new_email and new_email != lead.email:
            # Before the lead's lock (leads/locks.py): a capture of that email may be creating a lead for it.
            claim_email(tenant_id=lead.tenant_id, email=new_email)
        lead = lock_lead(lead.pk)
        check_change(actor, lead)
        check_version(lead, expected_version)
        if not lead.is_open:
            raise TransitionError(f"Lead {lead.pk} is {lead.status}; a closed lead is read-only.")
        changed = [name for name, value in changes.items() if getattr(lead, name) != value]
        if not changed:
            return lead
        for name in changed:
            setattr(lead, name, changes[name])
        lead.save(update_fields=[*changed, "updated_at"])
        timeline.event(
            tenant=lead.tenant_id,
            type=EventType.LEAD_UPDATED,
            payload={"lead_id": lead.pk, "fields": changed, "actor_id": actor.pk if actor else None},
        ).save()
        return refresh_insights(lead=lead, actor=actor)
