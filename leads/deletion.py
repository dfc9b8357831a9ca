"""Deleting a lead: for managers, with a reason, and never taking other records' history.

A converted lead's timeline lives on with its contact (and deal): those entries lose their link
to the lead and stay. Entries that belong to the lead alone go with it. A LeadDeleted event
records who deleted which lead, when and why, in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from crm import timeline
from crm.access import check_delete
from crm.choices import EventType
from crm.models import Activity, User
from crm.public_ids import public_id_of

from .models import Lead

REASON_MAX = 500


class DeletionError(Exception):
    """The deletion cannot go ahead as asked; the message says what to give."""

    field = "reason"


@dataclass(frozen=True)
class DeletedLead:
    lead_id: int
    kept_entries: int  # on the timeline of the contact or deal the lead became
    deleted_entries: int


def delete_lead(*, lead: Lead, actor: User | None, reason: str) -> DeletedLead:
    """Delete one lead in its own transaction; its contact's and deal's timeline entries stay."""
    reason = (reason or "").strip()
    if not reason:
        raise DeletionError("Say why the lead is deleted: a reason is required.")
    if len(reason) > REASON_MAX:
        raise DeletionError(f"Keep the reason under {REASON_MAX} characters.")
    with transaction.atomic():
        lead = Lead.objects.select_for_update(of=("self",)).get(pk=lead.pk)
        check_delete(actor, lead)
        entries = Activity.objects.filter(lead=lead)
        deleted = entries.filter(contact__isnull=True, deal__isnull=True).count()
        kept = entries.count() - deleted  # the model's on_delete keeps them (crm.models.keep_shared_entries)
        timeline.event(
            tenant=lead.tenant_id,
            type=EventType.LEAD_DELETED,
            payload={
                "lead_id": str(lead.public_id), "status": lead.status, "reason": reason,
                "actor_id": public_id_of(actor),
                "kept_entries": kept, "deleted_entries": deleted,
            },
        ).save()
        lead_id = lead.pk
        lead.delete()
    return DeletedLead(lead_id=lead_id, kept_entries=kept, deleted_entries=deleted)
