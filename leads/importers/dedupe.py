"""Is this person already known? One query per table per batch, not one per row.

A row is a duplicate when its email (or its phone, when it has no email) belongs to a lead of any
status or a contact of the tenant, or to an earlier row of the same file; a row whose email an
erasure suppressed is skipped the same way. Matching every status
is what makes a re-run create nothing, and keeps a disqualified lead's history where it was.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from contacts.models import Contact
from crm.privacy_models import Suppression, suppressed_emails
from leads.intake import FILLABLE_FIELDS  # what --on-duplicate update may fill, as a later capture does
from leads.privacy.consent import CONSENT_FIELDS  # an update import may carry an opt-out over

from ..choices import OPEN_STATUSES
from ..models import Lead
from .rows import LeadValues

SQLITE_CHUNK = 900  # below SQLite's bound-parameter limit on old builds


def _chunks(values: list[str]) -> Iterable[list[str]]:
    if connection.vendor == "postgresql":
        yield values  # one `= ANY(array)` parameter, whatever the count
        return
    for start in range(0, len(values), SQLITE_CHUNK):
        yield values[start : start + SQLITE_CHUNK]


def _lookup(queryset, column: str, values: list[str], fields: tuple[str, ...]) -> list[dict]:
    found = []
    for chunk in _chunks(values):
        if connection.vendor == "postgresql":
            # `= ANY(%s)` with one array parameter: the plan does not depend on the batch size.
            rows = queryset.extra(where=[f"{column} = ANY(%s)"], params=[chunk])
        else:
            rows = queryset.filter(**{f"{column}__in": chunk})
        found.extend(rows.order_by().values(*fields))
    return found


def known_people(*, tenant_id: int, rows: list[LeadValues], with_leads: bool) -> tuple[set, dict]:
    """(keys already in the tenant, key -> the open lead to fill when `with_leads`).

    Keys are ("e", email) or ("p", phone) as LeadValues.key.
    """
    emails = sorted({row.key[1] for row in rows if row.key[0] == "e"})
    phones = sorted({row.key[1] for row in rows if row.key[0] == "p"})
    known: set = set()
    open_leads: dict = {}
    lead_fields = (
        "id", "email", "phone", "status", *(FILLABLE_FIELDS + CONSENT_FIELDS if with_leads else ()), "custom_fields",
        *(("edited_fields",) if with_leads else ()),  # a person's edits are not filled again
    )
    leads = Lead.objects.filter(tenant_id=tenant_id)
    contacts = Contact.objects.filter(tenant_id=tenant_id)
    for kind, column, values in (("e", "email", emails), ("p", "phone", phones)):
        if not values:
            continue
        fields = lead_fields if with_leads else ("id", column)
        for lead in sorted(_lookup(leads, column, values, fields), key=lambda r: r["id"]):
            key = (kind, lead[column])
            known.add(key)
            # The open lead is the one to fill; several (phone matches) -> the most recent.
            if with_leads and lead["status"] in OPEN_STATUSES:
                open_leads[key] = lead
        for contact in _lookup(contacts, column, values, (column,)):
            known.add((kind, contact[column]))
    return known, open_leads


def people_not_to_import(*, tenant_id: int, rows: list[LeadValues]) -> set:
    """Keys of the batch's people the workspace must not import at all: those an erasure suppressed
    (docs/privacy.md), so an old list does not bring them back. One query per batch; the run counts
    their rows as skipped and writes nothing for them, before the duplicate check."""
    if not Suppression.objects.filter(tenant_id=tenant_id).exists():
        return set()  # most workspaces: no hashing of 20,000 emails, no 20,000-parameter query (0.5 s a batch)
    emails = sorted({row.key[1] for row in rows if row.key[0] == "e"})
    return {("e", email) for email in suppressed_emails(tenant_id, emails)}
