import datetime as dt
import io
import json
import math
import random
import sys

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from crm.choices import ActivityKind
from crm.models import Activity
from leads.activities import USER_KINDS
from leads.capture.service import capture_lead
from leads.choices import LeadStatus, Recommendation
from leads.models import Lead, PredictionModel
from leads.prediction import features, service, training
from leads.prediction.service import predict_lead
from tests.factories import ContactFactory, LeadFactory, TenantFactory

pytestmark = pytest.mark.django_db

INDUSTRY_EFFECT = {"Software": 2.0, "Finance": 0.5, "Retail": -1.5, "Education": -2.0, "": -1.0}
PLAN_EFFECT = {"Enterprise": 1.5, "Pro": 0.0, "Free": -1.5}


def make_history(tenant, *, n=160, seed=1, signal=True, plan=False):
    """Closed leads whose outcome follows a known rule (industry, demo requests, size; optionally a custom field)."""
    rng = random.Random(seed)
    contact = ContactFactory(tenant=tenant)
    now = timezone.now()
    leads, demos = [], []
    for i in range(n):
        industry = rng.choice(["Software", "Software", "Retail", "Finance", "Education", ""])
        demo_count = rng.choice([0, 0, 1, 2, 3])
        employees = rng.choice([None, 5, 20, 200, 2000])
        custom = {"plan": rng.choice(list(PLAN_EFFECT))} if plan else {}
        logit = -0.5 + INDUSTRY_EFFECT[industry] + 0.9 * demo_count
        logit += 0.5 * math.log10(employees) if employees else -0.5
        logit += PLAN_EFFECT[custom["plan"]] if plan else 0.0
        converted = rng.random() < (1 / (1 + math.exp(-logit)) if signal else 0.5)
        leads.append(Lead(
            tenant=tenant, email=f"history{i}@company{i % 9}.example", industry=industry,
            employee_count=employees, custom_fields=custom, source="website_form",
            status=LeadStatus.CONVERTED if converted else LeadStatus.DISQUALIFIED,
            converted_at=now if converted else None, converted_contact=contact if converted else None,
            disqualification_reason="" if converted else "no budget",
        ))
        demos.append(demo_count)
    Lead.objects.bulk_create(leads)
    Activity.objects.bulk_create([
        Activity(tenant=tenant, lead=lead, kind=ActivityKind.DEMO_REQUESTED, occurred_at=now - dt.timedelta(days=1))
        for lead, count in zip(leads, demos, strict=True) for _ in range(count)
    ])
    return leads


def train(tenant) -> str:
    out = io.StringIO()
    call_command("train_conversion_model", tenant=tenant.slug, stdout=out)
    return out.getvalue()


def plain_json(value) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and plain_json(v) for k, v in value.items())
    if isinstance(value, list):
        return all(plain_json(v) for v in value)
    return value is None or type(value) in (str, int, float, bool)


def demo(lead, n):
    Activity.objects.bulk_create(
        [Activity(tenant=lead.tenant, lead=lead, kind=ActivityKind.DEMO_REQUESTED) for _ in range(n)]
    )


# --- training ------------------------------------------------------------------------------


def test_training_stores_the_model_as_plain_json(tenant):
    make_history(tenant)

    output = train(tenant)

    model = PredictionModel.objects.get(tenant=tenant)
    assert model.is_active and model.version.startswith("lr1-")
    assert f"acme: trained {model.version} on 160 leads" in output
    assert (model.examples, model.positives + model.negatives) == (160, 160)
    assert model.positives == Lead.objects.filter(tenant=tenant, status=LeadStatus.CONVERTED).count()
    stored = PredictionModel.objects.values("features", "coefficients", "intercept").get(pk=model.pk)
    assert plain_json(stored), "features/coefficients must be JSON types only: no bytes, no numpy, no pickle"
    text = json.dumps(stored)
    assert json.loads(text) == stored
    assert len(model.coefficients) == len(model.features["columns"]) == len(model.features["center"])
    assert all(isinstance(c, float) and math.isfinite(c) for c in model.coefficients)
    assert "industry=software" in model.features["columns"]


def test_stored_auc_is_high_for_a_real_signal_and_near_chance_for_noise(tenant, other_tenant):
    make_history(tenant, n=300, seed=2)
    make_history(other_tenant, n=300, seed=3, signal=False)

    call_command("train_conversion_model", stdout=io.StringIO())

    learned = PredictionModel.objects.get(tenant=tenant)
    noise = PredictionModel.objects.get(tenant=other_tenant)
    assert learned.roc_auc > 0.8
    assert 0.3 < noise.roc_auc < 0.7


