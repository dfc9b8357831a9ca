"""`privacy_erase`: remove or anonymise a person everywhere in a workspace (GDPR article 17).

Their leads and contacts keep their non-personal columns (status, source, dates, score, company
name and size, deal amounts), so counts, the funnel and conversion rates do not change; every
column that describes the person is cleared. Timeline entries keep their kind and date and lose
their text. Everywhere else (outbox payloads waiting or kept for retries, webhook delivery errors,
import error reports, idempotency answers, the admin's change history, any other workspace table)
the person's email, phone numbers and names are replaced by "[erased]". A PrivacyRequest row
records the erasure without the personal data, and a hashed suppression entry keeps an old list
imported later from bringing the person back (docs/privacy.md).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from contacts.models import Contact, Deal
from crm import timeline
from crm.choices import ActivityKind, EventType
from crm.models import Activity, Event, PrivacyRequest, Tenant, User
from crm.privacy_models import PrivacyRequestKind, Suppression, subject_hash

from ..models import Lead
from . import places
from .subject import ERASED, Subject, find_subject, scrub_json, scrub_text

# Lead columns that describe the person; the rest (status, source, score, company, dates) are figures.
LEAD_PERSONAL: dict[str, Any] = {
    "first_name": "", "last_name": "", "phone": "", "job_title": "", "website": "", "message": "",
    "source_url": "", "referrer": "", "external_id": "", "custom_fields": {}, "enrichment_data": {},
    "qualification": {}, "recommendation_reason": "", "marketing_consent": "", "consent_at": None,
    "consent_source": "", "consent_wording": "", "edited_fields": [],
}
CONTACT_PERSONAL: dict[str, Any] = {
    "first_name": "", "last_name": "", "email": "", "phone": "", "job_title": "", "marketing_consent": "",
    "consent_at": None, "consent_source": "", "consent_wording": "",
}


@dataclass
class Erasure:
    counts: dict = field(default_factory=dict)
    found: bool = True  # False: no lead or contact had the email (it is suppressed all the same)

    def add(self, key: str, count: int) -> None:
        if count:
            self.counts[key] = self.counts.get(key, 0) + count


def erased_email(lead: Lead) -> str:
    """A lead needs an email or a phone: an erased one keeps an address that names nobody."""
    return f"erased-{lead.public_id.hex[:16]}@erased.invalid"


def privacy_erase(*, tenant: Tenant, email: str, actor: User | None, door: str) -> Erasure:
    """Erase the person with `email` from `tenant`; raises ValidationError for a malformed email. When no
    lead or contact has the email, nothing is changed but the email is suppressed all the same (a later
    import skips it) and the request is recorded."""
    with transaction.atomic():
        subject = find_subject(tenant=tenant, email=email)
        Suppression.objects.get_or_create(tenant=tenant, email_hash=subject_hash(tenant.pk, subject.email))
        erasure = Erasure(found=subject.found)
        if subject.found:
            erase_own_rows(subject, erasure)
            erase_elsewhere(subject, erasure)
        now = timezone.now()
        PrivacyRequest.objects.create(
            tenant=tenant, kind=PrivacyRequestKind.ERASE, subject_hash=subject_hash(tenant.pk, subject.email),
            requested_by=actor, door=door, counts=erasure.counts,
        )
        if not subject.found:
            return erasure
        entries = [timeline.activity(tenant=tenant, kind=ActivityKind.ERASED, lead=lead, actor=actor,
                                     subject="Personal data erased on request", occurred_at=now)
                   for lead in subject.leads]
        entries += [timeline.activity(tenant=tenant, kind=ActivityKind.ERASED, contact=contact, actor=actor,
                                      subject="Personal data erased on request", occurred_at=now)
                    for contact in subject.contacts]
        Activity.objects.bulk_create(entries)
        Event.objects.create(**timeline.event_fields(tenant=tenant, type=EventType.PERSON_ERASED, created_at=now, payload={
            "leads": [str(lead.public_id) for lead in subject.leads],
            "contacts": [str(contact.public_id) for contact in subject.contacts],
            "deals": [str(deal.public_id) for deal in subject.deals],
            "erased_at": now.isoformat(),
        }))
    return erasure


def erase_own_rows(subject: Subject, erasure: Erasure) -> None:
    now = timezone.now()
    needles = subject.own_needles
    for lead in subject.leads:
        Lead.objects.filter(pk=lead.pk).update(
            **LEAD_PERSONAL, email=erased_email(lead), updated_at=now,
            company=scrub_text(lead.company, needles),
            disqualification_reason=scrub_text(lead.disqualification_reason, needles),
            score_factors=scrub_json(lead.score_factors, needles),
        )
    erasure.add("leads", len(subject.leads))
    erasure.add("contacts", Contact.objects.filter(pk__in=[c.pk for c in subject.contacts]).update(
        **CONTACT_PERSONAL, updated_at=now))
    for deal in subject.deals:
        Deal.objects.filter(pk=deal.pk).update(name=scrub_text(deal.name, needles) or ERASED, updated_at=now)
    erasure.add("deals", len(subject.deals))
    for entry in subject.activities:
        Activity.objects.filter(pk=entry.pk).update(
            subject=ERASED if entry.subject else "", body=ERASED if entry.body else "",
            data=scrub_json(entry.data, needles, personal_keys=True),
        )
    erasure.add("activities", len(subject.activities))


def erase_elsewhere(subject: Subject, erasure: Erasure) -> None:
    needles = subject.own_needles
    event_ids = []
    for event in places.events(subject):
        Event.objects.filter(pk=event.pk).update(payload=scrub_json(event.payload, needles, personal_keys=True))
        event_ids.append(event.pk)
    erasure.add("events", len(event_ids))
    for delivery in places.deliveries(subject, event_ids):
        if delivery.error and subject.mentions(delivery.error):
            type(delivery).objects.filter(pk=delivery.pk).update(error=scrub_text(delivery.error, needles))
            erasure.add("webhook_deliveries", 1)
    deleted, _ = places.idempotency_records(subject).delete()
    erasure.add("idempotency_records", deleted)
    for job in places.import_jobs(subject):
        type(job).objects.filter(pk=job.pk).update(error_report=_scrub_report(job.error_report, subject))
        erasure.add("import_error_reports", 1)
    for entry in places.admin_log(subject):
        type(entry).objects.filter(pk=entry.pk).update(
            object_repr=ERASED, change_message=scrub_text(entry.change_message, needles)
        )
        erasure.add("admin_history", 1)
    # Last: any other text that still names the person (a company named after them, someone else's note).
    for model, column, is_json, rows in places.other_mentions(subject):
        for row in rows:
            value = getattr(row, column)
            cleaned = scrub_json(value, subject.needles) if is_json else scrub_text(value, subject.needles)
            model._default_manager.filter(pk=row.pk).update(**{column: cleaned})
            erasure.add(f"other:{model._meta.label_lower}", 1)


def _scrub_report(report: str, subject: Subject) -> str:
    """The error report with each rejected row that names the person reduced to its line number."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in csv.reader(io.StringIO(report)):
        if subject.mentions(",".join(row)):
            row = [row[0], *(ERASED for _ in row[1:])]
        writer.writerow(row)
    return out.getvalue()
