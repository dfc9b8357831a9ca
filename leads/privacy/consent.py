"""Marketing consent of a lead or contact: given or withdrawn, when, how, and which wording (docs/privacy.md).

`Lead.marketing_consent` / `Contact.marketing_consent` is "given", "withdrawn" or "" (never asked);
only "given" allows marketing email (`may_market`). Captures (form, API), imports, edits and the
unsubscribe link all write it through `consent_changes`, so the when/how/wording always go with it.
"""

from __future__ import annotations

import re

from django.db import transaction
from django.utils import timezone

from contacts.consent import consent_changes, contact_consent_set, record_consent
from contacts.models import Contact
from crm import timeline
from crm.choices import ActivityKind, ConsentSource, ConsentStatus, EventType
from crm.models import Activity, Suppression, User
from crm.public_ids import public_id_of
from crm.privacy_models import subject_hash

from ..models import Lead


def may_market(person) -> bool:
    """Whether a lead or contact may get marketing email: consent given and not withdrawn since."""
    return getattr(person, "marketing_consent", "") == ConsentStatus.GIVEN


# An import's consent cell, folded (case, spaces and punctuation ignored). Yes/no words answer the column's
# question (an opt-out column's "true" is a withdrawal); the others say what they mean in any column.
YES_NO = {
    **dict.fromkeys(("yes", "y", "true", "t", "1", "checked", "x", "on", "allow", "allowed"), True),
    **dict.fromkeys(("no", "n", "false", "f", "0", "unchecked", "off", "donotallow", "notallowed"), False),
}
MEANING = {
    **dict.fromkeys(("given", "granted", "consented", "optedin", "optin", "subscribed", "agreed", "accepted"), True),
    **dict.fromkeys(("withdrawn", "revoked", "optedout", "optout", "unsubscribed", "declined", "refused",
                     "noconsent"), False),
}


def consent_answer(text: str, *, opt_out: bool = False) -> bool | None:
    """An imported consent cell as given (True) or withdrawn (False); None for a word we do not know.
    `opt_out` columns (Salesforce "Email Opt Out", HubSpot "Unsubscribed from all email") ask the inverse
    question: "true" there is a withdrawal."""
    word = re.sub(r"[^0-9a-z]+", "", text.lower())
    if word in MEANING:
        return MEANING[word]
    if word in YES_NO:
        return YES_NO[word] != opt_out
    return None


def imported_consent(*, answers: list[bool], when=None) -> dict:
    """The consent columns an imported lead gets from its row's consent cells (`consent_answer` of each):
    a single no among them is a no (a withdrawal wins, as everywhere); none: nothing (never asked)."""
    if not answers:
        return {}
    return consent_changes(given=all(answers), source=ConsentSource.IMPORT.value, now=when)


CONSENT_FIELDS = ("marketing_consent", "consent_at", "consent_source", "consent_wording")


def imported_consent_over(*, current: str, incoming: dict) -> dict:
    """The consent columns an update import writes over a lead we already have (`current`: its marketing_consent;
    `incoming`: the row's values): the file's answer where we never asked, and its withdrawal over a consent given.
    A file never turns a withdrawal back into consent (only the person does, through a form)."""
    answer = incoming.get("marketing_consent")
    takes = not current or (current == ConsentStatus.GIVEN and answer == ConsentStatus.WITHDRAWN)
    return {name: incoming.get(name) for name in CONSENT_FIELDS} if answer and takes else {}


def apply_capture_consent(*, lead: Lead | None, contact: Contact | None, email: str, given: bool | None, source: str,
                          wording: str, actor) -> None:
    """After a capture: store the consent it carried on the lead (or the contact it matched). An erased person
    who comes back with new consent is allowed: their suppression is lifted and the timeline says so."""
    person = lead if lead is not None else contact
    if person is None:
        return
    now = timezone.now()
    if given is not None:
        changes = consent_changes(given=given, source=source, wording=wording, now=now)
        model: type[Lead] | type[Contact] = type(person)
        model.objects.filter(pk=person.pk).update(**changes)
        for name, value in changes.items():
            setattr(person, name, value)
    if not given or not email:
        return  # only a new consent lifts a suppression; a capture without one costs no lookup
    suppressed = Suppression.objects.filter(tenant_id=person.tenant_id, email_hash=subject_hash(person.tenant_id, email))
    if not suppressed.delete()[0]:
        return
    note = ("This person's data was erased on their request earlier. They came back through "
            f"the {source} with new marketing consent, so imports no longer skip them.")
    Activity.objects.create(**timeline.activity_fields(
        tenant=person.tenant_id, kind=ActivityKind.NOTE, subject="Came back after an erasure, with consent",
        body=note, lead=lead, contact=contact if lead is None else None, actor=actor, occurred_at=now,
    ))


def consent_set(*, person: Lead | Contact, given: bool, source: str, wording: str = "",
                actor: User | None = None) -> Lead | Contact:
    """Record that a lead or contact gave or withdrew marketing consent (an unsubscribe link: given=False,
    source "unsubscribe"); writes a timeline entry, and a LeadUpdated event for a lead."""
    if not isinstance(person, Lead):
        return contact_consent_set(contact=person, given=given, source=source, wording=wording, actor=actor)
    with transaction.atomic():
        record_consent(person=person, given=given, source=source, wording=wording, actor=actor, timeline_key="lead")
        timeline.event(tenant=person.tenant_id, type=EventType.LEAD_UPDATED, payload={
            "lead_id": str(person.public_id), "email": person.email, "source": person.source,
            "fields": ["marketing_consent"], "actor_id": public_id_of(actor),
        }).save()
    return person
