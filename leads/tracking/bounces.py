"""Bounce reports from the mail provider: django-anymail's tracking signal (its webhooks, mounted under
/anymail/ when ANYMAIL["WEBHOOK_SECRET"] is set) -> leads.nurture.service.record_bounce.

The nurture email carries its step run and lead in the message's metadata (leads/nurture/mail.py); a
provider that does not echo metadata back is matched by the recipient's address instead.
"""

from __future__ import annotations

from anymail.signals import AnymailTrackingEvent, EventType, tracking

from leads.nurture import service
from leads.nurture.mail import METADATA_LEAD, METADATA_RUN

BOUNCES = frozenset({EventType.BOUNCED, EventType.REJECTED})


def _run_id(value: object) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isascii() and text.isdigit() else None


def on_tracking(sender, event: AnymailTrackingEvent, esp_name: str = "", **kwargs) -> None:
    if event.event_type not in BOUNCES:
        return
    metadata = event.metadata if isinstance(event.metadata, dict) else {}
    detail = " ".join(str(part) for part in (event.event_type, event.reject_reason, event.description,
                                             event.mta_response) if part)
    service.record_bounce(run_id=_run_id(metadata.get(METADATA_RUN)),
                          lead_id=str(metadata.get(METADATA_LEAD) or "") or None,
                          recipient=event.recipient or "", detail=f"{esp_name}: {detail}" if esp_name else detail)


tracking.connect(on_tracking, dispatch_uid="leads-nurture-bounces")
