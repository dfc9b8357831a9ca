"""Public pages (no login): the hosted website form, and the token every form carries."""

import re

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from leads.capture import cors, spam
from leads.models import Channel

# Only well-formed origins go into the CSP header: a channel's list is typed by a tenant admin.
ORIGIN_RE = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+$")
NOT_ALLOWED = "This form is not allowed on this site."


@xframe_options_exempt  # framing is governed by the CSP below instead
@never_cache  # the page carries a token issued now
@require_GET
def hosted_form(request, form_key: str):
    """`/f/<form_key>/`: the channel's form on its own page, to link to or to put in an iframe."""
    channel = get_object_or_404(Channel.objects.select_related("tenant"), form_key=form_key, is_active=True)
    context = {
        "channel": channel,
        "token": spam.issue_token(channel=channel),
        "token_max_age": settings.CAPTURE_FORM_TOKEN_MAX_AGE_SECONDS,
    }
    response = render(request, "leads/hosted_form.html", context)
    # Framed only by the CRM itself and the sites the channel lists; X-Frame-Options cannot name several.
    ancestors = ["'self'", *(o.rstrip("/") for o in channel.allowed_origins or [] if isinstance(o, str) and ORIGIN_RE.match(o.rstrip("/")))]
    response["Content-Security-Policy"] = f"frame-ancestors {' '.join(ancestors)}"
    return response


@never_cache
@require_GET
def form_token(request, form_key: str):
    """`/f/<form_key>/token`: the signed "form shown at" time the spam trap measures from.

    embed.js asks for it when it shows a form. The answer is readable from any origin, so that a
    site the channel does not list learns why (403, "not allowed on this site") instead of seeing
    its post fail like a network error: a refused CORS request is opaque to the page.
    """
    channel = Channel.objects.filter(form_key=form_key, is_active=True).first()
    if channel is None:
        response = JsonResponse({"detail": "Unknown or inactive form key."}, status=404)
    else:
        try:
            cors.check_form_origin(request, channel, enforce=True)
        except cors.OriginNotAllowed:
            response = JsonResponse({"detail": NOT_ALLOWED, "code": "origin_not_allowed"}, status=403)
        else:
            response = JsonResponse({
                "token": spam.issue_token(channel=channel),
                "min_fill_seconds": settings.CAPTURE_MIN_FILL_SECONDS,
                "max_age_seconds": settings.CAPTURE_FORM_TOKEN_MAX_AGE_SECONDS,
            })
    cors.let_page_read(request)
    patch_vary_headers(response, ["Origin"])
    return response
