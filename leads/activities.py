"""Writing to the timeline: one entry point for activities people log (API, lead pages, later integrations)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from crm import timeline
from crm.access import AccessDenied, check_change
from crm.choices import ActivityKind
from crm.models import Activity

from .first_contact import is_contact, note_first_contact
from .insights import refresh_insights
from .models import Lead

if TYPE_CHECKING:
    from contacts.models import Contact, Deal
    from crm.models import Tenant, User

# What people (and tracked behaviour) log. The rest is the CRM's own record of what happened,
# written by the entry points that make those changes; nobody logs or edits it by hand.
USER_KINDS = frozenset(
    {
        ActivityKind.NOTE, ActivityKind.CALL, ActivityKind.CONTACTED, ActivityKind.EMAIL, ActivityKind.MEETING,
        ActivityKind.TASK, ActivityKind.FORM_SUBMITTED, ActivityKind.EMAIL_OPENED, ActivityKind.EMAIL_CLICKED,
        ActivityKind.PAGE_VIEWED, ActivityKind.DEMO_REQUESTED,
    }
)
SYSTEM_KINDS = frozenset(ActivityKind) - USER_KINDS

# Document 002's activity types (lead_activities.activity_type): what each is when sent (our kind), and
# how every kind of ours reads in its words. Entries it has no word for read as notes.
DOCUMENT_ACTIVITY_TYPES = {
    "created": ActivityKind.CREATED,
    "status_changed": ActivityKind.STATUS_CHANGED,
    "note_added": ActivityKind.NOTE,
    "contacted": ActivityKind.CONTACTED,
}
_DOCUMENT_WORD_OF_KIND: dict[str, str] = {
    ActivityKind.CREATED: "created", ActivityKind.IMPORTED: "created",
    ActivityKind.STATUS_CHANGED: "status_changed", ActivityKind.CONVERTED: "status_changed",
    ActivityKind.CONTACTED: "contacted", ActivityKind.CALL: "contacted", ActivityKind.EMAIL: "contacted",
    ActivityKind.MEETING: "contacted",
}


def document_activity_type(activity: Activity) -> str:
    """The entry's type in document 002's words (the form submission that made a lead is its `created`)."""
    if activity.kind == ActivityKind.FORM_SUBMITTED and (activity.data or {}).get("created_lead"):
        return "created"
    return _DOCUMENT_WORD_OF_KIND.get(activity.kind, "note_added")


def document_description(activity: Activity) -> str:
    """The entry's text as one description: its subject and its body."""
    return "\n".join(filter(None, [activity.subject, activity.body]))


def log_activity(
    *,
    tenant: Tenant,
    kind: str,
    actor: User | None,
    lead: Lead | None = None,
    contact: Contact | None = None,
    deal: Deal | None = None,
    subject: str = "",
    body: str = "",
    occurred_at: dt.datetime | None = None,
    due_at: dt.datetime | None = None,
    done_at: dt.datetime | None = None,
    data: dict | None = None,
) -> Activity:
    """Add an activity to the timeline of a lead, contact and/or deal of `tenant`.

    The activity also lands on the person's contact when that is known (the deal's contact, or
    the contact a converted lead became), so one person keeps one timeline. Logging on a lead
    moves its `last_activity_at` forward (never back, for activities logged after the fact).
    `actor` must be allowed to change the lead, contact and deal named (crm.access), else AccessDenied.
    """
    if kind not in ActivityKind.values:
        raise ValidationError({"kind": [f"Unknown activity kind {kind!r}."]})
    if lead is None and contact is None and deal is None:
        message = "An activity belongs to a lead, a contact or a deal: give at least one."
        raise ValidationError({"lead": [message], "contact": [message], "deal": [message]})
    for field, row in (("lead", lead), ("contact", contact), ("deal", deal)):
        if row is not None and row.tenant_id != tenant.pk:
            raise ValidationError({field: [f"No such {field} in this workspace."]})
    for row in (lead, contact, deal):
        if row is not None:
            check_change(actor, row)

    if contact is None and deal is not None and deal.contact_id:
        contact = deal.contact
    if contact is None and lead is not None and lead.converted_contact_id:
        contact = lead.converted_contact
    occurred_at = occurred_at or timezone.now()

    activity = timeline.activity(
        tenant=tenant,
        kind=kind,
        actor=actor,
        lead=lead,
        contact=contact,
        deal=deal,
        subject=subject,
        body=body,
        occurred_at=occurred_at,
        due_at=due_at,
        done_at=done_at,
        data=data or {},
    )
    check_entry(activity)
    with transaction.atomic():
        activity.save()
        if lead is not None:
            # Conditional, so two concurrent activities never move the date backwards.
            moved = (
                Lead.objects.filter(pk=lead.pk)
                .filter(Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=occurred_at))
                .update(last_activity_at=occurred_at, updated_at=timezone.now())
            )
            if moved:
                lead.last_activity_at = occurred_at
            if is_contact(kind=kind, to_status=(data or {}).get("to")):
                note_first_contact(lead_id=lead.pk, at=occurred_at)
            refresh_insights(lead=lead, actor=actor)
    return activity


def edit_activity(*, activity: Activity, changes: dict, actor: User | None) -> Activity:
    """Change what someone logged: its author or a manager, and only onto rows the actor may change too.

    `changes` are validated field values; moving the entry to another lead, contact or deal needs
    change rights on that row too (crm.access), else AccessDenied.
    """
    check_editable(activity=activity, actor=actor)
    for name in ("lead", "contact", "deal"):
        row = changes.get(name)
        if row is not None and getattr(activity, f"{name}_id") != row.pk:
            check_change(actor, row)
    changed = [name for name, value in changes.items() if _differs(activity, name, value)]
    for name in changed:
        setattr(activity, name, changes[name])
    if changed:
        check_entry(activity)
        activity.save(update_fields=changed)
    return activity


RELATIONS = ("tenant", "lead", "contact", "deal", "actor")


def check_entry(activity: Activity) -> None:
    """Raise ValidationError naming the field unless the entry keeps the timeline's rules (crm.models.Activity:
    lengths, kinds, a task's due date). Its rows are checked by the caller (tenant and access), not queried again."""
    activity.clean_fields(exclude=RELATIONS)
    activity.clean()


def _differs(activity: Activity, name: str, value) -> bool:
    field = Activity._meta.get_field(name)
    if isinstance(field, models.ForeignKey):  # compared by id: reading the related row would cost a query
        return getattr(activity, field.attname) != (value.pk if value is not None else None)
    return getattr(activity, name) != value


def check_editable(*, activity: Activity, actor: User | None) -> None:
    """Raise AccessDenied unless `actor` may edit this entry: one people log (not the CRM's record), theirs."""
    if activity.kind in SYSTEM_KINDS:
        raise AccessDenied(
            f"{activity.get_kind_display()} activities are the CRM's record of what happened and cannot be edited."
        )
    check_change(actor, activity)
