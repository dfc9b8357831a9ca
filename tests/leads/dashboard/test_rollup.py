"""The dashboard's stored figures (issue 19, item 6): whatever door changed a lead, the page's figures equal the
live computation, before the refresh (changed leads read live) and after it; the refresh task and command."""

import datetime as dt
import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.choices import ActivityKind
from leads import dashboard_rollup, dashboard_triggers
from leads.activities import log_activity
from leads.choices import LeadSource, LeadStatus, ScoreBand
from leads.dashboard.figures import (
    Period, build_dashboard, by_source, first_contact, funnel_and_bands, last_days, rep_table, scope_for,
)
from leads.dashboard.views import format_duration
from leads.dashboard_models import DashboardDay, DashboardLead, DashboardStale, DashboardWait
from leads.deletion import delete_lead
from leads.lifecycle import change_status
from leads.models import Campaign, Lead
from leads.tasks import refresh_dashboard
from tests.concurrency import run_together
from tests.factories import ActivityFactory, LeadFactory, ManagerFactory, TenantFactory, UserFactory

NOW = timezone.now()
TODAY = timezone.localdate(NOW)
PERIODS = [last_days(days=days, today=TODAY) for days in (7, 30, 90, 365)]


def live(user, period):
    """The figures as the live queries compute them from the leads."""
    scope = scope_for(user=user)
    funnel, bands = funnel_and_bands(scope=scope, period=period)
    waits = first_contact(scope=scope, period=period)
    return {
        "funnel": [(s.key, s.count, s.pct_of_new, s.pct_of_previous) for s in funnel.stages],
        "disqualified": funnel.disqualified,
        "bands": [(b.key, b.count, b.pct) for b in bands],
        "sources": by_source(scope=scope, period=period),
        "median": waits.median, "contacted": waits.contacted,
        "reps": [_rep(row) for row in rep_table(scope=scope, period=period, now=NOW)],
    }


def page(user, period):
    """The same figures as the page reads them (the stored rollups, corrected for stale leads)."""
    board = build_dashboard(user=user, period=period, now=NOW)
    return {
        "funnel": [(s.key, s.count, s.pct_of_new, s.pct_of_previous) for s in board.funnel.stages],
        "disqualified": board.funnel.disqualified,
        "bands": [(b.key, b.count, b.pct) for b in board.bands],
        "sources": board.sources,
        "median": board.first_contact.median, "contacted": board.first_contact.contacted,
        "reps": [_rep(row) for row in board.reps],
    }


def _rep(row):
    return (row.user.username, row.open_leads, row.untouched_leads, row.overdue_tasks, row.conversions,
            row.median_first_contact)


def assert_page_is_live(*users, periods=PERIODS):
    for user in users:
        for period in periods:
            assert page(user, period) == live(user, period), (user.username, period)


def assert_exact_before_and_after_refresh(*users):
    assert_page_is_live(*users)
    dashboard_rollup.refresh_stale()
    assert not DashboardStale.objects.exists()
    assert_page_is_live(*users)


@pytest.fixture
def team(tenant, other_tenant, rep, manager):
    sam = UserFactory(tenant=tenant, username="sam")
    spring = Campaign.objects.create(tenant=tenant, platform="facebook", external_id="c1", name="Spring")
    leads = []
    for i in range(24):
        lead = LeadFactory(
            tenant=tenant, owner=[rep, sam, None][i % 3], created_at=NOW - dt.timedelta(days=i * 4, minutes=7 * i),
            source=[LeadSource.WEBSITE_FORM, LeadSource.FACEBOOK_LEAD_AD, LeadSource.REFERRAL][i % 3],
            source_campaign=spring if i % 3 == 1 and i % 2 else None,
            score_band=[ScoreBand.COLD, ScoreBand.WARM, ScoreBand.HOT][i % 3 - 1],
        )
        if i % 4:
            log_activity(tenant=tenant, kind=ActivityKind.CALL, actor=manager, lead=lead,
                         occurred_at=lead.created_at + dt.timedelta(minutes=13 * i + 1, seconds=i))
        leads.append(lead)
    LeadFactory(tenant=other_tenant, created_at=NOW - dt.timedelta(days=2))
    dashboard_rollup.refresh_stale()
    return rep, sam, manager, leads


