"""The nurture scheduler: runs due steps, each exactly once per enrolment, and takes leads out that should leave.

`run_due_steps` takes active leads whose `next_nurture_step_on` has passed, a batch per transaction,
locked FOR UPDATE SKIP LOCKED on PostgreSQL (two schedulers share the work, neither waits on the
other); SQLite's IMMEDIATE transactions serialise them. For each lead it runs steps from the
enrolment's position until a wait (which sets the next due time from now) or the end (completed).
Every run is written as a StepRun row whose unique (lead, step, enrolment) is inserted in the same
transaction as the step's effects and the lead's new position: a step runs once, however many
schedulers look (a duplicate row fails the whole batch, which rolls back before any email is sent),
and a scheduler that dies mid-batch rolls back and leaves the batch due.

Email goes out after the batch commits (its StepRun says `sent`; a send that fails turns it into
`failed`): a crash between commit and send loses the email rather than sending it twice. After
downtime the overdue leads are simply due: each runs its pending step once, and the waits after it
count from then, so a backlog is never sent twice nor all of a sequence at once.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.core import mail as django_mail
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from crm import timeline
from crm.choices import ActivityKind, EventType
from crm.models import Activity
from leads.choices import OPEN_STATUSES, LeadStatus, ScoreBand
from leads.lifecycle import TransitionError, change_status
from leads.locks import lock_lead
from leads.models import Enrolment, Lead, NurturePolicy, SequenceStep, StepRun
from leads.nurture_models import ExitReason, NurtureStatus, StepKind, StepOutcome, render_template
from leads.routing.service import route_lead

from .consent import may_email
from .mail import build_email
from .service import complete_nurture, exit_nurture, policy_for

log = logging.getLogger(__name__)
REPLY_KINDS = (ActivityKind.CALL, ActivityKind.MEETING, ActivityKind.EMAIL)


def wait_until(start: dt.datetime, settings: dict) -> dt.datetime:
    """When a wait step started at `start` ends; with working_days, days skip Saturdays and Sundays."""
    end = start + dt.timedelta(hours=settings.get("hours", 0), minutes=settings.get("minutes", 0))
    days = settings.get("days", 0)
    if not settings.get("working_days"):
        return end + dt.timedelta(days=days)
    while days:
        end += dt.timedelta(days=1)
        if end.weekday() < 5:
            days -= 1
    while end.weekday() >= 5:
        end += dt.timedelta(days=1)
    return end


def _replied() -> Exists:
    """A call, a meeting or an email that is not our own nurture email, since the lead's open enrolment started."""
    started = Enrolment.objects.filter(lead_id=OuterRef(OuterRef("pk")), ended_at__isnull=True).values("started_at")[:1]
    entries = Activity.objects.filter(lead_id=OuterRef("pk"), kind__in=REPLY_KINDS, occurred_at__gte=Subquery(started))
    return Exists(entries.exclude(data__has_key="nurture_run"))


def _exit_reason(lead: Lead, replied: bool) -> str | None:
    if lead.status == LeadStatus.CONVERTED:
        return ExitReason.CONVERTED
    if lead.status == LeadStatus.DISQUALIFIED:
        return ExitReason.DISQUALIFIED
    if lead.unsubscribed_at is not None:
        return ExitReason.UNSUBSCRIBED
    if replied:
        return ExitReason.REPLIED
    if lead.score_band == ScoreBand.HOT:
        return ExitReason.GREW_HOT
    if lead.status == LeadStatus.QUALIFIED:
        return ExitReason.QUALIFIED
    return None


def _leave(lead: Lead, reason: str, now: dt.datetime) -> None:
    """Exit the (locked) lead; a hot one goes to a rep: routed when nobody owns it, its owner told when someone does."""
    exit_nurture(lead=lead, reason=reason, actor=None, held=True, now=now)
    if reason not in (ExitReason.GREW_HOT, ExitReason.QUALIFIED):
        return
    if lead.owner_id is None:
        route_lead(lead=lead)  # assigns and tells the new owner (leads/assignment.py)
    else:
        _tell(lead, f"{lead} {'grew hot' if reason == ExitReason.GREW_HOT else 'qualified'} and left nurture: "
                    "time to call.", now)


def sweep_exits(*, batch: int = 500, now: dt.datetime | None = None) -> int:
    """Take out of their sequence the enrolled leads that converted, were disqualified, replied,
    unsubscribed or grew hot (a pass of the periodic task); returns how many left."""
    now = now or timezone.now()
    enrolled = Lead.objects.filter(nurture_status__in=(NurtureStatus.ACTIVE, NurtureStatus.PAUSED))
    leaving = enrolled.filter(
        ~Q(status__in=OPEN_STATUSES) | Q(status=LeadStatus.QUALIFIED) | Q(unsubscribed_at__isnull=False)
        | Q(score_band=ScoreBand.HOT) | _replied()
    )
    done = 0
    for pk in list(leaving.values_list("pk", flat=True)[:batch]):
        with transaction.atomic():
            lead = lock_lead(pk)
            if lead.nurture_status not in (NurtureStatus.ACTIVE, NurtureStatus.PAUSED):
                continue
            replied = Lead.objects.filter(pk=pk).filter(_replied()).exists()
            reason = _exit_reason(lead, replied)
            if reason:
                _leave(lead, reason, now)
                done += 1
    return done