def test_training_again_deactivates_the_previous_model_in_the_same_step(tenant):
    make_history(tenant)
    train(tenant)
    first = PredictionModel.objects.get(tenant=tenant)

    output = train(tenant)

    first.refresh_from_db()
    second = PredictionModel.objects.get(tenant=tenant, is_active=True)
    assert not first.is_active
    assert second.version.startswith("lr2-") and second.version != first.version
    assert f"replaces {first.version}" in output
    assert PredictionModel.objects.filter(tenant=tenant).count() == 2


def test_too_little_history_trains_nothing_and_says_so(tenant, settings):
    settings.PREDICTION_MIN_EACH_OUTCOME = 20
    contact = ContactFactory(tenant=tenant)
    now = timezone.now()
    for i in range(19):
        LeadFactory(tenant=tenant, status=LeadStatus.CONVERTED, converted_at=now, converted_contact=contact,
                    email=f"won{i}@x.example")
    for i in range(30):
        LeadFactory(tenant=tenant, status=LeadStatus.DISQUALIFIED, disqualification_reason="no fit",
                    email=f"lost{i}@x.example")

    output = train(tenant)

    assert "acme: not enough history (19 converted, 30 disqualified; need 20 of each); nothing trained, " \
           "the rule score is used." in output
    assert "0 model(s) trained, 1 tenant(s) skipped" in output
    assert not PredictionModel.objects.exists()


def test_the_minimum_history_is_a_setting_and_a_skipped_run_keeps_the_active_model(tenant, settings):
    make_history(tenant)
    train(tenant)
    active = PredictionModel.objects.get(tenant=tenant)
    settings.PREDICTION_MIN_EACH_OUTCOME = 200

    output = train(tenant)

    assert f"need 200 of each); nothing trained, model {active.version} stays active." in output
    assert list(PredictionModel.objects.filter(is_active=True)) == [active]


def test_leads_that_differ_in_nothing_train_nothing_without_stopping_other_tenants(tenant, other_tenant, settings):
    settings.PREDICTION_MIN_EACH_OUTCOME = 5
    contact = ContactFactory(tenant=tenant)
    for i in range(12):
        converted = i % 2 == 0
        Lead.objects.create(
            tenant=tenant, email=f"same{i}@x.example", job_title="", company="",
            status=LeadStatus.CONVERTED if converted else LeadStatus.DISQUALIFIED,
            converted_at=timezone.now() if converted else None, converted_contact=contact if converted else None,
            disqualification_reason="" if converted else "no",
        )
    make_history(other_tenant)
    out = io.StringIO()

    call_command("train_conversion_model", stdout=out)

    assert "acme: the closed leads do not differ in any field" in out.getvalue()
    assert "globex: trained lr1-" in out.getvalue()


def test_without_tenant_every_tenant_is_trained_or_reported(tenant, other_tenant):
    make_history(tenant)
    out = io.StringIO()

    call_command("train_conversion_model", stdout=out)

    assert "acme: trained lr1-" in out.getvalue()
    assert "globex: not enough history (0 converted, 0 disqualified" in out.getvalue()
    assert "Done: 1 model(s) trained, 1 tenant(s) skipped" in out.getvalue()
    assert list(PredictionModel.objects.values_list("tenant__slug", flat=True)) == ["acme"]


def test_an_unknown_tenant_is_a_clear_command_error(tenant):
    with pytest.raises(CommandError, match="No tenant with slug 'nope'. Known tenants: acme"):
        call_command("train_conversion_model", tenant="nope", stdout=io.StringIO())


