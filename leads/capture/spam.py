"""The spam trap on anonymous form posts: a honeypot field and a minimum time to fill the form.

A caught post is answered exactly like a real one (so a bot learns nothing), stores no lead,
and is counted on its channel.

Fill time is measured on the server's clock only. The form carries a token the server issued
when it was shown (`/f/<form_key>/token`, or rendered into the hosted page): the time in
milliseconds, signed with the channel's key as salt, so it cannot be forged, moved or carried to
another form. A client's own `_ts`/`_sent` are no longer believed (anyone could write them).

- A post with a forged, foreign or expired token, or sent sooner than CAPTURE_MIN_FILL_SECONDS
  after its token was issued, is caught.
- A browser post (it has an `Origin`) without a token is refused with a readable 400 asking to
  reload the page rather than caught: it comes from a page that loaded an older embed.js, and a
  silent "received" would lose that visitor's lead. A bot learns nothing it could not read in
  embed.js.
- A post without an `Origin` (your own server, curl) is not judged on time, as before: such
  senders cannot know the rule; the honeypot and the rate limit still apply.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core import signing
from django.db.models import F

from leads.models import Channel

logger = logging.getLogger(__name__)

TOKEN_FIELD = "_token"
SALT = "leads.capture.form-token"


class TokenMissing(Exception):
    """A browser post without a form token: a page from before tokens, to be reloaded."""

    message = "This form is out of date: please reload the page and send it again."


def honeypot_field() -> str:
    return settings.CAPTURE_HONEYPOT_FIELD


def _signer(channel: Channel) -> signing.Signer:
    # Salted with the form key: a token is good for its own form only, and rotating the key voids it.
    return signing.Signer(salt=f"{SALT}:{channel.form_key}")


def issue_token(*, channel: Channel, now: float | None = None) -> str:
    """The server's "this form was shown now", in milliseconds, signed for this channel."""
    now = time.time() if now is None else now
    return _signer(channel).sign(str(int(now * 1000)))


def token_age(token, *, channel: Channel, now: float | None = None) -> float | None:
    """Seconds since the server issued this token; None when it did not issue it (or not for this form)."""
    if not isinstance(token, str):
        return None
    try:
        issued_ms = int(_signer(channel).unsign(token))
    except (signing.BadSignature, ValueError):
        return None
    now = time.time() if now is None else now
    return now - issued_ms / 1000


def spam_reason(body: dict, *, channel: Channel, from_browser: bool, now: float | None = None) -> str | None:
    """Why this post looks automated, or None when it looks human. Raises TokenMissing (see above).

    Reasons: 'honeypot', 'bad_token' (forged or for another form), 'expired_token', 'too_fast'.
    """
    if str(body.get(honeypot_field()) or "").strip():
        return "honeypot"
    token = body.get(TOKEN_FIELD)
    if token in (None, ""):
        if from_browser:
            raise TokenMissing(TokenMissing.message)
        return None
    age = token_age(token, channel=channel, now=now)
    if age is None:
        return "bad_token"
    if age > settings.CAPTURE_FORM_TOKEN_MAX_AGE_SECONDS:
        return "expired_token"
    if age < settings.CAPTURE_MIN_FILL_SECONDS:
        return "too_fast"
    return None


def record_blocked(*, channel: Channel, reason: str) -> None:
    """Count a caught post on its channel (F() so concurrent catches all count)."""
    Channel.objects.filter(pk=channel.pk).update(blocked_count=F("blocked_count") + 1)
    logger.info("Spam trap (%s) caught a post to channel %s", reason, channel.pk)
