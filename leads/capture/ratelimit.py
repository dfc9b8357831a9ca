"""How often one client may post to one website form: counted per clock hour, shared by every process.

With REDIS_URL set the count lives in Redis (INCR, the fastest); without it, in the database
(`FormPostCount`, one upsert per post), so four gunicorn workers still hold one limit between them.
A per-process cache would not: each worker would allow the full limit.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from leads.models import Channel, FormPostCount

WINDOW_SECONDS = 3600
MAX_BUCKET = 200  # FormPostCount.bucket's max_length


class RateLimited(Exception):
    def __init__(self, retry_after: int):
        super().__init__("Too many submissions to this form from your address.")
        self.retry_after = retry_after


def hit(*, channel: Channel, client: str, now: float | None = None) -> None:
    """Count one submission; raise RateLimited once the channel's hourly limit is passed.

    A fixed window per clock hour. It lets a client send up to twice the limit across an hour
    boundary, which is acceptable for a spam brake.
    """
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    # Keyed by the form key rather than the id: a rotated key starts fresh, and ids that a
    # rolled-back test (or a restored backup) hands out again never inherit a count.
    bucket = f"{channel.form_key}:{client}:{window}"
    expires = (window + 1) * WINDOW_SECONDS + 60
    if settings.CAPTURE_RATE_LIMIT_STORE == "cache":
        count = _count_in_cache(bucket, timeout=expires - now)
    else:
        count = _count_in_database(bucket, expires_at=datetime.fromtimestamp(expires, tz=UTC))
    if count > channel.rate_limit_per_hour:
        raise RateLimited(retry_after=max(1, int((window + 1) * WINDOW_SECONDS - now)))


def _count_in_cache(bucket: str, *, timeout: float) -> int:
    # Two operations, atomic on Redis (INCR); a per-process cache (locmem) counts per process only.
    key = f"capture-rate:{bucket}"
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=timeout)
        return 1


def _count_in_database(bucket: str, *, expires_at: datetime) -> int:
    """One statement, atomic on both databases: concurrent posts each see their own count.

    On PostgreSQL a second upsert of the same row waits for the first one's transaction and then
    adds to its committed count; on SQLite the write lock serialises them. Inside the transaction
    of a post with an Idempotency-Key the count commits or rolls back with that post's work.
    """
    table = connection.ops.quote_name(FormPostCount._meta.db_table)
    bucket_col, count_col, expires_col = (connection.ops.quote_name(name) for name in ("bucket", "count", "expires_at"))
    sql = (
        f"INSERT INTO {table} ({bucket_col}, {count_col}, {expires_col}) VALUES (%s, 1, %s) "
        f"ON CONFLICT ({bucket_col}) DO UPDATE SET {count_col} = {table}.{count_col} + 1 "
        f"RETURNING {count_col}"
    )
    expires_value = connection.ops.adapt_datetimefield_value(expires_at)
    with connection.cursor() as cursor:
        cursor.execute(sql, [bucket[:MAX_BUCKET], expires_value])
        return cursor.fetchone()[0]


def purge_expired(*, now: datetime | None = None) -> int:
    """Delete the counts of windows that have ended; returns how many went."""
    deleted, _ = FormPostCount.objects.filter(expires_at__lt=now or datetime.now(tz=UTC)).delete()
    return deleted
