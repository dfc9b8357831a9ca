"""Editing a lead's details (not its status, owner or score: those have their own entry points)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.db import transaction

from crm import timeline
from crm.access import check_change
from crm.choices import EventType
from crm.models import User
from crm.public_ids import public_id_of
from crm.versions import check_version

from .insights import refresh_insights
from .intake import CUSTOM_PREFIX, FILLABLE_FIELDS, edited_names
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
            raise TransitionError(f"Lead {lead.public_id} is {lead.status}; a closed lead is read-only.")
        changed = [name for name, value in changes.items() if getattr(lead, name) != value]
        if not changed:
            return lead
        noted = note_edits(lead, before=lambda name: getattr(lead, name), after={name: changes[name] for name in changed})
        for name in changed:
            setattr(lead, name, changes[name])
        also = ["edited_fields"] if noted else []
        if "email" in changed and lead.email_bounced_at is not None:
            lead.email_bounced_at = None  # a corrected address may be tried again
            also.append("email_bounced_at")
        lead.save(update_fields=[*changed, *also, "updated_at"])
        timeline.event(
            tenant=lead.tenant_id,
            type=EventType.LEAD_UPDATED,
            payload={"lead_id": str(lead.public_id), "email": lead.email, "source": lead.source, "fields": changed,
                     "actor_id": public_id_of(actor)},
        ).save()
        return refresh_insights(lead=lead, actor=actor)


def note_edits(lead: Lead, *, before: Callable[[str], Any], after: Mapping[str, Any]) -> bool:
    """Add what a person changes (`after`, over the values `before` reads) to lead.edited_fields, so no later
    submission or import fills it again (leads.intake); True when the list grew. The caller saves the lead."""
    names = {
        name for name in edited_names(before=before, after=after)
        if name in FILLABLE_FIELDS or name.startswith(CUSTOM_PREFIX)
    }
    new = names - set(lead.edited_fields or [])
    if new:
        lead.edited_fields = sorted({*(lead.edited_fields or []), *new})
    return bool(new)
