"""A lead's first contact time, kept as a column (Lead.first_contacted_at) by the services that log a contact:
a call, email or meeting (leads.activities), a status change to contacted or qualified (leads.lifecycle),
a conversion (leads.conversion). The dashboard's time-to-first-contact reads it instead of the timeline.

Conditional updates, so two concurrent contacts keep the earliest and a backdated entry from before
the lead existed never counts (the dashboard's definition, leads/dashboard/figures.py).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Min, OuterRef, Q, Subquery

from crm.choices import ActivityKind
from crm.models import Activity

from .choices import LeadStatus
from .models import Lead

CONTACT_KINDS = frozenset({ActivityKind.CALL, ActivityKind.EMAIL, ActivityKind.MEETING, ActivityKind.CONVERTED})
CONTACTING_STATUSES = frozenset({LeadStatus.CONTACTED, LeadStatus.QUALIFIED})


def note_first_contact(*, lead_id: int, at: dt.datetime) -> bool:
    """Record `at` as the lead's first contact unless an earlier one is known; True when it was."""
    return bool(
        Lead.objects.filter(pk=lead_id, created_at__lte=at)
        .filter(Q(first_contacted_at__isnull=True) | Q(first_contacted_at__gt=at))
        .update(first_contacted_at=at)
    )


def is_contact(*, kind: str, to_status: str | None = None) -> bool:
    """Whether a timeline entry of this kind (a status change to `to_status`) is a contact."""
    if kind == ActivityKind.STATUS_CHANGED:
        return to_status in CONTACTING_STATUSES
    return kind in CONTACT_KINDS


def first_contacts_from_timeline(leads) -> int:
    """Set first_contacted_at from the timeline for `leads` (a queryset) that have none: for timelines written in
    bulk around the services (the demo's seed). Returns how many leads it looked at."""
    firsts = (
        Activity.objects.filter(lead=OuterRef("pk"), occurred_at__gte=OuterRef("created_at"))
        .filter(Q(kind__in=CONTACT_KINDS)
                | Q(kind=ActivityKind.STATUS_CHANGED, data__to__in=[str(s) for s in CONTACTING_STATUSES]))
        .order_by()
        .values("lead")
        .annotate(first=Min("occurred_at"))
        .values("first")
    )
    return leads.filter(first_contacted_at__isnull=True).update(first_contacted_at=Subquery(firsts[:1]))
