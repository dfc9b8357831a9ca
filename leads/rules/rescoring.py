"""Rescoring a workspace in the background after its scoring rules change (queued by the admin)."""

from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction

from crm.models import Tenant
from leads.rules.scoring import rescore_leads
from leads.rules.sheet import rule_sheet

log = logging.getLogger(__name__)
RESCORE_TASK = "leads.tasks.rescore_workspace"


def rescore_soon(*, tenant_id: int) -> None:
    """Once the caller's transaction commits, queue a rescore of the workspace under its rules as they are then."""

    def queue() -> None:
        try:
            current_app.tasks[RESCORE_TASK].apply_async(args=[tenant_id, rule_sheet(tenant_id).version], retry=False)
        except Exception:  # the broker is away: the lead list's "Rescore" action and rescore_leads still work
            log.warning("Could not queue the rescore of workspace %s.", tenant_id, exc_info=True)

    transaction.on_commit(queue, robust=True)


def rescore_workspace(*, tenant_id: int, sheet_version: str) -> str:
    """Rescore every lead of the workspace, unless its rules changed again since this was queued.

    Several edits in a row queue several rescores; each later edit queued its own, so only the one
    queued for the rules in force runs. Run twice, it rescores twice, to the same scores.
    """
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return "workspace gone"
    if rule_sheet(tenant_id).version != sheet_version:
        return "superseded by a later rule change"
    summary = rescore_leads(tenant=tenant)
    return f"{summary.leads} leads rescored, {summary.band_changed} changed band, {summary.qualified} auto-qualified"
