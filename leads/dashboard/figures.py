"""The sales dashboard's numbers, for one user's scope and one period. Plain data, a handful of queries.

Definitions (docs/dashboard.md repeats them for readers; the page shows them next to the numbers):

- The period is a cohort: the leads *created* in it, followed to wherever they stand now. A lead
  created on the last day and converted a week later counts in that period's funnel.
- Funnel: a lead counts at every stage it reached. Contacted = status contacted, qualified or
  converted, or disqualified after being contacted (its timeline holds a status change to
  contacted or qualified, or it has a qualified_at). Qualified = status qualified or converted, or
  a qualified_at (kept when a qualified lead is later disqualified). Converted = status converted.
- Time to first contact: from the lead's creation to its first call, email or meeting on the
  timeline, its first status change to contacted (or straight to qualified), or its conversion,
  whichever came first. Leads nobody has contacted yet are left out of the median (and counted).
- Scope: a rep sees the leads they own; a manager or tenant admin the whole tenant. "My open
  leads" and "tasks due today" are always the signed-in user's own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connections
from django.db.models import Count, F, Q
from django.utils import timezone

from crm.choices import ActivityKind
from crm.models import Activity, Tenant, User
from leads.choices import OPEN_STATUSES, LeadSource, LeadStatus, ScoreBand
from leads.dashboard import stored
from leads.dashboard_rollup import CONTACTED_OR_LATER, reached_contacted, reached_qualified
from leads.models import Campaign, Lead



class NoWorkspace(Exception):
    """The user belongs to no tenant (a platform superuser), so there is no scope to report on."""


@dataclass(frozen=True)
class Scope:
    tenant: Tenant
    owner: User | None  # None: the whole tenant

    @property
    def is_tenant_wide(self) -> bool:
        return self.owner is None


@dataclass(frozen=True)
class Period:
    """Whole days, both ends included, in the current time zone."""

    first_day: dt.date
    last_day: dt.date

    @property
    def since(self) -> dt.datetime:
        return _start_of(self.first_day)

    @property
    def until(self) -> dt.datetime:
        """Exclusive: the start of the day after the last one."""
        return _start_of(self.last_day + dt.timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


@dataclass(frozen=True)
class FunnelStage:
    key: str
    label: str
    count: int
    pct_of_new: float | None
    pct_of_previous: float | None


@dataclass(frozen=True)
class Funnel:
    stages: list[FunnelStage]
    disqualified: int

    @property
    def leads(self) -> int:
        return self.stages[0].count

    def count(self, key: str) -> int:
        return next(stage.count for stage in self.stages if stage.key == key)


@dataclass(frozen=True)
class BandCount:
    key: str
    label: str
    count: int
    pct: float | None


@dataclass(frozen=True)
class CampaignRow:
    campaign_id: int | None  # None: the source's leads without a campaign
    label: str
    leads: int
    converted: int
    conversion_pct: float | None


@dataclass(frozen=True)
class SourceRow:
    key: str
    label: str
    leads: int
    converted: int
    conversion_pct: float | None
    campaigns: tuple[CampaignRow, ...] = ()  # biggest first; empty when none of the source's leads has one


@dataclass(frozen=True)
class FirstContact:
    median: dt.timedelta | None
    contacted: int  # leads the median is taken over


@dataclass(frozen=True)
class TaskCounts:
    due_today: int
    overdue: int


@dataclass(frozen=True)
class RepRow:
    """One rep's line in the managers' table: their leads now, and the period's cohort."""

    user: User
    open_leads: int  # owned, open (new, contacted or qualified), now
    untouched_leads: int  # owned, new and never contacted, now
    overdue_tasks: int  # their unfinished tasks due before today
    conversions: int  # cohort leads they own that converted
    median_first_contact: dt.timedelta | None  # over their contacted cohort leads


@dataclass(frozen=True)
class Dashboard:
    scope: Scope
    period: Period
    funnel: Funnel
    bands: list[BandCount]
    sources: list[SourceRow]
    first_contact: FirstContact
    open_leads_total: int
    open_leads: list[Lead]
    task_counts: TaskCounts
    tasks_due_today: list[Activity]
    reps: list[RepRow] = ()  # type: ignore[assignment]  # a manager sees every rep, a rep their own row


def scope_for(*, user: User) -> Scope:
    """A rep's own leads, or a manager's / tenant admin's whole tenant."""
    if user.tenant is None:
        raise NoWorkspace("This user belongs to no workspace.")
    return Scope(tenant=user.tenant, owner=None if user.is_manager else user)


def last_days(*, days: int, today: dt.date) -> Period:
    """The `days` days up to and including today."""
    return Period(first_day=today - dt.timedelta(days=days - 1), last_day=today)