def test_activities_after_the_lead_closed_do_not_count(tenant):
    contact = ContactFactory(tenant=tenant)
    closed_at = timezone.now() - dt.timedelta(days=5)
    won = LeadFactory(tenant=tenant, status=LeadStatus.CONVERTED, converted_at=closed_at, converted_contact=contact)
    lost = LeadFactory(tenant=tenant, status=LeadStatus.DISQUALIFIED, disqualification_reason="no budget")
    Activity.objects.create(tenant=tenant, lead=lost, kind=ActivityKind.STATUS_CHANGED, occurred_at=closed_at,
                            data={"from": "new", "to": "disqualified"})
    for lead in (won, lost):
        Activity.objects.create(tenant=tenant, lead=lead, kind=ActivityKind.CALL, occurred_at=closed_at - dt.timedelta(days=1))
        Activity.objects.create(tenant=tenant, lead=lead, kind=ActivityKind.MEETING, occurred_at=closed_at + dt.timedelta(days=1))
    Activity.objects.create(tenant=tenant, lead=won, kind=ActivityKind.CONVERTED, occurred_at=closed_at)

    examples = training.load_examples(tenant)

    for facts in examples.facts:
        assert facts["activity:call"] == 1
        assert facts["activity:meeting"] == 0, "a meeting after the outcome would leak it"
    assert "activity:converted" not in examples.facts[0], "the CRM's own rows are never features"
    assert examples.labels == [1, 0]


def test_counted_activity_kinds_are_the_ones_people_log():
    assert set(features.COUNTED_KINDS) == set(USER_KINDS)


# --- custom fields -------------------------------------------------------------------------


def test_custom_fields_are_discovered_without_a_feature_list(tenant):
    leads = make_history(tenant, plan=True)
    rng = random.Random(5)
    for i, lead in enumerate(leads):
        lead.custom_fields = {**lead.custom_fields, "seats": str(rng.randint(1, 50)), "budget_ok": i % 2 == 0}
        if i < 3:
            lead.custom_fields["rare_note"] = "only three leads have this"
    Lead.objects.bulk_update(leads, ["custom_fields"])

    train(tenant)

    spec = PredictionModel.objects.get(tenant=tenant).features
    by_name = {feature["name"]: feature for feature in spec["features"]}
    assert by_name["custom:plan"]["kind"] == "category"
    assert set(by_name["custom:plan"]["values"]) == {"enterprise", "pro", "free"}
    assert by_name["custom:seats"]["kind"] == "number", "numeric strings from forms are numbers"
    assert by_name["custom:budget_ok"]["kind"] == "category"
    assert "custom:rare_note" not in by_name, "a field only a handful of leads have is not a feature"

    lead = LeadFactory(tenant=tenant, industry="Software", custom_fields={"plan": "Enterprise", "seats": "10"})
    result = service.predict_lead(lead=lead)
    assert any(f.feature == "custom:plan" for f in features.score_facts(
        PredictionModel.objects.get(tenant=tenant), features.lead_facts(lead, {}))[1])
    assert result.fallback is False


def test_categories_are_capped_with_an_other_bucket(tenant, settings):
    settings.PREDICTION_MAX_CATEGORIES = 3
    settings.PREDICTION_MIN_SUPPORT = 2
    leads = make_history(tenant)
    for i, lead in enumerate(leads):
        lead.custom_fields = {"region": f"region-{i % 10}"}
    Lead.objects.bulk_update(leads, ["custom_fields"])

    train(tenant)

    model = PredictionModel.objects.get(tenant=tenant)
    region = next(f for f in model.features["features"] if f["name"] == "custom:region")
    assert len(region["values"]) == 3
    assert "custom:region=(other)" in model.features["columns"]
    unseen = {"custom:region": "Atlantis"}
    assert features.describe(region, unseen["custom:region"]) == "region is Atlantis (uncommon)"
    row = features.encode(model.features, unseen)
    other = model.features["columns"].index("custom:region=(other)")
    assert row[other] > 0, "an unseen value lands in the other bucket"


# --- scoring from the stored model ---------------------------------------------------------


def test_prediction_from_stored_json_matches_sklearn_predict_proba(tenant):
    make_history(tenant, plan=True)
    train(tenant)
    model = PredictionModel.objects.get(tenant=tenant)

    examples = training.load_examples(tenant)
    fitted = training.fit_examples(examples)  # deterministic: the same fit the command stored
    expected = fitted.estimator.predict_proba(fitted.matrix)[:, 1]

    assert fitted.coefficients == model.coefficients and fitted.intercept == model.intercept
    for facts, sklearn_probability in zip(examples.facts, expected, strict=True):
        probability, _ = features.score_facts(model, facts)
        assert abs(probability - float(sklearn_probability)) < 1e-9


