"""Which browser origins may post to which website form.

django-cors-headers handles the protocol; this module decides, through its
`check_request_enabled` signal, whether a response on the capture path gets CORS headers:

- a preflight (OPTIONS) carries no form key, so it is allowed when the Origin is listed by any
  active channel;
- the POST itself is judged against its own channel by the view (`check_form_origin`), which
  also refuses (403) an anonymous post from an Origin the channel does not list;
- answers given before the view knew the channel (401 for a bad key, 413) fall back to the
  preflight rule, so a site owner's browser can read why it was refused;
- the form-token page (`/f/<form_key>/token`, views.py) answers every origin, refusals included,
  so the script can tell "this site may not use the form" from a network failure.

Nothing else answers cross-origin: not the lead list at the same address (GET /api/v1/leads), nor
any other API path. The CRM's own origin (the hosted form page) is always allowed to post.
"""

from __future__ import annotations

import re

from corsheaders.signals import check_request_enabled
from django.conf import settings
from django.dispatch import receiver

from leads.models import Channel

CAPTURE_PATH = re.compile(settings.CAPTURE_PATH_REGEX)
DECISION_ATTR = "capture_cors_allowed"


class OriginNotAllowed(Exception):
    pass


def normalise_origin(value: str) -> str:
    return value.strip().rstrip("/").lower()


def channel_allows(channel: Channel, origin: str) -> bool:
    wanted = normalise_origin(origin)
    return any(isinstance(o, str) and normalise_origin(o) == wanted for o in channel.allowed_origins or [])


def any_channel_allows(origin: str) -> bool:
    # One small query per preflight (browsers cache preflights for hours: Access-Control-Max-Age).
    # A plain scan works on SQLite too, which cannot search inside JSON lists.
    wanted = normalise_origin(origin)
    origins = Channel.objects.filter(is_active=True).exclude(allowed_origins=[]).values_list("allowed_origins", flat=True)
    return any(isinstance(o, str) and normalise_origin(o) == wanted for listed in origins for o in listed or [])


def own_origin(request) -> str:
    return f"{request.scheme}://{request.get_host()}"


def check_form_origin(request, channel: Channel | None, *, enforce: bool) -> None:
    """Decide CORS for this capture request; with `enforce`, refuse an Origin the channel does not list.

    Posts without an Origin (servers, curl, old browsers' same-origin posts) involve no browser
    policy to protect and are let through; the form key and rate limit still apply.
    """
    origin = request.headers.get("Origin")
    allowed = bool(origin) and channel is not None and (
        channel_allows(channel, origin) or normalise_origin(origin) == normalise_origin(own_origin(request))
    )
    # The middleware sees Django's request, not DRF's wrapper.
    setattr(getattr(request, "_request", request), DECISION_ATTR, allowed)
    if origin and enforce and not allowed:
        raise OriginNotAllowed(
            f"Origin {origin} may not post to this form; its owner can add it to the channel's allowed origins."
        )


def let_page_read(request) -> None:
    """Let the calling page read this answer whatever its origin (the form-token page's refusals)."""
    setattr(getattr(request, "_request", request), DECISION_ATTR, True)


def is_capture_post(request) -> bool:
    """The capture's POST, or the browser's preflight asking to make it."""
    if request.method == "OPTIONS":
        return request.headers.get("Access-Control-Request-Method", "").upper() == "POST"
    return request.method == "POST"


@receiver(check_request_enabled, dispatch_uid="leads.capture.cors.allow_capture_origins")
def allow_capture_origins(sender, request, **kwargs) -> bool:
    origin = request.headers.get("Origin")
    if not origin:
        return False
    decided = getattr(request, DECISION_ATTR, None)  # only capture views decide
    if decided is not None:
        return decided
    if not CAPTURE_PATH.match(request.path_info) or not is_capture_post(request):
        return False
    return any_channel_allows(origin)
