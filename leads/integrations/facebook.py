"""Facebook Lead Ads: the webhook's signature and changes, and the Graph API call that reads one lead."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.conf import settings

SIGNATURE_PREFIX = "sha256="
# What the Graph API returns of a lead besides its answers (field_data).
LEAD_FIELDS = "id,created_time,field_data,ad_id,ad_name,adset_id,adset_name,campaign_id,campaign_name,form_id," \
              "is_organic"


class FetchFailed(Exception):
    """The Graph API did not give the lead (network, timeout, an error answer); worth retrying."""


@dataclass(frozen=True)
class LeadgenChange:
    """One `leadgen` change of a webhook delivery: a lead Facebook has for a page."""

    page_id: str
    leadgen_id: str
    form_id: str = ""
    ad_id: str = ""
    adgroup_id: str = ""


def signature_matches(*, body: bytes, header: str | None, app_secret: str) -> bool:
    """Whether `X-Hub-Signature-256` is the HMAC-SHA256 of the raw body with the app's secret."""
    if not header or not app_secret or not header.startswith(SIGNATURE_PREFIX):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix(SIGNATURE_PREFIX).strip().lower())


def sign(*, body: bytes, app_secret: str) -> str:
    """The header Facebook would send with `body` (tests, the benchmark)."""
    return SIGNATURE_PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def leadgen_changes(payload: object) -> list[LeadgenChange]:
    """The delivery's leadgen changes; anything else in it (other fields, malformed entries) is skipped."""
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        return []
    changes = []
    for entry in payload["entry"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("changes"), list):
            continue
        for change in entry["changes"]:
            if not isinstance(change, dict) or change.get("field") != "leadgen" or not isinstance(change.get("value"), dict):
                continue
            value = change["value"]
            leadgen_id = _text(value.get("leadgen_id"))
            page_id = _text(value.get("page_id")) or _text(entry.get("id"))
            if leadgen_id and page_id:
                changes.append(LeadgenChange(
                    page_id=page_id, leadgen_id=leadgen_id, form_id=_text(value.get("form_id")),
                    ad_id=_text(value.get("ad_id")), adgroup_id=_text(value.get("adgroup_id")),
                ))
    return changes


def fetch_lead(*, leadgen_id: str, access_token: str) -> dict:
    """`GET {FACEBOOK_GRAPH_URL}/{leadgen_id}?access_token=...`: the lead, with its answers in field_data.

    Raises FetchFailed with a message that never contains the token.
    """
    query = urllib.parse.urlencode({"access_token": access_token, "fields": LEAD_FIELDS})
    url = f"{settings.FACEBOOK_GRAPH_URL.rstrip('/')}/{urllib.parse.quote(leadgen_id, safe='')}?{query}"
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=settings.FACEBOOK_FETCH_TIMEOUT_SECONDS) as response:
            body = response.read(settings.FACEBOOK_FETCH_MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise FetchFailed(f"Graph API answered {exc.code}: {_graph_error(exc)}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchFailed(f"Graph API unreachable: {type(reason).__name__}") from None
    if len(body) > settings.FACEBOOK_FETCH_MAX_BYTES:
        raise FetchFailed("Graph API answer too large")
    try:
        lead = json.loads(body)
    except ValueError:
        raise FetchFailed("Graph API answer is not JSON") from None
    if not isinstance(lead, dict) or not isinstance(lead.get("field_data", []), list):
        raise FetchFailed("Graph API answer has no field_data")
    return lead


def answers(lead: dict) -> list[tuple[str, str]]:
    """(question name, answer) pairs of a lead's field_data; several values are joined with ", "."""
    pairs = []
    for item in lead.get("field_data") or []:
        if not isinstance(item, dict) or not item.get("name"):
            continue
        values = item.get("values") or []
        values = values if isinstance(values, list) else [values]
        pairs.append((str(item["name"]), ", ".join(str(v) for v in values if v not in (None, ""))))
    return pairs


def _graph_error(exc: urllib.error.HTTPError) -> str:
    try:
        error = json.loads(exc.read(4096)).get("error", {})
        return str(error.get("message", ""))[:300] or exc.reason
    except (ValueError, AttributeError, OSError):
        return str(exc.reason)


def _text(value: object) -> str:
    return str(value).strip()[:200] if value not in (None, "") else ""
