"""The dashboard's stored figures: each lead's facts (DashboardLead), and per creation day, owner, source and
campaign their counts (DashboardDay) and wait buckets (DashboardWait), so a year's dashboard sums a few
thousand rows instead of reading half a million leads.

Kept exact without trusting any door: database triggers mark every changed lead stale (dashboard_triggers.py);
`refresh_stale` brings marked leads up to date in batches (subtract what the lead counted for, add what it counts
for now, in one transaction); readers add the difference for leads still marked (leads/dashboard/stored.py), so
figures are exact whether or not the refresh has run. `rebuild` recomputes everything (a new install, a restore).

Every count is defined once, in SQL over a relation of facts with a sign (`day_sums`, `wait_sums`), whether it
sums stored facts, a batch's change, or a reader's correction. On PostgreSQL a refresh runs in REPEATABLE READ
under an advisory lock: it reads leads, facts and marks at one snapshot and deletes only the marks it saw, so a
change committed meanwhile leaves its lead marked (stale, never wrong).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import BooleanField, Case, DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce, TruncDate

from crm.choices import ActivityKind
from crm.models import Activity

from .choices import OPEN_STATUSES, LeadStatus, ScoreBand
from .dashboard_models import DashboardDay, DashboardLead, DashboardStale, DashboardWait
from .first_contact import CONTACTING_STATUSES
from .models import Lead

CONTACTED_OR_LATER = (LeadStatus.CONTACTED, LeadStatus.QUALIFIED, LeadStatus.CONVERTED)
QUALIFIED_OR_LATER = (LeadStatus.QUALIFIED, LeadStatus.CONVERTED)

# Coarse buckets of the wait to first contact (upper bounds, exclusive; the last bucket is open-ended). They only
# find which bucket holds the median; its exact value is then read from the bucket's facts in order.
WAIT_BOUNDS = tuple(
    dt.timedelta(minutes=m)
    for m in (1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 360, 480, 720, 960, 1200, 1440, 2160, 2880, 4320,
              5760, 7200, 10080, 14400, 20160, 30240, 43200, 64800, 86400, 129600, 259200, 525600)
)
FACT_COLUMNS = ("lead_id", "tenant_id", "day", "owner_key", "source", "campaign_key", "status", "score_band",
                "contacted", "qualified", "wait", "bucket")
DAY_KEY = ("tenant_id", "day", "owner_key", "source", "campaign_key")
DAY_COUNTS = ("leads", "contacted", "qualified", "converted", "disqualified", "cold", "warm", "hot", "open",
              "untouched")
WAIT_KEY = ("tenant_id", "day", "owner_key", "bucket")
BATCH = 2000
_LOCK = 19_0006  # pg advisory lock: one refresher at a time (issue 19, item 6)


def reached_qualified() -> Q:
    return Q(status__in=QUALIFIED_OR_LATER) | Q(qualified_at__isnull=False)


def reached_contacted() -> Q:
    """Contacted or later by status, or disqualified after a status change to contacted or qualified on its
    timeline (or a qualified_at)."""
    history = Activity.objects.filter(
        tenant_id=OuterRef("tenant_id"), lead_id=OuterRef("pk"), kind=ActivityKind.STATUS_CHANGED,
        data__to__in=sorted(CONTACTING_STATUSES),  # status changes that show someone reached the lead
    )
    return Q(status__in=CONTACTED_OR_LATER) | reached_qualified() | Q(Q(status=LeadStatus.DISQUALIFIED), Exists(history))


def facts(leads):
    """What the dashboard reads of each lead, as columns f_<FACT_COLUMNS> (test leads left out)."""
    wait = ExpressionWrapper(F("first_contacted_at") - F("created_at"), output_field=DurationField())
    return (
        leads.filter(is_test=False)
        .order_by()
        .annotate(f_wait=wait)
        .values(
            "f_wait",
            f_lead_id=F("pk"),
            f_tenant_id=F("tenant_id"),
            f_day=TruncDate("created_at"),
            f_owner_key=Coalesce("owner_id", Value(0)),
            f_source=F("source"),
            f_campaign_key=Coalesce("source_campaign_id", Value(0)),
            f_status=F("status"),
            f_score_band=F("score_band"),
            f_contacted=Case(When(reached_contacted(), then=Value(True)), default=Value(False),
                             output_field=BooleanField()),
            f_qualified=Case(When(reached_qualified(), then=Value(True)), default=Value(False),
                             output_field=BooleanField()),
            f_bucket=Case(
                When(first_contacted_at__isnull=True, then=Value(None)),
                *[When(f_wait__lt=bound, then=Value(i)) for i, bound in enumerate(WAIT_BOUNDS)],
                default=Value(len(WAIT_BOUNDS)),
            ),
        )
    )


def facts_sql(leads) -> tuple[str, list]:
    """`facts(leads)` as SQL whose columns are named FACT_COLUMNS."""
    query = facts(leads)
    sql, params = query.query.get_compiler(using=query.db).as_sql()
    names = ", ".join(f"f.f_{c} AS {c}" for c in FACT_COLUMNS)
    return f"SELECT {names} FROM ({sql}) f", list(params)


def stored_sql(where: str) -> str:
    return f"SELECT {', '.join(FACT_COLUMNS)} FROM {DashboardLead._meta.db_table} WHERE {where}"


def day_sums(relation: str) -> str:
    """Counts per DAY_KEY over `relation` (FACT_COLUMNS and a sign: +1 counts a lead, -1 takes it back)."""
    def when(condition: str) -> str:
        return f"SUM(CASE WHEN {condition} THEN sign ELSE 0 END)"

    open_statuses = ", ".join(f"'{s}'" for s in OPEN_STATUSES)
    counts = [
        "SUM(sign)", when("contacted"), when("qualified"), when(f"status = '{LeadStatus.CONVERTED}'"),
        when(f"status = '{LeadStatus.DISQUALIFIED}'"),
        *(when(f"score_band = '{band}'") for band in (ScoreBand.COLD, ScoreBand.WARM, ScoreBand.HOT)),
        when(f"status IN ({open_statuses})"), when(f"status = '{LeadStatus.NEW}' AND wait IS NULL"),
    ]
    columns = [*DAY_KEY, *(f"{sql} AS {name}" for sql, name in zip(counts, DAY_COUNTS, strict=True))]
    return f"SELECT {', '.join(columns)} FROM ({relation}) r GROUP BY {', '.join(DAY_KEY)}"


def wait_sums(relation: str) -> str:
    """Contacted leads per WAIT_KEY over `relation`, signed like day_sums."""
    return (
        f"SELECT {', '.join(WAIT_KEY)}, SUM(sign) AS n FROM ({relation}) r WHERE bucket IS NOT NULL "
        f"GROUP BY {', '.join(WAIT_KEY)}"
    )


def _add(cursor, sums: str, params: list, *, table: str, key: tuple[str, ...], counts: tuple[str, ...]) -> None:
    columns = ", ".join((*key, *counts))
    increments = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in counts)
    # "WHERE true": SQLite needs it to tell an upsert's ON CONFLICT from a join's ON.
    cursor.execute(
        f"INSERT INTO {table} ({columns}) SELECT {columns} FROM ({sums}) s WHERE true "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {increments}",
        params,
    )


def _apply(cursor, relation: str, params: list) -> None:
    _add(cursor, day_sums(relation), params, table=DashboardDay._meta.db_table, key=DAY_KEY, counts=DAY_COUNTS)
    _add(cursor, wait_sums(relation), params, table=DashboardWait._meta.db_table, key=WAIT_KEY, counts=("n",))
    # Rows the change emptied (a lead that moved to another owner or day) would only be summed as zeros.
    days = f"(tenant_id, day) IN (SELECT tenant_id, day FROM ({relation}) r)"
    cursor.execute(f"DELETE FROM {DashboardDay._meta.db_table} WHERE leads = 0 AND {days}", params)
    cursor.execute(f"DELETE FROM {DashboardWait._meta.db_table} WHERE n = 0 AND {days}", params)


@contextmanager
def one_snapshot(*, read_only: bool = False) -> Iterator[None]:
    """A transaction whose statements all see one snapshot (REPEATABLE READ on PostgreSQL; SQLite's transactions
    are serialised). Inside a caller's transaction, that transaction's."""
    outermost = not connection.in_atomic_block
    with transaction.atomic(savepoint=not read_only):
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # must be the transaction's first statement
                cursor.execute(f"SET TRANSACTION ISOLATION LEVEL REPEATABLE READ{' READ ONLY' if read_only else ''}")
        yield


class _Refresher:
    """Holds the one-refresher lock (PostgreSQL; SQLite's IMMEDIATE transactions serialise writers already)."""

    def __enter__(self) -> bool:
        if connection.vendor != "postgresql":
            self.held = True
            return True
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [_LOCK])
            self.held = bool(cursor.fetchone()[0])
        return self.held

    def __exit__(self, *exc) -> None:
        if connection.vendor == "postgresql" and self.held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK])


