"""Enriching a lead: queued after a capture commits, run by the background engine (leads.tasks.enrich_lead).

- `enrich_soon(lead=...)`: queue the lead's enrichment once the caller's transaction commits, unless
  its workspace has enrichment off (Tenant.enrichment_enabled).
- `enrich_lead(lead_id=...)`: ask the provider (outside any transaction: no row is locked while a
  remote service thinks), then `enrichment_apply` writes what it found.
- `enrichment_apply(...)`: in one transaction, the lead's row locked: what the provider found goes to
  `enrichment_data` (provider, fetched_at, fields); of it, only fields the lead has EMPTY and that no
  person set or cleared (Lead.edited_fields) are written to the lead. An `enriched` timeline entry
  says what was added (and what the lead kept instead), a LeadUpdated event names the filled fields,
  and the lead is rescored (leads.insights.refresh_insights: score, auto-qualification, prediction).
- `enrichment_failed(...)`: a lookup that failed for good (after the task's retries, or at once when
  asking again cannot help) is recorded in `enrichment_data` as `error`, `failed_at`, `attempts`;
  what an earlier lookup found stays.

A lookup is made once per lead and provider: a task run twice (acks_late) finds the lead enriched
and does nothing, unless asked with `force` (the admin's "Enrich again").
"""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from celery import current_app
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models, transaction
from django.utils import timezone

from crm import timeline
from crm.choices import ActivityKind, EventType
from leads.insights import refresh_insights
from leads.locks import lock_lead
from leads.models import Lead

from . import ratelimit
from .providers import Found, Provider, ProviderError, Query, get_provider

log = logging.getLogger(__name__)

ENRICH_TASK = "leads.tasks.enrich_lead"
# Lead fields a provider may fill (when empty); anything else it finds stays in enrichment_data only.
ENRICHABLE_FIELDS = (
    "first_name", "last_name", "job_title", "company", "industry", "employee_count", "annual_revenue",
    "website", "country",
)
EMPTY = (None, "")
EXTRA_MAX = 500  # characters of a value kept in enrichment_data that no lead field holds
INT_MAX = 2_147_483_647
REVENUE_MAX = Decimal("99999999999999.99")  # max_digits=16, decimal_places=2


class RateLimited(Exception):
    """The provider's limit is reached; ask again in `wait` seconds (no call was made)."""

    def __init__(self, wait: float):
        super().__init__(f"Rate limit reached; next call in {wait:.1f} s.")
        self.wait = wait


# --- queueing --------------------------------------------------------------------------------


def enrich_soon(*, lead: Lead, force: bool = False) -> bool:
    """Queue the lead's enrichment after the current transaction commits; False when its workspace has it off."""
    if not lead.tenant.enrichment_enabled:
        return False
    lead_id = lead.pk
    transaction.on_commit(lambda: _queue(lead_id, force=force), robust=True)
    return True


def _queue(lead_id: int, *, force: bool) -> None:
    try:
        current_app.tasks[ENRICH_TASK].apply_async(args=[lead_id], kwargs={"force": force} if force else {},
                                                   retry=False)
    except Exception:  # no broker right now: the lead stays as captured (enrichment is optional)
        log.warning("Could not queue the enrichment of lead %s.", lead_id, exc_info=True)


# --- one lookup ------------------------------------------------------------------------------


def enrich_lead(
    *, lead_id: int, attempt: int = 0, final: bool = True, force: bool = False, provider: Provider | None = None,
) -> str:
    """Ask the provider about the lead and apply the answer; returns what happened.

    "skipped" (gone, workspace off, already enriched by this provider), "enriched" (written),
    "failed" (recorded on the lead). Raises RateLimited when the provider may not be asked yet,
    and a retryable ProviderError unless `final` (the task retries it later).
    """
    lead = Lead.objects.select_related("tenant").filter(pk=lead_id).first()
    if lead is None or not lead.tenant.enrichment_enabled:
        return "skipped"
    provider = provider or get_provider()
    data = lead.enrichment_data or {}
    if not force and data.get("provider") == provider.name and data.get("fetched_at") and not data.get("error"):
        return "skipped"
    wait = ratelimit.take(provider.name, ratelimit.rate_for(provider.name, provider.default_rate))
    if wait:
        raise RateLimited(wait)
    try:
        found = provider.lookup(Query.of(lead))
    except ProviderError as exc:
        if exc.retryable and not final:
            raise
        enrichment_failed(lead_id=lead_id, provider=provider.name, error=str(exc), attempts=attempt + 1)
        return "failed"
    enrichment_apply(lead_id=lead_id, provider=provider.name, found=found, attempts=attempt + 1)
    return "enriched"


