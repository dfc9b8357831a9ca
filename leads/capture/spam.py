"""The spam trap on anonymous form posts: a honeypot field and a minimum time to fill the form.

A caught post is answered exactly like a real one (so a bot learns nothing), stores no lead,
and is counted on its channel.

Fill time: embed.js sends `_ts` (when the form was shown) and `_sent` (when it was submitted),
both from the visitor's clock, so a visitor whose clock is off is never mistaken for a bot.
A form that sends only `_ts` is measured against the server's clock (so it should render a
server timestamp). A post with no `_ts` at all -- a plain HTML form, a server-side post -- is
not judged on time: the honeypot and the rate limit still apply to it.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db.models import F

from leads.models import Channel

logger = logging.getLogger(__name__)

RENDERED_AT = "_ts"
SENT_AT = "_sent"


def honeypot_field() -> str:
    return settings.CAPTURE_HONEYPOT_FIELD


def spam_reason(body: dict, *, now: float | None = None) -> str | None:
    """Why this post looks automated ('honeypot', 'too_fast'), or None when it looks human."""
    if str(body.get(honeypot_field()) or "").strip():
        return "honeypot"
    seconds = fill_seconds(body, now=now)
    if seconds is not None and seconds < settings.CAPTURE_MIN_FILL_SECONDS:
        return "too_fast"
    return None


def fill_seconds(body: dict, *, now: float | None = None) -> float | None:
    """Seconds between showing and sending the form; None when the form did not say."""
    rendered = body.get(RENDERED_AT)
    if rendered in (None, ""):
        return None
    sent = body.get(SENT_AT)
    try:
        rendered_ms = float(rendered)
        sent_ms = float(sent) if sent not in (None, "") else (time.time() if now is None else now) * 1000
    except (TypeError, ValueError):
        return 0.0  # our script sends numbers; anything else was written by something else
    return (sent_ms - rendered_ms) / 1000


def record_blocked(*, channel: Channel, reason: str) -> None:
    """Count a caught post on its channel (F() so concurrent catches all count)."""
    Channel.objects.filter(pk=channel.pk).update(blocked_count=F("blocked_count") + 1)
    logger.info("Spam trap (%s) caught a post to channel %s", reason, channel.pk)
