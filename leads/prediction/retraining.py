"""Training on the engine: the admin's "Train the conversion model" and the nightly retrain.

Both run `train_workspace`, the code `manage.py train_conversion_model` runs for one workspace
(train, then predict every open lead with the new model), and record the run as BackgroundWork so
the PredictionModel admin can show how it went. The nightly task retrains only workspaces whose
closed-lead history (converted + disqualified) grew past what their active model was trained on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from celery import current_app
from django.db import transaction
from django.utils import timezone

from crm.models import Tenant
from leads.choices import WorkKind, WorkStatus
from leads.models import BackgroundWork, Lead
from leads.prediction.service import active_model, closed_counts, refresh_predictions
from leads.prediction.training import TrainingOutcome, train_model

if TYPE_CHECKING:
    from crm.models import User

log = logging.getLogger(__name__)
TRAIN_TASK = "leads.tasks.train_conversion_model"
PREDICT_CHUNK = 10_000


def train_workspace(
    *, tenant: Tenant, trained_by: User | None = None, predict: bool = True,
    say: Callable[[str], None] | None = None,
) -> tuple[TrainingOutcome, int]:
    """Train the workspace's model and (unless `predict` is off) predict its open leads with it.

    Returns the outcome and how many open leads were predicted. Each chunk of predictions commits.
    """
    outcome = train_model(tenant=tenant, trained_by=trained_by)
    if not outcome.trained or not predict:
        return outcome, 0
    # Saving the model bumped this tenant row's config version (leads/rules/config.py), so the
    # cached config it keys is the new model's.
    ids = list(Lead.objects.filter(tenant=tenant).open().order_by("pk").values_list("pk", flat=True))
    done = 0
    for start in range(0, len(ids), PREDICT_CHUNK):
        done += refresh_predictions(tenant=tenant, lead_ids=ids[start : start + PREDICT_CHUNK])
        if say is not None and len(ids) > PREDICT_CHUNK:
            say(f"{tenant.slug}: predicted {done:,} of {len(ids):,} open leads")
    return outcome, done


def describe(outcome: TrainingOutcome) -> str:
    """One sentence on a training run, for the admin and the command."""
    history = f"{outcome.converted} converted, {outcome.disqualified} disqualified"
    if not outcome.trained:
        keeps = f"model {outcome.previous.version} stays active" if outcome.previous else "the rule score is used"
        return f"{outcome.skipped_because}; nothing trained, {keeps}."
    model = outcome.model
    assert model is not None
    replaced = f"; replaces {outcome.previous.version}" if outcome.previous else ""
    auc = f"{model.roc_auc:.3f}" if model.roc_auc is not None else "n/a"
    return (
        f"trained {model.version} on {model.examples} leads ({history}), {len(model.coefficients)} columns from "
        f"{len(model.features['features'])} features, held-out ROC AUC {auc}{replaced}."
    )


def queue_training(*, tenant: Tenant, requested_by: User | None) -> BackgroundWork:
    """Record a training run and queue it once the caller's transaction commits."""
    work = BackgroundWork.objects.create(tenant=tenant, kind=WorkKind.TRAINING, requested_by=requested_by)
    work_id = work.pk
    transaction.on_commit(lambda: current_app.tasks[TRAIN_TASK].delay(work_id))
    return work


def run_training(work_id: int) -> str:
    """Run a queued training; a run that already ended is left alone (a redelivered task does nothing)."""
    work = BackgroundWork.objects.select_related("tenant", "requested_by").filter(pk=work_id).first()
    if work is None:
        return "gone"
    if work.status in (WorkStatus.FINISHED, WorkStatus.SKIPPED, WorkStatus.FAILED):
        return work.status
    return _train(work)


def _train(work: BackgroundWork) -> str:
    work.status, work.started_at = WorkStatus.RUNNING, timezone.now()
    work.save(update_fields=["status", "started_at"])
    try:
        outcome, predicted = train_workspace(tenant=work.tenant, trained_by=work.requested_by)
    except Exception as exc:
        work.status, work.message, work.finished_at = WorkStatus.FAILED, f"{type(exc).__name__}: {exc}", timezone.now()
        work.save(update_fields=["status", "message", "finished_at"])
        raise
    work.status = WorkStatus.FINISHED if outcome.trained else WorkStatus.SKIPPED
    work.message = describe(outcome) + (f" {predicted:,} open lead(s) predicted." if outcome.trained else "")
    work.done = work.total = predicted
    work.finished_at = timezone.now()
    work.save(update_fields=["status", "message", "done", "total", "finished_at"])
    return work.status


def history_grew(tenant: Tenant) -> bool:
    """Whether the workspace has more closed leads than its active model learnt from (or no model yet)."""
    model = active_model(tenant.pk)
    converted, disqualified = closed_counts(tenant.pk)
    if model is None:
        return converted + disqualified > 0
    return converted + disqualified > model.examples


def retrain_grown_workspaces() -> dict[str, int]:
    """The nightly retrain: every workspace whose closed-lead history grew since its active model."""
    counts = {"trained": 0, "skipped": 0, "unchanged": 0}
    for tenant in Tenant.objects.order_by("pk"):
        if not history_grew(tenant):
            counts["unchanged"] += 1
            continue
        work = BackgroundWork.objects.create(tenant=tenant, kind=WorkKind.TRAINING, message="nightly retrain")
        try:
            status = _train(work)
        except Exception:
            log.exception("Nightly retrain of workspace %s failed", tenant.pk)
            counts["skipped"] += 1
            continue
        counts["trained" if status == WorkStatus.FINISHED else "skipped"] += 1
    return counts
