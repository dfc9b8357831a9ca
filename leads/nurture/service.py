"""Nurture state changes: one keyword-only entry point each, in a transaction, with its timeline entry and event.

enrol_lead, pause_nurture, resume_nurture, exit_nurture, unsubscribe_lead (the one-click link),
record_email_open / record_email_click (the tracked links), record_bounce (the mail provider's bounce report). The scheduler (scheduler.py) runs the steps.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crm import timeline
from crm.access import check_change
from crm.choices import ActivityKind, ConsentSource, EventType
from crm.models import Tenant, User
from crm.public_ids import parse_public_id, public_id_of
from leads.insights import refresh_insights
from leads.locks import lock_lead
from leads.models import Enrolment, Lead, NurturePolicy, Sequence, StepRun
from leads.nurture_models import ExitReason, NurtureStatus, StepKind, StepOutcome
from leads.privacy.consent import consent_set

from . import links

ENROLLED_STATES = (NurtureStatus.ACTIVE, NurtureStatus.PAUSED)


class NurtureError(ValidationError):
    """The change cannot be made; raised as a ValidationError naming the field, so doors answer 400."""

    def __init__(self, field: str, message: str):
        super().__init__({field: [message]})


def policy_for(tenant: Tenant | int) -> NurturePolicy:
    """The workspace's nurture policy (its defaults, unsaved, until someone saves one)."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    policy = NurturePolicy.objects.filter(tenant_id=tenant_id).first()
    return policy or NurturePolicy(tenant_id=tenant_id)


def _record(*, lead: Lead, actor: User | None, subject: str, data: dict, now: dt.datetime) -> None:
    """The change's timeline entry (a note by the system) and its LeadUpdated event."""
    timeline.activity(
        tenant=lead.tenant_id, lead=lead, kind=ActivityKind.NOTE, subject=subject, actor=actor, occurred_at=now,
        data={"nurture": data},
    ).save()
    timeline.event(
        tenant=lead.tenant_id, type=EventType.LEAD_UPDATED, created_at=now,
        payload={"lead_id": str(lead.public_id), "email": lead.email, "source": lead.source,
                 "fields": ["nurture_status"], "nurture_status": lead.nurture_status,
                 "sequence_id": public_id_of(lead.current_sequence) if lead.current_sequence_id else None,
                 "actor_id": public_id_of(actor), **{k: v for k, v in data.items() if k == "reason"}},
    ).save()


def _open_enrolment(lead: Lead) -> Enrolment | None:
    return Enrolment.objects.filter(lead=lead, ended_at__isnull=True).select_related("sequence").first()


def enrol_lead(*, lead: Lead, sequence: Sequence, actor: User | None, held: bool = False,
               now: dt.datetime | None = None, rule: str = "") -> Lead:
    """Put an open lead into an active sequence of its workspace; its first step is due at once.

    A lead in another sequence leaves it (reason: removed) first; one already in this sequence stays as it is.
    `held`: the caller's transaction already locked the lead (routing, the scheduler).
    `rule`: the name of the workspace's enrolment rule that chose the sequence (named on the timeline).
    """
    now = now or timezone.now()
    if sequence.tenant_id != lead.tenant_id:
        raise NurtureError("sequence", "No such sequence in this workspace.")
    if not sequence.active:
        raise NurtureError("sequence", f"The sequence {sequence.name!r} is switched off.")
    with transaction.atomic(savepoint=not held):
        if not held:
            lead = lock_lead(lead.pk)
        check_change(actor, lead)
        if not lead.is_open:
            raise NurtureError("lead", f"Lead {lead.public_id} is {lead.status}; only open leads are nurtured.")
        current = _open_enrolment(lead)
        if current is not None and current.sequence_id == sequence.pk:
            return lead
        if current is not None:
            _end(lead=lead, enrolment=current, status=NurtureStatus.EXITED, reason=ExitReason.REMOVED, actor=actor,
                 now=now)
        Enrolment.objects.create(tenant_id=lead.tenant_id, lead=lead, sequence=sequence, enrolled_by=actor,
                                 started_at=now)
        lead.nurture_status = NurtureStatus.ACTIVE
        lead.current_sequence = sequence
        lead.next_nurture_step_on = now
        lead.save(update_fields=["nurture_status", "current_sequence", "next_nurture_step_on", "updated_at"])
        _record(lead=lead, actor=actor,
                subject=f"Enrolled in nurture sequence {sequence.name}" + (f" (rule: {rule})" if rule else ""),
                data={"action": "enrolled", "sequence": str(sequence.public_id), **({"rule": rule} if rule else {})},
                now=now)
    return lead