def test_scoring_needs_neither_sklearn_nor_numpy(tenant, monkeypatch):
    make_history(tenant)
    train(tenant)
    lead = LeadFactory(tenant=tenant, industry="Software")
    for name in [m for m in sys.modules if m.split(".")[0] in ("sklearn", "numpy", "scipy")]:
        monkeypatch.delitem(sys.modules, name)
    for name in ("sklearn", "numpy", "scipy"):
        monkeypatch.setitem(sys.modules, name, None)  # any import of them now fails

    first = service.predict_lead(lead=lead)
    again = service.predict_lead(lead=lead)

    assert first.fallback is False and 0 < first.probability < 1
    assert again.probability == first.probability, "deterministic"


def test_reason_names_the_largest_real_factors(tenant):
    make_history(tenant)
    train(tenant)
    model = PredictionModel.objects.get(tenant=tenant)
    lead = LeadFactory(tenant=tenant, industry="Software", employee_count=None)
    demo(lead, 3)

    result = service.predict_lead(lead=lead)

    lead.refresh_from_db()
    feature_names = {feature["name"] for feature in model.features["features"]}
    assert result.factors and all(f.feature in feature_names for f in result.factors)
    contributions = [abs(f.contribution) for f in result.factors]
    assert contributions == sorted(contributions, reverse=True)
    assert "industry is Software (+" in result.reason
    assert "3 demo requests (+" in result.reason
    assert result.reason.startswith(f"Top factors (model {model.version}): ")
    assert lead.recommendation_reason == result.reason
    assert (lead.probability, lead.prediction_version) == (result.probability, model.version)
    assert lead.predicted_at is not None
    assert lead.recommendation == service.recommend(result.probability)


def test_a_lead_unlike_the_training_leads_still_gets_a_prediction(tenant):
    make_history(tenant)
    train(tenant)
    lead = LeadFactory(tenant=tenant, industry="Mining", country="NZ", source="chat", custom_fields={"new": "field"},
                       employee_count=10**9, annual_revenue=None)

    result = service.predict_lead(lead=lead)

    assert 0.0 <= result.probability <= 1.0
    assert "industry is Mining (uncommon)" in " ".join(
        f.description for f in features.score_facts(PredictionModel.objects.get(tenant=tenant),
                                                      features.lead_facts(lead, {}))[1]
    )


# --- fallback, recommendation, timeline ----------------------------------------------------


def test_without_a_model_the_rule_score_is_used_and_the_reason_says_why(tenant):
    contact = ContactFactory(tenant=tenant)
    LeadFactory(tenant=tenant, status=LeadStatus.CONVERTED, converted_at=timezone.now(), converted_contact=contact)
    lead = LeadFactory(tenant=tenant, score_total=72)

    result = service.predict_lead(lead=lead)

    assert result.fallback is True
    assert (result.probability, result.model_version) == (0.72, "rules")
    assert result.recommendation == Recommendation.TRANSFER_TO_SALES
    assert result.reason == (
        "Not enough history for a learned model (1 converted, 0 disqualified; need 20 of each): "
        "based on the rule score 72."
    )
    lead.refresh_from_db()
    assert (lead.probability, lead.prediction_version, lead.recommendation_reason) == (0.72, "rules", result.reason)


def test_enough_history_but_no_model_yet_says_to_train(tenant):
    make_history(tenant)
    lead = LeadFactory(tenant=tenant, score_total=10)

    result = service.predict_lead(lead=lead)

    assert result.fallback is True and result.recommendation == Recommendation.DROP_LEAD
    assert "No learned model trained yet" in result.reason and "train_conversion_model" in result.reason


@pytest.mark.parametrize(
    ("probability", "expected"),
    [(0.95, "transfer_to_sales"), (0.6, "transfer_to_sales"), (0.59, "continue_qualification"),
     (0.2, "continue_qualification"), (0.19, "drop_lead"), (0.0, "drop_lead")],
)
def test_recommendation_thresholds(probability, expected):
    assert service.recommend(probability) == expected


def test_thresholds_are_settings(settings):
    settings.PREDICTION_TRANSFER_AT = 0.8
    settings.PREDICTION_DROP_BELOW = 0.1
    assert [service.recommend(p) for p in (0.7, 0.8, 0.09)] == [
        "continue_qualification", "transfer_to_sales", "drop_lead",
    ]


