"""Everything a workspace holds about one person, found from their email (docs/privacy.md).

A person is every lead and contact with the email, the contacts their leads became and the leads
that became their contacts, those rows' deals, and the timeline entries on any of them. Their
*needles* are the strings that identify them anywhere else (event payloads, webhook errors,
import error reports, idempotency answers, another model's text): the email, their phone numbers
and full names. On their own rows the first and last names are needles too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from contacts.models import Contact, Deal
from crm.models import Activity, Tenant
from crm.normalize import normalize_email

from ..models import Lead

ERASED = "[erased]"
# Keys whose values describe a person wherever they appear in a JSON document of the person's rows.
PERSONAL_KEYS = frozenset({
    "email", "phone", "first_name", "last_name", "name", "full_name", "job_title", "message", "mobile",
    "address", "street", "city", "postcode", "zip", "linkedin", "twitter", "website", "source_url", "referrer",
})
MIN_NEEDLE = 3  # shorter names ("Al") would erase other people's text


@dataclass
class Subject:
    tenant: Tenant
    email: str
    leads: list[Lead] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    deals: list[Deal] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)
    needles: set[str] = field(default_factory=set)  # identify the person anywhere in the workspace
    own_needles: set[str] = field(default_factory=set)  # also names alone: on the person's own rows
    public_ids: set[str] = field(default_factory=set)

    @property
    def found(self) -> bool:
        return bool(self.leads or self.contacts)

    def mentions(self, text: str) -> bool:
        lowered = text.lower()
        return any(needle.lower() in lowered for needle in self.needles | self.public_ids)


def find_subject(*, tenant: Tenant, email: str) -> Subject:
    """The person with this email in the workspace, and everything attached to them."""
    email = normalize_email(email)
    subject = Subject(tenant=tenant, email=email)
    if not email:
        return subject
    leads = list(Lead.objects.filter(tenant=tenant, email=email))
    contacts = list(Contact.objects.filter(tenant=tenant, email=email))
    contact_ids = {c.pk for c in contacts} | {lead.converted_contact_id for lead in leads if lead.converted_contact_id}
    contacts = list(Contact.objects.filter(tenant=tenant, pk__in=contact_ids))
    lead_ids = {lead.pk for lead in leads}
    leads += list(Lead.objects.filter(tenant=tenant, converted_contact_id__in=contact_ids).exclude(pk__in=lead_ids))
    deal_ids = {lead.converted_deal_id for lead in leads if lead.converted_deal_id}
    deals = list(Deal.objects.filter(Q(pk__in=deal_ids) | Q(contact_id__in=contact_ids), tenant=tenant))
    activities = list(
        Activity.objects.filter(
            Q(lead_id__in=[lead.pk for lead in leads]) | Q(contact_id__in=contact_ids)
            | Q(deal_id__in=[deal.pk for deal in deals]),
            tenant=tenant,
        )
    )
    subject.leads, subject.contacts, subject.deals, subject.activities = leads, contacts, deals, activities
    subject.needles.add(email)
    people: list[Lead | Contact] = [*leads, *contacts]
    for person in people:
        for value in (person.email, person.phone, person.full_name):
            if value and len(value) >= MIN_NEEDLE:
                subject.needles.add(value)
        if person.phone:
            subject.needles.add(person.phone.lstrip("+"))  # as a spreadsheet or a form may have written it
        for value in (person.first_name, person.last_name):
            if value and len(value) >= MIN_NEEDLE:
                subject.own_needles.add(value)
    subject.own_needles |= subject.needles
    # JSON text may hold non-ASCII letters escaped ("Zo\u00eb": SQLite keeps JSON so): find those rows too.
    for needles in (subject.needles, subject.own_needles):
        needles |= {escaped for escaped in (json.dumps(n)[1:-1] for n in needles) if escaped not in needles}
    rows: list[Lead | Contact | Deal] = [*leads, *contacts, *deals]
    subject.public_ids = {str(row.public_id) for row in rows}
    return subject


def scrub_text(text: str, needles: set[str]) -> str:
    """`text` with every needle (any case) replaced by [erased]."""
    for needle in sorted(needles, key=len, reverse=True):
        text = re.sub(re.escape(needle), ERASED, text, flags=re.IGNORECASE)
    return text


def scrub_json(value: Any, needles: set[str], *, personal_keys: bool = False) -> Any:
    """A JSON document with the needles erased from every string; with `personal_keys`, the values of
    keys that describe a person (email, phone, names, ...) erased whatever they hold."""
    if isinstance(value, dict):
        return {
            key: (ERASED if personal_keys and str(key).lower() in PERSONAL_KEYS and value[key] not in ("", None, [], {})
                  else scrub_json(value[key], needles, personal_keys=personal_keys))
            for key in value
        }
    if isinstance(value, list):
        return [scrub_json(item, needles, personal_keys=personal_keys) for item in value]
    if isinstance(value, str):
        return scrub_text(value, needles)
    return value


def json_text(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)
