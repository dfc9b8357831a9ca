"""The workspace's nurture routing: a new lead scoring under the threshold goes to a sequence instead of a rep.

Capture asks `nurture_instead(lead)` before routing. The answer comes from a per-process cache keyed by
the tenant's config_version (the row capture already read), so a capture costs no extra query; saving a
NurturePolicy or a Sequence bumps that version (signals below), as rule changes do (leads/rules/config.py).
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from crm.models import Tenant
from leads.models import Lead, NurturePolicy, Sequence

_cache: dict[int, tuple[str, tuple[int | None, int] | None]] = {}


def _routing(tenant: Tenant) -> tuple[int | None, int] | None:
    """(threshold, sequence id) of the workspace, or None when it routes every lead to reps."""
    cached = _cache.get(tenant.pk)
    if cached is not None and cached[0] == tenant.config_version:
        return cached[1]
    row = (NurturePolicy.objects.filter(tenant_id=tenant.pk, nurture_below_score__isnull=False,
                                        routing_sequence__active=True)
           .values_list("nurture_below_score", "routing_sequence_id").first())
    _cache[tenant.pk] = (tenant.config_version, row)
    return row


def nurture_instead(lead: Lead) -> Sequence | None:
    """The sequence a new, scored lead goes to instead of a rep (None: route it to a rep as usual)."""
    routing = _routing(lead.tenant)
    if routing is None or routing[0] is None or not lead.email or lead.score_total >= routing[0]:
        return None
    return Sequence.objects.filter(pk=routing[1], active=True).first()


def _changed(sender, instance, **kwargs) -> None:
    Tenant.objects.bump_config_version(instance.tenant_id)


for model in (NurturePolicy, Sequence):
    post_save.connect(_changed, sender=model, dispatch_uid=f"nurture-config-save-{model.__name__}")
    post_delete.connect(_changed, sender=model, dispatch_uid=f"nurture-config-delete-{model.__name__}")
