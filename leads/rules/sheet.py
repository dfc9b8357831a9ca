"""A tenant's scoring sheet: its active ScoringRule rows, checked, in breakdown order, with the version
that names them. Read by scoring (leads/rules/scoring.py) and cached per process (leads/rules/config.py)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from crm.models import Tenant
from leads.models import ScoringRule
from leads.rules.conditions import Condition, ConditionError, parse_condition

log = logging.getLogger(__name__)

NOT_FOR_SCORING = frozenset({"score_total"})  # a score cannot depend on itself


@dataclass(frozen=True)
class Rule:
    id: int
    name: str
    category: str
    points: int
    condition: Condition

    def factor(self) -> dict[str, Any]:
        return {"rule_id": self.id, "name": self.name, "category": self.category, "points": self.points}


@dataclass(frozen=True)
class RuleSheet:
    """A tenant's active, valid rules in breakdown order, and the version that names them."""

    rules: tuple[Rule, ...]
    version: str

    @property
    def counts_activities(self) -> bool:
        return any(rule.condition.kind == "activity" for rule in self.rules)


def check_rule(*, field: str, operator: str, value: Any) -> Condition:
    """The rule's condition if a scoring rule may use it; ConditionError (naming the field) if not."""
    condition = parse_condition({"field": field, "operator": operator, "value": value})
    if condition.kind != "activity" and condition.field in NOT_FOR_SCORING:
        raise ConditionError(
            f"Scoring rules cannot read {condition.field}: a score cannot depend on itself.", part="field"
        )
    return condition


def rule_sheet(tenant: Tenant | int) -> RuleSheet:
    """The tenant's active rules, checked; one that cannot be evaluated is logged and left out."""
    tenant_id = tenant.pk if isinstance(tenant, Tenant) else tenant
    rules = []
    for row in ScoringRule.objects.filter(tenant_id=tenant_id, active=True).order_by("category", "name", "id"):
        try:
            condition = check_rule(field=row.field, operator=row.operator, value=row.value)
        except ConditionError as exc:
            log.warning("Scoring rule %s (%s) skipped: %s", row.pk, row.name, exc)
            continue
        rules.append(Rule(id=row.pk, name=row.name, category=row.category, points=row.points, condition=condition))
    return RuleSheet(rules=tuple(rules), version=rules_version(rules))


def rules_version(rules: Iterable[Rule]) -> str:
    """12 hex characters naming exactly this set of rules (what each reads, compares and gives)."""
    described = sorted(
        [r.id, r.name, r.category, r.condition.field, r.condition.operator, r.condition.value, r.points] for r in rules
    )
    return hashlib.sha256(json.dumps(described).encode()).hexdigest()[:12]
