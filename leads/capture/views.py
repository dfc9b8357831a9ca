"""Public pages (no login): the hosted website form."""

import re

from django.shortcuts import get_object_or_404, render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from leads.models import Channel

# Only well-formed origins go into the CSP header: a channel's list is typed by a tenant admin.
ORIGIN_RE = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+$")


@xframe_options_exempt  # framing is governed by the CSP below instead
@require_GET
def hosted_form(request, form_key: str):
    """`/f/<form_key>/`: the channel's form on its own page, to link to or to put in an iframe."""
    channel = get_object_or_404(Channel.objects.select_related("tenant"), form_key=form_key, is_active=True)
    response = render(request, "leads/hosted_form.html", {"channel": channel})
    # Framed only by the CRM itself and the sites the channel lists; X-Frame-Options cannot name several.
    ancestors = ["'self'", *(o.rstrip("/") for o in channel.allowed_origins or [] if isinstance(o, str) and ORIGIN_RE.match(o.rstrip("/")))]
    response["Content-Security-Policy"] = f"frame-ancestors {' '.join(ancestors)}"
    return response