def test_the_stored_figures_equal_the_live_ones_once_refreshed(team):
    rep, sam, manager, _ = team
    assert not DashboardStale.objects.exists() and DashboardDay.objects.exists()
    assert_page_is_live(manager, rep, sam)


def test_every_door_keeps_them_exact(team):
    rep, sam, manager, leads = team
    change_status(lead=leads[1], status=LeadStatus.CONTACTED, actor=manager)  # a service
    change_status(lead=leads[2], status=LeadStatus.QUALIFIED, actor=manager)
    change_status(lead=leads[4], status=LeadStatus.CONTACTED, actor=manager)
    change_status(lead=leads[4], status=LeadStatus.DISQUALIFIED, actor=manager, reason="No budget")  # after contact
    Lead.objects.convert(lead=leads[5], actor=manager)
    Lead.objects.filter(pk=leads[6].pk).update(owner=sam)  # reassignment through a queryset
    Lead.objects.filter(tenant=manager.tenant).update(score_band=ScoreBand.HOT)  # a bulk rescore
    Lead.objects.filter(pk=leads[7].pk).update(created_at=NOW - dt.timedelta(days=300))  # moves to another day
    Lead.objects.filter(pk=leads[8].pk).update(is_test=True)
    delete_lead(lead=leads[9], actor=manager, reason="Duplicate")
    LeadFactory(tenant=manager.tenant, owner=rep, created_at=NOW - dt.timedelta(hours=1))
    assert_exact_before_and_after_refresh(manager, rep, sam)


def test_a_status_change_on_the_timeline_counts_for_a_disqualified_lead(team):
    rep, _, manager, leads = team
    lead = leads[3]
    change_status(lead=lead, status=LeadStatus.DISQUALIFIED, actor=manager, reason="No budget")
    dashboard_rollup.refresh_stale()
    before = page(manager, PERIODS[-1])["funnel"][1][1]
    entry = ActivityFactory(lead=lead, kind=ActivityKind.STATUS_CHANGED, data={"from": "new", "to": "contacted"},
                            occurred_at=lead.created_at + dt.timedelta(hours=1))
    assert page(manager, PERIODS[-1])["funnel"][1][1] == before + 1
    assert_exact_before_and_after_refresh(manager, rep)
    entry.delete()
    assert page(manager, PERIODS[-1])["funnel"][1][1] == before
    assert_exact_before_and_after_refresh(manager, rep)


def test_an_import_is_counted(team, tmp_path):
    rep, _, manager, _ = team
    path = tmp_path / "leads.csv"
    path.write_text("email,first_name,status\n" + "".join(f"imp{i}@example.com,Imp{i},new\n" for i in range(5)))
    call_command("import_leads", str(path), "--tenant", manager.tenant.slug, "--owner", rep.username,
                 stdout=io.StringIO())
    assert Lead.objects.filter(email__startswith="imp").count() == 5
    assert page(manager, PERIODS[0])["funnel"][0][1] == live(manager, PERIODS[0])["funnel"][0][1]
    assert_exact_before_and_after_refresh(manager, rep)


def test_medians_are_exact_for_even_and_odd_counts_across_buckets(tenant, manager):
    # Waits on both sides of bucket bounds (1 min, 1 h, 1 d), half-seconds included.
    waits = [dt.timedelta(seconds=s) for s in (59.5, 60.5, 3599.4, 3600.6, 86_399.5, 86_400.5, 7)]
    for n in range(1, len(waits) + 1):
        lead = LeadFactory(tenant=tenant, owner=manager, created_at=NOW - dt.timedelta(days=1, minutes=n))
        Lead.objects.filter(pk=lead.pk).update(first_contacted_at=lead.created_at + waits[n - 1])
        if n % 2 == 0:
            dashboard_rollup.refresh_stale()  # half stored, half read live
        assert page(manager, PERIODS[0])["median"] == live(manager, PERIODS[0])["median"]
        assert format_duration(page(manager, PERIODS[0])["median"]) == format_duration(
            live(manager, PERIODS[0])["median"])
    assert_exact_before_and_after_refresh(manager)