def refresh_batch(*, size: int = BATCH) -> int:
    """Bring the leads of the oldest `size` stale marks up to date, in one transaction; returns how many leads."""
    stale = DashboardStale._meta.db_table
    with one_snapshot(), connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {stale} ORDER BY id LIMIT 1 OFFSET %s", [size - 1])
        row = cursor.fetchone()
        if row is None:
            cursor.execute(f"SELECT MAX(id) FROM {stale}")
            row = cursor.fetchone()
        if row is None or row[0] is None:
            return 0
        batch = f"SELECT lead_id FROM {stale} WHERE id <= %s"
        live_sql, live_params = facts_sql(Lead.objects.filter(pk__in=DashboardStale.objects.filter(id__lte=row[0])
                                                             .values("lead_id")))
        relation = (
            f"SELECT {', '.join(FACT_COLUMNS)}, -1 AS sign FROM ({stored_sql(f'lead_id IN ({batch})')}) old "
            f"UNION ALL SELECT {', '.join(FACT_COLUMNS)}, 1 AS sign FROM ({live_sql}) live"
        )
        _apply(cursor, relation, [row[0], *live_params])
        cursor.execute(f"SELECT COUNT(DISTINCT lead_id) FROM {stale} WHERE id <= %s", [row[0]])
        leads = cursor.fetchone()[0]
        cursor.execute(f"DELETE FROM {DashboardLead._meta.db_table} WHERE lead_id IN ({batch})", [row[0]])
        cursor.execute(f"INSERT INTO {DashboardLead._meta.db_table} ({', '.join(FACT_COLUMNS)}) {live_sql}", live_params)
        # Every mark of these leads this snapshot sees: their facts are now the snapshot's. Marks written by
        # changes committed after it are invisible here, so they stay.
        cursor.execute(f"DELETE FROM {stale} WHERE lead_id IN ({batch})", [row[0]])
        return leads


