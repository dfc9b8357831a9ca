"""The prediction a lead gets: from the workspace's active model, else from its rule score; written on
the lead with a timeline entry when the advice changes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from crm import timeline
from crm.choices import ActivityKind
from crm.models import Activity, Tenant
from leads.choices import LeadStatus, Recommendation
from leads.models import Lead, PredictionModel
from leads.rules.config import config_for

if TYPE_CHECKING:
    from crm.models import User

from leads.prediction.features import (
    CLOSED,
    COUNTED_KINDS,
    REASON_FACTORS,
    REASON_MIN_CONTRIBUTION,
    RULES_VERSION,
    Factor,
    LeadNotPredictable,
    activity_counts_for,
    lead_facts,
    score_facts,
    setting,
)

# --- the prediction a lead gets ------------------------------------------------------------


@dataclass(frozen=True)
class Prediction:
    lead_id: int
    probability: float
    recommendation: str
    reason: str
    model_version: str
    fallback: bool
    predicted_at: dt.datetime
    factors: list[Factor] = field(default_factory=list)
    lead_public_id: str = ""  # the lead as the API names it (issue 13)


def recommend(probability: float) -> str:
    if probability >= setting("PREDICTION_TRANSFER_AT"):
        return Recommendation.TRANSFER_TO_SALES
    if probability < setting("PREDICTION_DROP_BELOW"):
        return Recommendation.DROP_LEAD
    return Recommendation.CONTINUE_QUALIFICATION


def active_model(tenant_id: int) -> PredictionModel | None:
    return PredictionModel.objects.active_for(tenant_id)


def closed_counts(tenant_id: int) -> tuple[int, int]:
    """How many of the tenant's leads converted and how many were disqualified."""
    counts = Lead.objects.filter(tenant_id=tenant_id, status__in=CLOSED).aggregate(
        converted=Count("id", filter=Q(status=LeadStatus.CONVERTED)),
        disqualified=Count("id", filter=Q(status=LeadStatus.DISQUALIFIED)),
    )
    return counts["converted"], counts["disqualified"]


def explain(model: PredictionModel, facts: dict[str, Any]) -> tuple[float, list[Factor], str]:
    """The model's probability for these facts, the factors worth showing, and the sentence that names them."""
    probability, factors = score_facts(model, facts)
    shown = [f for f in factors if abs(f.contribution) >= REASON_MIN_CONTRIBUTION][:REASON_FACTORS]
    if shown:
        named = ", ".join(f"{f.description} ({f.contribution:+.1f})" for f in shown)
        reason = f"Top factors (model {model.version}): {named}."
    else:
        reason = f"No factor stands out (model {model.version}): this lead looks like the average lead."
    return probability, shown, reason


def _model_prediction(
    lead: Lead, model: PredictionModel, now: dt.datetime, activity_counts: dict[str, int] | None = None
) -> Prediction:
    counts = activity_counts_for(lead) if activity_counts is None else activity_counts
    probability, shown, reason = explain(model, lead_facts(lead, counts))
    return Prediction(
        lead_id=lead.pk, lead_public_id=str(lead.public_id), probability=probability,
        recommendation=recommend(probability), reason=reason,
        model_version=model.version, fallback=False, predicted_at=now, factors=shown,
    )


def _rules_prediction(lead: Lead, now: dt.datetime, history: tuple[int, int] | None = None) -> Prediction:
    converted, disqualified = closed_counts(lead.tenant_id) if history is None else history
    need = setting("PREDICTION_MIN_EACH_OUTCOME")
    counts = f"{converted} converted, {disqualified} disqualified"
    if converted < need or disqualified < need:
        why = f"Not enough history for a learned model ({counts}; need {need} of each)"
    else:
        why = f"No learned model trained yet ({counts}; run manage.py train_conversion_model)"
    probability = min(max(lead.score_total / 100, 0.0), 1.0)
    return Prediction(
        lead_id=lead.pk, lead_public_id=str(lead.public_id), probability=probability,
        recommendation=recommend(probability),
        reason=f"{why}: based on the rule score {lead.score_total}.", model_version=RULES_VERSION,
        fallback=True, predicted_at=now,
    )


