"""Moving a deal through its stages: the one way a stage changes, whatever the door."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from crm import timeline
from crm.access import check_change
from crm.choices import ActivityKind

from .choices import CLOSED_STAGES, DealStage
from .models import Deal

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
    return locked
