"""How each sequence is doing, for a page of sequences at once: enrolments by outcome, emails sent, and the sent
emails that were opened and clicked (one each however often). A fixed handful of grouped queries per page, never
one per sequence: enrolments, runs and tracking activities grow with every lead a sequence has reached."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from crm.choices import ActivityKind
from crm.models import Activity
from leads.models import Enrolment, Sequence, StepRun
from leads.nurture_models import NurtureStatus, StepKind, StepOutcome

TRACKED = (ActivityKind.EMAIL_OPENED, ActivityKind.EMAIL_CLICKED)


@dataclass(frozen=True)
class SequenceFigures:
    enrolled: int = 0
    active: int = 0
    completed: int = 0
    exited: int = 0
    emails_sent: int = 0
    opened: int = 0
    clicked: int = 0


def sequence_figures(sequence_ids: list[int]) -> dict[int, SequenceFigures]:
    """Each listed sequence's figures (zeros for one nobody was enrolled in)."""
    if not sequence_ids:
        return {}
    counts: dict[int, dict[str, int]] = {pk: {} for pk in sequence_ids}
    enrolments = Enrolment.objects.filter(sequence_id__in=sequence_ids).order_by().values("sequence_id").annotate(
        enrolled=Count("pk"), active=Count("pk", filter=Q(ended_at__isnull=True)),
        completed=Count("pk", filter=Q(outcome=NurtureStatus.COMPLETED)),
        exited=Count("pk", filter=Q(outcome=NurtureStatus.EXITED)))
    for sequence_id, *numbers in enrolments.values_list("sequence_id", "enrolled", "active", "completed", "exited"):
        counts[sequence_id].update(zip(("enrolled", "active", "completed", "exited"), numbers))
    sent = StepRun.objects.filter(step__sequence_id__in=sequence_ids, step__kind=StepKind.EMAIL,
                                  outcome=StepOutcome.SENT)
    for sequence_id, n in sent.order_by().values_list("step__sequence_id").annotate(n=Count("pk")):
        counts[sequence_id]["emails_sent"] = n
    # A tracking entry names its run in data.nurture_run; joined by value, grouped by the run's sequence.
    tracked = (
        Activity.objects.filter(tenant_id__in=Sequence.objects.filter(pk__in=sequence_ids).values("tenant_id"),
                                kind__in=TRACKED, data__has_key="nurture_run")
        .annotate(run_id=Cast(KeyTextTransform("nurture_run", "data"), IntegerField()))
        .filter(run_id__in=sent.values("pk"))
        .annotate(sequence_id=Subquery(StepRun.objects.filter(pk=OuterRef("run_id")).values("step__sequence_id")))
        .order_by()
        .values("sequence_id", "kind")
        .annotate(n=Count("run_id", distinct=True))
        .values_list("sequence_id", "kind", "n")
    )
    for sequence_id, kind, n in tracked:
        counts[sequence_id]["opened" if kind == ActivityKind.EMAIL_OPENED else "clicked"] = n
    return {pk: SequenceFigures(**values) for pk, values in counts.items()}
