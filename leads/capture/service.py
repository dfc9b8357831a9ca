"""Taking a lead in: one entry point for every door (API, website form, later ads and import).

The caller hands over data that is already validated and normalised (email lowercased,
phone in E.164, names split); this module decides whether it is a new lead, more news
about an open lead, or a known contact, and writes the timeline and outbox rows.

A chat lead (source `chat`, document 001) starts `contacted`: the person is talking to us already.
Every new lead without an owner is routed (leads/routing) before its INSERT, chat leads included, so
one lands with an available rep at once.

Final leads are never reopened. A converted person's email belongs to their contact, so the
submission is logged there. A returning disqualified person gets a fresh lead (a reason such as
"no budget" holds for that time, not forever), and nothing is written on the old lead, whose
status and reason stay as the rep left them.

Concurrent submissions of one email queue on the email's claim (leads/locks.py, taken before
routing locks a rep), so they make one lead with every submission on its timeline.

A signed-in caller (`actor`) folds a submission only into a lead or contact they may change
(crm.access): otherwise AccessDenied, and nothing is written. The refusal names neither the row nor
its owner. Anonymous forms have no actor and fold into anyone, answering the same receipt either way.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from contacts.models import Contact
from crm import timeline
from crm.access import AccessDenied, can_change
from crm.choices import ActivityKind, ConsentSource, EventType
from crm.models import Activity, Event, Tenant, User
from crm.public_ids import parse_public_id
from leads.campaigns import campaign_seen
from leads.choices import OPEN_STATUSES, CampaignPlatform, LeadSource, LeadStatus
from leads.privacy.consent import apply_capture_consent
from leads.enrichment.service import enrich_soon
from leads.insights import refresh_insights
from leads.intake import FILLABLE_FIELDS, empty_fields_filled, submitted_values, values_differing
from leads.locks import claim_email, lock_open_lead
from leads.models import Campaign, Channel, Lead
from leads.prediction.service import predict_new_lead
from leads.nurture.policy import nurture_at_capture
from leads.routing.service import place_new_lead
from leads.rules.scoring import auto_qualify, score_new_lead, will_auto_qualify


@dataclass(frozen=True)
class CaptureResult:
    lead: Lead | None
    created: bool
    contact: Contact | None = None


def capture_lead(
    *,
    tenant: Tenant,
    data: dict,
    source: str,
    channel: Channel | None = None,
    actor: User | None = None,
    submission_id: uuid.UUID | None = None,
    campaign: Campaign | None = None,
    is_test: bool = False,
) -> CaptureResult:
    """Create a lead, or fold the submission into the open lead / contact with the same email.

    `submission_id`: the public id the submission's timeline entry gets (the door may have promised it
    to the sender already: an anonymous form's receipt names it); `find_submission` resolves it.

    `tenant` is the row this request read: its config_version says which cached scoring and
    routing rules apply (leads/rules/config.py), so a row kept from long ago would score with
    the rules of its day.

    `campaign`: the ad campaign the lead came from (leads/integrations/); without it, a `campaign` the
    data names links the lead to that named campaign. `is_test`: a platform's test lead.
    """
    email = data.get("email", "")
    data = dict(data)
    consent = data.pop("marketing_consent", None)
    wording = data.pop("consent_wording", "") or (channel.consent_version if channel is not None else "")
    consent_source = ConsentSource.API if actor is not None and actor.is_authenticated else ConsentSource.FORM

    def with_consent(result: CaptureResult) -> CaptureResult:
        apply_capture_consent(lead=result.lead, contact=result.contact, email=email, given=consent,
                              source=consent_source, wording=wording, actor=actor)
        return result

    if campaign is None and data.get("campaign"):
        campaign = campaign_seen(tenant_id=tenant.pk, platform=CampaignPlatform.OTHER, name=data["campaign"])
    extra = {"source_campaign": campaign, "is_test": is_test}
    try:
        with transaction.atomic():
            # First, before routing locks a rep (leads/locks.py): a concurrent capture of this email
            # waits here holding nothing, then finds the lead this one creates.
            claim_email(tenant_id=tenant.pk, email=email)
            merged = _merge_into_existing(tenant=tenant, email=email, data=data, channel=channel, actor=actor,
                                          submission_id=submission_id, extra=extra)
            if merged is not None:
                return with_consent(merged)
            return with_consent(_create(tenant=tenant, data=data, source=source, channel=channel, actor=actor,
                                        submission_id=submission_id, extra=extra))
    except IntegrityError:
        if not email:
            raise
        # A writer that does not claim emails (an import) committed an open lead with this email after
        # we looked: add to it instead.
        with transaction.atomic():
            claim_email(tenant_id=tenant.pk, email=email)
            merged = _merge_into_existing(tenant=tenant, email=email, data=data, channel=channel, actor=actor,
                                          submission_id=submission_id, extra=extra)
            if merged is None:
                raise
            return with_consent(merged)


def _merge_into_existing(
    *, tenant: Tenant, email: str, data: dict, channel: Channel | None, actor: User | None,
    submission_id: uuid.UUID | None = None, extra: dict | None = None,
) -> CaptureResult | None:
    if not email:
        return None
    now = timezone.now()
    known = _who_has(tenant=tenant, email=email)
    lead = None
    if "lead" in known:
        lead = lock_open_lead(known["lead"])
        if lead is None:  # converted or disqualified since we looked: look again (it may be a contact now)
            known = _who_has(tenant=tenant, email=email)
            known.pop("lead", None)
    if lead is not None:
        _refuse_unless_changeable(actor, lead)
        changes = empty_fields_filled(current=lambda name: getattr(lead, name), incoming=data,
                                      edited=lead.edited_fields)
        for name, value in changes.items():
            setattr(lead, name, value)
        filled = list(changes)
        linked = []
        if extra and extra.get("source_campaign") is not None and lead.source_campaign_id is None:
            lead.source_campaign = extra["source_campaign"]  # the first campaign that brought the person
            linked = ["source_campaign"]
        lead.last_activity_at = now
        lead.save(update_fields=[*filled, *linked, "last_activity_at", "updated_at"])
        # What the lead kept instead (its own value, or a person's edit) is offered on its timeline.
        differs = values_differing(current=lambda name: getattr(lead, name), incoming=data)
        _log_submission(tenant=tenant, lead=lead, data=data, channel=channel, actor=actor, filled=filled, now=now,
                        differs=differs, submission_id=submission_id)
        lead = refresh_insights(lead=lead, actor=actor)
        return CaptureResult(lead=lead, created=False)
    if "contact" in known:
        contact = Contact.objects.get(pk=known["contact"])
        _refuse_unless_changeable(actor, contact)
        _log_submission(tenant=tenant, contact=contact, data=data, channel=channel, actor=actor, filled=[], now=now,
                        submission_id=submission_id)
        return CaptureResult(lead=None, created=False, contact=contact)
    return None


def _refuse_unless_changeable(actor: User | None, row: Lead | Contact) -> None:
    if actor is not None and not can_change(actor, row):
        # Says no more than that the person is someone else's: not who, nor which lead or contact.
        raise AccessDenied(
            "This email belongs to a lead or contact of a colleague; the submission was not recorded. "
            "Ask its owner or a manager to add it."
        )


def _who_has(*, tenant: Tenant, email: str) -> dict[str, int]:
    """{"lead": id of the open lead, "contact": id of the contact} with this email, in one query.

    Most submissions come from new people, so the common answer, nobody, costs one round trip
    (plain SQL: building the ORM's UNION cost more than running it). Each side has at most one row
    (the open-email and contact-email constraints).
    """
    statuses = ", ".join(["%s"] * len(OPEN_STATUSES))
    sql = (
        f"SELECT 'lead', id FROM {Lead._meta.db_table} WHERE tenant_id = %s AND email = %s AND status IN ({statuses}) "
        f"UNION ALL SELECT 'contact', id FROM {Contact._meta.db_table} WHERE tenant_id = %s AND email = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [tenant.pk, email, *OPEN_STATUSES, tenant.pk, email])
        return dict(cursor.fetchall())


def _create(
    *, tenant: Tenant, data: dict, source: str, channel: Channel | None, actor: User | None,
    submission_id: uuid.UUID | None = None, extra: dict | None = None,
) -> CaptureResult:
    now = timezone.now()
    owner_id = channel.default_owner_id if channel is not None else None
    fields = {name: value for name, value in data.items() if name in FILLABLE_FIELDS or name in ("email", "custom_fields")}
    lead = Lead(
        tenant=tenant,
        source=source,
        status=_first_status(source),
        channel=channel,
        owner_id=owner_id,
        assigned_at=now if owner_id else None,
        last_activity_at=now,
        created_at=now,
        **fields,
        **(extra or {}),
    )
    # Scored, predicted and routed before the INSERT, so the new row is written once: its only
    # activity is this submission, counted here rather than read back (what refresh_insights does
    # for an existing lead).
    kind = _submission_kind(channel=channel, lead_created=True)
    counts = {kind: 1}
    score_new_lead(lead=lead, activity_counts=counts)
    predict_new_lead(lead=lead, activity_counts=counts)
    placement = None
    # The workspace's enrolment rules and routing policy may nurture the lead, instead of a rep (leads/nurture/policy.py).
    nurture = nurture_at_capture(lead, owned=owner_id is not None)
    if owner_id is None and (nurture is None or not nurture.instead_of_rep):
        # Routing sees the lead as it will be once auto-qualified (with that status change logged).
        qualifies = will_auto_qualify(lead)
        placement = place_new_lead(
            lead=lead, now=now,
            status=LeadStatus.QUALIFIED if qualifies else lead.status,
            activity_counts={**counts, ActivityKind.STATUS_CHANGED: 1} if qualifies else counts,
        )
    lead.save(force_insert=True)
    activities = [_submission_entry(
        tenant=tenant, lead=lead, data=data, channel=channel, actor=actor, filled=[], now=now, kind=kind,
        submission_id=submission_id, created_lead=True,
    )]
    events = [timeline.event(**created_event(
        tenant=tenant, lead_id=str(lead.public_id), source=source, channel_id=channel.pk if channel else None, now=now,
        email=lead.email, status=lead.status,
    ))]
    if placement is not None:
        more_activities, more_events = placement.records(lead, now)
        activities += more_activities
        events += more_events
    Activity.objects.bulk_create(activities)
    Event.objects.bulk_create(events)
    if placement is not None:
        placement.settle(lead)
    lead = auto_qualify(lead=lead)
    if nurture is not None:
        lead = nurture.enrol(lead=lead, now=now)
    enrich_soon(lead=lead)  # the background engine asks the provider once this commits (leads/enrichment/)
    return CaptureResult(lead=lead, created=True)


def _first_status(source: str) -> str:
    # Document 001: someone in a live chat is already talking to us, so a chat lead starts contacted (and,
    # like every new lead without an owner, is routed to an available rep in this same transaction).
    return LeadStatus.CONTACTED if source == LeadSource.CHAT else LeadStatus.NEW


def created_event(*, tenant: Tenant | int, lead_id: str, source: str, channel_id: int | None, now, **more) -> dict:
    """Arguments of crm.timeline.event for a new lead's LeadCreated (`lead_id`: its public id; `more`: e.g. the
    import job)."""
    return {
        "tenant": tenant,
        "type": EventType.LEAD_CREATED,
        "payload": {"lead_id": lead_id, "source": source, "channel_id": channel_id, **more},
        "created_at": now,
    }


def _submission_kind(*, channel: Channel | None, lead_created: bool) -> str:
    # A lead an integrator or rep entered was "created"; anything that arrived through a form,
    # or repeats an earlier submission, is a form submission (which scoring counts).
    return ActivityKind.CREATED if (lead_created and channel is None) else ActivityKind.FORM_SUBMITTED


def _log_submission(
    *, tenant: Tenant, data: dict, channel: Channel | None, actor: User | None, filled: list[str], now,
    lead: Lead | None = None, contact: Contact | None = None, differs: dict | None = None,
    submission_id: uuid.UUID | None = None,
) -> None:
    """A later submission, on the open lead or the contact it matched."""
    _submission_entry(
        tenant=tenant, data=data, channel=channel, actor=actor, filled=filled, now=now, lead=lead, contact=contact,
        kind=_submission_kind(channel=channel, lead_created=False), differs=differs, submission_id=submission_id,
    ).save()


def _submission_entry(
    *,
    tenant: Tenant,
    data: dict,
    channel: Channel | None,
    actor: User | None,
    filled: list[str],
    now,
    kind: str,
    lead: Lead | None = None,
    contact: Contact | None = None,
    differs: dict | None = None,
    submission_id: uuid.UUID | None = None,
    created_lead: bool = False,
) -> Activity:
    """The submission's timeline entry. Its data keeps what was submitted (leads.intake.submitted_values),
    what it filled, and `differs`: {field: submitted value} for what the lead kept instead (offered as
    "Use this value" on the lead's page); `created_lead` marks the submission that made the lead (document
    002 shows it as the lead's `created` activity)."""
    entry = timeline.activity(
        tenant=tenant,
        lead=lead,
        contact=contact,
        kind=kind,
        subject=f"Submitted {channel.name}" if channel is not None else "Lead received via API",
        body=data.get("message", ""),
        actor=actor,
        occurred_at=now,
        data={
            "channel_id": channel.pk if channel else None, "filled": filled, "submitted": submitted_values(data),
            "differs": differs or {},
            **({"created_lead": True} if created_lead else {}),
        },
    )
    if submission_id is not None:
        entry.public_id = submission_id
    return entry


# The timeline entries a submission writes: its public id is the submission's id (a form's receipt names it).
SUBMISSION_KINDS = (ActivityKind.FORM_SUBMITTED, ActivityKind.CREATED)


@dataclass(frozen=True)
class Submission:
    lead_id: int | None
    contact_id: str | None  # the contact's public id: the API's name for it


def find_submission(*, tenant: Tenant | int, submission_id: object) -> Submission | None:
    """Where the workspace's submission with this public id landed (its lead, or the contact it matched); None
    when the id is no submission of this workspace (another workspace's is none of ours, as a spam-trapped one)."""
    public_id = parse_public_id(submission_id)
    if public_id is None:
        return None
    tenant_id = tenant.pk if isinstance(tenant, Tenant) else tenant
    row = (
        Activity.objects.filter(tenant_id=tenant_id, public_id=public_id, kind__in=SUBMISSION_KINDS)
        .values("lead_id", "contact__public_id")
        .first()
    )
    if row is None:
        return None
    contact = row["contact__public_id"]
    return Submission(lead_id=row["lead_id"], contact_id=str(contact) if contact else None)
