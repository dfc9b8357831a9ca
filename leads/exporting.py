"""Leads out as CSV that spreadsheets open safely and `import_leads` reads back unchanged.

Safe: a cell starting with = + - @ (after any leading whitespace), or with a tab or carriage return,
is a formula to Excel, LibreOffice and Google Sheets, so "=HYPERLINK(...)" typed into a web form
could run on the reader's machine. Every CSV the product writes goes through `safe_cell`: this
export and the import's error report.
Such cells are written with a leading apostrophe (OWASP's advice); a cell that already starts with
an apostrophe gets one more, so the importer, which removes exactly one apostrophe before those
characters, reads every value back as it was. The file is UTF-8 with a BOM, which Excel needs to
see the encoding; the importer ignores it.

Columns are the importer's field names, owner as email (or username), channel by name, dates in
ISO 8601, and one "custom:<name>" column per custom field in the selection.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from typing import TextIO

from django.db.models import QuerySet

from crm.audit import record_access

FORMULA_STARTS = ("=", "+", "-", "@")
ESCAPE_STARTS = ("\t", "\r", "'")
FIELDS = (
    "first_name", "last_name", "email", "phone", "job_title", "company", "industry", "employee_count",
    "annual_revenue", "website", "country", "message", "source", "channel", "campaign", "source_url", "referrer",
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "external_id", "status", "priority",
    "disqualification_reason", "owner", "created_at", "converted_at",
)
BOM = "\ufeff"


def needs_escape(text: str) -> bool:
    """Whether a spreadsheet could read `text` as a formula (or it starts with the escape itself)."""
    return text.startswith(ESCAPE_STARTS) or text.lstrip().startswith(FORMULA_STARTS)


def unescape_cell(text: str) -> str:
    """A cell written by `safe_cell` back to its value: one leading apostrophe off, where safe_cell put one."""
    if text[:1] == "'" and needs_escape(text[1:]):
        return text[1:]
    return text


def safe_cell(value) -> str:
    """The value as spreadsheet-safe CSV text ('' for None)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    text = str(value)
    if needs_escape(text):
        return "'" + text
    return text


def custom_field_names(queryset: QuerySet) -> list[str]:
    """Every custom field key the selected leads use, sorted."""
    names: set[str] = set()
    for custom in queryset.order_by().values_list("custom_fields", flat=True).iterator(chunk_size=5000):
        if isinstance(custom, dict):
            names.update(str(key) for key in custom)
    return sorted(names)


def export_rows(queryset: QuerySet) -> Iterator[list[str]]:
    """The header, then one row per lead (oldest first), streamed."""
    custom = custom_field_names(queryset)
    yield [*FIELDS, *(f"custom:{name}" for name in custom)]
    leads = (
        queryset.select_related("owner", "channel")
        .order_by("created_at", "id")
        .only(*(f for f in FIELDS if f not in ("owner", "channel")), "custom_fields", "owner__email",
              "owner__username", "channel__name")
    )
    for lead in leads.iterator(chunk_size=2000):
        values = []
        for name in FIELDS:
            if name == "owner":
                value = (lead.owner.email or lead.owner.username) if lead.owner_id else ""
            elif name == "channel":
                value = lead.channel.name if lead.channel_id else ""
            else:
                value = getattr(lead, name)
            values.append(safe_cell(value))
        extra = lead.custom_fields if isinstance(lead.custom_fields, dict) else {}
        values.extend(safe_cell(extra.get(name)) for name in custom)
        yield values


class _Echo:
    def write(self, value: str) -> str:
        return value


def record_export(*, queryset: QuerySet, request=None, tenant=None, description: str = "") -> None:
    """The export's access record (crm/audit.py): which leads left, through which door, for whom."""
    ids = list(queryset.order_by().values_list("public_id", flat=True))
    query = description or (request.META.get("QUERY_STRING", "") if request is not None else "")
    record_access(request=request, door="export", model="leads.lead", rows=ids, query=query, tenant=tenant)


def write_leads_csv(*, queryset: QuerySet, out: TextIO, tenant=None, description: str = "") -> int:
    """Write the leads as CSV (with BOM) to `out`; returns how many leads. Recorded as an export of `tenant`."""
    if tenant is not None:
        record_export(queryset=queryset, tenant=tenant, description=description)
    out.write(BOM)
    writer = csv.writer(out)
    count = -1
    for row in export_rows(queryset):
        writer.writerow(row)
        count += 1
    return count


def stream_leads_csv(*, queryset: QuerySet, request=None) -> Iterator[str]:
    """The same CSV as text pieces, for a streaming HTTP response; the request's user is recorded as reading them."""
    if request is not None:
        record_export(queryset=queryset, request=request)
    return _stream(queryset)


def _stream(queryset: QuerySet) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield BOM
    for row in export_rows(queryset):
        yield writer.writerow(row)

