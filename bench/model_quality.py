"""How well does the learned conversion model find a signal we planted? Run by hand, not a test.

    .venv/bin/python bench/model_quality.py [--leads 5000] [--fresh 2000] [--seed 7]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_model_bench .venv/bin/python bench/model_quality.py

Generates closed leads whose outcome is drawn from a known logistic rule (industry, company size,
demo requests, a custom field, a weak page-view effect) with distractors that have no effect
(country, source, a numeric custom field), trains through the product's own command
(`train_conversion_model`), and reports:

- the AUC the command stored (stratified held-out split) beside the AUC of the true generating
  rule on the same held-out leads: the rule's AUC is the best any model can reach there;
- the same for fresh leads the model never saw, scored from the stored JSON in pure Python;
- calibration (mean predicted vs observed rate, Brier score) and what each recommendation holds;
- timings: training, and scoring one lead from the stored model.

The database is rebuilt on every run: var/model_bench.sqlite3 by default, or the PostgreSQL
database named in DATABASE_URL (dropped and created; never point it at data you keep).
"""

from __future__ import annotations

import argparse
import io
import math
import os
import random
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.databases import fresh_postgres  # noqa: E402

INTERCEPT = -1.0
INDUSTRIES = [  # (industry, weight in the population, effect on the log-odds)
    ("Software", 0.25, 1.0), ("Finance", 0.15, 0.4), ("Healthcare", 0.15, 0.0), ("Manufacturing", 0.12, -0.3),
    ("Retail", 0.12, -0.8), ("Education", 0.08, -1.2), ("", 0.13, -0.6),
]
SIZE_EFFECT_PER_LOG10, NO_SIZE_EFFECT = 0.45, -0.4
DEMO_EFFECT, PAGE_VIEW_EFFECT = 0.7, 0.05
PLANS = [("enterprise", 0.2, 0.8), ("pro", 0.25, 0.1), ("starter", 0.25, -0.6), (None, 0.3, 0.0)]
COUNTRIES = ["US", "DE", "GB", "FR", "NL", "IN", "BR", ""]
SOURCES = ["website_form", "facebook_lead_ad", "google_lead_form", "referral", "api"]


def prepare_database() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        path = BASE_DIR / "var" / "model_bench.sqlite3"
        path.parent.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
        return f"SQLite ({path.relative_to(BASE_DIR)})"
    return fresh_postgres(url)


def pick(rng: random.Random, table):
    return rng.choices(table, weights=[row[1] for row in table])[0]


def draw_lead(rng: random.Random) -> dict:
    """One synthetic lead: its fields, its behaviour and the true log-odds that it converts."""
    industry, _, industry_effect = pick(rng, INDUSTRIES)
    employees = None if rng.random() < 0.2 else int(10 ** rng.uniform(0.5, 4.5))
    demos = min(int(rng.expovariate(1.2)), 5)
    page_views = rng.randint(0, 12)
    plan, _, plan_effect = pick(rng, PLANS)
    custom = {"seats": str(rng.randint(1, 500))}  # a distractor
    if plan:
        custom["plan_interest"] = plan.title()
    logit = INTERCEPT + industry_effect + plan_effect + DEMO_EFFECT * demos + PAGE_VIEW_EFFECT * page_views
    logit += SIZE_EFFECT_PER_LOG10 * math.log10(employees) if employees else NO_SIZE_EFFECT
    return {
        "industry": industry, "employee_count": employees, "demos": demos, "page_views": page_views,
        "custom_fields": custom, "country": rng.choice(COUNTRIES), "source": rng.choice(SOURCES), "logit": logit,
    }