def test_a_rebuild_gives_the_same_figures_and_clears_the_marks(team):
    rep, sam, manager, leads = team
    change_status(lead=leads[1], status=LeadStatus.CONTACTED, actor=manager)
    out = io.StringIO()
    call_command("refresh_dashboard", "--rebuild", stdout=out)
    assert "Rebuilt the dashboard's figures of 25 lead(s)." in out.getvalue()  # both workspaces
    assert not DashboardStale.objects.exists() and DashboardLead.objects.count() == 25
    assert_page_is_live(manager, rep, sam)


def test_the_command_and_the_task_refresh_what_changed(team):
    rep, _, manager, leads = team
    change_status(lead=leads[1], status=LeadStatus.CONTACTED, actor=manager)
    out = io.StringIO()
    call_command("refresh_dashboard", stdout=out)
    assert "Refreshed the dashboard's figures of 1 changed lead(s)." in out.getvalue()
    change_status(lead=leads[2], status=LeadStatus.CONTACTED, actor=manager)
    assert refresh_dashboard.delay().get() == 1
    assert refresh_dashboard.delay().get() == 0  # run twice: nothing left
    assert not DashboardStale.objects.exists()
    assert_page_is_live(manager, rep)


def test_refresh_works_in_batches(team):
    rep, _, manager, _ = team
    assert Lead.objects.filter(tenant=manager.tenant).update(source=LeadSource.CHAT) == 24
    assert dashboard_rollup.refresh_batch(size=5) == 5
    assert DashboardStale.objects.exists()
    assert_page_is_live(manager, rep)
    assert dashboard_rollup.refresh_stale(size=5) > 0
    assert_page_is_live(manager, rep)


ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["contact", "qualify", "disqualify", "convert", "reassign", "rescore", "call", "move",
                         "delete", "new", "test"]),
        st.integers(min_value=0, max_value=9),
        st.booleans(),  # refresh afterwards
    ),
    max_size=12,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=ACTIONS)
def test_random_histories_keep_the_page_equal_to_the_live_figures(tenant, rep, manager, actions):
    leads = [LeadFactory(tenant=tenant, owner=rep, created_at=NOW - dt.timedelta(days=i * 9, hours=i))
             for i in range(10)]
    for action, i, refresh in actions:
        lead = Lead.objects.filter(pk=leads[i].pk).first()
        if lead is None:
            continue
        open_lead = lead.status in (LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED)
        if action == "contact" and lead.status == LeadStatus.NEW:
            change_status(lead=lead, status=LeadStatus.CONTACTED, actor=None)
        elif action == "qualify" and open_lead:
            change_status(lead=lead, status=LeadStatus.QUALIFIED, actor=None)
        elif action == "disqualify" and open_lead:
            change_status(lead=lead, status=LeadStatus.DISQUALIFIED, actor=None, reason="No")
        elif action == "convert" and open_lead:
            Lead.objects.convert(lead=lead, actor=manager)
        elif action == "reassign":
            Lead.objects.filter(pk=lead.pk).update(owner=None if lead.owner_id else manager)
        elif action == "rescore":
            Lead.objects.filter(pk=lead.pk).update(score_band=ScoreBand.HOT)
        elif action == "call":
            log_activity(tenant=tenant, kind=ActivityKind.CALL, actor=None, lead=lead,
                         occurred_at=lead.created_at + dt.timedelta(minutes=i * 37 + 1))
        elif action == "move":
            Lead.objects.filter(pk=lead.pk).update(created_at=lead.created_at - dt.timedelta(days=40))
        elif action == "delete":
            lead.delete()
        elif action == "new":
            leads[i] = LeadFactory(tenant=tenant, owner=manager, created_at=NOW - dt.timedelta(days=i))
        elif action == "test":
            Lead.objects.filter(pk=lead.pk).update(is_test=not lead.is_test)
        if refresh:
            dashboard_rollup.refresh_stale()
        assert_page_is_live(manager, rep, periods=[PERIODS[1], PERIODS[-1]])
    Lead.objects.filter(tenant=tenant).delete()  # hypothesis reuses the fixture's transaction


