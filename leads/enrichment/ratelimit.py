"""How often a provider may be asked: a counter per provider and time window in Django's cache.

Why the cache and not Celery's `rate_limit`: Celery counts per worker process and per task, while a
provider's quota is one for the whole installation (every worker, every host) and the provider is
chosen at run time by a setting. The cache is shared by every process once REDIS_URL is set (the
per-process memory cache without it: then each process keeps its own count, which a single worker
makes exact). The window is fixed (n calls per second, minute or hour); a call refused is not
made, and the caller is told how long until the next window opens (the task waits that long).
"""

from __future__ import annotations

import re
import time

from django.conf import settings
from django.core.cache import cache

RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*([smh])\s*$")
PERIODS = {"s": 1, "m": 60, "h": 3600}


class RateError(ValueError):
    pass


def parse_rate(text: str) -> tuple[int, int] | None:
    """'10/s' -> (10, 1), '600/m' -> (600, 60); '' or '0/m' -> None (no limit)."""
    if not text or not text.strip():
        return None
    match = RATE_RE.match(text)
    if match is None:
        raise RateError(f"'{text}' is not a rate; write calls per period, e.g. 10/s, 600/m or 5000/h.")
    count, period = int(match.group(1)), PERIODS[match.group(2)]
    return None if count == 0 else (count, period)


def rate_for(provider_name: str, default: str) -> tuple[int, int] | None:
    """The provider's limit: its entry in ENRICHMENT_RATE_LIMITS, else its own default."""
    return parse_rate(settings.ENRICHMENT_RATE_LIMITS.get(provider_name, default))


def take(provider_name: str, rate: tuple[int, int] | None, *, now: float | None = None) -> float:
    """Count one call; 0 when it may be made now, else the seconds until the provider may be asked again."""
    if rate is None:
        return 0.0
    count, period = rate
    now = time.time() if now is None else now
    window = int(now // period)
    key = f"enrichment-rate:{provider_name}:{period}:{window}"
    cache.add(key, 0, timeout=period + 1)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr: a fresh window
        cache.add(key, 1, timeout=period + 1)
        used = 1
    if used <= count:
        return 0.0
    return max((window + 1) * period - now, 0.01)
