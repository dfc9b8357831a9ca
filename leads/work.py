"""A user's own work: the tasks assigned to them (a task's actor is its assignee), grouped as overdue,
due today and upcoming; completing and snoozing one; and the daily email of what is due.

Completing and snoozing are the one way those changes happen, whatever the door (the "My tasks"
page today); each writes a status_changed entry on the task's lead, contact and deal timeline, so
the timeline says who finished or put off what, and when.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from crm import timeline
from crm.access import check_change
from crm.choices import ActivityKind
from crm.models import Activity, User

if TYPE_CHECKING:
    from django.db.models import QuerySet

log = logging.getLogger(__name__)
UPCOMING_LIMIT = 100


@dataclass(frozen=True)
class MyTasks:
    overdue: list[Activity]
    today: list[Activity]
    upcoming: list[Activity]  # the next UPCOMING_LIMIT, earliest first

    @property
    def count(self) -> int:
        return len(self.overdue) + len(self.today) + len(self.upcoming)


def start_of_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def open_tasks(*, user: User) -> QuerySet[Activity]:
    """The unfinished tasks assigned to `user` in their workspace."""
    if user.tenant_id is None:
        return Activity.objects.none()
    return Activity.objects.filter(tenant_id=user.tenant_id, kind=ActivityKind.TASK, actor=user, done_at__isnull=True)


def my_tasks(*, user: User, now: dt.datetime | None = None) -> MyTasks:
    """The user's open tasks: overdue (due before today), due today, and upcoming (later), earliest first."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    start, tomorrow = start_of_day(today), start_of_day(today + dt.timedelta(days=1))
    tasks = open_tasks(user=user).select_related("lead", "contact", "deal").order_by("due_at", "id")
    return MyTasks(
        overdue=list(tasks.filter(due_at__lt=start)),
        today=list(tasks.filter(due_at__gte=start, due_at__lt=tomorrow)),
        upcoming=list(tasks.filter(due_at__gte=tomorrow)[:UPCOMING_LIMIT]),
    )


def complete_task(*, task: Activity, actor: User | None, now: dt.datetime | None = None) -> Activity:
    """Mark the task done (its assignee or a manager, crm.access) and note it on the timeline; a task
    already done stays as it was and logs nothing."""
    with transaction.atomic():
        locked = _locked_task(task, actor)
        if locked.done_at is not None:
            return locked
        now = now or timezone.now()
        locked.done_at = now
        locked.save(update_fields=["done_at"])
        _log(locked, actor=actor, now=now, subject=f"Task done: {_title(locked)}", change={"to": "done"})
    return locked


def snooze_task(*, task: Activity, until: dt.datetime, actor: User | None, now: dt.datetime | None = None) -> Activity:
    """Put the open task off until `until` (a moment to come), noting it on the timeline."""
    now = now or timezone.now()
    if until <= now:
        raise ValidationError({"until": ["Snooze a task until a moment to come, not one that has passed."]})
    with transaction.atomic():
        locked = _locked_task(task, actor)
        if locked.done_at is not None:
            raise ValidationError({"task": ["This task is done already; there is nothing to snooze."]})
        previous = locked.due_at
        locked.due_at = until
        locked.save(update_fields=["due_at"])
        _log(
            locked,
            actor=actor,
            now=now,
            subject=f"Task snoozed to {timezone.localtime(until):%Y-%m-%d %H:%M}: {_title(locked)}",
            change={"to": "snoozed", "from_due_at": previous.isoformat() if previous else None,
                    "due_at": until.isoformat()},
        )
    return locked


def send_due_task_digests(*, now: dt.datetime | None = None) -> int:
    """Email every active user with an address the tasks they have due today or overdue (one email each);
    returns how many were sent. Run daily by beat; a second run the same day sends nothing again."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    tomorrow = start_of_day(today + dt.timedelta(days=1))
    assignees = (
        Activity.objects.filter(kind=ActivityKind.TASK, done_at__isnull=True, due_at__lt=tomorrow, actor__isnull=False)
        .order_by()
        .values_list("actor_id", flat=True)
        .distinct()
    )
    sent = 0
    for user in User.objects.filter(pk__in=assignees, is_active=True, tenant__isnull=False).exclude(email=""):
        if not cache.add(f"task-digest:{user.pk}:{today.isoformat()}", True, timeout=36 * 3600):
            continue
        tasks = my_tasks(user=user, now=now)
        due = tasks.overdue + tasks.today
        if not due:
            continue
        lines = [f"- {_when(task, today)}: {_title(task)}{_about(task)}" for task in due]
        try:
            send_mail(
                subject=f"Your tasks for {today:%d %b}: {len(tasks.today)} due today, {len(tasks.overdue)} overdue",
                message="\n".join([f"Hello {user.first_name or user.username},", "", *lines, "",
                                   "Open My tasks in the CRM to complete or snooze them."]),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[user.email],
            )
        except Exception:  # one bad address must not stop the others' digests
            log.exception("Could not email %s their due tasks", user.email)
            cache.delete(f"task-digest:{user.pk}:{today.isoformat()}")
            continue
        sent += 1
    return sent


def _locked_task(task: Activity, actor: User | None) -> Activity:
    locked = Activity.objects.select_for_update().get(pk=task.pk)
    if locked.kind != ActivityKind.TASK:
        raise ValidationError({"task": ["Only tasks are completed or snoozed."]})
    check_change(actor, locked)
    return locked


def _log(task: Activity, *, actor: User | None, now: dt.datetime, subject: str, change: dict) -> None:
    timeline.activity(
        tenant=task.tenant_id,
        lead=task.lead_id,
        contact=task.contact_id,
        deal=task.deal_id,
        kind=ActivityKind.STATUS_CHANGED,
        subject=subject,
        actor=actor,
        occurred_at=now,
        data={"task": str(task.public_id), "from": "open", **change},
    ).save()


def _title(task: Activity) -> str:
    return task.subject or task.body[:60] or "(untitled task)"


def _when(task: Activity, today: dt.date) -> str:
    due = timezone.localtime(task.due_at) if task.due_at else None
    if due is None:
        return "no due date"
    return f"today {due:%H:%M}" if due.date() == today else f"overdue since {due:%d %b}"


def _about(task: Activity) -> str:
    about = task.lead or task.contact or task.deal
    return f" ({about})" if about else ""