def predict_lead(*, lead: Lead, actor: User | None = None) -> Prediction:
    """Predict an open lead's chance to convert, store it on the lead and return it.

    Uses the tenant's active model, or the rule score when there is none. When the advice
    changes (not on the first prediction: capture stays one timeline entry) a "scored" entry
    goes on the lead's timeline; the score itself moving writes nothing (see leads/rules/scoring.py).
    """
    if not lead.is_open:
        raise LeadNotPredictable(
            f"Lead {lead.public_id} is {lead.status}; predictions are for open leads (its outcome is known)."
        )
    now = timezone.now()
    model = config_for(lead.tenant).model
    prediction = _model_prediction(lead, model, now) if model is not None else _rules_prediction(lead, now)
    with transaction.atomic():
        previous = lead.recommendation
        _apply(lead, prediction)
        lead.save(update_fields=[*PREDICTION_FIELDS, "updated_at"])
        if previous and previous != prediction.recommendation:
            _advice_changed(lead, prediction, previous, actor).save()
    return prediction


PREDICTION_FIELDS = ("probability", "recommendation", "recommendation_reason", "prediction_version", "predicted_at")


def _advice_changed(lead: Lead, prediction: Prediction, previous: str, actor: User | None) -> Activity:
    """The timeline entry for a prediction whose advice differs from the lead's previous one."""
    return timeline.activity(
        tenant=lead.tenant_id,
        lead=lead,
        kind=ActivityKind.SCORED,
        subject=f"Recommendation: {Recommendation(prediction.recommendation).label} ({prediction.probability:.0%})",
        body=prediction.reason,
        actor=actor,
        occurred_at=prediction.predicted_at,
        data={"probability": prediction.probability, "recommendation": prediction.recommendation,
              "previous": previous, "model_version": prediction.model_version},
    )


def refresh_predictions(*, tenant: Tenant, lead_ids: list[int], actor: User | None = None) -> int:
    """refresh_prediction for many leads at once (an import that filled them): the same predictions and
    timeline entries, read and written in bulk. Returns how many leads were predicted."""
    model = config_for(tenant).model
    history = closed_counts(tenant.pk) if model is None else None
    now, done = timezone.now(), 0
    for start in range(0, len(lead_ids), 1000):
        chunk = lead_ids[start : start + 1000]
        leads = Lead.objects.filter(tenant_id=tenant.pk, pk__in=chunk).open()
        if model is None:
            leads = leads.filter(predicted_at__isnull=False)  # no model: only keep earlier predictions current
        leads = list(leads.order_by("pk"))
        counts: dict[int, dict[str, int]] = {lead.pk: {} for lead in leads}
        if model is not None:
            for row in (Activity.objects.filter(lead_id__in=list(counts), kind__in=COUNTED_KINDS)
                        .values("lead_id", "kind").annotate(n=Count("id")).order_by()):
                counts[row["lead_id"]][row["kind"]] = row["n"]
        entries = []
        for lead in leads:
            if model is not None:
                prediction = _model_prediction(lead, model, now, counts[lead.pk])
            else:
                prediction = _rules_prediction(lead, now, history)
            previous = lead.recommendation
            _apply(lead, prediction)
            lead.updated_at = now
            if previous and previous != prediction.recommendation:
                entries.append(_advice_changed(lead, prediction, previous, actor))
        with transaction.atomic():
            Lead.objects.bulk_update(leads, [*PREDICTION_FIELDS, "updated_at"], batch_size=500)
            Activity.objects.bulk_create(entries, batch_size=500)
        done += len(leads)
    return done


def refresh_prediction(*, lead: Lead, actor: User | None = None) -> Lead:
    """For refresh_insights: predict when the tenant has a model, or keep an earlier prediction current."""
    if lead.is_open and (lead.predicted_at is not None or config_for(lead.tenant).model is not None):
        predict_lead(lead=lead, actor=actor)
    return lead


def predict_new_lead(*, lead: Lead, activity_counts: dict[str, int]) -> None:
    """Fill the prediction of a lead about to be inserted (capture), when the tenant has a model.

    Without a model a new lead gets no prediction, as refresh_prediction decides; the first
    prediction writes no timeline entry either way.
    """
    model = config_for(lead.tenant).model
    if model is not None:
        _apply(lead, _model_prediction(lead, model, timezone.now(), activity_counts))


def _apply(lead: Lead, prediction: Prediction) -> None:
    lead.probability = prediction.probability
    lead.recommendation = prediction.recommendation
    lead.recommendation_reason = prediction.reason
    lead.prediction_version = prediction.model_version
    lead.predicted_at = prediction.predicted_at


