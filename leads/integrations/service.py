"""Ad leads in: the entry points the hook views and the fetch task call.

Each announced lead gets one AdLead row per (workspace, platform, platform id) before anything
else happens, so the same webhook twice, a Facebook retry after a timeout, or a task run twice
make one lead: the row is locked while its lead is captured and remembers that it was.
The capture itself is leads.capture.service's, as for a website form (normalise, dedupe by email,
score, route, timeline, events), with the platform as the source and its lead id as external_id.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from leads.campaigns import campaign_seen
from leads.capture.service import capture_lead
from leads.choices import AdLeadStatus, CampaignPlatform, ChannelKind, LeadSource
from leads.integrations import facebook, google
from leads.integrations.mapping import lead_data
from leads.models import AdLead, Channel, Lead

log = logging.getLogger(__name__)
FETCH_TASK = "leads.tasks.fetch_facebook_lead"


class WebhookRefused(Exception):
    """403: the signature, verify token or key does not match."""


class WebhookInvalid(ValueError):
    """400: the body is not what the platform sends; `field` names what is wrong."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name


class ChannelNotFound(Exception):
    """404: no active channel of that kind has this key."""


# --- Facebook ---


def facebook_handshake(*, mode: str | None, verify_token: str | None, challenge: str | None) -> str:
    """The subscription check: the challenge back when the token is an active Facebook channel's."""
    if mode != "subscribe" or not verify_token or challenge is None:
        raise WebhookRefused("Not a subscription request.")
    if not Channel.objects.filter(kind=ChannelKind.FACEBOOK_LEAD_ADS, is_active=True, verify_token=verify_token).exists():
        raise WebhookRefused("The verify token matches no Facebook channel.")
    return challenge


def facebook_webhook_receive(*, body: bytes, signature: str | None, now=None) -> list[int]:
    """Record a delivery's leads (one AdLead each) and queue their fetch; returns the queued AdLead ids.

    Each change goes to the active channel of its page whose app secret signed the body; a page
    with no such channel is skipped. Raises WebhookRefused when the body names pages and none of their
    channels' secrets signed it, WebhookInvalid when it is not JSON.
    """
    now = now or timezone.now()
    try:
        payload = json.loads(body)
    except ValueError:
        raise WebhookInvalid("body", "Not JSON.") from None
    changes = facebook.leadgen_changes(payload)
    if not changes:
        return []
    channels = Channel.objects.filter(
        kind=ChannelKind.FACEBOOK_LEAD_ADS, is_active=True, page_id__in={c.page_id for c in changes}
    ).only("id", "tenant_id", "page_id", "app_secret")
    signed: dict[str, Channel] = {}
    unsigned = []
    for channel in channels:
        if facebook.signature_matches(body=body, header=signature, app_secret=channel.app_secret):
            signed.setdefault(channel.page_id, channel)
        else:
            unsigned.append(channel.pk)
    if unsigned:
        _note_error(unsigned, "A webhook's signature did not match this channel's app secret.", now)
    if not signed:
        raise WebhookRefused("The signature does not match.")
    queued = []
    with transaction.atomic():
        for change in changes:
            page_channel = signed.get(change.page_id)
            if page_channel is None:
                continue
            ad_lead, created = _announce(
                channel=page_channel, platform=CampaignPlatform.FACEBOOK, external_id=change.leadgen_id, now=now,
                ad_id=change.ad_id, adgroup_id=change.adgroup_id, form_id=change.form_id,
            )
            if created or ad_lead.status != AdLeadStatus.CAPTURED:
                queued.append(ad_lead.pk)
        Channel.objects.filter(pk__in=[c.pk for c in signed.values()]).update(last_webhook_at=now)
        if queued:
            transaction.on_commit(lambda: _queue_fetches(queued))
    return queued


def _queue_fetches(ad_lead_ids: list[int]) -> None:
    from celery import current_app

    task = current_app.tasks[FETCH_TASK]
    for ad_lead_id in ad_lead_ids:
        task.delay(ad_lead_id)


@dataclass(frozen=True)
class FetchOutcome:
    ad_lead: AdLead
    lead: Lead | None


def facebook_lead_fetch(*, ad_lead_id: int, last_attempt: bool = True) -> FetchOutcome:
    """Fetch an announced Facebook lead from the Graph API and capture it (nothing when it already was).

    Raises facebook.FetchFailed when the fetch fails (the task retries); the error is kept on the AdLead
    and the channel, and on the last attempt the AdLead is marked failed.
    """
    ad_lead = AdLead.objects.select_related("channel").get(pk=ad_lead_id)
    if ad_lead.status == AdLeadStatus.CAPTURED:
        return FetchOutcome(ad_lead=ad_lead, lead=ad_lead.lead)
    AdLead.objects.filter(pk=ad_lead.pk).update(attempts=ad_lead.attempts + 1)
    channel = ad_lead.channel
    try:
        fetched = facebook.fetch_lead(leadgen_id=ad_lead.external_id, access_token=channel.page_access_token)
    except facebook.FetchFailed as exc:
        _fail(ad_lead, str(exc), final=last_attempt)
        raise
    attribution = {
        "ad_id": _text(fetched.get("ad_id")) or ad_lead.ad_id,
        "adgroup_id": _text(fetched.get("adset_id")) or ad_lead.adgroup_id,
        "form_id": _text(fetched.get("form_id")) or ad_lead.form_id,
    }
    data = lead_data(facebook.answers(fetched), mapping=channel.field_mapping)
    return _capture(
        ad_lead_id=ad_lead.pk, data=data, attribution=attribution, campaign_id=_text(fetched.get("campaign_id")),
        campaign_name=_text(fetched.get("campaign_name")), is_test=False,
    )


