"""Bearer tokens (crm/tokens.py), with a brake on guessing: an address that keeps presenting bad
tokens is answered 429 for a while, before any more of its tokens are looked up."""

import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, Throttled

from crm.client_ip import client_ip
from crm.tokens import TokenRefused, token_authenticate


class BearerTokenAuthentication(TokenAuthentication):
    """`Authorization: Bearer <token>`, checked against the stored hashes of API tokens.

    A subclass of DRF's TokenAuthentication for its header parsing and its OpenAPI description
    only; DRF's own token table (rest_framework.authtoken) is not used.
    """

    keyword = "Bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        client = client_ip(request)
        _refuse_if_throttled(client)
        try:
            return super().authenticate(request)
        except AuthenticationFailed:
            _count_failure(client)
            raise

    def authenticate_credentials(self, key):
        try:
            token = token_authenticate(secret=key)
        except TokenRefused as exc:
            raise AuthenticationFailed(str(exc)) from exc
        return (token.user, token)


def _window(now: float) -> tuple[int, int]:
    """The fixed window `now` falls in, and the seconds until it ends."""
    size = settings.API_TOKEN_FAILURE_WINDOW_SECONDS
    window = int(now // size)
    return window, max(1, int((window + 1) * size - now))


def _key(client: str, window: int) -> str:
    return f"api-token-failures:{client}:{window}"


def _refuse_if_throttled(client: str) -> None:
    window, retry_after = _window(time.time())
    if (cache.get(_key(client, window)) or 0) >= settings.API_TOKEN_FAILURE_LIMIT:
        raise Throttled(
            wait=retry_after,
            # DRF adds "Expected available in N seconds." (and the Retry-After header).
            detail="Too many failed token attempts from your address.",
        )


def _count_failure(client: str) -> None:
    window, _ = _window(time.time())
    key = _key(client, window)
    timeout = settings.API_TOKEN_FAILURE_WINDOW_SECONDS + 60
    cache.add(key, 0, timeout=timeout)
    try:
        cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=timeout)
