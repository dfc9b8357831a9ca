"""The dashboard's figures read from the stored rollups (leads/dashboard_rollup.py), exact at every moment.

Each sum is the stored rows of the period plus a correction for the leads still marked stale: minus what they
counted for when last stored, plus what they count for now (their facts read live, the same SQL). All reads
happen in one snapshot (REPEATABLE READ on PostgreSQL), so a refresh committing meanwhile cannot be seen half.

The median is not a sum: the per-day wait buckets (summed and corrected the same way) say which bucket holds the
middle lead(s) and at what rank; the exact wait at that rank is then read from that bucket's stored facts in
order (an index), merged with the stale leads' live waits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.db.models.expressions import RawSQL

from leads.dashboard_models import DashboardDay, DashboardLead, DashboardStale, DashboardWait
from leads.dashboard_rollup import DAY_COUNTS, DAY_KEY, FACT_COLUMNS, day_sums, facts_sql, one_snapshot, stored_sql
from leads.models import Lead

TOTAL = "total"  # the median over the whole scope, beside each owner's


@dataclass(frozen=True)
class StoredFigures:
    groups: list[dict]  # per owner_key, source, campaign_key of the cohort: DAY_COUNTS
    now: dict[int, tuple[int, int]]  # owner_key -> (open, untouched) leads now, whatever their age
    medians: dict  # TOTAL or an owner_key -> (median wait or None, contacted leads)


# Up to this many marked leads are named in the queries (index lookups); more are joined from the marks.
NAMED_STALE = 5000


def read(*, tenant_id: int, first_day: dt.date, last_day: dt.date, owner_id: int | None,
         median_owners: list[int]) -> StoredFigures:
    """The cohort's counts (one owner's when owner_id is given), every owner's open and untouched leads now,
    and the median wait for the scope and for each of `median_owners`."""
    with one_snapshot(read_only=True):
        reader = _Reader(tenant_id=tenant_id, first_day=first_day, last_day=last_day, owner_id=owner_id)
        return StoredFigures(groups=reader.groups(), now=reader.now(), medians=reader.medians(median_owners))


class _Reader:
    def __init__(self, *, tenant_id: int, first_day: dt.date, last_day: dt.date, owner_id: int | None):
        self.tenant_id, self.owner_id = tenant_id, owner_id
        self.first_day, self.last_day = first_day, last_day
        self._corrected: tuple[list[dict], list[tuple]] | None = None
        self.days: list = [connection.ops.adapt_datefield_value(first_day), connection.ops.adapt_datefield_value(last_day)]
        marks = DashboardStale.objects.filter(tenant_id=tenant_id).values("lead_id")
        ids = list(marks.distinct().values_list("lead_id", flat=True)[:NAMED_STALE + 1])
        self.stale = bool(ids)
        if len(ids) <= NAMED_STALE:
            # PostgreSQL takes the ids as one array parameter rather than thousands of them, in every query.
            self.stale_ids: tuple[str, list] = (
                ("SELECT unnest(%s::bigint[])", [ids]) if connection.vendor == "postgresql"
                else (", ".join(["%s"] * len(ids)), ids)
            )
            named = RawSQL(*self.stale_ids) if connection.vendor == "postgresql" else ids
            leads = Lead.objects.filter(tenant_id=tenant_id, pk__in=named)
        else:
            self.stale_ids = (f"SELECT lead_id FROM {DashboardStale._meta.db_table} WHERE tenant_id = %s", [tenant_id])
            leads = Lead.objects.filter(tenant_id=tenant_id, pk__in=marks)
        # Nothing marked: no correction at all (an empty IN would not even compile).
        self.live_sql, self.live_params = facts_sql(leads) if ids else ("", [])
        cols = ", ".join(FACT_COLUMNS)
        stale_sql, stale_params = self.stale_ids
        self.correction = (
            f"SELECT {cols}, -1 AS sign FROM ({stored_sql(f'tenant_id = %s AND lead_id IN ({stale_sql})')}) old "
            f"UNION ALL SELECT {cols}, 1 AS sign FROM ({self.live_sql}) live"
        )
        self.correction_params = [tenant_id, *stale_params, *self.live_params]

    def _fetch(self, sql: str, params: list) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def _in_scope(self, day, owner_key: int) -> bool:
        day = dt.date.fromisoformat(day) if isinstance(day, str) else day  # SQLite returns dates as text
        return self.first_day <= day <= self.last_day and self.owner_id in (None, owner_key)

    def _period_sql(self) -> tuple[str, list]:
        where, params = "tenant_id = %s AND day >= %s AND day <= %s", [self.tenant_id, *self.days]
        if self.owner_id is not None:
            where, params = f"{where} AND owner_key = %s", [*params, self.owner_id]
        return where, params

    def _corrections(self) -> tuple[list[dict], list[tuple]]:
        """What the marked leads change, read once per page in one query (their live facts computed once): the day
        counts (every day and owner), and their waits one per row, -1 as stored and +1 as now."""
        if self._corrected is None:
            self._corrected = ([], [])
            if self.stale:
                counts = ", ".join(DAY_COUNTS)
                nothing = ", ".join(["NULL"] * len(DAY_COUNTS))
                rows = self._fetch(
                    f"WITH c AS ({self.correction}) "
                    f"SELECT 1, {', '.join(DAY_KEY)}, {counts}, NULL, NULL, NULL FROM ({day_sums('SELECT * FROM c')}) d "
                    f"UNION ALL SELECT 2, tenant_id, day, owner_key, NULL, NULL, {nothing}, bucket, sign, wait FROM c "
                    "WHERE bucket IS NOT NULL",
                    self.correction_params,
                )
                names = (*DAY_KEY, *DAY_COUNTS)
                for kind, *values in rows:
                    if kind == 1:
                        self._corrected[0].append(
                            dict(zip(names, (*values[:5], *map(int, values[5:5 + len(DAY_COUNTS)])), strict=True))
                        )
                    else:  # owner, day, bucket, sign, wait
                        self._corrected[1].append((values[2], values[1], *values[-3:]))
        return self._corrected

    def _day_correction(self) -> list[dict]:
        return self._corrections()[0]

    def groups(self) -> list[dict]:
        where, params = self._period_sql()
        keys = ("owner_key", "source", "campaign_key")
        sums = ", ".join(f"SUM({c})" for c in DAY_COUNTS)
        rows = self._fetch(
            f"SELECT {', '.join(keys)}, {sums} FROM {DashboardDay._meta.db_table} WHERE {where} "
            f"GROUP BY {', '.join(keys)}", params,
        )
        # int(): PostgreSQL sums bigints as numeric.
        merged = {row[:3]: dict(zip((*keys, *DAY_COUNTS), (*row[:3], *map(int, row[3:])), strict=True)) for row in rows}
        for change in self._day_correction():
            if self._in_scope(change["day"], change["owner_key"]):
                key = tuple(change[k] for k in keys)
                into = merged.setdefault(key, {**{k: change[k] for k in keys}, **dict.fromkeys(DAY_COUNTS, 0)})
                for count in DAY_COUNTS:
                    into[count] += change[count]
        return list(merged.values())

    def now(self) -> dict[int, tuple[int, int]]:
        rows = self._fetch(
            f"SELECT owner_key, SUM(open), SUM(untouched) FROM {DashboardDay._meta.db_table} WHERE tenant_id = %s "
            "GROUP BY owner_key", [self.tenant_id],
        )
        counts = {owner: [int(o), int(u)] for owner, o, u in rows}
        for change in self._day_correction():
            into = counts.setdefault(change["owner_key"], [0, 0])
            into[0] += change["open"]
            into[1] += change["untouched"]
        return {owner: (o, u) for owner, (o, u) in counts.items()}

    def medians(self, owners: list[int]) -> dict:
        where, params = self._period_sql()
        histograms: dict = {TOTAL: {}}

        def add(owner: int, bucket: int, n: int) -> None:
            for group in (TOTAL, owner):
                histogram = histograms.setdefault(group, {})
                histogram[bucket] = histogram.get(bucket, 0) + n

        for owner, bucket, n in self._fetch(
            f"SELECT owner_key, bucket, SUM(n) FROM {DashboardWait._meta.db_table} WHERE {where} "
            "GROUP BY owner_key, bucket", params,
        ):
            add(owner, bucket, int(n))
        # The marked leads: their stored waits come out of the buckets, their live waits go in (and are kept to be
        # merged with the stored ones when a median falls in their bucket).
        self.live_waits: dict[tuple, list[int]] = {}
        if self.stale:
            for owner, day, bucket, sign, wait in self._corrections()[1]:
                if self._in_scope(day, owner):
                    add(owner, bucket, sign)
                    if sign > 0:
                        for group in (TOTAL, owner):
                            self.live_waits.setdefault((group, bucket), []).append(_microseconds(wait))
        for histogram in histograms.values():
            for bucket in [b for b, n in histogram.items() if not n]:
                del histogram[bucket]
        groups = [TOTAL, *(o for o in owners if o != self.owner_id)]
        wanted: dict[tuple, list[int]] = {}  # (group, bucket) -> ranks within the bucket
        for group in groups:
            histogram = histograms.get(group, {})
            for rank in _middle_ranks(sum(histogram.values())):
                bucket, within = _locate(histogram, rank)
                wanted.setdefault((group, bucket), []).append(within)
        values = self._values_at(wanted)
        result = {}
        for group in groups:
            histogram = histograms.get(group, {})
            ranks = _middle_ranks(sum(histogram.values()))
            waits = [values[(group, *_locate(histogram, rank))] for rank in ranks]
            result[group] = (_median(waits, per_owner=group != TOTAL), sum(histogram.values()))
        if self.owner_id is not None:
            result[self.owner_id] = result[TOTAL]
        return result

    def _values_at(self, wanted: dict) -> dict:
        """The exact wait (microseconds) at each (group, bucket, rank within the bucket)."""
        if not wanted:
            return {}
        where, params = self._period_sql()
        live = self.live_waits
        stale_ids, stale_params = self.stale_ids
        not_stale = f"AND lead_id NOT IN ({stale_ids})" if self.stale else ""
        parts, part_params, windows = [], [], []
        for i, ((group, bucket), ranks) in enumerate(sorted(wanted.items(), key=str)):
            merged_in = sorted(live.get((group, bucket), []))
            # The rank-th wait of (stored + live) in order is among the stored ones from rank - len(live) on, or one
            # of the live; with the stored window starting at that offset, sorted(window + live)[rank - offset] is
            # it, provided the window reaches one past the highest rank (or the bucket's end).
            offset = max(0, min(ranks) - len(merged_in))
            limit = max(ranks) - offset + 2
            owner = "" if group == TOTAL else "AND owner_key = %s"
            parts.append(
                f"SELECT {i} AS q, wait FROM (SELECT wait FROM {DashboardLead._meta.db_table} "
                f"WHERE bucket = %s AND {where} {owner} {not_stale} "
                f"ORDER BY wait LIMIT %s OFFSET %s) w{i}"
            )
            part_params += [bucket, *params, *([] if group == TOTAL else [group]),
                            *(stale_params if self.stale else []), limit, offset]
            windows.append((group, bucket, ranks, merged_in, offset))
        stored: dict[int, list[int]] = {}
        for q, wait in self._fetch(" UNION ALL ".join(parts), part_params):
            stored.setdefault(q, []).append(_microseconds(wait))
        values = {}
        for i, (group, bucket, ranks, merged_in, offset) in enumerate(windows):
            merged = sorted(stored.get(i, []) + merged_in)
            for rank in ranks:
                values[(group, bucket, rank)] = merged[rank - offset]
        return values


def _middle_ranks(n: int) -> list[int]:
    if not n:
        return []
    return [(n - 1) // 2] if n % 2 else [n // 2 - 1, n // 2]


def _locate(histogram: dict, rank: int) -> tuple[int, int]:
    """The bucket holding the rank-th wait (0-based, in order) and its rank within the bucket."""
    for bucket in sorted(histogram):
        if rank < histogram[bucket]:
            return bucket, rank
        rank -= histogram[bucket]
    raise ValueError("rank beyond the histogram")


def _microseconds(wait) -> int:
    # An interval on PostgreSQL (a timedelta here), microseconds on SQLite.
    if isinstance(wait, dt.timedelta):
        return (wait.days * 86_400 + wait.seconds) * 1_000_000 + wait.microseconds
    return int(wait)


def _median(waits: list[int], *, per_owner: bool) -> dt.timedelta | None:
    """The middle wait, or the midpoint of the middle two, rounded to the second exactly as the live queries do
    (leads/dashboard/figures.py): percentile_cont on PostgreSQL; elsewhere AVG of seconds, and for the per-owner
    medians timedelta arithmetic."""
    if not waits:
        return None
    if len(waits) == 1:
        seconds = waits[0] / 1_000_000
    elif connection.vendor == "postgresql":
        low, high = waits[0] / 1_000_000, waits[1] / 1_000_000
        seconds = low + (high - low) * 0.5
    elif per_owner:
        seconds = ((dt.timedelta(microseconds=waits[0]) + dt.timedelta(microseconds=waits[1])) / 2).total_seconds()
    else:
        seconds = (waits[0] / 1_000_000 + waits[1] / 1_000_000) / 2
    return dt.timedelta(seconds=round(seconds))
