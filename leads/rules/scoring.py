"""Rule-based lead scoring: a tenant's ScoringRule rows turned into a 0-100 score, band, grade and breakdown.

How a lead is scored
- Every active rule whose condition the lead meets (leads/rules/conditions.py) adds its points; the
  breakdown (Lead.score_factors) lists those rules as {"rule_id", "name", "category", "points"},
  in the rule sheet's order (category, name, id). Points may be negative.
- The total is the sum clamped to 0..100; the band is hot from the tenant's hot threshold, warm
  from its warm threshold, else cold; the grade is A+ (>= 90), A (>= 80), B (>= 70), C (>= 60),
  D (>= 50), else F.
- Behavioural rules count activities (operator activity_count, field = activity kind, value = a
  minimum count): the points come once when the lead has at least that many. Several rules on
  one kind make tiers ("opened an email" +2, "opened 3 or more" +3), each visible in the breakdown.
- `score_version` is a short hash of the active rules (id, name, category, field, operator,
  value, points): leads with the same version were scored by the same sheet.
- A rule that cannot be evaluated (saved around the admin's checks) is skipped and logged, the
  same way in both paths, so one bad row never blocks capturing leads.
- An open lead below qualified whose score reaches the tenant's auto-qualify threshold is moved
  to qualified through leads.lifecycle.change_status (its activity and LeadStatusChanged event),
  by the system (no actor). With the strict pipeline on, only a contacted lead is moved, so no
  step is skipped; a new lead waits until someone has contacted it.
- No "scored" timeline entry is written: scores move with every page view and every rule edit,
  and the lead's score fields (with score_updated_at) already say where it stands. The moment
  that matters, auto-qualification, is on the timeline through its status change.

Two paths, one result
- `rescore_lead` scores one lead in Python (capture, editing, activities, via
  leads.insights.refresh_insights). It locks the lead row before counting activities, so of two
  activities logged at once the later refresh counts both.
- `rescore_leads` rescores leads set-based after a rule change (manage.py rescore_leads, the
  admin's "Rescore selected leads"). Leads go in batches by primary key, each batch in its own
  transaction: the batch's rows are locked, then one UPDATE computes every rule's match flag in
  SQL (conditions.to_q for lead fields; one grouped scan of the batch's activities for the
  counts), the clamped total, band, grade and the JSON breakdown; then the batch's leads that now
  qualify go through the same change_status. On PostgreSQL several batches may run at once
  (`workers`). Tests hold it to the per-lead result on generated leads and rules.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from django.utils import timezone

from crm.models import Activity, Tenant
from leads.choices import Grade, LeadStatus, ScoreBand
from leads.lifecycle import change_status
from leads.models import Lead
from leads.rules.conditions import count_activities, matches, to_q
from leads.rules.config import config_for
from leads.rules.sheet import RuleSheet, rule_sheet

log = logging.getLogger(__name__)

SCORE_FIELDS = ("score_total", "score_band", "grade", "score_version", "score_updated_at", "score_factors")
DEFAULT_WARM = Tenant._meta.get_field("score_warm_threshold").default
DEFAULT_HOT = Tenant._meta.get_field("score_hot_threshold").default
GRADE_FLOORS = ((90, Grade.A_PLUS), (80, Grade.A), (70, Grade.B), (60, Grade.C), (50, Grade.D))
DEFAULT_BATCH_SIZE = 20_000


# From points to score, band and grade ------------------------------------------------------------


def clamp(points: int) -> int:
    return max(0, min(100, points))


def band_for(score: int, *, warm: int = DEFAULT_WARM, hot: int = DEFAULT_HOT) -> str:
    """cold / warm / hot for a 0-100 score under the given thresholds (the Tenant defaults if not given)."""
    if score >= hot:
        return ScoreBand.HOT
    if score >= warm:
        return ScoreBand.WARM
    return ScoreBand.COLD


def grade_for(score: int) -> str:
    for floor, grade in GRADE_FLOORS:
        if score >= floor:
            return grade
    return Grade.F


@dataclass(frozen=True)
class Score:
    total: int
    band: str
    grade: str
    version: str
    factors: list[dict[str, Any]]


def compute_score(*, lead: Lead | Any, sheet: RuleSheet, activity_counts: dict[str, int], tenant: Tenant) -> Score:
    """What the sheet gives this lead (no database access beyond what `lead` already holds).

    `lead` is a Lead or anything read the same way (an import row's LeadValues)."""
    factors = [rule.factor() for rule in sheet.rules if matches(rule.condition, lead, activity_counts)]
    total = clamp(sum(f["points"] for f in factors))
    return Score(
        total=total,
        band=band_for(total, warm=tenant.score_warm_threshold, hot=tenant.score_hot_threshold),
        grade=grade_for(total),
        version=sheet.version,
        factors=factors,
    )


# One lead ---------------------------------------------------------------------------------------


def rescore_lead(*, lead: Lead) -> Lead:
    """Score one lead from its tenant's rules and save the score fields; returns the fresh lead."""
    with transaction.atomic(savepoint=False):
        lead = _locked(lead)
        sheet = config_for(lead.tenant).sheet
        counts = count_activities(lead) if sheet.counts_activities else {}
        _apply(lead, compute_score(lead=lead, sheet=sheet, activity_counts=counts, tenant=lead.tenant))
        lead.save(update_fields=list(SCORE_FIELDS))
    return lead


def score_new_lead(*, lead: Lead, activity_counts: dict[str, int]) -> None:
    """Fill the score of a lead about to be inserted, whose activities the caller knows (capture)."""
    sheet = config_for(lead.tenant).sheet
    _apply(lead, compute_score(lead=lead, sheet=sheet, activity_counts=activity_counts, tenant=lead.tenant))


def _apply(lead: Lead, score: Score) -> None:
    lead.score_total, lead.score_band, lead.grade = score.total, score.band, score.grade
    lead.score_version, lead.score_factors = score.version, score.factors
    lead.score_updated_at = timezone.now()


def qualifying_statuses(tenant: Tenant) -> tuple[str, ...]:
    """The statuses from which a high score qualifies a lead (no skipped steps under the strict pipeline)."""
    if tenant.strict_pipeline:
        return (LeadStatus.CONTACTED,)
    return (LeadStatus.NEW, LeadStatus.CONTACTED)


def will_auto_qualify(lead: Lead) -> bool:
    """Whether auto_qualify qualifies this lead: its score reached the threshold and its status allows."""
    tenant = lead.tenant
    return lead.status in qualifying_statuses(tenant) and lead.score_total >= tenant.auto_qualify_threshold


def auto_qualify(*, lead: Lead) -> Lead:
    """Qualify the lead if its score reached the tenant's threshold and its status allows; returns the lead."""
    if not will_auto_qualify(lead):
        return lead
    return _qualify(lead=lead, score=lead.score_total, tenant=lead.tenant)


def _qualify(*, lead: Lead, score: int, tenant: Tenant) -> Lead:
    notes = f"Auto-qualified: score {score} >= threshold {tenant.auto_qualify_threshold}"
    return change_status(lead=lead, status=LeadStatus.QUALIFIED, actor=None, notes=notes)


def _locked(lead: Lead) -> Lead:
    no_key = connection.features.has_select_for_no_key_update
    # of=("self",): lock the lead, not its tenant row (that would serialise the whole workspace).
    return Lead.objects.select_for_update(no_key=no_key, of=("self",)).select_related("tenant").get(pk=lead.pk)


# Many leads, set-based --------------------------------------------------------------------------


@dataclass
class TenantRescore:
    tenant: Tenant
    version: str
    rules: int
    leads: int = 0
    band_changed: int = 0
    qualified: int = 0


@dataclass
class RescoreSummary:
    tenants: list[TenantRescore] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def leads(self) -> int:
        return sum(t.leads for t in self.tenants)

    @property
    def band_changed(self) -> int:
        return sum(t.band_changed for t in self.tenants)

    @property
    def qualified(self) -> int:
        return sum(t.qualified for t in self.tenants)


Progress = Callable[[Tenant, int, int], None]  # (tenant, leads done, leads in the tenant)


def rescore_leads(
    *,
    tenant: Tenant | None = None,
    lead_ids: Sequence[int] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int = 1,
    progress: Progress | None = None,
) -> RescoreSummary:
    """Rescore every lead of `tenant` (or of every tenant), optionally only `lead_ids`, set-based.

    Batches of `batch_size` leads by primary key, each in its own transaction: one UPDATE per
    batch, then the batch's leads that now qualify are qualified through change_status. On
    PostgreSQL, `workers` > 1 runs that many batches at once, each on its own connection (not
    inside a caller's transaction, whose uncommitted rows other connections could not see).
    """
    if batch_size < 1 or workers < 1:
        raise ValueError("batch_size and workers must be at least 1.")
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        workers = 1  # SQLite runs one writer at a time anyway
    started = time.monotonic()
    summary = RescoreSummary()
    tenants = [tenant] if tenant is not None else list(Tenant.objects.order_by("pk"))
    for one in tenants:
        summary.tenants.append(
            _rescore_tenant(one, lead_ids=lead_ids, batch_size=batch_size, workers=workers, progress=progress)
        )
    summary.seconds = time.monotonic() - started
    return summary


def _rescore_tenant(
    tenant: Tenant, *, lead_ids: Sequence[int] | None, batch_size: int, workers: int, progress: Progress | None
) -> TenantRescore:
    sheet = rule_sheet(tenant)
    result = TenantRescore(tenant=tenant, version=sheet.version, rules=len(sheet.rules))
    ids = sorted(set(lead_ids)) if lead_ids is not None else None
    total = _Batch(tenant=tenant, lead_ids=ids).leads().count()
    if progress:
        progress(tenant, 0, total)

    def done(rescored: int, band_changed: int, qualified: int) -> None:
        result.leads += rescored
        result.band_changed += band_changed
        result.qualified += qualified
        if progress:
            progress(tenant, result.leads, total)

    batches = _batches(tenant, ids, batch_size)
    if workers == 1:
        for batch in batches:
            done(*_run_batch(batch, sheet=sheet))
        return result
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for finished in as_completed(
            [pool.submit(_run_batch, batch, sheet=sheet, own_connection=True) for batch in batches]
        ):
            done(*finished.result())
    return result


def _batches(tenant: Tenant, ids: list[int] | None, batch_size: int) -> list[_Batch]:
    """Consecutive id ranges of batch_size leads each (however sparse the ids); the last is open-ended."""
    batches, low = [], None
    while True:
        rest = _Batch(tenant=tenant, low=low, lead_ids=ids).leads().order_by("pk").values_list("pk", flat=True)
        high = next(iter(rest[batch_size : batch_size + 1]), None)
        batches.append(_Batch(tenant=tenant, low=low, high=high, lead_ids=ids))
        if high is None:
            return batches
        low = high


def _run_batch(batch: _Batch, *, sheet: RuleSheet, own_connection: bool = False) -> tuple[int, int, int]:
    """(leads rescored, band changes, auto-qualified) for one batch, in its own transaction."""
    try:
        with transaction.atomic():
            rescored, band_changed = _update_batch(batch, sheet=sheet)
            return rescored, band_changed, _qualify_batch(batch)
    finally:
        if own_connection:
            connection.close()  # this worker thread's connection


@dataclass(frozen=True)
class _Batch:
    """The tenant's leads with low <= id < high (open-ended where None), optionally only lead_ids."""

    tenant: Tenant
    low: int | None = None
    high: int | None = None
    lead_ids: list[int] | None = None

    def _within(self, queryset, column: str):
        if self.low is not None:
            queryset = queryset.filter(**{f"{column}__gte": self.low})
        if self.high is not None:
            queryset = queryset.filter(**{f"{column}__lt": self.high})
        if self.lead_ids is not None:
            queryset = queryset.filter(**{f"{column}__in": self.lead_ids})
        return queryset

    def leads(self):
        return self._within(Lead.objects.filter(tenant_id=self.tenant.pk), "pk")

    def activities(self):
        """Activities of the batch's id range (any tenant's leads there; the join keeps the batch's own)."""
        return self._within(Activity.objects.filter(lead_id__isnull=False), "lead_id")


def _qualify_batch(batch: _Batch) -> int:
    """Move the batch's leads that reached the threshold through change_status, as the per-lead path does."""
    tenant = batch.tenant
    ready = batch.leads().filter(status__in=qualifying_statuses(tenant), score_total__gte=tenant.auto_qualify_threshold)
    qualified = 0
    for pk, score in ready.order_by("pk").values_list("pk", "score_total"):
        _qualify(lead=Lead(pk=pk, tenant=tenant), score=score, tenant=tenant)
        qualified += 1
    return qualified


def _update_batch(batch: _Batch, *, sheet: RuleSheet) -> tuple[int, int]:
    """Rescore the batch in one statement; returns (leads rescored, leads whose band changed)."""
    vendor = connection.vendor
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            # JIT-compiling the wide expression costs seconds per batch and saves nothing here.
            cursor.execute("SET LOCAL jit = off")
            # Lock the batch first (as rescore_lead locks its lead): the UPDATE then reads activities
            # committed by anyone who held a lead before us, and nobody rescores a lead under us.
            lock_sql, lock_params = batch.leads().select_for_update(no_key=True).values("pk").query.sql_with_params()
            cursor.execute(f"SELECT COUNT(*) FROM ({lock_sql}) AS locked", lock_params)
    scored_sql, scored_params = _scored_select(batch, sheet=sheet)
    # The batch's range stated on the target too, so the planner reads only those rows of it.
    bounds, bound_params = " AND target.tenant_id = %s", [batch.tenant.pk]
    for op, bound in ((">=", batch.low), ("<", batch.high)):
        if bound is not None:
            bounds += f" AND target.id {op} %s"
            bound_params.append(bound)
    now = Lead._meta.get_field("score_updated_at").get_db_prep_value(timezone.now(), connection)
    table = connection.ops.quote_name(Lead._meta.db_table)
    factors = "CAST(s.factors AS jsonb)" if vendor == "postgresql" else "s.factors"
    update = (
        f"UPDATE {table} AS target SET score_total = s.total, score_band = s.band, grade = s.grade, "
        f"score_factors = {factors}, score_version = %s, score_updated_at = %s "
        f"FROM ({scored_sql}) AS s WHERE target.id = s.lead_id{bounds}"
    )
    params = [sheet.version, now, *scored_params, *bound_params]
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute(
                f"WITH updated AS ({update} RETURNING s.old_band <> target.score_band AS band_changed) "
                "SELECT COUNT(*), COUNT(*) FILTER (WHERE band_changed) FROM updated",
                params,
            )
            rescored, band_changed = cursor.fetchone()
            return rescored, band_changed
        # SQLite's RETURNING cannot see the FROM clause: count the band changes first (IMMEDIATE
        # transactions keep every other writer out in between).
        cursor.execute(f"SELECT COUNT(*) FROM ({scored_sql}) AS s WHERE s.band <> s.old_band", scored_params)
        (band_changed,) = cursor.fetchone()
        cursor.execute(update, params)
        return cursor.rowcount, band_changed


def _scored_select(batch: _Batch, *, sheet: RuleSheet) -> tuple[str, list]:
    """SELECT lead_id, old_band, total, band, grade, factors (JSON text) for the batch.

    Layers, inside out: each lead-field rule's match flag (conditions.to_q) next to the batch's
    activity counts per kind (one grouped scan of the batch's activities, joined); the points
    summed; clamped to 0..100; the band, the grade and the breakdown.
    """
    tenant = batch.tenant
    field_flags = {
        f"m{i}": Case(When(to_q(rule.condition), then=Value(1)), default=Value(0), output_field=IntegerField())
        for i, rule in enumerate(sheet.rules)
        if rule.condition.kind != "activity"
    }
    matched = batch.leads().order_by().values(lead_id=F("pk"), old_band=F("score_band")).annotate(**field_flags)
    matched_sql, params = matched.query.sql_with_params()
    params = list(params)
    # An OFFSET keeps the planner from merging the flags into the outer queries, which would copy
    # each rule's condition into the total, the factors and every other place it is used.
    fence = "OFFSET 0" if connection.vendor == "postgresql" else "LIMIT -1 OFFSET 0"
    source = f"({matched_sql} {fence}) AS matched"

    kinds = sorted({rule.condition.field for rule in sheet.rules if rule.condition.kind == "activity"})
    if kinds:
        counts = (
            batch.activities()
            .filter(kind__in=kinds)
            .order_by()
            .values("lead_id")
            .annotate(**{f"c{j}": Count("id", filter=Q(kind=kind)) for j, kind in enumerate(kinds)})
        )
        counts_sql, counts_params = counts.query.sql_with_params()
        source += f" LEFT JOIN ({counts_sql}) AS counts ON counts.lead_id = matched.lead_id"
        params += counts_params
    flags = []
    for i, rule in enumerate(sheet.rules):
        if rule.condition.kind == "activity":
            count = f"COALESCE(counts.c{kinds.index(rule.condition.field)}, 0)"
            flags.append(f"CASE WHEN {count} >= {int(rule.condition.operand)} THEN 1 ELSE 0 END AS m{i}")
        else:
            flags.append(f"matched.m{i} AS m{i}")
    flagged = f"SELECT matched.lead_id, matched.old_band{''.join(', ' + flag for flag in flags)} FROM {source}"

    points = " + ".join(f"m{i} * {int(rule.points)}" for i, rule in enumerate(sheet.rules)) or "0"
    if sheet.rules:
        # Each matched rule contributes ',{...}'; the first comma is cut off and the list bracketed.
        pieces = " || ".join(f"CASE WHEN m{i} = 1 THEN %s ELSE '' END" for i in range(len(sheet.rules)))
        factors = f"'[' || SUBSTR({pieces}, 2) || ']'"
        factor_params = ["," + json.dumps(rule.factor()) for rule in sheet.rules]
    else:
        factors, factor_params = "'[]'", []
    grade = " ".join(f"WHEN total >= {floor} THEN '{grade}'" for floor, grade in GRADE_FLOORS)
    sql = (
        "SELECT lead_id, old_band, total, factors, "
        "CASE WHEN total >= %s THEN 'hot' WHEN total >= %s THEN 'warm' ELSE 'cold' END AS band, "
        f"CASE {grade} ELSE '{Grade.F}' END AS grade "
        "FROM (SELECT lead_id, old_band, factors, "
        "CASE WHEN raw_total < 0 THEN 0 WHEN raw_total > 100 THEN 100 ELSE raw_total END AS total "
        f"FROM (SELECT lead_id, old_band, {points} AS raw_total, {factors} AS factors "
        f"FROM ({flagged}) AS flagged) AS summed) AS clamped"
    )
    return sql, [tenant.score_hot_threshold, tenant.score_warm_threshold, *factor_params, *params]
