"""Document 002's pipeline through one door: new -> contacted -> qualified -> proposal -> closed_won / closed_lost.

The first three are the lead's own lifecycle (leads/lifecycle.py). Proposal and the closed states are
a deal's stages: moving a lead there converts it (leads/conversion.py, which creates its deal) and
moves that deal (contacts/deals.py, which stamps the deal's and the lead's `closed_at`). A converted
lead's status then reads back from its deal in the document's words (`pipeline_status`), so
`PATCH /leads/{id}/status {"status": "proposal"}` answers, and later reads, `"proposal"`.

Every move is idempotent (asking for the status the lead already shows changes nothing) and
concurrency-safe: the lead's row is locked first, then its deal (docs/architecture.md lock order),
so two concurrent `closed_won` make one conversion and one deal. Forward only, as the lifecycle: a
closed lead stays closed here (a deal is reopened through /deals); with the workspace's strict
pipeline on, no step may be skipped, and the proposal step is the strict handoff of conversion.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from contacts.choices import DealStage
from contacts.deals import change_stage
from contacts.models import Deal
from crm import timeline
from crm.access import check_change
from crm.choices import ActivityKind, EventType
from crm.models import User

from .choices import LeadStatus, PipelineStatus
from .conversion import convert_lead
from .lifecycle import TransitionError, change_status
from .locks import lock_lead
from .models import Lead

# The document's statuses a deal holds, and the stage each one is.
DEAL_STAGE_OF = {
    PipelineStatus.PROPOSAL: DealStage.PROPOSAL,
    PipelineStatus.CLOSED_WON: DealStage.CLOSED_WON,
    PipelineStatus.CLOSED_LOST: DealStage.CLOSED_LOST,
}
# How a converted lead's deal stage reads as the lead's status (qualification: still "converted").
_STATUS_OF_STAGE = {
    DealStage.PROPOSAL: PipelineStatus.PROPOSAL,
    DealStage.NEGOTIATION: PipelineStatus.PROPOSAL,
    DealStage.CLOSED_WON: PipelineStatus.CLOSED_WON,
    DealStage.CLOSED_LOST: PipelineStatus.CLOSED_LOST,
}
_RANK: dict[str, int] = {
    LeadStatus.NEW: 0, LeadStatus.CONTACTED: 1, LeadStatus.QUALIFIED: 2, LeadStatus.CONVERTED: 2,
    PipelineStatus.PROPOSAL: 3, PipelineStatus.CLOSED_WON: 4, PipelineStatus.CLOSED_LOST: 4,
}
_ORDER = " -> ".join(["new", "contacted", "qualified", "proposal", "closed_won / closed_lost"])


def status_of(*, status: str, deal_stage: str | None) -> str:
    """A lead's status in the document's words: a converted lead's follows its deal past qualification."""
    if status == LeadStatus.CONVERTED and deal_stage in _STATUS_OF_STAGE:
        return _STATUS_OF_STAGE[DealStage(deal_stage)]
    return status


def pipeline_status(lead: Lead) -> str:
    """The lead's status as the API shows it (reads lead.converted_deal: select_related it for lists)."""
    deal = lead.converted_deal if lead.converted_deal_id is not None else None
    return status_of(status=lead.status, deal_stage=deal.stage if deal is not None else None)


def move_lead(*, lead: Lead, status: str, actor: User | None, notes: str = "", reason: str = "") -> Lead:
    """Move a lead to `status`: one of the lifecycle's (leads/lifecycle.py) or the document's deal statuses.

    Raises TransitionError (going back, skipping with the strict pipeline, a closed or disqualified
    lead), MissingReason (disqualifying without a reason), LeadNotConvertible (the handoff refused).
    """
    if status not in DEAL_STAGE_OF:
        return change_status(lead=lead, status=status, actor=actor, notes=notes, reason=reason)
    with transaction.atomic():
        locked = lock_lead(lead.pk)
        check_change(actor, locked)
        before = pipeline_status(locked)
        if before == status:
            return locked
        _check_move(locked, before=before, target=status)
        deal_id = locked.converted_deal_id
        if locked.status != LeadStatus.CONVERTED:
            deal_id = convert_lead(lead=locked, actor=actor).deal_id
        assert deal_id is not None  # a conversion through here always makes its deal
        deal = change_stage(deal=Deal.objects.get(pk=deal_id), stage=DEAL_STAGE_OF[PipelineStatus(status)], actor=actor)
        now = timezone.now()
        Lead.objects.filter(pk=locked.pk).update(last_activity_at=now, updated_at=now)
        moved = Lead.objects.select_related("tenant", "converted_deal").get(pk=locked.pk)
        timeline.activity(
            tenant=moved.tenant,
            lead=moved,
            contact=moved.converted_contact_id,
            deal=deal,
            kind=ActivityKind.STATUS_CHANGED,
            subject=f"Status: {before} -> {status}",
            body=notes.strip(),
            actor=actor,
            occurred_at=now,
            data={"from": before, "to": status},
        ).save()
        timeline.event(
            tenant=moved.tenant,
            type=EventType.LEAD_STATUS_CHANGED,
            payload={"lead_id": moved.pk, "email": moved.email, "source": moved.source, "from": before, "to": status,
                     "reason": "", "deal_id": deal.pk},
            created_at=now,
        ).save()
        return moved


def _check_move(lead: Lead, *, before: str, target: str) -> None:
    if lead.status == LeadStatus.DISQUALIFIED:
        raise TransitionError(f"Lead {lead.pk} is disqualified; a disqualified lead cannot change status.")
    if before in (PipelineStatus.CLOSED_WON, PipelineStatus.CLOSED_LOST):
        raise TransitionError(
            f"Lead {lead.pk} is {before}; a closed lead cannot change status here (reopen its deal through /deals)."
        )
    if lead.status == LeadStatus.CONVERTED and lead.converted_deal_id is None:
        raise TransitionError(
            f"Lead {lead.pk} was converted without a deal; create one through /deals to take it further."
        )
    here, there = _RANK[before], _RANK[target]
    if there < here:
        raise TransitionError(f"Lead status moves forward ({_ORDER}); it cannot go back from {before} to {target}.")
    if lead.tenant.strict_pipeline and there > here + 1:
        needed = ["contacted", "qualified", "proposal"][here]
        raise TransitionError(f"Strict pipeline: lead {lead.pk} must be {needed} before it can be {target}.")
