"""Scheduled upkeep of the lead app, run by beat (CELERY_BEAT_SCHEDULE); each is safe to run twice."""

import datetime as dt

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

from crm.models import Tenant

from . import assignment, dashboard_rollup, work
from .enrichment import service as enrichment
from .enrichment.providers import ProviderError
from .capture.idempotency import purge_expired
from .importers.queued import resume_unfinished_imports, run_queued_import
from .nurture import follow_ups
from .nurture import scheduler as nurture
from .importers.retention import purge_abandoned_uploads, purge_old_error_reports
from .integrations import facebook
from .integrations.service import facebook_lead_fetch
from .prediction import retraining
from .privacy import retention
from .rules import rescoring

IMPORT_STALLED_AFTER = dt.timedelta(minutes=10)


@shared_task(name="leads.tasks.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    """Delete Idempotency-Key records past their 24-hour life (daily)."""
    return purge_expired()


@shared_task(name="leads.tasks.purge_imports")
def purge_imports() -> dict:
    """Remove abandoned import uploads and clear expired error reports (daily)."""
    return {"uploads": purge_abandoned_uploads(), "reports": purge_old_error_reports()}


@shared_task(name="leads.tasks.refresh_dashboard")
def refresh_dashboard() -> int:
    """Store the dashboard figures of the leads changed since the last refresh (every minute); a retry or a second
    run finds fewer marks, or none; a run while another holds the lock returns at once."""
    return dashboard_rollup.refresh_stale(max_seconds=settings.DASHBOARD_REFRESH_SECONDS * 0.8)


@shared_task(name="leads.tasks.rescore_workspace")
def rescore_workspace(tenant_id: int, sheet_version: str, work_id: int | None = None) -> str:
    """Rescore a workspace's leads after its scoring rules changed (queued by the admin on commit)."""
    return rescoring.rescore_workspace(tenant_id=tenant_id, sheet_version=sheet_version, work_id=work_id)


@shared_task(name="leads.tasks.tell_owner")
def tell_owner(lead_id: int, owner_id: int, reason: str) -> bool:
    """Email a lead's new owner (queued when an assignment commits); skipped if the lead moved on since."""
    return assignment.tell_owner(lead_id=lead_id, owner_id=owner_id, reason=reason)


@shared_task(name="leads.tasks.run_import", acks_late=True)
def run_import(job_id: int) -> str:
    """Run an import job queued by the admin's upload; a retry resumes after its last committed batch."""
    return run_queued_import(job_id)


@shared_task(name="leads.tasks.resume_imports")
def resume_imports(everything: bool = False) -> list[int]:
    """Queue again the import jobs left unfinished: every few minutes those queued and never picked up; when a
    worker starts, every job not ended (docs/import.md)."""
    return resume_unfinished_imports(queued_for=None if everything else IMPORT_STALLED_AFTER)


@worker_ready.connect
def _resume_imports_when_a_worker_starts(**_kwargs) -> None:
    resume_imports.delay(everything=True)


@shared_task(name="leads.tasks.train_conversion_model")
def train_conversion_model(work_id: int) -> str:
    """Train a workspace's conversion model and predict its open leads (queued from the admin)."""
    return retraining.run_training(work_id)


@shared_task(name="leads.tasks.retrain_conversion_models")
def retrain_conversion_models() -> dict:
    """Retrain the workspaces whose closed-lead history grew since their active model (nightly)."""
    return retraining.retrain_grown_workspaces()


@shared_task(name="leads.tasks.enrich_lead", bind=True, acks_late=True, max_retries=None)
def enrich_lead(self, lead_id: int, attempt: int = 0, force: bool = False) -> str:
    """Ask the enrichment provider about a new lead (queued when its capture commits).

    A failed lookup is tried again after each of ENRICHMENT_RETRY_DELAYS, then recorded on the lead;
    a call the provider's rate limit refuses waits for the next window without counting as an attempt.
    """
    delays = settings.ENRICHMENT_RETRY_DELAYS
    try:
        return enrichment.enrich_lead(lead_id=lead_id, attempt=attempt, final=attempt >= len(delays), force=force)
    except enrichment.RateLimited as exc:
        raise self.retry(args=[lead_id], kwargs={"attempt": attempt, "force": force}, countdown=exc.wait) from exc
    except ProviderError as exc:  # retryable, and attempts are left
        raise self.retry(args=[lead_id], kwargs={"attempt": attempt + 1, "force": force},
                         countdown=delays[attempt], exc=exc) from exc


@shared_task(name="leads.tasks.fetch_facebook_lead", bind=True, acks_late=True)
def fetch_facebook_lead(self, ad_lead_id: int):
    """Fetch a lead a Facebook webhook announced and capture it (queued by the hook); a failed fetch is
    retried after each of FACEBOOK_FETCH_RETRY_DELAYS, then recorded as failed on the lead's channel."""
    delays = settings.FACEBOOK_FETCH_RETRY_DELAYS
    attempt = self.request.retries
    try:
        outcome = facebook_lead_fetch(ad_lead_id=ad_lead_id, last_attempt=attempt >= len(delays))
    except facebook.FetchFailed as exc:
        if attempt >= len(delays):
            return "failed"
        if self.request.is_eager:  # run in the caller (tests): apply() runs the returned retry at once
            return self.retry(exc=exc, countdown=delays[attempt], max_retries=len(delays), throw=False)
        raise self.retry(exc=exc, countdown=delays[attempt], max_retries=len(delays)) from None
    return outcome.ad_lead.status


@shared_task(name="leads.tasks.run_nurture")
def run_nurture() -> dict:
    """Nurture's pass (every NURTURE_POLL_SECONDS): leads that should leave their sequence leave it, then
    every due step runs once (two passes at once share the work; see leads/nurture/scheduler.py)."""
    exited = nurture.sweep_exits()
    return {**nurture.run_due_steps(batch=settings.NURTURE_BATCH), "swept": exited}


@shared_task(name="leads.tasks.run_follow_ups")
def run_follow_ups() -> dict:
    """Follow-up tasks that fell due, tasks of contacted leads closed, speed-to-lead alerts (every few minutes)."""
    return {"closed": follow_ups.close_follow_ups(), "created": follow_ups.create_follow_ups(),
            "alerted": follow_ups.alert_speed_to_lead()}


@shared_task(name="leads.tasks.apply_retention")
def apply_retention() -> dict:
    """Nightly: every workspace's retention policies (leads/privacy/retention.py, docs/privacy.md)."""
    return {tenant.slug: retention.apply_retention(tenant=tenant) for tenant in Tenant.objects.order_by("pk")}


@shared_task(name="leads.tasks.email_due_tasks")
def email_due_tasks() -> int:
    """Email each user their tasks due today and overdue (daily, morning); a second run the same day sends none."""
    return work.send_due_task_digests()
