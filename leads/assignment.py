"""Who works a lead: the one entry point every assignment goes through (API, admin, routing).

Routing (rules, round robin) decides *who* in leads/routing/service.py and then calls assign_lead.
"""

from __future__ import annotations

import logging
from typing import cast

from celery import current_app
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from crm import timeline
from crm.access import check_assign, check_change
from crm.choices import ActivityKind, EventType
from crm.models import Activity, Event, User
from crm.public_ids import public_id_of

from .models import Lead

log = logging.getLogger(__name__)
OWNER_NOTE_TASK = "leads.tasks.tell_owner"


class AssignmentError(Exception):
    """The lead cannot go to that person; the message says why."""


def assign_lead(
    *,
    lead: Lead,
    owner: User | None,
    actor: User | None,
    reason: str,
    details: dict | None = None,
    held: bool = False,
) -> Lead:
    """Give the lead to `owner` (None: unassign), with its timeline entry, event and a note to the owner.

    `details` (e.g. the routing rule and open-lead count) is added to the activity's data and the event.
    `held`: the caller's transaction already holds this row (locked it, or created it), as routing
    does, so it is neither read again nor wrapped in a savepoint of its own.
    Raises AccessDenied when `actor` may not change the lead or give it to `owner` (crm.access).
    """
    check_assign(actor, owner)
    if owner is not None and (owner.tenant_id != lead.tenant_id or not owner.is_active):
        raise AssignmentError(f"{owner} is not an active member of this workspace.")
    with transaction.atomic(savepoint=not held):
        if not held:
            lead = Lead.objects.select_for_update().get(pk=lead.pk)
        check_change(actor, lead)
        if not lead.is_open:
            raise AssignmentError(f"Lead {lead.public_id} is {lead.status}; only open leads are assigned.")
        if lead.owner_id == (owner.pk if owner else None):
            return lead
        # Events and entries name people by public id (issue 13).
        previous_id, now = public_id_of(lead.owner) if lead.owner_id else None, timezone.now()
        lead.owner = owner
        lead.assigned_at = now if owner else None
        lead.save(update_fields=["owner", "assigned_at", "updated_at"])
        activity, event = assignment_records(
            lead=lead, owner=owner, previous_id=previous_id, actor=actor, reason=reason, details=details, now=now
        )
        activity.save()
        event.save()
        tell_owner_on_commit(lead=lead, owner=owner, actor=actor, reason=reason)
        return lead


def assignment_records(
    *, lead: Lead, owner: User | None, previous_id: str | None, actor: User | None, reason: str,
    details: dict | None, now,
) -> tuple[Activity, Event]:
    """The assignment's timeline entry and LeadAssigned event (unsaved: capture writes them with its own)."""
    return (
        timeline.activity(**assigned_entry(lead=lead, owner=owner, previous_id=previous_id, actor=actor, reason=reason,
                                           details=details, now=now)),
        timeline.event(**assigned_event(lead=lead, owner=owner, previous_id=previous_id, reason=reason,
                                        details=details, now=now)),
    )


def assigned_entry(
    *, lead: Lead | int, owner: User | None, previous_id: str | None, actor: User | int | None, reason: str,
    details: dict | None, now, tenant_id: int | None = None,
) -> dict:
    """Arguments of crm.timeline.activity for an assignment (`lead` a row, or an id with `tenant_id`;
    `previous_id`: the previous owner's public id)."""
    return {
        "tenant": tenant_id if tenant_id is not None else cast(Lead, lead).tenant_id,  # an id comes with tenant_id
        "lead": lead,
        "kind": ActivityKind.ASSIGNED,
        "subject": f"Assigned to {owner}" if owner else "Unassigned",
        "body": reason,
        "actor": actor,
        "occurred_at": now,
        "data": {**(details or {}), "from": previous_id, "to": public_id_of(owner), "reason": reason},
    }


def assigned_event(
    *, lead: Lead | int, owner: User | None, previous_id: str | None, reason: str, details: dict | None, now,
    tenant_id: int | None = None, email: str | None = None, source: str | None = None,
    lead_public_id: str | None = None,
) -> dict:
    """Arguments of crm.timeline.event for an assignment's LeadAssigned event (`email`, `source`, `lead_public_id`:
    given with an id). The event names the lead and the people by public id (issue 13)."""
    if not isinstance(lead, int):
        email, source, lead_public_id = lead.email, lead.source, str(lead.public_id)
    lead_id = lead_public_id
    to = public_id_of(owner)
    return {
        "tenant": tenant_id if tenant_id is not None else cast(Lead, lead).tenant_id,  # an id comes with tenant_id
        "type": EventType.LEAD_ASSIGNED,
        "payload": {**(details or {}), "lead_id": lead_id, "email": email, "source": source, "from": previous_id,
                    "to": to, "reason": reason},
        "created_at": now,
    }


def not_assigned_entry(
    *, lead: Lead | int, owner_id: int | None, actor: User | None, reason: str, now=None, tenant_id: int | None = None,
) -> dict:
    """Arguments of crm.timeline.activity for routing that found nobody (`owner_id`: who keeps the lead)."""
    return {
        "tenant": tenant_id if tenant_id is not None else cast(Lead, lead).tenant_id,  # an id comes with tenant_id
        "lead": lead,
        "kind": ActivityKind.ASSIGNED,
        "subject": "Not re-routed: nobody available" if owner_id else "Not assigned: nobody available",
        "body": reason,
        "actor": actor,
        "occurred_at": now,
        "data": {"from": owner_id, "to": owner_id, "reason": reason, "routing": "none"},
    }


def tell_owner_on_commit(*, lead: Lead, owner: User | None, actor: User | None, reason: str) -> None:
    """Email the new owner from the background engine once the assignment commits."""
    if owner is not None and owner.email and owner != actor:
        transaction.on_commit(lambda: _queue_owner_note(lead, owner, reason), robust=True)


def _queue_owner_note(lead: Lead, owner: User, reason: str) -> None:
    try:
        current_app.tasks[OWNER_NOTE_TASK].apply_async(args=[lead.pk, owner.pk, reason], retry=False)
    except Exception:  # no broker right now: send it from here, as before the engine
        log.warning("Could not queue the owner note for lead %s; sending it now.", lead.pk, exc_info=True)
        _tell_owner(lead, owner, reason)


def tell_owner(*, lead_id: int, owner_id: int, reason: str) -> bool:
    """The owner note (task side): sent only while the lead is still theirs; False when it no longer is."""
    lead = Lead.objects.filter(pk=lead_id, owner_id=owner_id).first()
    owner = User.objects.filter(pk=owner_id, is_active=True).exclude(email="").first()
    if lead is None or owner is None:
        return False
    _tell_owner(lead, owner, reason)
    return True


def _tell_owner(lead: Lead, owner: User, reason: str) -> None:
    try:
        send_mail(
            subject=f"New lead for you: {lead}",
            message=f"{lead} ({lead.company or lead.email or lead.phone}) is now yours.\nWhy: {reason}\n",
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[owner.email],
        )
    except Exception:  # a mail outage must not undo an assignment that is already committed
        log.exception("Could not email %s about lead %s", owner.email, lead.pk)