def enrichment_apply(*, lead_id: int, provider: str, found: Found, attempts: int = 1) -> Lead | None:
    """Write what the provider found: enrichment_data, the lead's empty fields, the timeline, the event, the score.

    Returns the fresh lead (None if it was deleted meanwhile).
    """
    values = clean_values(found.fields)
    with transaction.atomic():
        try:
            lead = lock_lead(lead_id)
        except Lead.DoesNotExist:
            return None
        edited = set(lead.edited_fields or [])
        offered = {name: value for name, value in values.items() if name in ENRICHABLE_FIELDS}
        filled = {name: value for name, value in offered.items()
                  if name not in edited and getattr(lead, name) in EMPTY}
        kept = {name: _json(value) for name, value in offered.items()
                if name not in filled and getattr(lead, name) != value}
        now = timezone.now()
        for name, value in filled.items():
            setattr(lead, name, value)
        lead.enrichment_data = {
            "provider": provider,
            "fetched_at": now.isoformat(),
            "fields": {name: _json(value) for name, value in values.items()},
            "filled": list(filled),
            "attempts": attempts,
        }
        lead.save(update_fields=[*filled, "enrichment_data", "updated_at"])
        if values:
            timeline.activity(
                tenant=lead.tenant, lead=lead, kind=ActivityKind.ENRICHED, subject=_subject(provider, filled),
                body=_body(filled, kept), occurred_at=now,
                data={"provider": provider, "filled": {name: _json(value) for name, value in filled.items()},
                      "kept": kept, "found": lead.enrichment_data["fields"]},
            ).save()
        if filled:
            timeline.event(
                tenant=lead.tenant_id, type=EventType.LEAD_UPDATED, created_at=now,
                payload={"lead_id": str(lead.public_id), "email": lead.email, "source": lead.source, "fields": list(filled),
                         "actor_id": None, "enriched_by": provider},
            ).save()
            lead = refresh_insights(lead=lead)
    return lead


def enrichment_failed(*, lead_id: int, provider: str, error: str, attempts: int) -> None:
    """Record a lookup that failed for good on the lead (what an earlier lookup found stays)."""
    with transaction.atomic():
        try:
            lead = lock_lead(lead_id)
        except Lead.DoesNotExist:
            return
        lead.enrichment_data = {
            **(lead.enrichment_data or {}),
            "provider": provider,
            "error": error[:1000],
            "failed_at": timezone.now().isoformat(),
            "attempts": attempts,
        }
        lead.save(update_fields=["enrichment_data", "updated_at"])
    log.info("Enrichment of lead %s by %s failed after %s attempt(s): %s", lead_id, provider, attempts, error)


# --- values ----------------------------------------------------------------------------------


def clean_values(fields: dict[str, Any]) -> dict[str, Any]:
    """The provider's values that fit: lead fields as the lead stores them (others dropped), the rest as short text."""
    values: dict[str, Any] = {}
    for name, raw in fields.items():
        if raw in EMPTY or isinstance(raw, (dict, list)):
            continue
        value = _lead_value(name, raw) if name in ENRICHABLE_FIELDS else _extra_value(raw)
        if value not in EMPTY:
            values[str(name)] = value
    return values


def _lead_value(name: str, raw: Any) -> Any:
    if name == "employee_count":
        try:
            number = int(raw) if not isinstance(raw, bool) else None
        except (TypeError, ValueError):
            return None
        return number if number is not None and 0 <= number <= INT_MAX else None
    if name == "annual_revenue":
        try:
            amount = Decimal(str(raw)).quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            return None
        return amount if Decimal(0) <= amount <= REVENUE_MAX else None
    text = " ".join(str(raw).split())
    if name == "country":
        return text.upper() if len(text) == 2 and text.isalpha() else None
    if name == "website":
        url = text if "://" in text else f"https://{text}"
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            return None
        return url if len(url) <= _max_length("website") else None
    return text[: _max_length(name)]


def _extra_value(raw: Any) -> Any:
    if isinstance(raw, (bool, int, float)):
        return raw
    return " ".join(str(raw).split())[:EXTRA_MAX]


def _lead_field(name: str) -> models.Field:
    return cast(models.Field, Lead._meta.get_field(name))  # ENRICHABLE_FIELDS are plain columns


def _max_length(name: str) -> int:
    return _lead_field(name).max_length or EXTRA_MAX


def _json(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def _subject(provider: str, filled: dict) -> str:
    if not filled:
        return f"Enrichment ({provider}): nothing new to fill"
    return f"Enriched by {provider}: " + ", ".join(field_label(name) for name in filled)


def _body(filled: dict, kept: dict) -> str:
    lines = [f"{field_label(name)}: {_json(value)}" for name, value in filled.items()]
    if kept:
        lines.append("Kept the lead's own values for: " + ", ".join(field_label(name) for name in kept))
    return "\n".join(lines)


def field_label(name: str) -> str:
    """An enrichable field's name as a person reads it ("job title")."""
    return str(_lead_field(name).verbose_name)
