"""Campaigns, created on first sight: an ad platform's campaign id, or a campaign a form or import names.

Every door that links a lead to a campaign asks here, so one campaign is one row per workspace:
an ad campaign by (platform, id), a named one by its name.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone

from leads.choices import CampaignPlatform
from leads.models import Campaign, Lead

NAME_MAX = 200


def campaign_seen(*, tenant_id: int, platform: str, external_id: str = "", name: str = "", now=None) -> Campaign | None:
    """The workspace's campaign for a platform's id (or, without one, for a name), made when first seen.

    A later sighting moves `last_seen_at` on, and gives a nameless ad campaign the name it now has
    (a name set in the admin is kept). None when there is neither an id nor a name.
    """
    external_id = (external_id or "").strip()[:NAME_MAX]
    name = (name or "").strip()[:NAME_MAX]
    if not external_id and not name:
        return None
    now = now or timezone.now()
    lookup = {"tenant_id": tenant_id, "platform": platform}
    lookup.update({"external_id": external_id} if external_id else {"external_id": "", "name": name})
    campaign = Campaign.objects.filter(**lookup).first()
    if campaign is None:
        try:
            with transaction.atomic():  # a savepoint: a concurrent first sighting wins, we read its row
                return Campaign.objects.create(**{"name": name, **lookup}, first_seen_at=now, last_seen_at=now)
        except IntegrityError:
            campaign = Campaign.objects.get(**lookup)
    updates = {"last_seen_at": now} if campaign.last_seen_at < now else {}
    if name and not campaign.name:
        updates["name"] = name
    if updates:
        Campaign.objects.filter(pk=campaign.pk).update(**updates)
        for field, value in updates.items():
            setattr(campaign, field, value)
    return campaign


def link_named_campaigns(*, tenant_id: int, leads: Iterable[Lead]) -> int:
    """Link leads that name a campaign (the free-text `campaign`) but have no campaign row yet, e.g. a batch
    an import just wrote. Returns how many leads were linked."""
    by_name: dict[str, list[int]] = {}
    for lead in leads:
        if lead.campaign and lead.source_campaign_id is None:
            by_name.setdefault(lead.campaign.strip()[:NAME_MAX], []).append(lead.pk)
    linked = 0
    for name, ids in by_name.items():
        campaign = campaign_seen(tenant_id=tenant_id, platform=CampaignPlatform.OTHER, name=name)
        if campaign is not None:
            linked += Lead.objects.filter(pk__in=ids, source_campaign__isnull=True).update(source_campaign=campaign)
    return linked
