"""`Idempotency-Key`: a retried request gets the first answer again instead of a second lead.

A key belongs to a scope (the website channel for anonymous form posts, the calling user for
integrators) and lives for 24 hours. The key's row is inserted *before* the work and in the same
transaction, so a concurrent request with the same key waits on the unique index (PostgreSQL) or
on the write lock (SQLite, BEGIN IMMEDIATE), then finds the committed row and replays it. A retry
finds the key taken the same way (one failed INSERT), so a new key costs no extra lookup. Only
answers that were committed are stored: an exception (400, 429) rolls the key back with the work,
so the client may retry it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.models import Tenant, User
from leads.models import Channel, IdempotencyRecord

MAX_KEY_LENGTH = 255


class IdempotencyKeyInvalid(ValueError):
    """The header is empty or too long."""


class IdempotencyKeyReused(Exception):
    """The key was already used with a different request body."""


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict
    replayed: bool


def ttl() -> timedelta:
    return timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)


def clean_key(value: str | None) -> str | None:
    """The header's key, None when there is none; raises IdempotencyKeyInvalid when unusable."""
    if value is None:
        return None
    key = value.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise IdempotencyKeyInvalid(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters, e.g. a UUID.")
    return key


def scope_for(*, channel: Channel | None, user: User | None) -> str:
    """Integrators' keys are theirs alone; a form's keys are shared by everyone posting to that form."""
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    assert channel is not None  # an anonymous post names its form's channel
    return f"channel:{channel.pk}"


def request_hash(body: dict) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


Answer = tuple[int, dict]


def run_once(
    *, tenant: Tenant, scope: str, key: str, body_hash: str, work: Callable[[], Answer], expect: Answer | None = None
) -> Outcome:
    """Run `work` (returning status and body) once per key; replay its answer to later calls.

    `expect`: the answer `work` gives whenever it returns (a website form's receipt), written with the
    claim so the key's row is not written twice; a different answer still replaces it.
    Raises IdempotencyKeyReused when the key comes back with another body.
    """
    # Most keys are new: claim first, and look for an earlier answer only when the key is taken.
    try:
        return _run(tenant=tenant, scope=scope, key=key, body_hash=body_hash, work=work, expect=expect)
    except _KeyTaken:
        pass
    earlier = _live_record(tenant=tenant, scope=scope, key=key)
    if earlier is not None:  # a retry, or a concurrent request with this key that committed first
        return _replay(earlier, body_hash)
    # The key was last used over 24 hours ago: that answer has expired, so the key is free again.
    # Housekeeping happens here, on a collision, rather than on every request;
    # `purge_idempotency_keys` sweeps keys that are never reused.
    IdempotencyRecord.objects.filter(
        tenant=tenant, scope=scope, key=key, created_at__lt=timezone.now() - ttl()
    ).delete()
    return _run(tenant=tenant, scope=scope, key=key, body_hash=body_hash, work=work, expect=expect)


class _KeyTaken(Exception):
    """Another row holds the key (committed, or committing concurrently)."""


def _run(
    *, tenant: Tenant, scope: str, key: str, body_hash: str, work: Callable[[], Answer], expect: Answer | None
) -> Outcome:
    # status 0 marks "in progress": it is never committed, the answer replaces it. An expected
    # answer is only ever committed when the work gave it (an exception rolls the claim back).
    claimed_status, claimed_body = expect if expect is not None else (0, {})
    with transaction.atomic():
        try:
            # The transaction's first write, so a clash needs no savepoint: it ends the transaction.
            record = IdempotencyRecord.objects.create(
                tenant=tenant, scope=scope, key=key, request_hash=body_hash, status_code=claimed_status,
                response_body=claimed_body, created_at=timezone.now(),
            )
        except IntegrityError as exc:
            raise _KeyTaken from exc
        status, response_body = work()
        if (status, response_body) != (claimed_status, claimed_body):
            record.status_code = status
            record.response_body = response_body
            record.save(update_fields=["status_code", "response_body"])
    return Outcome(status=status, body=response_body, replayed=False)


def purge_expired(*, now=None) -> int:
    """Delete every key older than the time-to-live; returns how many went."""
    cutoff = (now or timezone.now()) - ttl()
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def _live_record(*, tenant: Tenant, scope: str, key: str) -> IdempotencyRecord | None:
    cutoff = timezone.now() - ttl()
    return IdempotencyRecord.objects.filter(tenant=tenant, scope=scope, key=key, created_at__gte=cutoff).first()


def _replay(record: IdempotencyRecord, body_hash: str) -> Outcome:
    if record.request_hash != body_hash:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used with a different request body; "
            "send a new key for a new submission."
        )
    return Outcome(status=record.status_code, body=record.response_body, replayed=True)
