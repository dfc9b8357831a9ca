"""The managers' per-rep table on the dashboard, and the stored first contact time it (and the median) reads."""

import datetime as dt

import pytest
from django.utils import timezone

from crm.choices import ActivityKind
from leads.activities import log_activity
from leads.choices import LeadStatus
from leads.dashboard.figures import build_dashboard, last_days
from leads.lifecycle import change_status
from leads.models import Lead
from tests.factories import LeadFactory, UserFactory

NOW = timezone.now()


@pytest.fixture
def team(tenant, rep, manager):
    cole = UserFactory(tenant=tenant, username="cole", first_name="Cole", last_name="Closer")
    fresh = LeadFactory(tenant=tenant, owner=rep, first_name="Fresh", created_at=NOW - dt.timedelta(hours=5))
    called = LeadFactory(tenant=tenant, owner=rep, first_name="Called", created_at=NOW - dt.timedelta(hours=4))
    log_activity(tenant=tenant, kind=ActivityKind.CALL, actor=rep, lead=called, subject="Intro call",
                 occurred_at=NOW - dt.timedelta(hours=2))
    won = LeadFactory(tenant=tenant, owner=cole, first_name="Won", created_at=NOW - dt.timedelta(days=2))
    Lead.objects.convert(lead=won, actor=cole)
    Lead.objects.filter(pk=won.pk).update(first_contacted_at=NOW - dt.timedelta(days=1))
    coles = LeadFactory(tenant=tenant, owner=cole, first_name="Old", created_at=NOW - dt.timedelta(days=90))
    log_activity(tenant=tenant, kind=ActivityKind.TASK, actor=cole, lead=coles, subject="Late",
                 due_at=NOW - dt.timedelta(days=3))
    return rep, cole, fresh, called


def test_a_contact_logged_sets_the_first_contact_time_once(rep, team):
    _, _, fresh, called = team
    called.refresh_from_db()
    assert called.first_contacted_at == NOW - dt.timedelta(hours=2)
    log_activity(tenant=rep.tenant, kind=ActivityKind.EMAIL, actor=rep, lead=called, occurred_at=NOW)
    log_activity(tenant=rep.tenant, kind=ActivityKind.NOTE, actor=rep, lead=fresh, body="no contact yet")
    log_activity(tenant=rep.tenant, kind=ActivityKind.CALL, actor=rep, lead=fresh,
                 occurred_at=NOW - dt.timedelta(days=9))  # backdated before the lead existed: not a contact
    assert Lead.objects.get(pk=called.pk).first_contacted_at == NOW - dt.timedelta(hours=2)  # the earliest stays
    assert Lead.objects.get(pk=fresh.pk).first_contacted_at is None


def test_a_status_change_to_contacted_sets_it(rep, team):
    _, _, fresh, _ = team
    change_status(lead=fresh, status=LeadStatus.CONTACTED, actor=rep)
    assert Lead.objects.get(pk=fresh.pk).first_contacted_at is not None


def test_a_manager_sees_a_row_per_rep(manager, team):
    rep, cole, _, _ = team
    board = build_dashboard(user=manager, period=last_days(days=30, today=timezone.localdate()), now=NOW)
    rows = {row.user.username: row for row in board.reps}
    assert rows["rita"].open_leads == 2 and rows["rita"].untouched_leads == 1
    assert rows["rita"].median_first_contact == dt.timedelta(hours=2)
    assert rows["cole"].conversions == 1 and rows["cole"].overdue_tasks == 1 and rows["cole"].open_leads == 1
    assert rows["cole"].median_first_contact == dt.timedelta(days=1)


def test_a_rep_sees_only_their_own_row(client, team):
    rep, cole, _, _ = team
    board = build_dashboard(user=rep, period=last_days(days=30, today=timezone.localdate()), now=NOW)
    assert [row.user.username for row in board.reps] == ["rita"]
    client.force_login(rep)
    html = client.get("/admin/dashboard/").content.decode()
    assert "My numbers" in html and "Cole Closer" not in html


def test_the_dashboard_page_shows_the_table_to_a_manager(client, manager, team):
    client.force_login(manager)
    html = client.get("/admin/dashboard/").content.decode()
    assert 'id="dash-reps"' in html and "Cole Closer" in html and "Rita Rep" in html and "2 h" in html
