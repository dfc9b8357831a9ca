"""Qualifying a lead with BANT answers: budget, authority, need, timeline.

All four met: the lead becomes qualified through `lifecycle.change_status`, so the lifecycle's
rules hold (with the tenant's strict pipeline on, a new lead must be contacted first), and a
"Schedule discovery call" task is put on its timeline. Any criterion unmet: the lead is
disqualified with a reason naming the unmet criteria ("BANT not met: budget, timeline"), unless
the caller keeps it open, in which case its status stays and a note records the unmet criteria.

The answers are stored on the lead (`Lead.qualification`: answers, notes, unmet, outcome, who
and when) whatever the outcome; the latest check replaces the previous one, and the timeline keeps
each check (the status change or the note carries a summary). A refused request (a closed lead,
a skipped step under the strict pipeline) changes nothing, answers included.

The discovery-call task is owned by the lead's owner: its `actor` is the owner (the activities API
lists it under `?actor=me&open_task=true` and lets its actor mark it done), or the person who
qualified the lead when it has no owner yet; `data` names the assignee and who created it. It is
due at DISCOVERY_CALL_HOUR o'clock (setting, default 9) in DISCOVERY_CALL_TIME_ZONE (setting,
default UTC) on the next working day, Monday to Friday: Friday and the weekend roll to Monday.
There is no holiday calendar. Only the move to qualified creates a task, so answering again on an
already qualified lead updates the answers without a second task.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crm import timeline
from crm.access import check_change
from crm.choices import ActivityKind, EventType
from crm.models import Activity, User
from crm.public_ids import public_id_of

from .activities import log_activity
from .choices import LeadStatus
from .lifecycle import TransitionError, change_status, check_transition
from .models import Lead

CRITERIA = ("budget", "authority", "need", "timeline")
DISCOVERY_CALL_SUBJECT = "Schedule discovery call"


class Outcome:
    QUALIFIED = "qualified"
    DISQUALIFIED = "disqualified"
    KEPT_OPEN = "kept_open"


@dataclass(frozen=True)
class QualificationResult:
    lead: Lead
    outcome: str
    unmet: list[str]
    qualification: dict
    task: Activity | None = None


def next_working_day_at(now: dt.datetime, *, hour: int | None = None, tz: str | None = None) -> dt.datetime:
    """The next Monday-to-Friday after `now` (in the discovery-call time zone), at the given hour."""
    default_zone: str = getattr(settings, "DISCOVERY_CALL_TIME_ZONE", "UTC")
    zone = ZoneInfo(tz or default_zone)
    hour = getattr(settings, "DISCOVERY_CALL_HOUR", 9) if hour is None else hour
    day = now.astimezone(zone).date() + dt.timedelta(days=1)
    while day.weekday() >= 5:  # Saturday, Sunday
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=zone)


def unmet_criteria(answers: Mapping[str, Mapping]) -> list[str]:
    """The BANT criteria not met, in BANT order."""
    missing = [name for name in CRITERIA if name not in answers]
    if missing:
        raise ValueError(f"Answer every BANT criterion; missing: {', '.join(missing)}.")
    return [name for name in CRITERIA if not answers[name].get("met")]


def qualify_lead(
    *,
    lead: Lead,
    answers: Mapping[str, Mapping],
    actor: User | None,
    notes: str = "",
    keep_open: bool = False,
    now: dt.datetime | None = None,
) -> QualificationResult:
    """Record BANT answers and qualify, disqualify or (keep_open) keep the lead open accordingly.

    `answers` maps each criterion to {"met": bool, "detail": str}. Raises TransitionError (the
    message says why) when the lead is closed or the strict pipeline forbids qualifying it yet.
    """
    unmet = unmet_criteria(answers)
    now = now or timezone.now()
    notes = notes.strip()
    with transaction.atomic():
        lead = Lead.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=lead.pk)
        check_change(actor, lead)
        if not lead.is_open:
            raise TransitionError(f"Lead {lead.public_id} is {lead.status}; only open leads are qualified.")
        if unmet:
            outcome = Outcome.KEPT_OPEN if keep_open else Outcome.DISQUALIFIED
        else:
            outcome = Outcome.QUALIFIED
            check_transition(lead, LeadStatus.QUALIFIED)  # before anything is written
        qualification = {
            "answers": {
                name: {"met": bool(answers[name].get("met")), "detail": (answers[name].get("detail") or "").strip()}
                for name in CRITERIA
            },
            "notes": notes,
            "unmet": unmet,
            "outcome": outcome,
            "answered_by": public_id_of(actor),
            "answered_by_name": str(actor) if actor else "",
            "answered_at": now.isoformat(),
        }
        lead.qualification = qualification
        lead.save(update_fields=["qualification", "updated_at"])
        timeline.event(
            tenant=lead.tenant_id,
            type=EventType.LEAD_UPDATED,
            payload={
                "lead_id": str(lead.public_id), "email": lead.email, "source": lead.source, "fields": ["qualification"],
                "actor_id": public_id_of(actor),
                "outcome": outcome, "unmet": unmet,
            },
            created_at=now,
        ).save()
        summary = _summary(qualification)
        task = None
        if outcome == Outcome.QUALIFIED:
            was_qualified = lead.status == LeadStatus.QUALIFIED
            lead = change_status(lead=lead, status=LeadStatus.QUALIFIED, actor=actor, notes=summary)
            if not was_qualified:
                task = _discovery_call_task(lead=lead, actor=actor, now=now)
        elif outcome == Outcome.DISQUALIFIED:
            lead = change_status(
                lead=lead, status=LeadStatus.DISQUALIFIED, actor=actor, notes=summary,
                reason=f"BANT not met: {', '.join(unmet)}",
            )
        else:
            log_activity(
                tenant=lead.tenant,
                kind=ActivityKind.NOTE,
                actor=actor,
                lead=lead,
                subject=f"BANT not met: {', '.join(unmet)} (kept open)",
                body=summary,
                occurred_at=now,
                data={"qualification": outcome, "unmet": unmet},
            )
        lead.refresh_from_db()
        return QualificationResult(lead=lead, outcome=outcome, unmet=unmet, qualification=qualification, task=task)


def _discovery_call_task(*, lead: Lead, actor: User | None, now: dt.datetime) -> Activity:
    assignee = lead.owner or actor
    return log_activity(
        tenant=lead.tenant,
        kind=ActivityKind.TASK,
        actor=assignee,
        lead=lead,
        subject=DISCOVERY_CALL_SUBJECT,
        body=f"{lead} met all BANT criteria. Book a discovery call.",
        occurred_at=now,
        due_at=next_working_day_at(now),
        data={
            "assignee_id": public_id_of(assignee),  # the API shows an entry's data: people by public id
            "created_by_id": public_id_of(actor),
            "reason": "qualified (BANT met)",
        },
    )


def _summary(qualification: dict) -> str:
    lines = []
    for name in CRITERIA:
        answer = qualification["answers"][name]
        line = f"{name.capitalize()}: {'met' if answer['met'] else 'not met'}"
        lines.append(f"{line} ({answer['detail']})" if answer["detail"] else line)
    if qualification["notes"]:
        lines.append(f"Notes: {qualification['notes']}")
    return "\n".join(lines)
