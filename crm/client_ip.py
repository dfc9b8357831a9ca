"""The address a request came from, for every per-client limit (form rate limits, sign-in lockout, token throttle)."""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_ip(request) -> str:
    """The address the request came from, trusting only the proxies the settings say are ours.

    With TRUSTED_PROXY_COUNT = N, each of our N proxies appended the address it saw, so the Nth
    entry from the right is the client as our outermost proxy saw it; whatever a client wrote
    further left is ignored, so a forged header cannot pick its own rate-limit bucket.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if not hops:
        return remote
    # Fewer hops than proxies: the request skipped some of them; the leftmost is the best we know.
    candidate = hops[max(len(hops) - proxies, 0)]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