def build_dashboard(*, user: User, period: Period, now: dt.datetime | None = None) -> Dashboard:
    """Everything the dashboard page shows; raises NoWorkspace for a user without a tenant. The cohort's figures
    and the per-rep counts come from the stored rollups (leads/dashboard/stored.py), equal to the live
    computations below (funnel_and_bands, by_source, first_contact, rep_table) at every moment."""
    scope = scope_for(user=user)
    now = now or timezone.now()
    people = _rep_table_users(scope)
    figures = stored.read(
        tenant_id=scope.tenant.pk, first_day=period.first_day, last_day=period.last_day,
        owner_id=scope.owner.pk if scope.owner else None, median_owners=list(people),
    )
    totals = {key: sum(group[key] for group in figures.groups) for key in stored.DAY_COUNTS}
    funnel, bands = _funnel_and_bands(
        {"new": totals["leads"], **totals, **{f"band_{band}": totals[band] for band in ScoreBand.values}}
    )
    median, contacted = figures.medians[stored.TOTAL]
    open_total, open_top = my_open_leads(user=user)
    per_source = [
        {"source": group["source"], "source_campaign": group["campaign_key"] or None, "leads": group["leads"],
         "converted": group["converted"]}
        for group in figures.groups
    ]
    conversions: dict[int, int] = {}
    for group in figures.groups:
        conversions[group["owner_key"]] = conversions.get(group["owner_key"], 0) + group["converted"]
    return Dashboard(
        scope=scope,
        period=period,
        funnel=funnel,
        bands=bands,
        sources=_sources(per_source),
        first_contact=FirstContact(median=median if contacted else None, contacted=contacted),
        open_leads_total=open_total,
        open_leads=open_top,
        task_counts=my_task_counts(user=user, now=now),
        tasks_due_today=my_tasks_due_today(user=user, now=now),
        reps=_rep_rows(
            scope=scope, people=people, now=now,
            now_counts={pk: dict(zip(("open", "untouched"), figures.now.get(pk, (0, 0)), strict=True)) for pk in people},
            conversions=conversions,
            medians={pk: figures.medians[pk][0] for pk in people if pk in figures.medians},
        ),
    )


def rep_table(*, scope: Scope, period: Period, now: dt.datetime) -> list[RepRow]:
    """Per rep: open and untouched leads (now), overdue tasks, the cohort's conversions and median wait to first
    contact. A manager's scope lists every active user of the workspace who owns leads or is a rep; a rep's
    scope, their own row. Computed live from the leads (reads the stored first_contacted_at, never the timeline);
    the page reads the same figures from the rollups (build_dashboard)."""
    people = _rep_table_users(scope)
    leads = Lead.objects.for_tenant(scope.tenant).filter(owner_id__in=list(people), is_test=False)
    now_counts = {
        row["owner_id"]: row
        for row in leads.filter(status__in=OPEN_STATUSES)
        .order_by()
        .values("owner_id")
        .annotate(
            open=Count("pk"),
            untouched=Count("pk", filter=Q(status=LeadStatus.NEW, first_contacted_at__isnull=True)),
        )
    }
    cohort_rows = cohort(scope=scope, period=period).filter(owner_id__in=list(people)).order_by()
    conversions = dict(
        cohort_rows.filter(status=LeadStatus.CONVERTED).values("owner_id").annotate(n=Count("pk")).values_list("owner_id", "n")
    )
    return _rep_rows(scope=scope, people=people, now=now, now_counts=now_counts, conversions=conversions,
                     medians=_median_waits_by_owner(cohort_rows))


def _rep_table_users(scope: Scope) -> dict[int, User]:
    users = User.objects.filter(tenant=scope.tenant, is_active=True)
    if scope.owner is not None:
        users = users.filter(pk=scope.owner.pk)
    return {user.pk: user for user in users.order_by("first_name", "last_name", "username")}


def _rep_rows(*, scope: Scope, people: dict[int, User], now: dt.datetime, now_counts: dict, conversions: dict,
              medians: dict) -> list[RepRow]:
    today = _start_of(timezone.localtime(now).date())
    overdue = dict(
        Activity.objects.for_tenant(scope.tenant)
        .filter(kind=ActivityKind.TASK, actor_id__in=list(people), done_at__isnull=True, due_at__lt=today)
        .order_by()
        .values("actor_id")
        .annotate(n=Count("pk"))
        .values_list("actor_id", "n")
    )
    rows = [
        RepRow(
            user=user,
            open_leads=now_counts.get(pk, {}).get("open", 0),
            untouched_leads=now_counts.get(pk, {}).get("untouched", 0),
            overdue_tasks=overdue.get(pk, 0),
            conversions=conversions.get(pk, 0),
            median_first_contact=medians.get(pk),
        )
        for pk, user in people.items()
    ]
    # Reps with nothing at all (an admin who owns no leads) would only add noise.
    return [row for row in rows if scope.owner is not None or row.open_leads or row.conversions
            or row.overdue_tasks or row.median_first_contact is not None or not row.user.is_manager]


