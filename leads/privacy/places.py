"""Where a person can be besides their own rows: a query per place, shared by export and erasure."""

from __future__ import annotations

from collections.abc import Iterator

from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q, TextField
from django.db.models.functions import Cast

from crm.models import Event, WebhookDelivery

from ..models import IdempotencyRecord, ImportJob
from .subject import Subject

# Rows that are the person (anonymised field by field), or that hold no personal data by design.
OWN_MODELS = {"leads.lead", "contacts.contact", "contacts.deal", "crm.activity"}
NOT_PERSONAL = {"crm.accessrecord", "crm.privacyrequest", "crm.suppression", "crm.user", "crm.apitoken", "crm.tenant"}


def _matching(queryset, column: str, needles: set[str], *, as_text: bool = False):
    """Rows whose `column` contains any of the needles (any case); JSON columns are searched as text."""
    if not needles:
        return queryset.none()
    if as_text:
        queryset = queryset.annotate(**{f"{column}_text": Cast(column, TextField())})
        column = f"{column}_text"
    condition = Q()
    for needle in needles:
        condition |= Q(**{f"{column}__icontains": needle})
    return queryset.filter(condition)


def events(subject: Subject):
    """The workspace's outbox rows (waiting, delivered or kept for retries) that name the person or their rows."""
    return _matching(Event.objects.filter(tenant=subject.tenant), "payload", subject.needles | subject.public_ids,
                     as_text=True).order_by("id")


def deliveries(subject: Subject, event_ids: list[int]):
    return WebhookDelivery.objects.filter(tenant=subject.tenant).filter(
        Q(event_id__in=event_ids) | _q_contains("error", subject.needles)
    ).order_by("id")


def _q_contains(column: str, needles: set[str]) -> Q:
    condition = Q(pk__in=[])
    for needle in needles:
        condition |= Q(**{f"{column}__icontains": needle})
    return condition


def idempotency_records(subject: Subject):
    """Answers kept for retried requests that name the person or one of their rows."""
    return _matching(IdempotencyRecord.objects.filter(tenant=subject.tenant), "response_body",
                     subject.needles | subject.public_ids, as_text=True).order_by("id")


def import_jobs(subject: Subject):
    """Imports whose error report (rejected rows as they came) mentions the person."""
    return _matching(ImportJob.objects.filter(tenant=subject.tenant), "error_report", subject.needles).order_by("id")


def admin_log(subject: Subject):
    """The admin's history of changes to the person's rows (it names them by their name)."""
    condition = Q(pk__in=[])
    for rows in (subject.leads, subject.contacts, subject.deals):
        if rows:
            content_type = ContentType.objects.get_for_model(type(rows[0]))
            condition |= Q(content_type=content_type, object_id__in=[str(row.pk) for row in rows])
    condition |= _q_contains("object_repr", subject.needles) | _q_contains("change_message", subject.needles)
    return LogEntry.objects.filter(condition).filter(
        Q(user__tenant=subject.tenant) | Q(user__tenant__isnull=True)
    ).order_by("id")


def _local_models() -> Iterator[type[models.Model]]:
    base = str(settings.BASE_DIR)
    for config in apps.get_app_configs():
        if config.path.startswith(base) and "site-packages" not in config.path:
            yield from config.get_models()


def text_columns(model) -> list[tuple[str, bool]]:
    """(column, is_json) of every text or JSON column of a model."""
    found = []
    for field in model._meta.concrete_fields:
        if isinstance(field, models.JSONField):
            found.append((field.name, True))
        elif isinstance(field, (models.CharField, models.TextField)) and not field.choices:
            found.append((field.name, False))
    return found


def other_mentions(subject: Subject) -> Iterator[tuple[type[models.Model], str, bool, models.QuerySet]]:
    """(model, column, is_json, rows) for every other workspace table whose text names the person: a company
    named after them, a note on someone else's lead, a row of a model added later (nurture emails, ...)."""
    for model in _local_models():
        label = model._meta.label_lower
        if label in NOT_PERSONAL:
            continue
        try:
            model._meta.get_field("tenant")
        except Exception:  # noqa: BLE001 - a model outside the workspaces (rate-limit counters)
            continue
        base = model._default_manager.filter(tenant=subject.tenant)
        for column, is_json in text_columns(model):
            rows = _matching(base, column, subject.needles, as_text=is_json)
            if rows.exists():
                yield model, column, is_json, rows
