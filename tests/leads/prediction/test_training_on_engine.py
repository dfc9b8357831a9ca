"""Training from the admin (queued on the engine) and the nightly retrain of workspaces whose history grew."""

import pytest
from django.conf import settings
from django.test import TestCase

from leads.models import BackgroundWork, PredictionModel
from leads.prediction.retraining import retrain_grown_workspaces
from leads.tasks import retrain_conversion_models
from tests.factories import TenantFactory
from tests.leads.prediction.test_prediction import make_history, train

pytestmark = pytest.mark.django_db


def test_the_train_button_queues_training_and_an_active_model_exists_after(client, tenant, manager):
    make_history(tenant)
    client.force_login(manager)
    page = client.get("/admin/leads/predictionmodel/").content.decode()
    assert "Train the conversion model" in page

    with TestCase.captureOnCommitCallbacks() as callbacks:
        response = client.post("/admin/leads/predictionmodel/train/", follow=True)
    assert "in the background" in response.content.decode()
    work = BackgroundWork.objects.get(tenant=tenant)
    assert work.status == "queued" and len(callbacks) == 1
    assert not PredictionModel.objects.exists()

    callbacks[0]()  # the task, eager

    model = PredictionModel.objects.get(tenant=tenant, is_active=True)
    assert model.trained_by == manager and model.examples == 160
    work.refresh_from_db()
    assert work.status == "finished" and f"trained {model.version} on 160 leads" in work.message
    page = client.get("/admin/leads/predictionmodel/").content.decode()
    assert model.version in page and "Latest training runs" in page and "Finished" in page


def test_a_rep_cannot_train(client, tenant, rep):
    client.force_login(rep)
    assert client.post("/admin/leads/predictionmodel/train/").status_code == 403
    assert not BackgroundWork.objects.exists()


def test_the_nightly_retrain_skips_unchanged_history_and_retrains_grown_history(tenant):
    grown = TenantFactory(name="Grown", slug="grown")
    make_history(tenant)
    make_history(grown, seed=2)
    train(tenant)
    train(grown)
    before = {t: PredictionModel.objects.get(tenant=t, is_active=True) for t in (tenant, grown)}
    make_history(grown, n=40, seed=3)  # more closed leads since its model was trained

    counts = retrain_conversion_models()

    assert counts == {"trained": 1, "skipped": 0, "unchanged": 1}
    assert PredictionModel.objects.get(tenant=tenant, is_active=True) == before[tenant]
    now = PredictionModel.objects.get(tenant=grown, is_active=True)
    assert now != before[grown] and now.examples == 200
    assert BackgroundWork.objects.get(tenant=grown).status == "finished"
    assert retrain_grown_workspaces()["trained"] == 0, "trained on all of it now"


def test_beat_runs_the_nightly_retrain():
    entry = settings.CELERY_BEAT_SCHEDULE["retrain-conversion-models"]
    assert entry["task"] == "leads.tasks.retrain_conversion_models"