def _median_waits_by_owner(leads) -> dict[int, dt.timedelta]:
    waits = leads.filter(first_contacted_at__isnull=False).annotate(wait=F("first_contacted_at") - F("created_at"))
    connection = connections[waits.db]
    if connection.vendor == "postgresql":
        sql, params = waits.values_list("owner_id", "wait").query.get_compiler(using=waits.db).as_sql()
        seconds = _epoch_seconds(connection.vendor, "w.wait")
        query = (
            f"SELECT w.owner_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY {seconds}) "
            f"FROM ({sql}) w(owner_id, wait) GROUP BY w.owner_id"
        )
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            return {owner: dt.timedelta(seconds=round(float(median))) for owner, median in cursor.fetchall()}
    per_owner: dict[int, list[dt.timedelta]] = {}
    for owner, wait in waits.values_list("owner_id", "wait"):
        per_owner.setdefault(owner, []).append(wait if isinstance(wait, dt.timedelta) else dt.timedelta(microseconds=wait))
    result = {}
    for owner, values in per_owner.items():
        values.sort()
        middle = len(values) // 2
        median = values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
        result[owner] = dt.timedelta(seconds=round(median.total_seconds()))
    return result


def cohort(*, scope: Scope, period: Period):
    """The leads of the scope created in the period (a platform's test leads left out)."""
    leads = Lead.objects.for_tenant(scope.tenant).filter(
        created_at__gte=period.since, created_at__lt=period.until, is_test=False
    )
    return leads if scope.owner is None else leads.owned_by(scope.owner)


def funnel_and_bands(*, scope: Scope, period: Period) -> tuple[Funnel, list[BandCount]]:
    """One aggregate over the cohort: how far its leads got, and their score bands."""
    # The timeline is only consulted (EXISTS) for disqualified leads: their status no longer says how far they got.
    counts = cohort(scope=scope, period=period).aggregate(
        new=Count("pk"),
        contacted=Count("pk", filter=reached_contacted()),
        qualified=Count("pk", filter=reached_qualified()),
        converted=Count("pk", filter=Q(status=LeadStatus.CONVERTED)),
        disqualified=Count("pk", filter=Q(status=LeadStatus.DISQUALIFIED)),
        **{f"band_{band}": Count("pk", filter=Q(score_band=band)) for band in ScoreBand.values},
    )
    return _funnel_and_bands(counts)


def _funnel_and_bands(counts: dict) -> tuple[Funnel, list[BandCount]]:
    stages, previous = [], None
    for status in (LeadStatus.NEW, *CONTACTED_OR_LATER):
        count = counts[status.value]
        stages.append(
            FunnelStage(
                key=status.value,
                label=status.label,
                count=count,
                pct_of_new=pct(count, counts["new"]),
                pct_of_previous=pct(count, previous) if previous is not None else None,
            )
        )
        previous = count
    bands = [
        BandCount(
            key=band.value,
            label=band.label,
            count=counts[f"band_{band}"],
            pct=pct(counts[f"band_{band}"], counts["new"]),
        )
        for band in ScoreBand
    ]
    return Funnel(stages=stages, disqualified=counts["disqualified"]), bands


def by_source(*, scope: Scope, period: Period) -> list[SourceRow]:
    """Leads per source and the share of them converted, biggest source first; each source split into its
    campaigns (leads/campaigns.py), biggest first, when any of its leads came from one."""
    rows = (
        cohort(scope=scope, period=period)
        .order_by()
        .values("source", "source_campaign")
        .annotate(leads=Count("pk"), converted=Count("pk", filter=Q(status=LeadStatus.CONVERTED)))
    )
    return _sources(list(rows))


