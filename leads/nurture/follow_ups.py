"""Follow-ups nobody forgets: the workspace's follow-up tasks and the speed-to-lead alert (a periodic pass).

- `create_follow_ups`: a lead still new (not contacted: no call, meeting, email or "contacted" entry) N
  days after capture gets a task for its owner, once per N of the workspace's `follow_up_days` (default
  1 and 7: "First follow-up", "Second follow-up"). Leads more than a week past a day are left alone,
  so switching the policy on does not bury reps in tasks for old leads.
- `close_follow_ups`: an open follow-up task closes itself (done) once its lead is contacted.
- `alert_speed_to_lead`: a hot lead nobody contacted `speed_to_lead_minutes` after capture: the
  workspace's managers get an email, once (a timeline entry says it was sent).
"""

from __future__ import annotations

import datetime as dt
import functools

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from crm import timeline
from crm.choices import ActivityKind, Role
from crm.models import Activity, Tenant, User
from leads.choices import LeadStatus, ScoreBand
from leads.models import Lead, NurturePolicy
from leads.nurture_models import default_follow_up_days

CONTACT_KINDS = (ActivityKind.CALL, ActivityKind.MEETING, ActivityKind.EMAIL, ActivityKind.CONTACTED)
ORDINALS = ["First", "Second", "Third", "Fourth", "Fifth"]
LATE_LIMIT = dt.timedelta(days=7)


def _contacted() -> Exists:
    """A person got in touch: a call, meeting, "contacted" entry or an email that is not nurture's own."""
    return Exists(Activity.objects.filter(lead_id=OuterRef("pk"), kind__in=CONTACT_KINDS)
                  .exclude(data__has_key="nurture_run"))


def _uncontacted():
    return Lead.objects.filter(status=LeadStatus.NEW).exclude(_contacted())


def _policies() -> dict[int, NurturePolicy]:
    saved = {p.tenant_id: p for p in NurturePolicy.objects.all()}
    return {pk: saved.get(pk) or NurturePolicy(tenant_id=pk, follow_up_days=default_follow_up_days())
            for pk in Tenant.objects.values_list("pk", flat=True)}


def create_follow_ups(*, now: dt.datetime | None = None) -> int:
    """Write the follow-up tasks that fell due; returns how many."""
    now = now or timezone.now()
    made = 0
    for tenant_id, policy in _policies().items():
        for index, days in enumerate(sorted(set(policy.follow_up_days or []))):
            due_since = now - dt.timedelta(days=days)
            name = f"{ORDINALS[index] if index < len(ORDINALS) else 'Next'} follow-up"
            has_it = Exists(Activity.objects.filter(lead_id=OuterRef("pk"), kind=ActivityKind.TASK,
                                                    data__follow_up=days))
            leads = (_uncontacted().filter(tenant_id=tenant_id, created_at__lte=due_since,
                                           created_at__gt=due_since - LATE_LIMIT).exclude(has_it)
                     .only("pk", "tenant_id", "owner_id"))
            with transaction.atomic():
                rows = [timeline.activity(tenant=tenant_id, lead=lead.pk, kind=ActivityKind.TASK, subject=name,
                                          body="Not contacted yet: get in touch.", actor=lead.owner_id,
                                          occurred_at=now, due_at=now, data={"follow_up": days})
                        for lead in leads]
                Activity.objects.bulk_create(rows)
            made += len(rows)
    return made


def close_follow_ups(*, now: dt.datetime | None = None) -> int:
    """Mark done the open follow-up tasks of leads that have been contacted since; returns how many."""
    now = now or timezone.now()
    open_tasks = Activity.objects.filter(kind=ActivityKind.TASK, done_at__isnull=True, data__has_key="follow_up",
                                         lead__isnull=False)
    contacted = Exists(Activity.objects.filter(lead_id=OuterRef("lead_id"), kind__in=CONTACT_KINDS)
                       .exclude(data__has_key="nurture_run"))
    return open_tasks.filter(~Q(lead__status=LeadStatus.NEW) | contacted).update(done_at=now)


def alert_speed_to_lead(*, now: dt.datetime | None = None) -> int:
    """Tell the managers about hot leads nobody contacted in time (once per lead); returns how many leads."""
    now = now or timezone.now()
    alerted = 0
    for policy in NurturePolicy.objects.filter(speed_to_lead_minutes__isnull=False).select_related("tenant"):
        late = now - dt.timedelta(minutes=policy.speed_to_lead_minutes or 0)
        told = Exists(Activity.objects.filter(lead_id=OuterRef("pk"), data__has_key="speed_to_lead"))
        leads = list(_uncontacted().filter(tenant_id=policy.tenant_id, score_band=ScoreBand.HOT,
                                           created_at__lte=late, created_at__gt=late - dt.timedelta(days=1))
                     .exclude(told)[:200])
        if not leads:
            continue
        managers = list(User.objects.filter(tenant_id=policy.tenant_id, is_active=True,
                                            role__in=[Role.MANAGER, Role.ADMIN]).exclude(email="")
                        .values_list("email", flat=True))
        with transaction.atomic():
            Activity.objects.bulk_create(
                timeline.activity(tenant=policy.tenant_id, lead=lead, kind=ActivityKind.NOTE, occurred_at=now,
                                  subject="Speed-to-lead alert: hot and not contacted",
                                  data={"speed_to_lead": policy.speed_to_lead_minutes, "to": len(managers)})
                for lead in leads)
            names = "\n".join(f"- {lead} ({lead.email or lead.phone}), owner: {lead.owner or 'nobody'}"
                              for lead in leads)
            if managers:
                subject = f"{len(leads)} hot lead(s) not contacted within {policy.speed_to_lead_minutes} minutes"
                transaction.on_commit(functools.partial(send_mail, subject, names, None, managers, fail_silently=True),
                                      robust=True)
        alerted += len(leads)
    return alerted