# --- Google ---


def google_lead_receive(*, channel_key: str, body: object, now=None) -> FetchOutcome:
    """Capture a Google Ads lead form's webhook lead (once per lead_id) for the channel with this key.

    Raises ChannelNotFound, WebhookRefused (google_key wrong) or WebhookInvalid (not a lead form body).
    """
    now = now or timezone.now()
    channel = Channel.objects.filter(
        kind=ChannelKind.GOOGLE_LEAD_FORM, is_active=True, form_key=channel_key
    ).first()
    if channel is None:
        raise ChannelNotFound("No active Google lead form channel has this key.")
    try:
        parsed = google.parse(body)
    except google.BodyInvalid as exc:
        raise WebhookInvalid(exc.field, str(exc)) from None
    if not google.key_matches(sent=parsed.google_key, expected=channel.google_key):
        _note_error([channel.pk], "A webhook came with a google_key that is not this channel's.", now)
        raise WebhookRefused("The google_key does not match this channel's key.")
    attribution = {"ad_id": parsed.creative_id, "adgroup_id": parsed.adgroup_id, "form_id": parsed.form_id}
    with transaction.atomic():
        ad_lead, _ = _announce(channel=channel, platform=CampaignPlatform.GOOGLE, external_id=parsed.lead_id, now=now,
                               is_test=parsed.is_test, **attribution)
        Channel.objects.filter(pk=channel.pk).update(last_webhook_at=now)
    data = lead_data(parsed.answers, mapping=channel.field_mapping)
    if parsed.gcl_id:
        data.setdefault("custom_fields", {})["gclid"] = parsed.gcl_id
    return _capture(ad_lead_id=ad_lead.pk, data=data, attribution=attribution, campaign_id=parsed.campaign_id,
                    campaign_name="", is_test=parsed.is_test)


# --- Shared ---


def _announce(*, channel: Channel, platform: str, external_id: str, now, **details) -> tuple[AdLead, bool]:
    """The AdLead of a platform's lead id, recorded when first announced (a savepoint: a concurrent
    announcement of the same id waits on the unique index, then reads the row it wrote)."""
    lookup = {"tenant_id": channel.tenant_id, "platform": platform, "external_id": external_id}
    existing = AdLead.objects.filter(**lookup).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return AdLead.objects.create(**lookup, channel=channel, received_at=now, **details), True
    except IntegrityError:
        return AdLead.objects.get(**lookup), False


def _capture(*, ad_lead_id: int, data: dict, attribution: dict, campaign_id: str, campaign_name: str,
             is_test: bool) -> FetchOutcome:
    now = timezone.now()
    with transaction.atomic():
        # Locked first (before capture claims the email): a concurrent run for this lead waits here,
        # then sees it captured.
        ad_lead = AdLead.objects.select_for_update().select_related("channel__tenant").get(pk=ad_lead_id)
        if ad_lead.status == AdLeadStatus.CAPTURED:
            return FetchOutcome(ad_lead=ad_lead, lead=ad_lead.lead)
        channel = ad_lead.channel
        if not data.get("email") and not data.get("phone"):
            _fail(ad_lead, "The lead has neither an email nor a phone number; nothing was captured.", final=True)
            return FetchOutcome(ad_lead=ad_lead, lead=None)
        campaign = campaign_seen(tenant_id=channel.tenant_id, platform=ad_lead.platform, external_id=campaign_id,
                                 name=campaign_name, now=now)
        source = LeadSource.FACEBOOK_LEAD_AD if ad_lead.platform == CampaignPlatform.FACEBOOK else LeadSource.GOOGLE_LEAD_FORM
        data = {**data, "external_id": ad_lead.external_id}
        if campaign is not None and campaign.name:
            data.setdefault("campaign", campaign.name)
        result = capture_lead(tenant=channel.tenant, data=data, source=source, channel=channel, campaign=campaign,
                              is_test=is_test)
        for name, value in attribution.items():
            setattr(ad_lead, name, value)
        ad_lead.lead = result.lead
        ad_lead.campaign = campaign
        ad_lead.status = AdLeadStatus.CAPTURED
        ad_lead.captured_at = now
        ad_lead.error = ""
        ad_lead.save(update_fields=[*attribution, "lead", "campaign", "status", "captured_at", "error"])
    return FetchOutcome(ad_lead=ad_lead, lead=result.lead)


def _fail(ad_lead: AdLead, message: str, *, final: bool) -> None:
    now = timezone.now()
    updates: dict = {"error": message[:2000]}
    if final:
        updates["status"] = AdLeadStatus.FAILED
    AdLead.objects.filter(pk=ad_lead.pk).update(**updates)
    for name, value in updates.items():
        setattr(ad_lead, name, value)
    _note_error([ad_lead.channel_id], f"Lead {ad_lead.external_id}: {message}", now)
    log.warning("ad lead %s (%s) not captured: %s", ad_lead.pk, ad_lead.platform, message)


def _note_error(channel_ids: list[int], message: str, now) -> None:
    Channel.objects.filter(pk__in=channel_ids).update(last_error=message[:2000], last_error_at=now)


def _text(value: object) -> str:
    return str(value).strip()[:200] if value not in (None, "") else ""