def _due(now: dt.datetime, batch: int):
    rows = (Lead.objects.filter(nurture_status=NurtureStatus.ACTIVE, next_nurture_step_on__lte=now,
                                current_sequence__active=True)
            .select_related("tenant", "owner", "current_sequence").order_by("next_nurture_step_on", "id"))
    if connection.vendor == "postgresql":
        rows = rows.select_for_update(skip_locked=True, of=("self",))
    return list(rows[:batch])


def run_due_steps(*, batch: int = 200, now: dt.datetime | None = None, max_batches: int | None = None) -> dict:
    """Run every due step (batch by batch, each batch one transaction); returns counts by outcome and `leads`."""
    counts: dict[str, int] = defaultdict(int)
    batches = 0
    while max_batches is None or batches < max_batches:
        batches += 1
        when = now or timezone.now()
        outbox: list[tuple[int, EmailMessage]] = []
        with transaction.atomic():
            leads = _due(when, batch)
            if not leads:
                break
            _run_batch(leads, when, counts, outbox)
            if outbox:
                transaction.on_commit(functools.partial(_send, outbox, counts), robust=True)
        counts["leads"] += len(leads)
        if len(leads) < batch:
            break
    return dict(counts)


@dataclass
class _Batch:
    """What one transaction's steps write, gathered so most of it goes to the database in a few statements."""

    now: dt.datetime
    counts: dict
    outbox: list
    ran: set[tuple[int, int]] = field(default_factory=set)  # (enrolment, step) already in the log
    activities: list[Activity] = field(default_factory=list)
    positions: list[Enrolment] = field(default_factory=list)
    next_on: list[Lead] = field(default_factory=list)


def _run_batch(leads: list[Lead], now: dt.datetime, counts: dict, outbox: list) -> None:
    ids = [lead.pk for lead in leads]
    enrolments = {e.lead_id: e for e in Enrolment.objects.filter(lead_id__in=ids, ended_at__isnull=True)
                  .select_related("sequence")}
    steps: dict[int, list[SequenceStep]] = defaultdict(list)
    for step in SequenceStep.objects.filter(sequence_id__in={e.sequence_id for e in enrolments.values()}) \
            .order_by("position"):
        steps[step.sequence_id].append(step)
    policies = {p.tenant_id: p for p in NurturePolicy.objects.filter(tenant_id__in={lead.tenant_id for lead in leads})}
    replied = set(Lead.objects.filter(pk__in=ids).filter(_replied()).values_list("pk", flat=True))
    batch = _Batch(now=now, counts=counts, outbox=outbox, ran=set(
        StepRun.objects.filter(enrolment__in=[e.pk for e in enrolments.values()]).values_list("enrolment_id", "step_id")))
    for lead in leads:
        enrolment = enrolments.get(lead.pk)
        if enrolment is None:  # no open enrolment behind an active status: nothing to run
            Lead.objects.filter(pk=lead.pk).update(nurture_status=NurtureStatus.NOT_ENROLLED, next_nurture_step_on=None)
            continue
        reason = _exit_reason(lead, lead.pk in replied)
        if reason:
            _leave(lead, reason, now)
            counts["exited"] += 1
            continue
        policy = policies.get(lead.tenant_id) or policy_for(lead.tenant_id)
        _advance(lead, enrolment, steps[enrolment.sequence_id], policy, batch)
    # The log rows are in already (one INSERT each, checked by their unique constraint); the rest in bulk.
    Activity.objects.bulk_create(batch.activities)
    Enrolment.objects.bulk_update(batch.positions, ["next_position"])
    Lead.objects.bulk_update(batch.next_on, ["next_nurture_step_on"])


def _advance(lead: Lead, enrolment: Enrolment, steps: list[SequenceStep], policy: NurturePolicy,
             batch: _Batch) -> None:
    now, counts = batch.now, batch.counts
    next_on: dt.datetime | None = None
    for step in (step for step in steps if step.position >= enrolment.next_position):
        enrolment.next_position = step.position + 1
        if (enrolment.pk, step.pk) in batch.ran:  # a stale position (the locks should never show one): never again
            counts["already_ran"] += 1
            if step.kind == StepKind.WAIT:  # and its wait still counts from when it ran
                ran_at = StepRun.objects.filter(enrolment=enrolment, step=step).values_list("ran_at", flat=True)[0]
                next_on = wait_until(ran_at, step.settings)
                break
            continue
        _execute(lead, enrolment, step, policy, batch)
        if step.kind == StepKind.WAIT:
            next_on = wait_until(now, step.settings)
            break
    batch.positions.append(enrolment)
    if next_on is None:
        complete_nurture(lead=lead, enrolment=enrolment, now=now)
        counts["completed"] += 1
    else:
        lead.next_nurture_step_on = next_on
        batch.next_on.append(lead)


