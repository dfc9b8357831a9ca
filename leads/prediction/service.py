"""Learned conversion prediction: decision support for reps, never the decision itself.

Training (offline, `manage.py train_conversion_model`) fits a logistic regression with
scikit-learn on a tenant's closed leads (converted = 1, disqualified = 0) and stores it as
plain JSON on PredictionModel: how each lead becomes a row of numbers (`features`), one
coefficient per column and the intercept. Scoring reads that JSON and computes a dot product
and a sigmoid in pure Python, so requests never import scikit-learn or numpy and the same
lead always gets the same number.

Every column is centred on the training average (one-hot columns on their frequency, numbers
standardised), so a feature's contribution, coefficient x value summed over its columns, says
how far this lead's value moves the log-odds away from the average lead's. The reason names the
largest contributions.

Without an active model the tenant falls back to the rule score (probability = score_total / 100)
and says so. Thresholds and limits are settings (defaults in DEFAULTS below):

PREDICTION_MIN_EACH_OUTCOME  converted and disqualified leads each needed to train (20)
PREDICTION_TRANSFER_AT       probability from which the advice is "transfer to sales" (0.6, the
                             strict pipeline's bar for conversion)
PREDICTION_DROP_BELOW        probability under which the advice is "drop lead" (0.2)
PREDICTION_MAX_CATEGORIES    most frequent values kept per categorical feature; the rest is "other" (10)
PREDICTION_MIN_SUPPORT       closed leads a category, custom field or activity kind needs to become a feature (5)
PREDICTION_MAX_CUSTOM_FIELDS custom field keys used at most, the most often filled first (20)
PREDICTION_HOLDOUT           share of examples held out (stratified) to measure ROC AUC (0.25)
PREDICTION_C                 inverse L2 regularisation strength of the regression (1.0)
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from crm.choices import ActivityKind
from crm import timeline
from crm.models import Activity, Tenant
from crm.normalize import FREE_EMAIL_DOMAINS

from leads.choices import STRICT_MIN_PROBABILITY, LeadSource, LeadStatus, Recommendation
from leads.models import Lead, PredictionModel
from leads.rules.config import config_for

if TYPE_CHECKING:
    from crm.models import User

FORMAT = 1
RULES_VERSION = "rules"
RANDOM_STATE = 0
REASON_FACTORS = 3
REASON_MIN_CONTRIBUTION = 0.05

DEFAULTS = {
    "PREDICTION_MIN_EACH_OUTCOME": 20,
    "PREDICTION_TRANSFER_AT": STRICT_MIN_PROBABILITY,
    "PREDICTION_DROP_BELOW": 0.2,
    "PREDICTION_MAX_CATEGORIES": 10,
    "PREDICTION_MIN_SUPPORT": 5,
    "PREDICTION_MAX_CUSTOM_FIELDS": 20,
    "PREDICTION_HOLDOUT": 0.25,
    "PREDICTION_C": 1.0,
}

OTHER, MISSING = "(other)", "(missing)"
CUSTOM_PREFIX, ACTIVITY_PREFIX = "custom:", "activity:"
CLOSED = (LeadStatus.CONVERTED, LeadStatus.DISQUALIFIED)
# Counted behaviour: what people and tracking log (leads.activities.USER_KINDS), never the CRM's
# own rows (status changes, conversion, scoring), which would tell the model the outcome.
ACTIVITY_NOUNS = {
    ActivityKind.DEMO_REQUESTED: ("demo request", "demo requests"),
    ActivityKind.FORM_SUBMITTED: ("form submission", "form submissions"),
    ActivityKind.EMAIL_OPENED: ("email opened", "emails opened"),
    ActivityKind.EMAIL_CLICKED: ("email click", "email clicks"),
    ActivityKind.PAGE_VIEWED: ("page view", "page views"),
    ActivityKind.CALL: ("call", "calls"),
    ActivityKind.MEETING: ("meeting", "meetings"),
    ActivityKind.EMAIL: ("email", "emails"),
    ActivityKind.NOTE: ("note", "notes"),
    ActivityKind.TASK: ("task", "tasks"),
}
COUNTED_KINDS = tuple(sorted(ACTIVITY_NOUNS))

# Built-in features, from the lead's own fields. Custom fields and activity kinds are discovered.
CATEGORY_FIELDS = {  # name -> label in reasons
    "source": "source",
    "industry": "industry",
    "country": "country",
    "seniority": "seniority",
    "email_type": "email",
}
NUMBER_FIELDS = {  # name -> (label, transform)
    "employee_count": ("company size", "log1p"),
    "annual_revenue": ("annual revenue", "log1p"),
    "score_total": ("rule score", "none"),
}
FLAG_FIELDS = {  # name -> (said when set, said when not)
    "has_phone": ("has a phone number", "no phone number"),
    "has_website": ("has a website", "no website"),
    "has_company": ("company name given", "no company name"),
}

SENIORITY_WORDS = (  # first match wins: "vice president" is a VP, not a president
    ("VP", {"vp", "svp", "evp", "avp", "vice"}),
    ("C-level / founder", {"ceo", "cto", "cfo", "coo", "cmo", "cio", "cro", "cpo", "chief", "founder",
                           "cofounder", "co-founder", "owner", "president", "partner", "principal"}),
    ("director / head", {"director", "head"}),
    ("manager / lead", {"manager", "lead", "supervisor", "mgr"}),
)


def setting(name: str):
    return getattr(settings, name, DEFAULTS[name])


class LeadNotPredictable(Exception):
    """Predictions are for open leads; the message says why this one gets none."""


class NothingToLearn(Exception):
    """The closed leads do not differ in anything the model reads."""


# --- from a lead to facts -------------------------------------------------------------------


def seniority(job_title: str) -> str:
    words = set(re.findall(r"[a-z][a-z-]*", (job_title or "").lower()))
    if not words:
        return ""
    for level, markers in SENIORITY_WORDS:
        if words & markers:
            return level
    return "individual contributor"


def email_type(email: str) -> str:
    if not email:
        return ""
    domain = email.rpartition("@")[2].lower()
    return "a free mailbox" if domain in FREE_EMAIL_DOMAINS else "a company address"


def lead_facts(lead: Lead | Any, activity_counts: dict[str, int]) -> dict[str, Any]:
    """The raw values the model reads, by feature name; None or '' where the lead has none.

    `lead` is a Lead or anything read the same way (an import row's LeadValues)."""
    source = lead.source or ""
    facts: dict[str, Any] = {
        "source": LeadSource(source).label if source in LeadSource.values else source,
        "industry": (lead.industry or "").strip(),
        "country": (lead.country or "").strip().upper(),
        "seniority": seniority(lead.job_title),
        "email_type": email_type(lead.email),
        "employee_count": lead.employee_count,
        "annual_revenue": float(lead.annual_revenue) if lead.annual_revenue is not None else None,
        "score_total": lead.score_total,
        "has_phone": bool(lead.phone),
        "has_website": bool(lead.website),
        "has_company": bool((lead.company or "").strip()),
    }
    for kind in COUNTED_KINDS:
        facts[ACTIVITY_PREFIX + kind] = activity_counts.get(kind, 0)
    for key, value in (lead.custom_fields or {}).items() if isinstance(lead.custom_fields, dict) else ():
        facts[CUSTOM_PREFIX + str(key)] = value
    return facts


def activity_counts_for(lead: Lead) -> dict[str, int]:
    rows = (
        Activity.objects.filter(lead_id=lead.pk, kind__in=COUNTED_KINDS)
        .values("kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["kind"]: row["n"] for row in rows}


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or isinstance(value, list | dict)


def _category_key(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).strip().casefold()


def _as_number(value) -> float | None:
    if isinstance(value, bool) or _is_missing(value):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


# --- facts to a row of numbers (shared by training and scoring) ----------------------------


def _raw_columns(feature: dict, value) -> list[float | None]:
    """One feature's columns before centring; None = missing number (imputed to the average)."""
    kind = feature["kind"]
    if kind == "category":
        row: list[float | None] = [0.0] * (len(feature["values"]) + 2)
        if _is_missing(value):
            row[-1] = 1.0
        else:
            key = _category_key(value)
            index = feature["values"].index(key) if key in feature["values"] else len(feature["values"])
            row[index] = 1.0
        return row
    if kind == "flag":
        return [1.0 if value else 0.0]
    number = _as_number(value)
    if number is not None and feature.get("transform") == "log1p":
        number = math.log1p(max(number, 0.0))
    if kind == "count":
        return [number or 0.0]
    row = [number]
    if feature.get("missing_column"):
        row.append(1.0 if number is None else 0.0)
    return row


def encode(spec: dict, facts: dict[str, Any]) -> list[float]:
    """The lead as the model's input row: every column centred and scaled as in training."""
    row: list[float] = []
    position = 0
    for feature in spec["features"]:
        for raw in _raw_columns(feature, facts.get(feature["name"])):
            if raw is None:
                row.append(0.0)
            else:
                row.append((raw - spec["center"][position]) / spec["scale"][position])
            position += 1
    return row


def _feature_width(feature: dict) -> int:
    if feature["kind"] == "category":
        return len(feature["values"]) + 2
    if feature["kind"] == "number" and feature.get("missing_column"):
        return 2
    return 1


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@dataclass(frozen=True)
class Factor:
    feature: str
    description: str
    contribution: float


def score_facts(model: PredictionModel, facts: dict[str, Any]) -> tuple[float, list[Factor]]:
    """Probability of conversion from the stored model, and every feature's contribution (largest first)."""
    spec = model.features
    row = encode(spec, facts)
    coefficients = model.coefficients
    factors = []
    position = 0
    for feature in spec["features"]:
        width = _feature_width(feature)
        contribution = sum(coefficients[i] * row[i] for i in range(position, position + width))
        factors.append(Factor(feature["name"], describe(feature, facts.get(feature["name"])), contribution))
        position += width
    z = model.intercept + math.fsum(c * x for c, x in zip(coefficients, row, strict=True))
    factors.sort(key=lambda f: -abs(f.contribution))
    return _sigmoid(z), factors


def _shown_number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:,.2f}"


def describe(feature: dict, value) -> str:
    """The lead's value of one feature, in words."""
    kind, label = feature["kind"], feature["label"]
    if kind == "category":
        if _is_missing(value):
            return f"no {label}"
        key = _category_key(value)
        if key in feature["values"]:
            return f"{label} is {feature['display'].get(key, value)}"
        return f"{label} is {str(value).strip()} (uncommon)"
    if kind == "flag":
        return feature["yes"] if value else feature["no"]
    if kind == "count":
        n = int(_as_number(value) or 0)
        singular, plural = feature["nouns"]
        return f"no {plural}" if n == 0 else f"{n} {singular if n == 1 else plural}"
    number = _as_number(value)
    if number is None:
        return f"no {label}"
    return f"{label} {_shown_number(number)}"


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
        lead_id=lead.pk, probability=probability, recommendation=recommend(probability), reason=reason,
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
        lead_id=lead.pk, probability=probability, recommendation=recommend(probability),
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
            f"Lead {lead.pk} is {lead.status}; predictions are for open leads (its outcome is known)."
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


# --- training (imports scikit-learn; offline only) ------------------------------------------


@dataclass
class Examples:
    lead_ids: list[int]
    facts: list[dict[str, Any]]
    labels: list[int]


def load_examples(tenant: Tenant) -> Examples:
    """The tenant's closed leads as facts and outcomes, ordered by id.

    Activities count up to the moment the lead was closed (converted_at, or its change to
    disqualified), so what happened afterwards cannot tell the model the outcome.
    """
    leads = list(
        Lead.objects.for_tenant(tenant).filter(status__in=CLOSED).order_by("pk").only(
            "id", "status", "source", "industry", "country", "job_title", "email", "phone", "website", "company",
            "employee_count", "annual_revenue", "score_total", "custom_fields", "converted_at",
        )
    )
    closed_at = {lead.pk: lead.converted_at for lead in leads if lead.converted_at is not None}
    disqualified_at = (
        Activity.objects.for_tenant(tenant)
        .filter(kind=ActivityKind.STATUS_CHANGED, data__to=LeadStatus.DISQUALIFIED, lead__status=LeadStatus.DISQUALIFIED)
        .values("lead_id")
        .annotate(at=Max("occurred_at"))
        .order_by()
    )
    closed_at.update({row["lead_id"]: row["at"] for row in disqualified_at})
    counts: dict[int, Counter] = defaultdict(Counter)
    activities = (
        Activity.objects.for_tenant(tenant)
        .filter(lead__status__in=CLOSED, kind__in=COUNTED_KINDS)
        .values_list("lead_id", "kind", "occurred_at")
        .order_by()
    )
    for lead_id, kind, occurred_at in activities.iterator(chunk_size=10_000):
        cutoff = closed_at.get(lead_id)
        if cutoff is None or occurred_at <= cutoff:
            counts[lead_id][kind] += 1
    return Examples(
        lead_ids=[lead.pk for lead in leads],
        facts=[lead_facts(lead, counts[lead.pk]) for lead in leads],
        labels=[1 if lead.status == LeadStatus.CONVERTED else 0 for lead in leads],
    )


def _category_feature(name: str, label: str, values: list, min_support: int, max_categories: int) -> dict:
    counts: Counter = Counter()
    spellings: dict[str, Counter] = defaultdict(Counter)
    for value in values:
        if not _is_missing(value):
            key = _category_key(value)
            counts[key] += 1
            spellings[key][str(value).strip() if not isinstance(value, bool) else key] += 1
    kept = sorted(
        (key for key, n in counts.items() if n >= min_support), key=lambda key: (-counts[key], key)
    )[:max_categories]
    return {
        "name": name, "kind": "category", "label": label, "values": kept,
        "display": {key: spellings[key].most_common(1)[0][0] for key in kept},
    }


def _custom_feature(name: str, values: list, min_support: int, max_categories: int) -> dict | None:
    present = [v for v in values if not _is_missing(v)]
    if len(present) < min_support:
        return None
    label = name.removeprefix(CUSTOM_PREFIX).replace("_", " ")
    numbers = [_as_number(v) for v in present]
    if not any(isinstance(v, bool) for v in present) and sum(n is not None for n in numbers) >= 0.9 * len(present):
        found = [n for n in numbers if n is not None]
        transform = "log1p" if min(found) >= 0 and max(found) > 1000 else "none"
        return {"name": name, "kind": "number", "label": label, "transform": transform,
                "missing_column": len(found) < len(values)}
    return _category_feature(name, label, values, min_support, max_categories)


def build_spec(facts: list[dict[str, Any]]) -> dict:
    """Discover the features (with their categories) from the training leads; no centring yet."""
    min_support = setting("PREDICTION_MIN_SUPPORT")
    max_categories = setting("PREDICTION_MAX_CATEGORIES")

    def column(name):
        return [row.get(name) for row in facts]

    features = [
        _category_feature(name, label, column(name), min_support, max_categories)
        for name, label in CATEGORY_FIELDS.items()
    ]
    for name, (label, transform) in NUMBER_FIELDS.items():
        values = column(name)
        features.append({"name": name, "kind": "number", "label": label, "transform": transform,
                         "missing_column": any(_as_number(v) is None for v in values)})
    features += [{"name": name, "kind": "flag", "label": name, "yes": yes, "no": no}
                 for name, (yes, no) in FLAG_FIELDS.items()]
    for kind in COUNTED_KINDS:
        name = ACTIVITY_PREFIX + kind
        if sum(1 for v in column(name) if v) >= min_support:
            features.append({"name": name, "kind": "count", "label": ACTIVITY_NOUNS[kind][1], "transform": "log1p",
                             "nouns": list(ACTIVITY_NOUNS[kind])})
    custom_keys: Counter = Counter()
    for row in facts:
        custom_keys.update(name for name, value in row.items() if name.startswith(CUSTOM_PREFIX) and not _is_missing(value))
    ranked = sorted(custom_keys, key=lambda name: (-custom_keys[name], name))[: setting("PREDICTION_MAX_CUSTOM_FIELDS")]
    for name in sorted(ranked):
        feature = _custom_feature(name, column(name), min_support, max_categories)
        if feature is not None:
            features.append(feature)
    return {"format": FORMAT, "features": features}


def _column_names(feature: dict) -> list[str]:
    name = feature["name"]
    if feature["kind"] == "category":
        return [f"{name}={value}" for value in feature["values"]] + [f"{name}={OTHER}", f"{name}={MISSING}"]
    if feature["kind"] == "number" and feature.get("missing_column"):
        return [name, f"{name}={MISSING}"]
    return [name]


def _fit_centring(spec: dict, facts: list[dict[str, Any]]) -> dict:
    """Centre and scale every column on the training rows; drop features that never vary."""
    kept, center, scale, columns = [], [], [], []
    for feature in spec["features"]:
        raw = [_raw_columns(feature, row.get(feature["name"])) for row in facts]
        stats = []
        for j in range(_feature_width(feature)):
            values = [value for r in raw if (value := r[j]) is not None]
            mean = math.fsum(values) / len(values) if values else 0.0
            variance = math.fsum((v - mean) ** 2 for v in values) / len(values) if values else 0.0
            # One-hot and flag columns stay 0/1 apart (centred only); numbers are standardised.
            spread = math.sqrt(variance) if feature["kind"] in ("number", "count") and variance > 0 else 1.0
            if feature["kind"] == "number" and j == 1:
                spread = 1.0  # the missing indicator
            stats.append((mean, spread, variance))
        if not any(variance > 1e-12 for _, _, variance in stats):
            continue
        kept.append(feature)
        center += [mean for mean, _, _ in stats]
        scale += [spread for _, spread, _ in stats]
        columns += _column_names(feature)
    return {**spec, "features": kept, "center": center, "scale": scale, "columns": columns}


@dataclass
class Fitted:
    spec: dict
    coefficients: list[float]
    intercept: float
    roc_auc: float
    estimator: Any  # the final sklearn LogisticRegression, for tests and benchmarks
    matrix: Any
    test_index: list[int]


def holdout_split(labels: list[int]) -> tuple[list[int], list[int]]:
    """Indices of the training and the held-out examples: stratified, fixed seed."""
    from sklearn.model_selection import train_test_split

    indices = list(range(len(labels)))
    train, test = train_test_split(
        indices, test_size=setting("PREDICTION_HOLDOUT"), stratify=labels, random_state=RANDOM_STATE
    )
    return sorted(train), sorted(test)


def fit_examples(examples: Examples) -> Fitted:
    """Fit the regression: measure ROC AUC with a model fit on the training split, then refit on all examples."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    spec = _fit_centring(build_spec(examples.facts), examples.facts)
    if not spec["columns"]:
        raise NothingToLearn("the closed leads do not differ in any field, activity or custom field the model reads")
    matrix = np.array([encode(spec, row) for row in examples.facts], dtype=float).reshape(len(examples.facts), -1)
    labels = np.array(examples.labels)
    train, test = holdout_split(examples.labels)

    def regression():
        return LogisticRegression(C=setting("PREDICTION_C"), max_iter=5000)

    held_out = regression().fit(matrix[train], labels[train])
    roc_auc = float(roc_auc_score(labels[test], held_out.predict_proba(matrix[test])[:, 1]))
    final = regression().fit(matrix, labels)
    return Fitted(
        spec=spec,
        coefficients=[float(c) for c in final.coef_[0]],
        intercept=float(final.intercept_[0]),
        roc_auc=roc_auc,
        estimator=final,
        matrix=matrix,
        test_index=test,
    )


@dataclass(frozen=True)
class TrainingOutcome:
    tenant: Tenant
    converted: int
    disqualified: int
    model: PredictionModel | None = None
    previous: PredictionModel | None = None  # the active model before this run (kept when nothing is trained)
    skipped_because: str = ""

    @property
    def trained(self) -> bool:
        return self.model is not None


def train_model(*, tenant: Tenant, trained_by: User | None = None) -> TrainingOutcome:
    """Train the tenant's conversion model from its closed leads and make it the active one.

    Trains nothing (and says how much history there is) when either outcome has fewer than
    PREDICTION_MIN_EACH_OUTCOME leads.
    """
    need = setting("PREDICTION_MIN_EACH_OUTCOME")
    converted, disqualified = closed_counts(tenant.pk)
    if converted < need or disqualified < need:
        return TrainingOutcome(
            tenant=tenant, converted=converted, disqualified=disqualified, previous=active_model(tenant.pk),
            skipped_because=f"not enough history ({converted} converted, {disqualified} disqualified; need {need} of each)",
        )
    examples = load_examples(tenant)
    try:
        fitted = fit_examples(examples)
    except NothingToLearn as exc:
        return TrainingOutcome(
            tenant=tenant, converted=converted, disqualified=disqualified, previous=active_model(tenant.pk),
            skipped_because=str(exc),
        )
    positives = sum(examples.labels)
    spec = {**fitted.spec, "trained_on": {
        "holdout": setting("PREDICTION_HOLDOUT"), "C": setting("PREDICTION_C"),
        "min_support": setting("PREDICTION_MIN_SUPPORT"), "max_categories": setting("PREDICTION_MAX_CATEGORIES"),
    }}
    with transaction.atomic():
        Tenant.objects.select_for_update().get(pk=tenant.pk)  # one training at a time per tenant
        number = PredictionModel.objects.for_tenant(tenant).count() + 1
        now = timezone.now()
        previous = PredictionModel.objects.for_tenant(tenant).filter(is_active=True).first()
        if previous is not None:
            previous.is_active = False
            previous.save(update_fields=["is_active"])
        model = PredictionModel.objects.create(
            tenant=tenant,
            version=f"lr{number}-{now:%Y%m%d-%H%M%S}",
            features=spec,
            coefficients=fitted.coefficients,
            intercept=fitted.intercept,
            examples=len(examples.labels),
            positives=positives,
            negatives=len(examples.labels) - positives,
            roc_auc=fitted.roc_auc,
            is_active=True,
            trained_by=trained_by,
            created_at=now,
        )
    return TrainingOutcome(
        tenant=tenant, converted=converted, disqualified=disqualified, model=model, previous=previous
    )