def test_a_custom_period_in_the_past(team):
    rep, sam, manager, _ = team
    assert_page_is_live(manager, rep, periods=[Period(first_day=TODAY - dt.timedelta(days=60),
                                                      last_day=TODAY - dt.timedelta(days=20))])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_change_committed_during_a_refresh_leaves_the_lead_stale_not_wrong(monkeypatch):
    tenant = TenantFactory()
    manager = ManagerFactory(tenant=tenant)
    lead = LeadFactory(tenant=tenant, owner=manager, created_at=NOW - dt.timedelta(days=1))
    dashboard_rollup.refresh_stale()
    Lead.objects.filter(pk=lead.pk).update(score_band=ScoreBand.HOT)
    apply = dashboard_rollup._apply

    def change_meanwhile(cursor, relation, params):
        # The refresh has its snapshot; another connection changes the lead and commits before the refresh does.
        def contact():
            Lead.objects.filter(pk=lead.pk).update(status=LeadStatus.CONTACTED, first_contacted_at=NOW)
            connections.close_all()

        worker = threading.Thread(target=contact)
        worker.start()
        worker.join()
        apply(cursor, relation, params)

    monkeypatch.setattr(dashboard_rollup, "_apply", change_meanwhile)
    assert dashboard_rollup.refresh_batch() == 1
    monkeypatch.undo()
    stored = DashboardLead.objects.get(lead_id=lead.pk)
    assert (stored.score_band, stored.status) == (ScoreBand.HOT, LeadStatus.NEW)  # the snapshot's facts
    assert DashboardStale.objects.filter(lead_id=lead.pk).count() == 1  # the later change's mark stays
    assert_page_is_live(manager, periods=[PERIODS[0]])
    dashboard_rollup.refresh_stale()
    assert not DashboardStale.objects.exists()
    assert DashboardLead.objects.get(lead_id=lead.pk).status == LeadStatus.CONTACTED
    assert_page_is_live(manager, periods=[PERIODS[0]])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_second_refresher_leaves_the_marks_to_the_first():
    tenant = TenantFactory()
    LeadFactory(tenant=tenant)
    with dashboard_rollup._Refresher() as held:
        assert held
        assert run_together(lambda i: dashboard_rollup.refresh_stale(), n=2) == [0, 0]
    assert dashboard_rollup.refresh_stale() == 1


def test_the_triggers_are_installed_and_reinstalling_them_is_harmless(db):
    def names():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
            else:
                cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            return {row[0] for row in cursor.fetchall()}

    expected = {name for _, name in dashboard_triggers.TRIGGERS}
    assert expected <= names()
    dashboard_triggers.install(connection)  # what every migrate does again (SQLite loses them on table rebuilds)
    assert expected <= names()
    lead = LeadFactory()
    assert DashboardStale.objects.filter(lead_id=lead.pk).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_command_says_when_another_refresh_is_running():
    with dashboard_rollup._Refresher() as held:
        assert held
        errors = run_together(lambda i: call_command("refresh_dashboard", stdout=io.StringIO()), n=1)
    assert "Another refresh of the dashboard's figures is running" in str(errors[0])


def test_rows_a_change_empties_are_removed(tenant, manager, rep):
    lead = LeadFactory(tenant=tenant, owner=rep, created_at=NOW - dt.timedelta(days=3))
    Lead.objects.filter(pk=lead.pk).update(first_contacted_at=lead.created_at + dt.timedelta(minutes=5))
    dashboard_rollup.refresh_stale()
    Lead.objects.filter(pk=lead.pk).update(owner=manager)
    dashboard_rollup.refresh_stale()
    assert set(DashboardDay.objects.values_list("owner_key", "leads")) == {(manager.pk, 1)}
    assert set(DashboardWait.objects.values_list("owner_key", "n")) == {(manager.pk, 1)}
    assert_page_is_live(manager, rep)
