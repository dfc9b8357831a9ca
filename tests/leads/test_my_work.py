"""My work: the "My tasks" page (overdue, today, upcoming) with Done and Snooze through leads.work, and the
daily email of due tasks sent by the background engine."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from crm.access import AccessDenied
from crm.choices import ActivityKind
from crm.models import Activity
from leads.activities import log_activity
from leads.tasks import email_due_tasks
from leads.work import complete_task, my_tasks, send_due_task_digests, snooze_task
from tests.factories import LeadFactory, UserFactory

NOW = timezone.make_aware(dt.datetime(2026, 3, 10, 11, 0))


def _task(user, subject, due, lead=None):
    lead = lead or LeadFactory(tenant=user.tenant, owner=user, first_name="Lena", last_name="Lead")
    return log_activity(tenant=user.tenant, kind=ActivityKind.TASK, actor=user, lead=lead, subject=subject, due_at=due)


@pytest.fixture
def rita_tasks(rep):
    return {
        "late": _task(rep, "Call back", NOW - dt.timedelta(days=2)),
        "today": _task(rep, "Send proposal", NOW + dt.timedelta(hours=3)),
        "later": _task(rep, "Check in", NOW + dt.timedelta(days=4)),
    }


def test_tasks_group_as_overdue_today_and_upcoming(rep, manager, rita_tasks):
    _task(manager, "Manager's own", NOW)

    tasks = my_tasks(user=rep, now=NOW)

    assert [t.subject for t in tasks.overdue] == ["Call back"]
    assert [t.subject for t in tasks.today] == ["Send proposal"]
    assert [t.subject for t in tasks.upcoming] == ["Check in"]


def test_completing_a_task_marks_it_done_and_notes_it(rep, rita_tasks):
    task = rita_tasks["today"]

    done = complete_task(task=task, actor=rep, now=NOW)

    assert done.done_at == NOW
    entry = Activity.objects.get(kind=ActivityKind.STATUS_CHANGED, lead=task.lead_id, subject__startswith="Task")
    assert entry.subject == "Task done: Send proposal" and entry.actor == rep
    assert entry.data["task"] == str(task.public_id) and entry.data["to"] == "done"
    complete_task(task=task, actor=rep, now=NOW)  # twice: nothing more
    assert Activity.objects.filter(kind=ActivityKind.STATUS_CHANGED, subject__startswith="Task done").count() == 1
    assert [t.subject for t in my_tasks(user=rep, now=NOW).today] == []


def test_snoozing_moves_the_due_time_and_refuses_the_past(rep, rita_tasks):
    task = rita_tasks["late"]
    until = NOW + dt.timedelta(days=1)

    snooze_task(task=task, until=until, actor=rep, now=NOW)

    task.refresh_from_db()
    assert task.due_at == until
    assert Activity.objects.filter(subject__startswith="Task snoozed to", lead=task.lead_id).count() == 1
    with pytest.raises(Exception) as refused:
        snooze_task(task=task, until=NOW - dt.timedelta(hours=1), actor=rep, now=NOW)
    assert "until" in refused.value.message_dict


def test_a_rep_cannot_complete_a_colleagues_task(rep, tenant, rita_tasks):
    colleague = UserFactory(tenant=tenant, username="cole")
    with pytest.raises(AccessDenied):
        complete_task(task=rita_tasks["today"], actor=colleague, now=NOW)
    assert Activity.objects.get(pk=rita_tasks["today"].pk).done_at is None


def test_the_my_tasks_page_lists_and_completes_and_snoozes(client, rep, rita_tasks):
    client.force_login(rep)

    html = client.get("/admin/dashboard/tasks/").content.decode()
    for heading in ("Overdue (", "Today (", "Upcoming ("):
        assert heading in html
    assert "Call back" in html and "Send proposal" in html and "Check in" in html
    assert 'for="snooze-' in html

    today = rita_tasks["today"]
    response = client.post(f"/admin/dashboard/tasks/{today.pk}/complete/", follow=True)
    assert "Done: “Send proposal”." in response.content.decode()
    assert Activity.objects.get(pk=today.pk).done_at is not None

    late = rita_tasks["late"]
    response = client.post(f"/admin/dashboard/tasks/{late.pk}/snooze/", {"until": "tomorrow"}, follow=True)
    assert "Snoozed “Call back” until" in response.content.decode()
    due = timezone.localtime(Activity.objects.get(pk=late.pk).due_at)
    assert due.date() == timezone.localdate() + dt.timedelta(days=1) and due.hour == 9

    response = client.post(f"/admin/dashboard/tasks/{late.pk}/snooze/", {"until": "forever"}, follow=True)
    assert "was not snoozed: Pick how long to snooze it." in response.content.decode()


def test_another_workspaces_task_is_not_found(client, rep, other_tenant):
    stranger = UserFactory(tenant=other_tenant, username="stranger")
    theirs = _task(stranger, "Not yours", NOW)
    client.force_login(rep)
    assert client.post(f"/admin/dashboard/tasks/{theirs.pk}/complete/").status_code == 404


def test_the_dashboard_links_to_my_tasks(client, rep):
    client.force_login(rep)
    assert "/admin/dashboard/tasks/" in client.get("/admin/dashboard/").content.decode()


def test_the_daily_email_lists_due_and_overdue_tasks_once(settings, rep, manager, rita_tasks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    rep.email = "rita@acme.example"
    rep.save()
    manager.email = ""
    manager.save()
    _task(manager, "No address, no email", NOW)

    assert send_due_task_digests(now=NOW) == 1
    assert send_due_task_digests(now=NOW) == 0  # a second run the same day sends nothing again

    (message,) = mail.outbox
    assert message.to == ["rita@acme.example"]
    assert message.subject == "Your tasks for 10 Mar: 1 due today, 1 overdue"
    assert "Send proposal" in message.body and "Call back" in message.body and "Check in" not in message.body


def test_the_daily_email_runs_on_the_engine(settings, rep, rita_tasks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    rep.email = "rita@acme.example"
    rep.save()
    _task(rep, "Due now", timezone.now())

    assert email_due_tasks.delay().get() == 1
    assert "leads.tasks.email_due_tasks" in {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
