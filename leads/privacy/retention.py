"""Retention: each workspace's policies (Tenant.retain_*), applied nightly by `leads.tasks.apply_retention`.

- disqualified leads, N months after they closed: anonymised (their row stays for the figures);
- unconverted open leads with no activity and no change for N months: anonymised;
- import error reports (rejected rows as they came), N days after the import: cleared;
- access records, after N days: deleted.

An empty policy keeps things for ever. `retention_plan` is what the next run would do (the admin's
dry run shows it); `apply_retention` does it. Anonymising a lead here touches that lead only (its
row, its timeline entries, the events and answers that name it), never another lead with the same
email, and suppresses nothing: the person did not ask to be forgotten.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from crm import timeline
from crm.choices import ActivityKind
from crm.models import AccessRecord, Activity, Tenant

from ..choices import OPEN_STATUSES, LeadStatus
from ..models import ImportJob, Lead
from .erase import Erasure, erase_elsewhere, erase_own_rows
from .subject import MIN_NEEDLE, Subject

ERASED_DOMAIN = "@erased.invalid"


def months_before(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day and time `months` calendar months earlier (the month's last day when it is shorter)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month, day=min(moment.day, 28))


@dataclass
class RetentionPlan:
    tenant: Tenant
    disqualified: QuerySet
    inactive: QuerySet
    import_reports: QuerySet
    access_records: QuerySet

    def counts(self) -> dict[str, int]:
        return {
            "disqualified leads to anonymise": self.disqualified.count(),
            "inactive leads to anonymise": self.inactive.count(),
            "import error reports to clear": self.import_reports.count(),
            "access records to delete": self.access_records.count(),
        }


def retention_plan(*, tenant: Tenant, now: dt.datetime | None = None) -> RetentionPlan:
    """What the next retention run would anonymise, clear and delete in this workspace."""
    now = now or timezone.now()
    leads = Lead.objects.filter(tenant=tenant).exclude(email__endswith=ERASED_DOMAIN)
    none = Lead.objects.none()
    disqualified, inactive = none, none
    if tenant.retain_disqualified_months:
        cutoff = months_before(now, tenant.retain_disqualified_months)
        disqualified = leads.filter(status=LeadStatus.DISQUALIFIED).filter(
            Q(closed_at__lt=cutoff) | Q(closed_at__isnull=True, updated_at__lt=cutoff)
        )
    if tenant.retain_inactive_months:
        cutoff = months_before(now, tenant.retain_inactive_months)
        inactive = leads.filter(status__in=OPEN_STATUSES, updated_at__lt=cutoff).filter(
            Q(last_activity_at__lt=cutoff) | Q(last_activity_at__isnull=True, created_at__lt=cutoff)
        )
    reports = ImportJob.objects.none()
    if tenant.retain_import_reports_days:
        cutoff = now - dt.timedelta(days=tenant.retain_import_reports_days)
        reports = ImportJob.objects.filter(tenant=tenant, finished_at__lt=cutoff).exclude(error_report="")
    records = AccessRecord.objects.none()
    if tenant.retain_access_records_days:
        cutoff = now - dt.timedelta(days=tenant.retain_access_records_days)
        records = AccessRecord.objects.filter(tenant=tenant, at__lt=cutoff)
    return RetentionPlan(tenant=tenant, disqualified=disqualified, inactive=inactive, import_reports=reports,
                         access_records=records)


def _lead_alone(lead: Lead) -> Subject:
    """One lead as the subject: its own row, timeline and the events naming it, no one else with its email."""
    subject = Subject(tenant=lead.tenant, email=lead.email, leads=[lead],
                      activities=list(Activity.objects.filter(lead=lead, contact__isnull=True, deal__isnull=True)))
    subject.own_needles = {v for v in (lead.email, lead.phone, lead.full_name, lead.first_name, lead.last_name)
                           if v and len(v) >= MIN_NEEDLE}
    subject.public_ids = {str(lead.public_id)}
    return subject


def apply_retention(*, tenant: Tenant, now: dt.datetime | None = None) -> dict[str, int]:
    """Apply the workspace's retention policies now; returns what was done (as `RetentionPlan.counts`)."""
    plan = retention_plan(tenant=tenant, now=now)
    done = dict.fromkeys(plan.counts(), 0)
    for key, queryset in (("disqualified leads to anonymise", plan.disqualified),
                          ("inactive leads to anonymise", plan.inactive)):
        for lead in queryset.select_related("tenant").order_by("pk").iterator(chunk_size=500):
            with transaction.atomic():  # one lead at a time: a long run holds no lock for long
                subject = _lead_alone(lead)
                erase_own_rows(subject, Erasure())
                erase_elsewhere(subject, Erasure())
                timeline.activity(tenant=tenant, lead=lead, kind=ActivityKind.ERASED,
                                  subject="Anonymised by the workspace's retention policy").save()
            done[key] += 1
    done["import error reports to clear"] = plan.import_reports.update(error_report="")
    done["access records to delete"] = plan.access_records.delete()[0]
    return done

