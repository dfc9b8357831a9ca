"""Training a workspace's conversion model from its closed leads (scikit-learn; offline only)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from crm.choices import ActivityKind
from crm.models import Activity, Tenant
from leads.choices import LeadStatus
from leads.models import Lead, PredictionModel

if TYPE_CHECKING:
    from crm.models import User

from leads.prediction.features import (
    ACTIVITY_NOUNS,
    ACTIVITY_PREFIX,
    CATEGORY_FIELDS,
    CLOSED,
    COUNTED_KINDS,
    CUSTOM_PREFIX,
    FLAG_FIELDS,
    FORMAT,
    MISSING,
    NUMBER_FIELDS,
    OTHER,
    RANDOM_STATE,
    NothingToLearn,
    _as_number,
    _category_key,
    _feature_width,
    _is_missing,
    _raw_columns,
    encode,
    lead_facts,
    setting,
)
from leads.prediction.service import active_model, closed_counts

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
