"""How a lead becomes numbers for the conversion model, and how a model's coefficients become a probability
and the factors that explain it (pure Python: serving never imports scikit-learn). The settings and the
model's design are described in leads/prediction/__init__.py."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Count

from crm.choices import ActivityKind
from crm.models import Activity
from crm.normalize import FREE_EMAIL_DOMAINS
from leads.choices import STRICT_MIN_PROBABILITY, LeadSource, LeadStatus
from leads.models import Lead, PredictionModel

if TYPE_CHECKING:
    pass

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
    ActivityKind.CONTACTED: ("contact made", "contacts made"),
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