def write_history(tenant, rows: list[dict], rng: random.Random) -> dict[int, float]:
    """Closed leads (outcome drawn from the true rule) and their activities; returns lead id -> true log-odds."""
    from django.utils import timezone

    from contacts.models import Contact
    from crm.choices import ActivityKind
    from crm.models import Activity
    from leads.choices import LeadStatus
    from leads.models import Lead

    contact = Contact.objects.create(tenant=tenant, email="bench-contact@example.com")
    now = timezone.now()
    truth: dict[int, float] = {}
    for start in range(0, len(rows), 1000):
        batch = rows[start:start + 1000]
        leads = []
        for i, row in enumerate(batch, start):
            converted = rng.random() < 1 / (1 + math.exp(-row["logit"]))
            leads.append(Lead(
                tenant=tenant, email=f"bench{i}@company{i % 97}.example", industry=row["industry"],
                employee_count=row["employee_count"], country=row["country"], source=row["source"],
                custom_fields=row["custom_fields"], job_title="Head of Operations",
                status=LeadStatus.CONVERTED if converted else LeadStatus.DISQUALIFIED,
                converted_at=now if converted else None, converted_contact=contact if converted else None,
                disqualification_reason="" if converted else "not a fit",
            ))
        Lead.objects.bulk_create(leads)
        activities = []
        for lead, row in zip(leads, batch, strict=True):
            truth[lead.pk] = row["logit"]
            activities += [Activity(tenant=tenant, lead=lead, kind=ActivityKind.DEMO_REQUESTED, occurred_at=now)
                           for _ in range(row["demos"])]
            activities += [Activity(tenant=tenant, lead=lead, kind=ActivityKind.PAGE_VIEWED, occurred_at=now)
                           for _ in range(row["page_views"])]
        Activity.objects.bulk_create(activities, batch_size=2000)
    return truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=5000, help="closed leads to train on")
    parser.add_argument("--fresh", type=int, default=2000, help="new leads to score with the stored model")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    database = prepare_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from sklearn.metrics import brier_score_loss, roc_auc_score

    from crm.models import Tenant
    from leads.models import Lead, PredictionModel
    from leads.prediction import features, service, training

    call_command("migrate", verbosity=0)
    rng = random.Random(args.seed)
    tenant = Tenant.objects.create(name="Model bench", slug="model-bench")
    started = time.perf_counter()
    truth = write_history(tenant, [draw_lead(rng) for _ in range(args.leads)], rng)
    generated = time.perf_counter() - started

    out = io.StringIO()
    started = time.perf_counter()
    call_command("train_conversion_model", tenant=tenant.slug, stdout=out)
    trained = time.perf_counter() - started
    print(out.getvalue().strip())
    model = PredictionModel.objects.get(tenant=tenant, is_active=True)

    # The command's held-out split, reproduced: same examples, same stratified split, same seed.
    examples = training.load_examples(tenant)
    _, test = training.holdout_split(examples.labels)
    held_out_labels = [examples.labels[i] for i in test]
    rule_auc_held_out = roc_auc_score(held_out_labels, [truth[examples.lead_ids[i]] for i in test])

    # Fresh leads: never in the database, scored from the stored JSON in pure Python.
    fresh_labels, model_p, rule_p, buckets = [], [], [], {}
    scoring_seconds = 0.0
    for _ in range(args.fresh):
        row = draw_lead(rng)
        converted = int(rng.random() < 1 / (1 + math.exp(-row["logit"])))
        lead = Lead(tenant=tenant, email="fresh@company.example", industry=row["industry"],
                    employee_count=row["employee_count"], country=row["country"], source=row["source"],
                    custom_fields=row["custom_fields"], job_title="Head of Operations")
        counts = {"demo_requested": row["demos"], "page_viewed": row["page_views"]}
        started = time.perf_counter()
        probability, _ = features.score_facts(model, features.lead_facts(lead, counts))
        scoring_seconds += time.perf_counter() - started
        fresh_labels.append(converted)
        model_p.append(probability)
        rule_p.append(1 / (1 + math.exp(-row["logit"])))
        buckets.setdefault(service.recommend(probability), []).append(converted)

    positives = sum(examples.labels)
    print()
    print(f"Database: {database}; seed {args.seed}")
    print(f"Training leads: {len(examples.labels)} ({positives} converted, {len(examples.labels) - positives} "
          f"disqualified), {len(test)} held out; generated in {generated:.1f} s")
    print(f"Model {model.version}: {len(model.coefficients)} columns from {len(model.features['features'])} features; "
          f"trained (command, end to end) in {trained:.2f} s")
    print()
    print("| leads | model ROC AUC | true rule ROC AUC (best possible) |")
    print("| --- | --- | --- |")
    print(f"| held-out split ({len(test)}, stored by the command) | {model.roc_auc:.3f} | {rule_auc_held_out:.3f} |")
    print(f"| fresh, never seen ({args.fresh}) | {roc_auc_score(fresh_labels, model_p):.3f} | "
          f"{roc_auc_score(fresh_labels, rule_p):.3f} |")
    print()
    print(f"Fresh leads: observed conversion rate {sum(fresh_labels) / len(fresh_labels):.3f}, "
          f"mean predicted {sum(model_p) / len(model_p):.3f}; Brier score model {brier_score_loss(fresh_labels, model_p):.4f}, "
          f"true rule {brier_score_loss(fresh_labels, rule_p):.4f}")
    for name in ("transfer_to_sales", "continue_qualification", "drop_lead"):
        outcomes = buckets.get(name, [])
        rate = f"{sum(outcomes) / len(outcomes):.2f}" if outcomes else "-"
        print(f"  {name}: {len(outcomes)} leads ({len(outcomes) / args.fresh:.0%}), of which converted {rate}")
    print(f"Scoring one lead from the stored model (pure Python, facts in hand): "
          f"{scoring_seconds / args.fresh * 1e6:.0f} µs")
    lead = Lead.objects.create(tenant=tenant, email="open@company.example", industry="Software", employee_count=300)
    started = time.perf_counter()
    for _ in range(200):
        service.predict_lead(lead=lead)
    print(f"POST .../analyze's work (predict_lead on a saved lead: load model, count activities, save): "
          f"{(time.perf_counter() - started) / 200 * 1e3:.2f} ms")
    top = sorted(zip(model.features["columns"], model.coefficients, strict=True), key=lambda item: -abs(item[1]))[:8]
    print("Largest coefficients: " + ", ".join(f"{name} {value:+.2f}" for name, value in top))


if __name__ == "__main__":
    main()
