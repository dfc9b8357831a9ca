"""A lead's stage in document 004's words (new, contacted, qualified, transferred, lost), on our lifecycle.

The stage is the lead's status under another name: `transferred` is a converted lead (its deal is the
document's Sale), `lost` a disqualified one. So the rules are the lifecycle's (leads/lifecycle.py) and the
handoff's (leads/conversion.py), whatever door moves the lead; this module only translates. The document's
machine (no skipped stage; transferred only from qualified with ai_score >= 0.6 and a business domain) is
the workspace's strict pipeline; without it a workspace keeps its looser lifecycle on every door alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from crm.models import Activity

from .activities import USER_KINDS
from .choices import LeadStatus
from .conversion import convert_lead
from .lifecycle import Rule, TransitionError, change_status
from .models import Lead

if TYPE_CHECKING:
    from crm.models import User


class LeadStage(models.TextChoices):
    NEW = "new", "New"
    CONTACTED = "contacted", "Contacted"
    QUALIFIED = "qualified", "Qualified"
    TRANSFERRED = "transferred", "Transferred to sales"
    LOST = "lost", "Lost"


STATUS_OF_STAGE: dict[str, str] = {
    LeadStage.NEW: LeadStatus.NEW,
    LeadStage.CONTACTED: LeadStatus.CONTACTED,
    LeadStage.QUALIFIED: LeadStatus.QUALIFIED,
    LeadStage.TRANSFERRED: LeadStatus.CONVERTED,
    LeadStage.LOST: LeadStatus.DISQUALIFIED,
}
STAGE_OF_STATUS: dict[str, str] = {status: stage for stage, status in STATUS_OF_STAGE.items()}

# A lost lead is disqualified, and a disqualified lead has a reason; the document's client sends none.
LOST_WITHOUT_REASON = "Lost (no reason given)"


def stage_of(lead: Lead) -> str:
    """The lead's stage in document 004's words."""
    return STAGE_OF_STATUS[lead.status]


def lead_change_stage(*, lead: Lead, stage: str, actor: User | None, reason: str = "", notes: str = "") -> Lead:
    """Move a lead to a stage (document 004's PATCH /leads/{id}/stage); returns the lead as it now is.

    new/contacted/qualified/lost are status changes (the lifecycle's rules, Activity and event);
    `transferred` is the handoff: a conversion creating the contact, company and deal (the Sale), idempotent
    and safe against concurrent calls as every conversion is. Asking for the stage the lead is at changes
    nothing, final stages included. Raises TransitionError or LeadNotConvertible, each naming its `rule`.
    """
    if stage not in STATUS_OF_STAGE:
        raise ValueError(f"Unknown stage {stage!r}")
    if stage == LeadStage.TRANSFERRED:
        convert_lead(lead=lead, actor=actor)  # a converted lead answers its first result: nothing twice
        return Lead.objects.select_related("owner").get(pk=lead.pk)
    status = STATUS_OF_STAGE[stage]
    reason = reason.strip() or (LOST_WITHOUT_REASON if status == LeadStatus.DISQUALIFIED else "")
    try:
        return change_status(lead=lead, status=status, actor=actor, notes=notes, reason=reason)
    except TransitionError as exc:
        if exc.rule == Rule.FINAL and status == LeadStatus.DISQUALIFIED:
            # Lost already (maybe by a concurrent request): asking again changes nothing and is no error.
            current = Lead.objects.select_related("owner").get(pk=lead.pk)
            if current.status == LeadStatus.DISQUALIFIED:
                return current
        raise


def with_activity_count(queryset: QuerySet[Lead]) -> QuerySet[Lead]:
    """The leads with `activity_count`: the interactions on each one's timeline (what people and tracking log,
    leads.activities.USER_KINDS; never the CRM's own entries). One subquery, so a list page stays one query."""
    counted = (
        Activity.objects.filter(lead=OuterRef("pk"), kind__in=USER_KINDS)
        .order_by()
        .values("lead")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.annotate(activity_count=Coalesce(Subquery(counted, output_field=IntegerField()), 0))


def activity_count(lead: Lead) -> int:
    """What with_activity_count gives one lead, read from the annotation when the lead came with it."""
    annotated = getattr(lead, "activity_count", None)
    if annotated is not None:
        return annotated
    return Activity.objects.filter(lead=lead, kind__in=USER_KINDS).count()
