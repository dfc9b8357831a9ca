"""Lead status changes: the lifecycle in DESIGN.md, enforced in one place for every door.

new -> contacted -> qualified -> converted, and disqualified (with a reason) from any open
status. Final statuses never change. Conversion has its own entry point (Lead.objects.convert).
With the tenant's strict pipeline on, no step may be skipped.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from crm import timeline
from crm.access import check_change
from crm.choices import ActivityKind, EventType
from crm.models import User

from .choices import FINAL_STATUSES, OPEN_STATUSES, LeadStatus
from .first_contact import is_contact, note_first_contact
from .models import Lead

PIPELINE: list[str] = [LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED]


class Rule:
    """The names of the lifecycle's rules, which refusals carry (`rule`) so a client can tell them apart.

    The handoff's rules (`HANDOFF_*`) are the conversion's (leads/conversion.py), named here beside the others.
    """

    FINAL = "final_stage"  # converted (transferred) and disqualified (lost) never change
    FORWARD_ONLY = "forward_only"  # new -> contacted -> qualified, never back
    NO_SKIPPING = "no_skipping"  # strict pipeline: no step skipped
    CONVERT_DOOR = "conversion_endpoint"  # `converted` is reached by converting, never set
    HANDOFF_FROM_QUALIFIED = "handoff_from_qualified"  # strict pipeline: only a qualified lead goes to sales
    HANDOFF_GATE = "handoff_gate"  # strict pipeline: probability (ai_score) >= 0.6 and a known industry


class TransitionError(Exception):
    """The lead cannot move to the asked status; the message says why and `rule` names the rule."""

    def __init__(self, message: str, *, rule: str = Rule.FINAL):
        super().__init__(message)
        self.rule = rule


class MissingReason(ValueError):
    """Disqualifying needs a reason; doors show the message on the reason's field."""

    field = "disqualification_reason"


def check_reason(status: str, reason: str) -> None:
    """Raise MissingReason unless a move to `status` has the reason it needs (disqualifying does)."""
    if status == LeadStatus.DISQUALIFIED and not reason.strip():
        raise MissingReason("Say why the lead is disqualified: a reason is required.")


def check_transition(lead: Lead, target: str) -> None:
    """Raise TransitionError unless `lead` may move from its status to `target`."""
    current = lead.status
    if current in FINAL_STATUSES:
        raise TransitionError(f"Lead {lead.public_id} is {current}; a {current} lead cannot change status.", rule=Rule.FINAL)
    if target == LeadStatus.CONVERTED:
        raise TransitionError(
            "Convert the lead with POST /api/v1/leads/{id}/convert; it creates the contact.", rule=Rule.CONVERT_DOOR
        )
    if target == LeadStatus.DISQUALIFIED:
        return
    here, there = PIPELINE.index(current), PIPELINE.index(target)
    if there < here:
        raise TransitionError(
            f"Lead status moves forward ({' -> '.join(PIPELINE)}); it cannot go back from {current} to {target}.",
            rule=Rule.FORWARD_ONLY,
        )
    if lead.tenant.strict_pipeline and there > here + 1:
        raise TransitionError(
            f"Strict pipeline: lead {lead.public_id} must be {PIPELINE[here + 1]} before it can be {target}.",
            rule=Rule.NO_SKIPPING,
        )


def change_status(*, lead: Lead, status: str, actor: User | None, notes: str = "", reason: str = "") -> Lead:
    """Move a lead along the lifecycle, with its timeline entry and LeadStatusChanged event."""
    check_reason(status, reason)
    with transaction.atomic():
        lead = Lead.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=lead.pk)
        check_change(actor, lead)
        if lead.status == status and status in OPEN_STATUSES:
            return lead
        check_transition(lead, status)
        previous, now = lead.status, timezone.now()
        lead.status = status
        lead.last_activity_at = now
        fields = ["status", "last_activity_at", "updated_at"]
        if status == LeadStatus.QUALIFIED:
            lead.qualified_at = now
            fields.append("qualified_at")
        if status == LeadStatus.DISQUALIFIED:
            lead.disqualification_reason = reason.strip()
            lead.closed_at = now  # the lead's pipeline ends here (document 002's closed_at)
            fields += ["disqualification_reason", "closed_at"]
        lead.save(update_fields=fields)
        timeline.activity(
            tenant=lead.tenant,
            lead=lead,
            kind=ActivityKind.STATUS_CHANGED,
            subject=f"Status: {previous} -> {status}",
            body="\n".join(filter(None, [reason.strip() and f"Reason: {reason.strip()}", notes.strip()])),
            actor=actor,
            occurred_at=now,
            data={"from": previous, "to": status},
        ).save()
        if is_contact(kind=ActivityKind.STATUS_CHANGED, to_status=status):
            note_first_contact(lead_id=lead.pk, at=now)
        timeline.event(
            tenant=lead.tenant,
            type=EventType.LEAD_STATUS_CHANGED,
            payload={"lead_id": str(lead.public_id), "email": lead.email, "source": lead.source,
                     "from": previous, "to": status,
                     "reason": lead.disqualification_reason},
            created_at=now,
        ).save()
        return lead
