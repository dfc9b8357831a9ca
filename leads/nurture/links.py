"""Signed links of nurture email: one-click unsubscribe, the open pixel, the click redirect.

A link carries the lead's public id (and the step run's id, and for clicks the target URL), signed
with the project's SECRET_KEY under a salt of its own: nobody makes a link for another lead or
redirects to a URL the email did not hold. Links do not expire (an old email's unsubscribe must work).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

UNSUBSCRIBE_SALT = "leads.nurture.unsubscribe"
OPEN_SALT = "leads.nurture.open"
CLICK_SALT = "leads.nurture.click"


@dataclass(frozen=True)
class Link:
    lead_id: str  # public id
    run_id: int | None = None
    url: str = ""


def _absolute(path: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def make_token(salt: str, link: Link) -> str:
    return signing.dumps({"l": link.lead_id, "r": link.run_id, "u": link.url}, salt=salt, compress=True)


def read_token(salt: str, token: str) -> Link | None:
    """The link a token was made for, or None when it was not signed by us for this purpose."""
    try:
        data = signing.loads(token, salt=salt)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("l"), str):
        return None
    return Link(lead_id=data["l"], run_id=data.get("r"), url=data.get("u") or "")


def unsubscribe_url(lead_public_id: str) -> str:
    return _absolute(reverse("nurture-unsubscribe", args=[make_token(UNSUBSCRIBE_SALT, Link(lead_public_id))]))


def open_url(lead_public_id: str, run_id: int) -> str:
    return _absolute(reverse("nurture-open", args=[make_token(OPEN_SALT, Link(lead_public_id, run_id))]))


def click_url(lead_public_id: str, run_id: int, url: str) -> str:
    return _absolute(reverse("nurture-click", args=[make_token(CLICK_SALT, Link(lead_public_id, run_id, url))]))
