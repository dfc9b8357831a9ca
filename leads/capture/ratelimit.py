"""How often one client may post to one website form: counted per hour in the shared cache.

The cache is Redis when REDIS_URL is set, so every web worker sees one count; without it each
process counts alone (fine for one process, e.g. `make run`).
"""

from __future__ import annotations

import time

from django.core.cache import cache

from crm.client_ip import client_ip  # noqa: F401  (the capture views import it from here)
from leads.models import Channel

WINDOW_SECONDS = 3600


class RateLimited(Exception):
    def __init__(self, retry_after: int):
        super().__init__("Too many submissions to this form from your address.")
        self.retry_after = retry_after


def hit(*, channel: Channel, client: str, now: float | None = None) -> None:
    """Count one submission; raise RateLimited once the channel's hourly limit is passed.

    A fixed window per clock hour: two cache operations, atomic on Redis (INCR). It lets a
    client send up to twice the limit across an hour boundary, which is acceptable for a spam brake.
    """
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    # Keyed by the form key rather than the id: a rotated key starts fresh, and ids that a
    # rolled-back test (or a restored backup) hands out again never inherit a count.
    key = f"capture-rate:{channel.form_key}:{client}:{window}"
    cache.add(key, 0, timeout=WINDOW_SECONDS + 60)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=WINDOW_SECONDS + 60)
        count = 1
    if count > channel.rate_limit_per_hour:
        raise RateLimited(retry_after=max(1, int((window + 1) * WINDOW_SECONDS - now)))
