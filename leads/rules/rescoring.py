"""Rescoring a workspace in the background after its scoring rules change (queued by the admin)."""

from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction
from django.utils import timezone

from crm.models import Tenant
from leads.choices import WorkKind, WorkStatus
from leads.models import BackgroundWork
from leads.rules.scoring import rescore_leads
from leads.rules.sheet import rule_sheet

log = logging.getLogger(__name__)
RESCORE_TASK = "leads.tasks.rescore_workspace"


def rescore_soon(*, tenant_id: int, requested_by=None) -> None:
    """Once the caller's transaction commits, queue a rescore of the workspace under its rules as they are then.

    The rescore is recorded as BackgroundWork (queued, then its progress in leads) for the admin.
    """

    def queue() -> None:
        work = BackgroundWork.objects.create(tenant_id=tenant_id, kind=WorkKind.RESCORING, requested_by=requested_by)
        try:
            current_app.tasks[RESCORE_TASK].apply_async(
                args=[tenant_id, rule_sheet(tenant_id).version, work.pk], retry=False)
        except Exception:  # the broker is away: the lead list's "Rescore" action and rescore_leads still work
            log.warning("Could not queue the rescore of workspace %s.", tenant_id, exc_info=True)
            BackgroundWork.objects.filter(pk=work.pk, status=WorkStatus.QUEUED).update(
                status=WorkStatus.FAILED, finished_at=timezone.now(),
                message="Could not be queued (no broker): use the lead list's Rescore action or manage.py rescore_leads.")

    transaction.on_commit(queue, robust=True)


def rescore_workspace(*, tenant_id: int, sheet_version: str, work_id: int | None = None) -> str:
    """Rescore every lead of the workspace, unless its rules changed again since this was queued.

    Several edits in a row queue several rescores; each later edit queued its own, so only the one
    queued for the rules in force runs. Run twice, it rescores twice, to the same scores.
    """
    work = BackgroundWork.objects.filter(pk=work_id).first() if work_id is not None else None
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return "workspace gone"
    if rule_sheet(tenant_id).version != sheet_version:
        return _end(work, WorkStatus.SKIPPED, "superseded by a later rule change")
    if work is not None:
        work.status, work.started_at = WorkStatus.RUNNING, timezone.now()
        work.save(update_fields=["status", "started_at"])

    def progress(_tenant, done: int, total: int) -> None:
        if work is not None:  # each batch commits on its own, and so does this line about it
            BackgroundWork.objects.filter(pk=work.pk).update(done=done, total=total)

    try:
        summary = rescore_leads(tenant=tenant, progress=progress)
    except Exception as exc:
        _end(work, WorkStatus.FAILED, f"{type(exc).__name__}: {exc}")
        raise
    return _end(work, WorkStatus.FINISHED,
                f"{summary.leads} leads rescored, {summary.band_changed} changed band, {summary.qualified} auto-qualified")


def _end(work: BackgroundWork | None, status: str, message: str) -> str:
    if work is not None:
        BackgroundWork.objects.filter(pk=work.pk).update(status=status, message=message, finished_at=timezone.now())
    return message