def _sources(rows: list[dict]) -> list[SourceRow]:
    """Rows of source, source_campaign, leads, converted (several per source and campaign allowed) as the table."""
    merged: dict[tuple, dict] = {}
    for row in rows:
        key = (row["source"], row["source_campaign"])
        into = merged.setdefault(key, {**row, "leads": 0, "converted": 0})
        into["leads"] += row["leads"]
        into["converted"] += row["converted"]
    rows = [row for row in merged.values() if row["leads"]]
    per_source: dict[str, list[dict]] = {}
    for row in rows:
        per_source.setdefault(row["source"], []).append(row)
    campaign_ids = {row["source_campaign"] for row in rows if row["source_campaign"] is not None}
    names = {c.pk: str(c) for c in Campaign.objects.filter(pk__in=campaign_ids)} if campaign_ids else {}
    labels = dict(LeadSource.choices)
    result = []
    for source, parts in per_source.items():
        leads, converted = sum(p["leads"] for p in parts), sum(p["converted"] for p in parts)
        campaigns = sorted(
            (
                CampaignRow(
                    campaign_id=p["source_campaign"],
                    label=names.get(p["source_campaign"], "") if p["source_campaign"] is not None else "No campaign",
                    leads=p["leads"], converted=p["converted"], conversion_pct=pct(p["converted"], p["leads"]),
                )
                for p in parts
            ),
            key=lambda row: (-row.leads, row.label),
        ) if campaign_ids.intersection(p["source_campaign"] for p in parts) else []
        result.append(SourceRow(
            key=source, label=labels.get(source, source), leads=leads, converted=converted,
            conversion_pct=pct(converted, leads), campaigns=tuple(campaigns),
        ))
    return sorted(result, key=lambda row: (-row.leads, row.label))


def first_contact(*, scope: Scope, period: Period, portable: bool | None = None) -> FirstContact:
    """The median wait from creation to first contact over the cohort's contacted leads.

    PostgreSQL uses percentile_cont; `portable` (the default elsewhere) takes the middle row(s)
    by ROW_NUMBER, which SQLite and PostgreSQL both run. Either way one query.
    """
    # Lead.first_contacted_at is kept by the services that log a contact (leads/first_contact.py), so the
    # wait is read from the cohort's own rows: no timeline scan, whatever the period.
    waits = (
        cohort(scope=scope, period=period)
        .filter(first_contacted_at__isnull=False)
        .order_by()
        .annotate(wait=F("first_contacted_at") - F("created_at"))
        .values_list("wait")
    )
    connection = connections[waits.db]
    sql, params = waits.query.get_compiler(using=waits.db).as_sql()
    if portable is None:
        portable = connection.vendor != "postgresql"
    seconds = _epoch_seconds(connection.vendor, "waits.wait")
    if portable:
        query = (
            f"SELECT AVG(s), MAX(n) FROM (SELECT {seconds} AS s, ROW_NUMBER() OVER (ORDER BY {seconds}) AS r, "
            f"COUNT(*) OVER () AS n FROM ({sql}) waits) ranked WHERE r IN ((n + 1) / 2, (n + 2) / 2)"
        )
    else:
        query = f"SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY {seconds}), COUNT(*) FROM ({sql}) waits"
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        median, contacted = cursor.fetchone()
    if not contacted:
        return FirstContact(median=None, contacted=0)
    return FirstContact(median=dt.timedelta(seconds=round(float(median))), contacted=contacted)


def my_open_leads(*, user: User, limit: int = 5) -> tuple[int, list[Lead]]:
    """How many open leads the user owns, and the best-scored few of them."""
    mine = Lead.objects.for_tenant(user.tenant).open().owned_by(user)
    return mine.count(), list(mine.order_by("-score_total", "-created_at", "-id")[:limit])


def my_task_counts(*, user: User, now: dt.datetime) -> TaskCounts:
    """The user's unfinished tasks due today, and those already overdue."""
    today = _start_of(timezone.localtime(now).date())
    counts = _my_open_tasks(user=user, now=now).aggregate(
        due_today=Count("pk", filter=Q(due_at__gte=today)),
        overdue=Count("pk", filter=Q(due_at__lt=today)),
    )
    return TaskCounts(**counts)


def my_tasks_due_today(*, user: User, now: dt.datetime, limit: int = 10) -> list[Activity]:
    """The user's unfinished tasks due today, earliest first, with what they are about."""
    today = _start_of(timezone.localtime(now).date())
    return list(
        _my_open_tasks(user=user, now=now)
        .filter(due_at__gte=today)
        .select_related("lead", "contact", "deal")
        .order_by("due_at", "id")[:limit]
    )


def _my_open_tasks(*, user: User, now: dt.datetime):
    # A task's actor is its assignee (leads/qualification.py and the admin's "add a task" set it so).
    tomorrow = _start_of(timezone.localtime(now).date() + dt.timedelta(days=1))
    return Activity.objects.for_tenant(user.tenant).filter(
        kind=ActivityKind.TASK, actor=user, done_at__isnull=True, due_at__lt=tomorrow
    )


def pct(part: int, whole: int | None) -> float | None:
    """part as a percentage of whole, one decimal; None when there is nothing to divide by."""
    if not whole:
        return None
    return round(100 * part / whole, 1)


def _epoch_seconds(vendor: str, column: str) -> str:
    # The wait is an interval on PostgreSQL; Django's SQLite backend computes it in microseconds.
    if vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM {column})"
    return f"({column} / 1000000.0)"


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
