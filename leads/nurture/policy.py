"""Which sequence a new lead enters at capture: the workspace's enrolment rules, then its routing threshold.

Capture asks `nurture_at_capture(lead, owned=...)` once, before routing, and calls the answer's `enrol()`
once the lead is saved. The rules come from a per-process cache keyed by the tenant's config_version (the
row capture already read), so a capture costs no extra query until a lead matches; saving a NurturePolicy,
a Sequence or an EnrolmentRule bumps that version (signals below), as scoring rule changes do
(leads/rules/config.py).

What decides, in order:
1. A lead without an email, a hot one, or one that qualifies at capture is nurtured by nobody: it goes to a rep.
2. The workspace's active enrolment rules, lowest priority first: the first whose score bands, sources,
   channels and conditions all match enrols the lead (its owner, if the channel gave one, stays; an unowned
   lead is held from reps when the rule says "nurture instead of a rep").
3. The routing policy (`NurturePolicy.nurture_below_score`): an unowned lead scoring under it goes to the
   routing sequence instead of a rep.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models.signals import m2m_changed, post_delete, post_save

from crm.models import Tenant
from leads.choices import RuleOperator, ScoreBand
from leads.models import EnrolmentRule, Lead, NurturePolicy, Sequence
from leads.rules.conditions import Condition, ConditionError, matches, parse_conditions
from leads.rules.scoring import will_auto_qualify

from .service import enrol_lead

DEFAULT_BANDS = frozenset({ScoreBand.COLD.value, ScoreBand.WARM.value})


@dataclass(frozen=True)
class _Rule:
    name: str
    sequence_id: int
    bands: frozenset[str]
    sources: frozenset[str]  # empty: any
    channel_ids: frozenset[int]  # empty: any
    conditions: tuple[Condition, ...]
    hold_from_reps: bool

    def matches(self, lead: Lead) -> bool:
        return (lead.score_band in self.bands
                and (not self.sources or lead.source in self.sources)
                and (not self.channel_ids or lead.channel_id in self.channel_ids)
                and all(matches(c, lead, activity_counts={}) for c in self.conditions))


@dataclass(frozen=True)
class _Config:
    rules: tuple[_Rule, ...]
    routing: tuple[int | None, int] | None  # (threshold, sequence id)


@dataclass(frozen=True)
class NurturePlan:
    """Where a new lead goes: `sequence`; `instead_of_rep`: routing leaves it without a rep; `rule`: why."""

    sequence: Sequence
    instead_of_rep: bool
    rule: str

    def enrol(self, *, lead: Lead, now: dt.datetime) -> Lead:
        """Enrol the saved lead (capture's transaction holds its row)."""
        return enrol_lead(lead=lead, sequence=self.sequence, actor=None, held=True, now=now, rule=self.rule)


_cache: dict[int, tuple[object, _Config]] = {}


def check_conditions(conditions: object) -> list[Condition]:
    """An enrolment rule's extra conditions, checked; ValidationError({"conditions": ...}) says what is wrong."""
    try:
        parsed = parse_conditions(conditions if isinstance(conditions, Iterable) else [conditions])
    except ConditionError as exc:
        raise ValidationError({"conditions": [str(exc)]}) from exc
    if any(c.operator == RuleOperator.ACTIVITY_COUNT for c in parsed):
        raise ValidationError({"conditions": [
            "Enrolment rules read the lead's fields: at capture a lead has no activities to count yet."]})
    return parsed


def _load(tenant: Tenant) -> _Config:
    rules = []
    for row in (EnrolmentRule.objects.filter(tenant_id=tenant.pk, active=True, sequence__active=True)
                .prefetch_related("channels").order_by("priority", "id")):
        try:
            conditions = tuple(check_conditions(row.conditions))
        except ValidationError:
            continue  # a rule saved around the admin's checks: never matches rather than failing every capture
        rules.append(_Rule(
            name=row.name, sequence_id=row.sequence_id,
            bands=frozenset(row.score_bands or ()) & DEFAULT_BANDS or DEFAULT_BANDS,
            sources=frozenset(row.sources or ()), channel_ids=frozenset(c.pk for c in row.channels.all()),
            conditions=conditions, hold_from_reps=row.hold_from_reps))
    routing = (NurturePolicy.objects.filter(tenant_id=tenant.pk, nurture_below_score__isnull=False,
                                            routing_sequence__active=True)
               .values_list("nurture_below_score", "routing_sequence_id").first())
    return _Config(rules=tuple(rules), routing=routing)


def _config(tenant: Tenant) -> _Config:
    cached = _cache.get(tenant.pk)
    if cached is not None and cached[0] == tenant.config_version:
        return cached[1]
    config = _load(tenant)
    _cache[tenant.pk] = (tenant.config_version, config)
    return config


def nurture_at_capture(lead: Lead, *, owned: bool) -> NurturePlan | None:
    """The sequence a new, scored (unsaved) lead enters, or None: it goes to a rep as usual.

    `owned`: the channel gave it an owner already (then only enrolment rules apply, and the owner stays)."""
    if not lead.email or lead.score_band == ScoreBand.HOT or will_auto_qualify(lead):
        return None
    config = _config(lead.tenant)
    for rule in config.rules:
        if rule.matches(lead):
            sequence = Sequence.objects.filter(pk=rule.sequence_id, active=True).first()
            if sequence is not None:
                return NurturePlan(sequence=sequence, instead_of_rep=rule.hold_from_reps and not owned,
                                   rule=rule.name)
    routing = config.routing
    if owned or routing is None or routing[0] is None or lead.score_total >= routing[0]:
        return None
    sequence = Sequence.objects.filter(pk=routing[1], active=True).first()
    return NurturePlan(sequence=sequence, instead_of_rep=True, rule="") if sequence else None


def _changed(sender, instance, **kwargs) -> None:
    Tenant.objects.bump_config_version(instance.tenant_id)


for model in (NurturePolicy, Sequence, EnrolmentRule):
    post_save.connect(_changed, sender=model, dispatch_uid=f"nurture-config-save-{model.__name__}")
    post_delete.connect(_changed, sender=model, dispatch_uid=f"nurture-config-delete-{model.__name__}")
m2m_changed.connect(_changed, sender=EnrolmentRule.channels.through, dispatch_uid="nurture-config-rule-channels")