def pause_nurture(*, lead: Lead, actor: User | None) -> Lead:
    """Hold an active lead where it is: no step runs until it is resumed."""
    return _switch(lead=lead, actor=actor, from_=NurtureStatus.ACTIVE, to=NurtureStatus.PAUSED,
                   refusal="Only an active enrolment is paused", subject="Nurture paused", action="paused")


def resume_nurture(*, lead: Lead, actor: User | None) -> Lead:
    """Go on with a paused lead: a step that fell due while it was paused runs at the next scheduler pass."""
    return _switch(lead=lead, actor=actor, from_=NurtureStatus.PAUSED, to=NurtureStatus.ACTIVE,
                   refusal="Only a paused enrolment is resumed", subject="Nurture resumed", action="resumed")


def _switch(*, lead: Lead, actor: User | None, from_: str, to: str, refusal: str, subject: str, action: str) -> Lead:
    """Pause or resume: the lead and its open enrolment move from `from_` to `to`, on the timeline."""
    with transaction.atomic():
        lead = lock_lead(lead.pk)
        check_change(actor, lead)
        if lead.nurture_status != from_:
            raise NurtureError("nurture_status", f"{refusal}; this one is {lead.nurture_status}.")
        lead.nurture_status = to
        lead.save(update_fields=["nurture_status", "updated_at"])
        Enrolment.objects.filter(lead=lead, ended_at__isnull=True).update(outcome=to)
        _record(lead=lead, actor=actor, subject=subject, data={"action": action}, now=timezone.now())
    return lead


def exit_nurture(*, lead: Lead, reason: str, actor: User | None, held: bool = False,
                 now: dt.datetime | None = None) -> Lead:
    """Take the lead out of its sequence for `reason` (ExitReason); a lead in none is left as it is."""
    if reason not in ExitReason.values:
        raise NurtureError("reason", f"One of: {', '.join(ExitReason.values)}.")
    now = now or timezone.now()
    with transaction.atomic(savepoint=not held):
        if not held:
            lead = lock_lead(lead.pk)
        check_change(actor, lead)
        enrolment = _open_enrolment(lead)
        if enrolment is None:
            return lead
        _end(lead=lead, enrolment=enrolment, status=NurtureStatus.EXITED, reason=reason, actor=actor, now=now)
    return lead


def complete_nurture(*, lead: Lead, enrolment: Enrolment, now: dt.datetime) -> None:
    """The scheduler ran the sequence's last step (the lead's row is locked by the caller)."""
    _end(lead=lead, enrolment=enrolment, status=NurtureStatus.COMPLETED, reason="", actor=None, now=now)


def _end(*, lead: Lead, enrolment: Enrolment, status: str, reason: str, actor: User | None, now: dt.datetime) -> None:
    enrolment.ended_at = now
    enrolment.outcome = status
    enrolment.exit_reason = reason
    enrolment.save(update_fields=["ended_at", "outcome", "exit_reason"])
    lead.nurture_status = status
    lead.next_nurture_step_on = None
    lead.save(update_fields=["nurture_status", "next_nurture_step_on", "updated_at"])
    name = enrolment.sequence.name
    subject = (f"Completed nurture sequence {name}" if status == NurtureStatus.COMPLETED
               else f"Left nurture sequence {name}: {ExitReason(reason).label}")
    _record(lead=lead, actor=actor, subject=subject,
            data={"action": status, "sequence": str(enrolment.sequence.public_id), "reason": reason}, now=now)


def _lead_of_link(public_id: str) -> Lead | None:
    uuid = parse_public_id(public_id)
    return Lead.objects.filter(public_id=uuid).select_related("tenant").first() if uuid else None


def unsubscribe_lead(*, token: str) -> Lead | None:
    """The one-click unsubscribe (RFC 8058): no more nurture email, and the lead leaves its sequence.

    Returns the lead, or None when the token is not ours. Unsubscribing twice changes nothing.
    """
    link = links.read_token(links.UNSUBSCRIBE_SALT, token)
    found = _lead_of_link(link.lead_id) if link else None
    if found is None:
        return None
    with transaction.atomic():
        lead = lock_lead(found.pk)
        if lead.unsubscribed_at is not None:
            return lead
        now = timezone.now()
        lead.unsubscribed_at = now
        lead.save(update_fields=["unsubscribed_at", "updated_at"])
        # An unsubscribe withdraws marketing consent too (docs/privacy.md), recorded the one way consent is.
        consent_set(person=lead, given=False, source=ConsentSource.UNSUBSCRIBE)
        timeline.activity(tenant=lead.tenant_id, lead=lead, kind=ActivityKind.NOTE, occurred_at=now,
                          subject="Unsubscribed from nurture email", data={"nurture": {"action": "unsubscribed"}}).save()
        enrolment = _open_enrolment(lead)
        if enrolment is not None:
            _end(lead=lead, enrolment=enrolment, status=NurtureStatus.EXITED, reason=ExitReason.UNSUBSCRIBED,
                 actor=None, now=now)
    return lead


