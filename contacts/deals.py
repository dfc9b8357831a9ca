"""Moving a deal through its stages: the one way a stage changes, whatever the door.

Every door (the deals API, the admin, conversion, a lead's status moved to `closed_won`) calls
`change_stage` to move an existing deal, and `settle_deal` after it creates a deal or gives one a
contact, so the outcome's consequences hold whichever way a deal got where it is:

- a closed deal (won or lost) has `closed_at`; a reopened one has none;
- a won deal makes its contact a `customer` (document 000), with a `status_changed` entry on the
  contact's timeline. Reopening the deal later does not take that back: they bought once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from crm import timeline
from crm.access import check_change
from crm.choices import ActivityKind

from .choices import CLOSED_STAGES, ContactStatus, DealStage
from .models import Contact, Deal

if TYPE_CHECKING:
    from crm.models import User


def change_stage(*, deal: Deal, stage: str, actor: User | None) -> Deal:
    """Move the deal to `stage`, keep `closed_at` in step and log it on the timeline; returns the saved deal.

    Closing (won or lost) stamps `closed_at`; reopening clears it. Moving to the stage the
    deal is already in changes nothing and logs nothing.
    """
    if stage not in DealStage.values:
        raise ValidationError({"stage": [f"Unknown stage {stage!r}; use one of: {', '.join(DealStage.values)}."]})
    with transaction.atomic():
        # The leads converted into this deal first (lock order: a lead before its deal, docs/architecture.md):
        # their pipeline ends and reopens with it (Lead.closed_at, kept in step below).
        list(deal.source_leads.select_for_update().values_list("pk", flat=True))
        locked = Deal.objects.select_for_update().get(pk=deal.pk)
        check_change(actor, locked)
        if locked.stage == stage:
            return locked
        previous = DealStage(locked.stage)
        now = timezone.now()
        locked.stage = stage
        locked.closed_at = now if stage in CLOSED_STAGES else None
        locked.save(update_fields=["stage", "closed_at", "updated_at"])
        locked.source_leads.update(closed_at=locked.closed_at)
        timeline.activity(
            tenant=locked.tenant_id,
            deal=locked,
            contact=locked.contact_id,
            kind=ActivityKind.STATUS_CHANGED,
            subject=f"Stage: {previous.label} → {DealStage(stage).label}",
            actor=actor,
            occurred_at=now,
            data={"from": previous.value, "to": stage},
        ).save()
        _customer_if_won(locked, actor=actor, now=now)
    return locked


def settle_deal(*, deal: Deal, actor: User | None) -> Deal:
    """After a door created `deal` or changed its contact: a closed deal gets `closed_at`, a won deal's
    contact becomes a customer. Changes nothing when all that holds already; returns the deal."""
    with transaction.atomic():
        now = timezone.now()
        if deal.stage in CLOSED_STAGES and deal.closed_at is None:
            deal.closed_at = deal.updated_at = now
            Deal.objects.filter(pk=deal.pk).update(closed_at=now, updated_at=now)
        _customer_if_won(deal, actor=actor, now=now)
    return deal


def _customer_if_won(deal: Deal, *, actor: User | None, now) -> None:
    if deal.stage != DealStage.CLOSED_WON or deal.contact_id is None:
        return
    # Locked after the deal (leads/locks.py's order: the deal, then its contact).
    contact = Contact.objects.select_for_update().filter(pk=deal.contact_id).first()
    if contact is None or contact.status == ContactStatus.CUSTOMER:
        return
    previous = ContactStatus(contact.status)
    contact.status = ContactStatus.CUSTOMER
    contact.save(update_fields=["status", "updated_at"])
    timeline.activity(
        tenant=deal.tenant_id,
        contact=contact,
        deal=deal,
        kind=ActivityKind.STATUS_CHANGED,
        subject=f"Status: {previous.label} → {ContactStatus.CUSTOMER.label} (deal won: {deal.name})",
        actor=actor,
        occurred_at=now,
        data={"from": previous.value, "to": ContactStatus.CUSTOMER.value, "deal_id": deal.pk},
    ).save()
