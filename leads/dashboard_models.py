"""The dashboard's stored figures (leads/dashboard_rollup.py keeps them; docs/dashboard.md explains them).

No foreign keys: a row outlives the lead, owner or campaign it names until the next refresh subtracts it,
and 0 stands for "nobody" and "no campaign" so the rollups' unique keys (upserted with increments) hold
without NULLs, which SQL never finds equal.
"""

from __future__ import annotations

from django.db import models


class DashboardLead(models.Model):
    """One lead as the rollups count it: the facts the dashboard reads, as of the lead's last refresh."""

    lead_id = models.BigIntegerField(primary_key=True)
    tenant_id = models.BigIntegerField()
    day = models.DateField()  # created_at's date in the site's time zone: the cohort the lead belongs to
    owner_key = models.BigIntegerField()  # 0: nobody
    source = models.CharField(max_length=30)
    campaign_key = models.BigIntegerField()  # 0: no campaign
    status = models.CharField(max_length=20)
    score_band = models.CharField(max_length=10)
    contacted = models.BooleanField()  # reached "contacted" in the funnel's sense
    qualified = models.BooleanField()
    wait = models.DurationField(null=True)  # first_contacted_at - created_at; null: never contacted
    bucket = models.SmallIntegerField(null=True)  # the wait's coarse bucket (dashboard_rollup.WAIT_BOUNDS)

    class Meta:
        db_table = "leads_dashboard_lead"
        indexes = [
            # The median's last step, the waits of one bucket in order, for a workspace or one owner: read in wait
            # order for long periods, or a short period's rows of the bucket, sorted (PostgreSQL's planner picks).
            models.Index(fields=["tenant_id", "bucket", "wait"], include=["day", "lead_id"],
                         name="dash_lead_bucket_wait_idx"),
            models.Index(fields=["tenant_id", "bucket", "day"], include=["wait", "lead_id"],
                         name="dash_lead_bucket_day_idx"),
            models.Index(fields=["tenant_id", "owner_key", "bucket", "wait"], include=["day", "lead_id"],
                         name="dash_lead_owner_wait_idx"),
            models.Index(fields=["tenant_id", "owner_key", "bucket", "day"], include=["wait", "lead_id"],
                         name="dash_lead_owner_day_idx"),
        ]


class DashboardDay(models.Model):
    """Counts of one creation day's leads of one owner, source and campaign."""

    tenant_id = models.BigIntegerField()
    day = models.DateField()
    owner_key = models.BigIntegerField()
    source = models.CharField(max_length=30)
    campaign_key = models.BigIntegerField()
    leads = models.IntegerField(default=0)
    contacted = models.IntegerField(default=0)
    qualified = models.IntegerField(default=0)
    converted = models.IntegerField(default=0)
    disqualified = models.IntegerField(default=0)
    cold = models.IntegerField(default=0)
    warm = models.IntegerField(default=0)
    hot = models.IntegerField(default=0)
    open = models.IntegerField(default=0)  # new, contacted or qualified now
    untouched = models.IntegerField(default=0)  # new and never contacted now

    class Meta:
        db_table = "leads_dashboard_day"
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "day", "owner_key", "source", "campaign_key"],
                                    name="dash_day_key"),
        ]
        indexes = [models.Index(fields=["tenant_id", "owner_key", "day"], name="dash_day_owner_idx")]


class DashboardWait(models.Model):
    """How many of one creation day's contacted leads of one owner waited a time within one bucket."""

    tenant_id = models.BigIntegerField()
    day = models.DateField()
    owner_key = models.BigIntegerField()
    bucket = models.SmallIntegerField()
    n = models.IntegerField(default=0)

    class Meta:
        db_table = "leads_dashboard_wait"
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "day", "owner_key", "bucket"], name="dash_wait_key"),
        ]


class DashboardStale(models.Model):
    """A lead whose stored facts may be out of date: written by database triggers on leads and status changes,
    whatever door changed them (dashboard_triggers.py), removed by the refresh that brings the lead up to date."""

    id = models.BigAutoField(primary_key=True)
    tenant_id = models.BigIntegerField()
    lead_id = models.BigIntegerField()

    class Meta:
        db_table = "leads_dashboard_stale"
        indexes = [
            models.Index(fields=["tenant_id", "lead_id"], name="dash_stale_tenant_lead_idx"),
            models.Index(fields=["lead_id"], name="dash_stale_lead_idx"),
        ]