def _record_tracking(*, salt: str, token: str, kind: str) -> tuple[Lead, str] | None:
    link = links.read_token(salt, token)
    lead = _lead_of_link(link.lead_id) if link else None
    if link is None or lead is None:
        return None
    now = timezone.now()
    data = {"nurture_run": link.run_id, **({"url": link.url} if link.url else {})}
    with transaction.atomic():
        timeline.activity(tenant=lead.tenant_id, lead=lead, kind=kind, occurred_at=now, data=data,
                          subject=("Opened a nurture email" if kind == ActivityKind.EMAIL_OPENED
                                   else f"Clicked {link.url}"[:200])).save()
        Lead.objects.filter(Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=now), pk=lead.pk).update(
            last_activity_at=now)
        refresh_insights(lead=lead)  # behavioural scoring counts opens and clicks
    return lead, link.url


def record_email_open(*, token: str) -> bool:
    """The open pixel was loaded: an email_opened activity (which behavioural scoring counts). False: not our link."""
    return _record_tracking(salt=links.OPEN_SALT, token=token, kind=ActivityKind.EMAIL_OPENED) is not None


def record_email_click(*, token: str) -> str | None:
    """A tracked link was followed: an email_clicked activity; returns where to redirect (None: not our link)."""
    found = _record_tracking(salt=links.CLICK_SALT, token=token, kind=ActivityKind.EMAIL_CLICKED)
    return found[1] if found else None


def _bounced_runs(*, run_id: int | None, lead_id: str | None, recipient: str):
    """The nurture email runs a bounce report is about: the run it names (with its lead, both must agree), or
    without them, the sent nurture email of leads with that address that are in a sequence now."""
    runs = StepRun.objects.filter(step__kind=StepKind.EMAIL, outcome__in=(StepOutcome.SENT, StepOutcome.FAILED))
    uuid = parse_public_id(lead_id) if lead_id else None
    if run_id is not None and uuid is not None:
        return runs.filter(pk=run_id, lead__public_id=uuid)
    if recipient:
        return runs.filter(lead__email__iexact=recipient, lead__nurture_status__in=ENROLLED_STATES,
                           enrolment__ended_at__isnull=True)
    return runs.none()


def record_bounce(*, run_id: int | None, lead_id: str | None, recipient: str = "", detail: str = "") -> int:
    """A nurture email bounced or the provider rejected it: its run is `failed` and the lead leaves its sequence
    (reason `bounced`). Returns how many leads it changed; a repeated report changes nothing."""
    changed = 0
    pairs = sorted(set(_bounced_runs(run_id=run_id, lead_id=lead_id, recipient=recipient.strip())
                       .values_list("lead_id", "pk")))
    for pk in sorted({lead_pk for lead_pk, _ in pairs}):
        with transaction.atomic():
            lead = lock_lead(pk)
            now = timezone.now()
            note = f"Bounced: {detail}"[:500] if detail else "Bounced."
            marked = StepRun.objects.filter(pk__in=[run for lead_pk, run in pairs if lead_pk == pk]) \
                .exclude(outcome=StepOutcome.FAILED, detail=note).update(outcome=StepOutcome.FAILED, detail=note)
            enrolment = _open_enrolment(lead)
            if not marked and enrolment is None:
                continue
            # Remembered against the address it was sent to, unless the lead's address changed since.
            sent_to = recipient.strip() or lead.email
            if lead.email_bounced_at is None and lead.email and sent_to.lower() == lead.email.lower():
                lead.email_bounced_at = now
                lead.save(update_fields=["email_bounced_at", "updated_at"])
            timeline.activity(tenant=lead.tenant_id, lead=lead, kind=ActivityKind.NOTE, occurred_at=now,
                              subject="A nurture email bounced", body=detail[:2000],
                              data={"nurture": {"action": "bounced", "recipient": recipient}}).save()
            if enrolment is not None:
                _end(lead=lead, enrolment=enrolment, status=NurtureStatus.EXITED, reason=ExitReason.BOUNCED,
                     actor=None, now=now)
            changed += 1
    return changed