class RefreshRunning(RuntimeError):
    """Another process is refreshing the stored figures (PostgreSQL's advisory lock is taken)."""


def refresh_stale(*, max_seconds: float | None = None, size: int = BATCH,
                  progress: Callable[[int], None] | None = None, busy_ok: bool = True) -> int:
    """Refresh batch after batch until no lead is marked stale (or `max_seconds` is spent); returns how many leads.
    Another refresher running (PostgreSQL) makes this one return 0 at once, the marks being theirs to take, or
    raise RefreshRunning unless `busy_ok`."""
    started, done = time.monotonic(), 0
    with _Refresher() as held:
        if not held:
            if busy_ok:
                return 0
            raise RefreshRunning("Another refresh of the dashboard's figures is running; try again when it ends.")
        while True:
            leads = refresh_batch(size=size)
            done += leads
            if progress and leads:
                progress(done)
            if not leads or (max_seconds is not None and time.monotonic() - started >= max_seconds):
                return done


def rebuild(*, progress: Callable[[str], None] | None = None) -> int:
    """Recompute every stored figure from the leads, in one transaction; returns how many leads are counted."""
    say = progress or (lambda message: None)
    tables = [m._meta.db_table for m in (DashboardDay, DashboardWait, DashboardLead)]
    with _Refresher() as held:
        if not held:
            raise RefreshRunning("Another refresh of the dashboard's figures is running; try again when it ends.")
        with one_snapshot(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {DashboardStale._meta.db_table}")
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")
            say("cleared the stored figures")
            sql, params = facts_sql(Lead.objects.all())
            cursor.execute(f"INSERT INTO {tables[2]} ({', '.join(FACT_COLUMNS)}) {sql}", params)
            counted = cursor.rowcount
            say(f"stored the facts of {counted:,} leads")
            _apply(cursor, f"SELECT {', '.join(FACT_COLUMNS)}, 1 AS sign FROM {tables[2]}", [])
            say("summed them per day, owner, source and campaign")
    return counted