def _execute(lead: Lead, enrolment: Enrolment, step: SequenceStep, policy: NurturePolicy, batch: _Batch) -> None:
    """Log the step's run (its unique row: a second run of it fails the whole batch, which then rolls back) and
    do what it says. The outcome is known before the INSERT where it can be, so the row is written once."""
    settings, now = step.settings, batch.now
    run = StepRun(tenant_id=lead.tenant_id, enrolment=enrolment, lead=lead, step=step, ran_at=now,
                  outcome=StepOutcome.DONE)
    if step.kind == StepKind.WAIT:
        run.outcome = StepOutcome.WAITED
    elif step.kind == StepKind.EMAIL and not may_email(lead, policy):
        run.outcome, run.detail = StepOutcome.SKIPPED, "No email, the address bounced, unsubscribed, or no marketing consent."
    elif step.kind == StepKind.EMAIL:
        run.outcome = StepOutcome.SENT
    run.save(force_insert=True)
    outcome, detail = run.outcome, run.detail
    if step.kind == StepKind.EMAIL and outcome == StepOutcome.SENT:
        message = build_email(lead=lead, step=step, policy=policy, run_id=run.pk)
        batch.outbox.append((run.pk, message))
        batch.activities.append(timeline.activity(
            tenant=lead.tenant_id, lead=lead, kind=ActivityKind.EMAIL, occurred_at=now, subject=message.subject,
            body=message.body[:2000], data={"nurture_run": run.pk, "direction": "outbound"}))
    elif step.kind == StepKind.TASK:
        batch.activities.append(timeline.activity(
            tenant=lead.tenant_id, lead=lead, kind=ActivityKind.TASK, occurred_at=now, subject=settings["subject"],
            actor=lead.owner, due_at=now + dt.timedelta(days=settings.get("due_in_days", 0)),
            data={"nurture_run": run.pk}))
    elif step.kind == StepKind.NOTIFY:
        context = {"lead": {"name": str(lead)}}
        if not _tell(lead, render_template(settings["message"], context), now):
            outcome, detail = StepOutcome.SKIPPED, "The lead has no owner with an email."
    elif step.kind == StepKind.SET_FIELD:
        outcome, detail = _set_field(lead, settings["field"], settings["value"], now)
    if (outcome, detail) != (run.outcome, run.detail):
        run.outcome, run.detail = outcome, detail
        run.save(update_fields=["outcome", "detail"])
    batch.counts[outcome] += 1


def _set_field(lead: Lead, field: str, value: str, now: dt.datetime) -> tuple[str, str]:
    if field == "status":
        try:
            change_status(lead=lead, status=value, actor=None, notes="Set by a nurture sequence.")
        except TransitionError as exc:
            return StepOutcome.SKIPPED, str(exc)[:500]
        return StepOutcome.DONE, ""
    Lead.objects.filter(pk=lead.pk).update(**{field: value}, updated_at=now)
    timeline.event(tenant=lead.tenant_id, type=EventType.LEAD_UPDATED, created_at=now,
                   payload={"lead_id": str(lead.public_id), "email": lead.email, "source": lead.source,
                            "fields": [field], "actor_id": None}).save()
    return StepOutcome.DONE, ""


def _tell(lead: Lead, message: str, now: dt.datetime) -> bool:
    """Email the lead's owner after the commit; False when it has no owner with an email."""
    owner = lead.owner
    if owner is None or not owner.email:
        return False
    subject = f"Lead {lead}: {message}"[:200]
    timeline.activity(tenant=lead.tenant_id, lead=lead, kind=ActivityKind.NOTE, occurred_at=now,
                      subject=subject, data={"nurture": {"action": "notified", "to": str(owner.public_id)}}).save()
    transaction.on_commit(lambda: django_mail.send_mail(subject, message, None, [owner.email], fail_silently=True),
                          robust=True)
    return True


def _send(outbox: list[tuple[int, EmailMessage]], counts: dict) -> None:
    """Send the committed batch's email over one connection; a failed one marks its StepRun failed."""
    failed: list[int] = []
    with django_mail.get_connection() as mailer:
        for run_id, message in outbox:
            message.connection = mailer
            try:
                message.send()
            except Exception as exc:
                log.warning("Nurture email of step run %s failed: %s", run_id, exc)
                failed.append(run_id)
    if failed:
        StepRun.objects.filter(pk__in=failed).update(outcome=StepOutcome.FAILED, detail="The mail server refused it.")
        counts["failed"] += len(failed)
