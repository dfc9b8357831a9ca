"""The "My tasks" page in the admin (/admin/dashboard/tasks/): the signed-in user's open tasks as overdue,
today and upcoming, each with Done and Snooze buttons that call leads.work's services."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from crm.access import AccessDenied, visible
from crm.choices import ActivityKind
from crm.models import Activity
from leads.work import complete_task, my_tasks, snooze_task, start_of_day

MORNING = dt.time(9, 0)
SNOOZE_CHOICES = [("1h", "1 hour"), ("tomorrow", "Tomorrow 9:00"), ("3d", "In 3 days, 9:00"), ("week", "Next Monday 9:00")]


class SnoozeForm(forms.Form):
    until = forms.ChoiceField(choices=SNOOZE_CHOICES, error_messages={"invalid_choice": "Pick how long to snooze it."})


def snooze_until(choice: str, *, now: dt.datetime) -> dt.datetime:
    """The moment a snooze choice means, from `now` (mornings at 9:00 in the current time zone)."""
    today = timezone.localtime(now).date()
    if choice == "1h":
        return now + dt.timedelta(hours=1)
    days = {"tomorrow": 1, "3d": 3}.get(choice) or (7 - today.weekday())
    return start_of_day(today + dt.timedelta(days=days)) + dt.timedelta(hours=MORNING.hour, minutes=MORNING.minute)


def my_tasks_page(request):
    if not request.user.has_perm("crm.view_activity") and not request.user.has_perm("leads.view_lead"):
        raise PermissionDenied
    context = {**admin.site.each_context(request), "title": "My tasks", "snooze_choices": SNOOZE_CHOICES}
    if request.user.tenant_id is None:
        context["no_workspace"] = True
    else:
        context["tasks"] = my_tasks(user=request.user)
    return TemplateResponse(request, "admin/my_tasks.html", context)


def complete(request, pk: int):
    task = _task(request, pk)
    if request.method == "POST":
        try:
            complete_task(task=task, actor=request.user)
        except (AccessDenied, ValidationError) as exc:
            messages.error(request, f"“{_title(task)}” was not completed: {_message(exc)}")
        else:
            messages.success(request, f"Done: “{_title(task)}”.")
    return HttpResponseRedirect(reverse("admin-my-tasks"))


def snooze(request, pk: int):
    task = _task(request, pk)
    if request.method == "POST":
        form = SnoozeForm(request.POST)
        if not form.is_valid():
            messages.error(request, f"“{_title(task)}” was not snoozed: {form.errors['until'][0]}")
            return HttpResponseRedirect(reverse("admin-my-tasks"))
        now = timezone.now()
        until = snooze_until(form.cleaned_data["until"], now=now)
        try:
            snooze_task(task=task, until=until, actor=request.user, now=now)
        except (AccessDenied, ValidationError) as exc:
            messages.error(request, f"“{_title(task)}” was not snoozed: {_message(exc)}")
        else:
            messages.success(request, f"Snoozed “{_title(task)}” until {timezone.localtime(until):%a %d %b %H:%M}.")
    return HttpResponseRedirect(reverse("admin-my-tasks"))


def _task(request, pk: int) -> Activity:
    return get_object_or_404(visible(request.user, Activity.objects.filter(kind=ActivityKind.TASK)), pk=pk)


def _title(task: Activity) -> str:
    return task.subject or task.body[:60] or "task"


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


my_tasks_view = admin.site.admin_view(my_tasks_page)
complete_view = admin.site.admin_view(complete)
snooze_view = admin.site.admin_view(snooze)
