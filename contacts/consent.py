"""Writing a person's marketing consent: the columns, and the timeline entry that says so (docs/privacy.md).

Here, below leads, so that the contact doors (API, admin) and the lead-side rule module
(`leads.privacy.consent`, which adds a lead's LeadUpdated event and reads imports) share one write.
"""

from __future__ import annotations

from django.db import models, transaction
from django.utils import timezone

from crm import timeline
from crm.choices import ActivityKind, ConsentStatus

from .models import Contact


def consent_changes(*, given: bool, source: str, wording: str = "", now=None) -> dict:
    """The consent columns for a person who just gave (or withdrew) consent through `source`."""
    return {
        "marketing_consent": (ConsentStatus.GIVEN if given else ConsentStatus.WITHDRAWN).value,
        "consent_at": now or timezone.now(),
        "consent_source": str(source),
        "consent_wording": wording[:100],
    }


def record_consent(*, person: models.Model, given: bool, source: str, wording: str = "", actor=None,
                   timeline_key: str) -> None:
    """Write a lead's or contact's consent columns and a timeline entry on it (`timeline_key`: "lead" or
    "contact"). The caller holds the transaction; `consent_set` / `contact_consent_set` are the entry points."""
    now = timezone.now()
    changes = consent_changes(given=given, source=source, wording=wording, now=now)
    type(person)._default_manager.filter(pk=person.pk).update(**changes, updated_at=now)
    for name, value in changes.items():
        setattr(person, name, value)
    person.updated_at = now  # type: ignore[attr-defined]  # both models have it
    timeline.activity(
        tenant=person.tenant_id, kind=ActivityKind.NOTE, actor=actor, occurred_at=now,  # type: ignore[attr-defined]
        subject=f"Marketing consent {'given' if given else 'withdrawn'} ({source})", **{timeline_key: person},
    ).save()


def contact_consent_set(*, contact: Contact, given: bool, source: str, wording: str = "", actor=None) -> Contact:
    """Record that a contact gave or withdrew marketing consent (a rep through the API or the admin)."""
    with transaction.atomic():
        record_consent(person=contact, given=given, source=source, wording=wording, actor=actor,
                       timeline_key="contact")
    return contact