def test_a_changed_recommendation_is_written_to_the_timeline(tenant, manager):
    lead = LeadFactory(tenant=tenant, score_total=30)

    service.predict_lead(lead=lead, actor=manager)
    service.predict_lead(lead=lead, actor=manager)  # same advice: no new entry
    lead.score_total = 65
    lead.save(update_fields=["score_total"])
    service.predict_lead(lead=lead, actor=manager)

    entries = list(Activity.objects.filter(lead=lead, kind=ActivityKind.SCORED).order_by("id"))
    assert [e.subject for e in entries] == ["Recommendation: Transfer to sales (65%)"], "the first advice is no change"
    assert entries[0].data["previous"] == "continue_qualification" and entries[0].actor == manager


def test_a_closed_lead_gets_no_prediction(tenant):
    lead = LeadFactory(tenant=tenant, status=LeadStatus.DISQUALIFIED, disqualification_reason="spam")

    with pytest.raises(features.LeadNotPredictable, match="predictions are for open leads"):
        service.predict_lead(lead=lead)


# --- on capture (leads.insights.refresh_insights) -------------------------------------------


def test_capture_predicts_once_the_tenant_has_a_model(tenant):
    before = capture_lead(tenant=tenant, data={"email": "early@software.example", "industry": "Software"}, source="api")
    assert before.lead.probability is None, "no model and no earlier prediction: capture leaves it alone"

    make_history(tenant)
    train(tenant)  # in its own process, as the command runs: this test's tenant row is now stale
    model = PredictionModel.objects.get(tenant=tenant)
    tenant.refresh_from_db()  # capture takes the tenant row its request read (see leads.rules.config)
    result = capture_lead(tenant=tenant, data={"email": "new@software.example", "industry": "Software"}, source="api")

    lead = Lead.objects.get(pk=result.lead.pk)
    assert not Activity.objects.filter(lead=lead, kind=ActivityKind.SCORED).exists()
    assert lead.prediction_version == model.version
    assert 0 < lead.probability < 1 and lead.recommendation and "industry is Software" in lead.recommendation_reason


def test_a_rules_prediction_is_kept_current_when_the_lead_changes(tenant):
    other = TenantFactory(slug="elsewhere")
    make_history(other)
    train(other)  # another tenant's model changes nothing here
    lead = capture_lead(tenant=tenant, data={"email": "keep@x.example"}, source="api").lead
    service.predict_lead(lead=lead)
    lead.refresh_from_db()
    first_at = lead.predicted_at

    capture_lead(tenant=tenant, data={"email": "keep@x.example", "industry": "Software"}, source="api")

    lead.refresh_from_db()
    assert lead.prediction_version == "rules" and lead.predicted_at > first_at


def test_training_predicts_every_open_lead_with_the_new_model(tenant):
    make_history(tenant)
    waiting = LeadFactory(tenant=tenant, industry="Software")
    closed = Lead.objects.filter(tenant=tenant, status=LeadStatus.CONVERTED).first()
    predict_lead(lead=waiting)  # the rule score's prediction, before any model
    assert Lead.objects.get(pk=waiting.pk).prediction_version == "rules"

    out = train(tenant)

    waiting.refresh_from_db()
    model = PredictionModel.objects.get(tenant=tenant, is_active=True)
    assert waiting.prediction_version == model.version and waiting.probability is not None
    assert (waiting.probability, waiting.recommendation_reason) == (
        predict_lead(lead=waiting).probability, predict_lead(lead=waiting).reason)
    assert "1 open lead(s) predicted with the new model" in out
    closed.refresh_from_db()
    assert closed.predicted_at is None  # its outcome is known


def test_training_again_moves_open_leads_to_the_newer_model(tenant):
    make_history(tenant)
    train(tenant)
    waiting = LeadFactory(tenant=tenant, industry="Retail")
    first = PredictionModel.objects.get(tenant=tenant, is_active=True)
    assert Lead.objects.get(pk=waiting.pk).prediction_version in ("", None, first.version)

    train(tenant)

    newer = PredictionModel.objects.get(tenant=tenant, is_active=True)
    assert newer.version != first.version
    assert Lead.objects.get(pk=waiting.pk).prediction_version == newer.version


def test_training_with_no_predict_leaves_open_leads_alone(tenant):
    make_history(tenant)
    waiting = LeadFactory(tenant=tenant)

    call_command("train_conversion_model", tenant=tenant.slug, no_predict=True, stdout=io.StringIO())

    waiting.refresh_from_db()
    assert waiting.predicted_at is None
