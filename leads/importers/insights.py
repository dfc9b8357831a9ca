"""Score (and predict) a batch of imported leads before they are written, with capture's evaluator.

Every new lead is scored by leads.scoring.compute_score, the function capture's rescore_lead
uses, on the row's values with the one activity an imported lead has ("imported"), so it is
written once, already scored, instead of inserted and then rewritten by a rescoring UPDATE
(which would double the writes of a million-row import). Rows that read the same values (the
fields the tenant's rules look at) get the same score, so each distinct combination is computed
once. A lead's prediction is computed the same way when the tenant has an active model.

Belongs in leads/rules/scoring.py and leads/prediction/service.py (a "score these unsaved values" entry point);
kept here until those modules' owners take it.
"""

from __future__ import annotations

import json
from typing import Any

from crm.choices import ActivityKind
from crm.models import Tenant
from leads.prediction.features import lead_facts
from leads.prediction.service import explain, recommend
from leads.rules.conditions import matches
from leads.rules.config import config_for
from leads.rules.scoring import Score, compute_score

from ..choices import OPEN_STATUSES
from .writer import Json

IMPORTED_COUNTS = {ActivityKind.IMPORTED.value: 1}


class _OneField:
    """A lead that has just one field set: what one rule's condition reads."""

    __slots__ = ("email", "_name", "_value")

    def __init__(self, name: str, value: Any):
        self._name, self._value = name, value
        self.email = value if name == "email" else ("@" + value if name == "email_domain" else None)

    def __getattr__(self, attribute: str) -> Any:
        return self._value if attribute == self._name else None


class BatchInsights:
    def __init__(self, *, tenant: Tenant):
        self.tenant = tenant
        config = config_for(tenant)  # the rules and model of the tenant row the run started with
        self.sheet = config.sheet
        self.model = config.model
        # A rule's verdict depends on one field's value (activity-count rules on the counts every
        # imported lead shares, so they are decided here once): each (field, value) is decided once for
        # all the rules reading that field, and each combination of verdicts is scored once.
        by_field: dict[str, list] = {}
        for rule in self.sheet.rules:
            if rule.condition.kind != "activity":
                by_field.setdefault(rule.condition.field, []).append(rule.condition)
        self._fields: list[tuple[str, list, dict]] = [(name, conditions, {}) for name, conditions in by_field.items()]
        self._scores: dict[tuple, tuple[Score, Json]] = {}

    def _verdicts(self, values: dict[str, Any]) -> tuple:
        verdicts = []
        for name, conditions, seen in self._fields:
            # conditions.lead_value on these values (a dict: absent fields read as None).
            value = (values.get("email") or "").partition("@")[2] if name == "email_domain" else values.get(name)
            try:
                verdicts.append(seen[value])
            except (KeyError, TypeError):
                probe = _OneField(name, value)
                decided = tuple(matches(condition, probe, IMPORTED_COUNTS) for condition in conditions)
                if len(seen) < 100_000:
                    try:
                        seen[value] = decided
                    except TypeError:
                        pass
                verdicts.append(decided)
        return tuple(verdicts)

    def apply(self, values: dict[str, Any], now) -> None:
        """Set the score fields (and the prediction fields, with a model) on one row's values."""
        key = self._verdicts(values)
        known = self._scores.get(key)
        if known is None:
            score = compute_score(lead=values, sheet=self.sheet, activity_counts=IMPORTED_COUNTS, tenant=self.tenant)
            known = self._scores[key] = (score, Json(json.dumps(score.factors)))
        score, factors = known
        values["score_total"], values["score_band"], values["grade"] = score.total, score.band, score.grade
        values["score_version"], values["score_factors"] = score.version, factors
        values["score_updated_at"] = now
        if self.model is not None and values.get("status") in OPEN_STATUSES:
            self._predict(values, now)

    def _predict(self, values: dict[str, Any], now) -> None:
        assert self.model is not None  # apply() checked
        probability, _, reason = explain(self.model, lead_facts(values, IMPORTED_COUNTS))
        values["probability"], values["recommendation"] = probability, recommend(probability)
        values["recommendation_reason"], values["prediction_version"] = reason, self.model.version
        values["predicted_at"] = now
