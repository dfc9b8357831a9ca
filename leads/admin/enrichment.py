"""The lead page's Enrichment panel: what the provider found, what of it reached the lead, and the last error."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.html import format_html, format_html_join

from leads.enrichment.service import ENRICHABLE_FIELDS, field_label
from leads.models import Lead

# Names a provider uses for what no lead field holds, as a person reads them.
EXTRA_LABELS = {
    "company_domain": "Company domain", "company_country": "Company country", "company_id": "Matched company (id)",
    "company_size": "Company size", "phone_type": "Phone number type", "phone_country": "Phone number country",
    "linkedin": "LinkedIn",
}


def enrichment_panel(lead: Lead) -> str:
    if lead.pk is None:
        return "Enriched in the background once the lead is saved."
    data = lead.enrichment_data or {}
    parts: list[str] = []
    if data.get("error"):
        parts.append(format_html(
            '<p class="crm-enrich-error"><strong>The last lookup failed</strong> ({}, {}, {}): {}</p>',
            data.get("provider", "?"), _when(data.get("failed_at")), _attempts(data.get("attempts")), data["error"],
        ))
    if data.get("fetched_at"):
        parts.append(format_html(
            '<p class="crm-muted">Looked up by <strong>{}</strong> on {}</p>', data.get("provider", "?"),
            _when(data["fetched_at"]),
        ))
        parts.append(_fields_table(lead, data))
    elif not data.get("error"):
        parts.append(format_html('<p class="crm-muted">{}</p>', "Not enriched yet." if lead.tenant.enrichment_enabled
                                 else "Not enriched: enrichment is off for this workspace (workspace settings)."))
    return format_html('<div class="crm-enrich-panel">{}</div>', format_html_join("", "{}", ((p,) for p in parts)))


def _fields_table(lead: Lead, data: dict) -> str:
    fields = data.get("fields") or {}
    if not fields:
        return format_html('<p class="crm-muted">{}</p>', "The provider knew nothing about this person.")
    filled = set(data.get("filled") or [])
    rows = format_html_join(
        "", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
        ((_label(name), value, _outcome(lead, name, filled)) for name, value in fields.items()),
    )
    return format_html(
        '<table class="crm-factors crm-enrich-fields"><thead><tr><th>Field</th><th>Found</th><th>On the lead</th>'
        "</tr></thead><tbody>{}</tbody></table>", rows,
    )


def _outcome(lead: Lead, name: str, filled: set[str]) -> str:
    if name in filled:
        return "added"
    if name in ENRICHABLE_FIELDS:
        return "kept the lead's own value"
    return "kept here only"


def _label(name: str) -> str:
    if name in ENRICHABLE_FIELDS:
        return field_label(name).capitalize()
    return EXTRA_LABELS.get(name, name.replace("_", " ").capitalize())


def _when(value) -> str:
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value or "?")
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if timezone.is_aware(moment) else f"{moment:%Y-%m-%d %H:%M}"


def _attempts(count) -> str:
    count = int(count or 1)
    return f"after {count} attempt{'s' if count != 1 else ''}"
