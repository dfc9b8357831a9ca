"""`privacy_export`: everything the workspace holds about a person (GDPR articles 15 and 20).

The answer is a JSON document (machine-readable, every row by its public id) and a readable
summary. Answering it is a read of personal data: it leaves an access record (door "privacy")
and a PrivacyRequest row naming no one (docs/privacy.md).
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from contacts.models import Company
from crm.audit import record_access
from crm.models import PrivacyRequest, Tenant, User
from crm.privacy_models import PrivacyRequestKind, subject_hash

from . import places
from .subject import Subject, find_subject, json_text

SKIPPED_FIELDS = {"id", "tenant", "password"}


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    return value


def row_dict(row: models.Model) -> dict:
    """A row as JSON: its public id as `id`, related rows by their public ids (or ids when they have none)."""
    data: dict[str, Any] = {}
    for field in row._meta.concrete_fields:
        if field.name in SKIPPED_FIELDS or field.name == "public_id":
            continue
        if field.is_relation:
            related = getattr(row, field.name)
            data[field.name] = None if related is None else str(getattr(related, "public_id", related.pk))
        else:
            data[field.name] = _plain(getattr(row, field.attname))
    if hasattr(row, "public_id"):
        data = {"id": str(row.public_id), **data}
    return data


@dataclass
class PrivacyExport:
    document: dict
    summary: str

    @property
    def json(self) -> str:
        return json_text(self.document)


def build_document(subject: Subject) -> dict:
    companies = Company.objects.filter(pk__in={c.company_id for c in subject.contacts if c.company_id})
    event_rows = list(places.events(subject))
    reports = []
    for job in places.import_jobs(subject):
        lines = [row for row in csv.reader(io.StringIO(job.error_report)) if subject.mentions(",".join(row))]
        reports.append({"import": job.file_name, "started_at": _plain(job.started_at), "rows": lines})
    own = {(type(r)._meta.label_lower, r.pk) for r in [*subject.leads, *subject.contacts, *subject.deals]}
    others: list[dict] = []
    for model, column, _is_json, rows in places.other_mentions(subject):
        for row in rows:
            if (model._meta.label_lower, row.pk) not in own and model._meta.label_lower != "crm.activity":
                others.append({"table": model._meta.label_lower, "column": column, "row": row_dict(row)})
    return {
        "workspace": subject.tenant.slug,
        "email": subject.email,
        "generated_at": timezone.now().isoformat(),
        "leads": [row_dict(row) for row in subject.leads],
        "contacts": [row_dict(row) for row in subject.contacts],
        "companies": [row_dict(row) for row in companies],
        "deals": [row_dict(row) for row in subject.deals],
        "activities": [row_dict(row) for row in subject.activities],
        "events": [{"type": e.type, "created_at": _plain(e.created_at), "delivered_at": _plain(e.delivered_at),
                    "payload": e.payload} for e in event_rows],
        "webhook_deliveries": [row_dict(row) for row in places.deliveries(subject, [e.pk for e in event_rows])],
        "idempotency_records": [
            {"key": r.key, "created_at": _plain(r.created_at), "status_code": r.status_code, "answer": r.response_body}
            for r in places.idempotency_records(subject)
        ],
        "import_error_reports": reports,
        "other_mentions": others,
    }


def summarise(document: dict) -> str:
    lines = [f"Personal data held about {document['email']} in workspace {document['workspace']}",
             f"(as of {document['generated_at']})", ""]
    for lead in document["leads"]:
        name = f"{lead['first_name']} {lead['last_name']}".strip() or "(no name)"
        lines.append(f"Lead {name}: status {lead['status']}, source {lead['source']}, created {lead['created_at']}, "
                     f"marketing consent: {lead['marketing_consent'] or 'not asked'}")
    for contact in document["contacts"]:
        name = f"{contact['first_name']} {contact['last_name']}".strip() or "(no name)"
        lines.append(f"Contact {name}: {contact['status']}, created {contact['created_at']}")
    for deal in document["deals"]:
        lines.append(f"Deal {deal['name']}: stage {deal['stage']}, amount {deal['amount']} {deal['currency']}")
    counts = {key: len(document[key]) for key in (
        "companies", "activities", "events", "webhook_deliveries", "idempotency_records", "import_error_reports",
        "other_mentions")}
    lines += ["", "Also held: " + ", ".join(f"{count} {key.replace('_', ' ')}" for key, count in counts.items())]
    if not (document["leads"] or document["contacts"]):
        lines.insert(3, "No lead or contact has this email.")
    return "\n".join(lines) + "\n"


def counts_of(document: dict) -> dict:
    return {key: len(value) for key, value in document.items() if isinstance(value, list)}


def privacy_export(
    *, tenant: Tenant, email: str, actor: User | None, door: str, request=None
) -> PrivacyExport:
    """Everything `tenant` holds about the person with `email` (a JSON document and a readable summary).
    Raises django's ValidationError for a malformed email."""
    with transaction.atomic():
        subject = find_subject(tenant=tenant, email=email)
        document = build_document(subject)
        PrivacyRequest.objects.create(
            tenant=tenant, kind=PrivacyRequestKind.EXPORT, subject_hash=subject_hash(tenant.pk, subject.email),
            requested_by=actor, door=door, counts=counts_of(document),
        )
        for rows in (subject.leads, subject.contacts):
            if rows:
                record_access(request=request, door="privacy", model=type(rows[0]), rows=rows, tenant=tenant,
                              user=actor, query=f"data-subject export ({door})")
    return PrivacyExport(document=document, summary=summarise(document))
