"""The sales dashboard: its numbers on known data, who sees what, the period filter, and the page."""

import datetime as dt
import json
import re
from types import SimpleNamespace

import pytest
from django.utils import timezone

from crm.choices import ActivityKind
from crm.models import User
from leads.choices import LeadSource, LeadStatus, ScoreBand
from leads.dashboard.figures import (
    NoWorkspace,
    Period,
    build_dashboard,
    by_source,
    first_contact,
    funnel_and_bands,
    last_days,
    scope_for,
)
from leads.dashboard.views import format_duration
from leads.first_contact import is_contact, note_first_contact
from tests.factories import ActivityFactory, ContactFactory, LeadFactory, UserFactory

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
URL = "/admin/dashboard/"


def start_of_today(now):
    return timezone.make_aware(dt.datetime.combine(timezone.localdate(now), dt.time.min))


def make_lead(
    tenant,
    name,
    *,
    age,
    status=LeadStatus.NEW,
    source=LeadSource.WEBSITE_FORM,
    band=ScoreBand.COLD,
    owner=None,
    now,
    **fields,
):
    if status == LeadStatus.CONVERTED:
        fields.update(converted_at=now, converted_contact=ContactFactory(tenant=tenant))
    if status == LeadStatus.DISQUALIFIED:
        fields.setdefault("disqualification_reason", "No budget")
    return LeadFactory(
        tenant=tenant,
        first_name=name,
        last_name="Test",
        status=status,
        source=source,
        score_band=band,
        owner=owner,
        created_at=now - age,
        **fields,
    )


def log(lead, kind, *, after, **fields):
    """A timeline entry written straight to the table; a contact also sets the lead's first_contacted_at,
    as the services that log one do (leads/first_contact.py)."""
    entry = ActivityFactory(lead=lead, kind=kind, occurred_at=lead.created_at + after, **fields)
    if is_contact(kind=kind, to_status=(fields.get("data") or {}).get("to")):
        note_first_contact(lead_id=lead.pk, at=entry.occurred_at)
    return entry


def status_change(lead, old, new, *, after):
    return log(lead, ActivityKind.STATUS_CHANGED, after=after, data={"from": old, "to": new})


@pytest.fixture
def world(tenant, other_tenant, rep, manager):
    """Eight leads of tenant Acme created in the last 30 days, a few older ones, and tenant Globex's own."""
    now = timezone.now()
    sam = UserFactory(tenant=tenant, username="sam")
    S = LeadStatus  # noqa: N806
    w = SimpleNamespace(now=now, tenant=tenant, rep=rep, sam=sam, manager=manager)

    # Rita's: new (with a backdated call from before it existed, which is no contact), contacted, converted.
    w.l1 = make_lead(tenant, "Una", age=2 * DAY, owner=rep, now=now)
    log(w.l1, ActivityKind.CALL, after=-HOUR)
    log(w.l1, ActivityKind.PAGE_VIEWED, after=HOUR)
    w.l2 = make_lead(tenant, "Cody", age=5 * DAY, status=S.CONTACTED, band=ScoreBand.WARM, owner=rep, now=now)
    log(w.l2, ActivityKind.FORM_SUBMITTED, after=dt.timedelta(0))
    log(w.l2, ActivityKind.NOTE, after=dt.timedelta(minutes=10))  # a note is not contact
    status_change(w.l2, S.NEW, S.CONTACTED, after=2 * HOUR)
    log(w.l2, ActivityKind.CALL, after=3 * HOUR)
    w.l4 = make_lead(
        tenant,
        "Vera",
        age=12 * DAY,
        status=S.CONVERTED,
        source=LeadSource.REFERRAL,
        band=ScoreBand.HOT,
        owner=rep,
        now=now,
    )
    log(w.l4, ActivityKind.CONVERTED, after=DAY)

    # Sam's: qualified, disqualified after being contacted, converted.
    w.l3 = make_lead(
        tenant,
        "Quinn",
        age=10 * DAY,
        status=S.QUALIFIED,
        source=LeadSource.FACEBOOK_LEAD_AD,
        band=ScoreBand.HOT,
        owner=sam,
        qualified_at=now - 9 * DAY,
        now=now,
    )
    log(w.l3, ActivityKind.EMAIL, after=dt.timedelta(minutes=30))
    w.l5 = make_lead(tenant, "Dana", age=15 * DAY, status=S.DISQUALIFIED, owner=sam, now=now)
    status_change(w.l5, S.NEW, S.CONTACTED, after=4 * HOUR)
    status_change(w.l5, S.CONTACTED, S.DISQUALIFIED, after=DAY)
    w.l7 = make_lead(tenant, "Carl", age=25 * DAY, status=S.CONVERTED, band=ScoreBand.WARM, owner=sam, now=now)
    log(w.l7, ActivityKind.CALL, after=6 * HOUR)
    log(w.l7, ActivityKind.MEETING, after=2 * DAY)

    # Nobody's: disqualified straight from new; disqualified after qualifying (qualified_at kept, no timeline).
    w.l6 = make_lead(tenant, "Nina", age=20 * DAY, status=S.DISQUALIFIED, band=ScoreBand.WARM, now=now)
    status_change(w.l6, S.NEW, S.DISQUALIFIED, after=HOUR)
    w.l10 = make_lead(tenant, "Quentin", age=8 * DAY, status=S.DISQUALIFIED, qualified_at=now - 7 * DAY, now=now)

    # Older: converted 40 days ago (in the last 90 days only); Rita's and Manny's own open leads from long ago.
    w.l8 = make_lead(tenant, "Olga", age=40 * DAY, status=S.CONVERTED, band=ScoreBand.HOT, owner=sam, now=now)
    log(w.l8, ActivityKind.CALL, after=HOUR)
    w.l11 = make_lead(
        tenant, "Rita's old", age=200 * DAY, status=S.CONTACTED, band=ScoreBand.HOT, owner=rep, score_total=75, now=now
    )
    w.l12 = make_lead(tenant, "Manny's own", age=200 * DAY, status=S.CONTACTED, owner=manager, now=now)

    # Globex: a rep with converted and new leads of their own, all in the last 30 days.
    w.globex_rep = UserFactory(tenant=other_tenant, username="gary")
    for name, status in (("Globo", S.CONVERTED), ("Gwen", S.NEW), ("Gus", S.QUALIFIED)):
        lead = make_lead(
            other_tenant, name, age=3 * DAY, status=status, source=LeadSource.CHAT, owner=w.globex_rep, now=now
        )
        log(lead, ActivityKind.CALL, after=5 * dt.timedelta(minutes=1))

    # Rita's tasks: one due today, one done today, one overdue, one tomorrow; and Sam's due today.
    today = start_of_today(now)
    w.task_today = ActivityFactory(
        lead=w.l2,
        kind=ActivityKind.TASK,
        actor=rep,
        subject="Send the proposal",
        due_at=today + dt.timedelta(minutes=1),
    )
    ActivityFactory(
        lead=w.l2,
        kind=ActivityKind.TASK,
        actor=rep,
        subject="Done already",
        due_at=today + dt.timedelta(minutes=2),
        done_at=now,
    )
    ActivityFactory(lead=w.l1, kind=ActivityKind.TASK, actor=rep, subject="Overdue call", due_at=today - HOUR)
    ActivityFactory(lead=w.l1, kind=ActivityKind.TASK, actor=rep, subject="Tomorrow", due_at=today + DAY + HOUR)
    ActivityFactory(lead=w.l3, kind=ActivityKind.TASK, actor=sam, subject="Sam's", due_at=today + HOUR)
    return w


def thirty_days(world):
    return last_days(days=30, today=timezone.localdate(world.now))


def funnel_of(funnel):
    return [(s.key, s.count, s.pct_of_new, s.pct_of_previous) for s in funnel.stages]


class TestNumbers:
    def test_the_funnel_counts_a_lead_at_every_stage_it_reached(self, world):
        funnel, _ = funnel_and_bands(scope=scope_for(user=world.manager), period=thirty_days(world))

        assert funnel_of(funnel) == [
            ("new", 8, 100.0, None),
            ("contacted", 6, 75.0, 75.0),  # l2, l3, l4, l5 (timeline), l7, l10 (qualified_at)
            ("qualified", 4, 50.0, 66.7),  # l3, l4, l7, l10
            ("converted", 2, 25.0, 50.0),  # l4, l7
        ]
        assert funnel.disqualified == 3

    def test_leads_and_conversion_rate_by_source(self, world):
        rows = by_source(scope=scope_for(user=world.manager), period=thirty_days(world))

        assert [(r.key, r.label, r.leads, r.converted, r.conversion_pct) for r in rows] == [
            ("website_form", "Website form", 6, 1, 16.7),
            ("facebook_lead_ad", "Facebook lead ad", 1, 0, 0.0),
            ("referral", "Referral", 1, 1, 100.0),
        ]

    def test_band_distribution(self, world):
        _, bands = funnel_and_bands(scope=scope_for(user=world.manager), period=thirty_days(world))

        assert [(b.key, b.count, b.pct) for b in bands] == [("cold", 3, 37.5), ("warm", 3, 37.5), ("hot", 2, 25.0)]

    @pytest.mark.parametrize("portable", [True, pytest.param(False, marks=pytest.mark.postgres)])
    def test_median_time_to_first_contact_odd_count(self, world, portable):
        # Waits: l3 30 min, l2 2 h (status change before the call), l5 4 h, l7 6 h, l4 1 day (conversion).
        result = first_contact(scope=scope_for(user=world.manager), period=thirty_days(world), portable=portable)

        assert (result.median, result.contacted) == (4 * HOUR, 5)

    @pytest.mark.parametrize("portable", [True, pytest.param(False, marks=pytest.mark.postgres)])
    def test_median_time_to_first_contact_even_count_is_the_midpoint(self, world, portable):
        # Rita's contacted leads waited 2 h (l2) and 1 day (l4); l1's call predates the lead and is ignored.
        result = first_contact(scope=scope_for(user=world.rep), period=thirty_days(world), portable=portable)

        assert (result.median, result.contacted) == (13 * HOUR, 2)

    @pytest.mark.parametrize("portable", [True, pytest.param(False, marks=pytest.mark.postgres)])
    def test_no_contacted_leads_means_no_median(self, world, portable):
        period = Period(first_day=dt.date(2001, 1, 1), last_day=dt.date(2001, 1, 31))

        result = first_contact(scope=scope_for(user=world.manager), period=period, portable=portable)

        assert (result.median, result.contacted) == (None, 0)

    def test_my_open_leads_and_tasks_due_today(self, world):
        board = build_dashboard(user=world.rep, period=thirty_days(world), now=world.now)

        assert board.open_leads_total == 3  # l1, l2 and the old l11; not the converted l4
        assert [lead.pk for lead in board.open_leads] == [world.l11.pk, world.l1.pk, world.l2.pk]
        assert (board.task_counts.due_today, board.task_counts.overdue) == (1, 1)
        assert [task.subject for task in board.tasks_due_today] == ["Send the proposal"]

    def test_a_managers_own_leads_and_tasks_are_their_own(self, world):
        board = build_dashboard(user=world.manager, period=thirty_days(world), now=world.now)

        assert (board.open_leads_total, [lead.pk for lead in board.open_leads]) == (1, [world.l12.pk])
        assert (board.task_counts.due_today, board.task_counts.overdue, board.tasks_due_today) == (0, 0, [])


class TestScope:
    def test_a_rep_sees_only_the_leads_they_own(self, world):
        board = build_dashboard(user=world.rep, period=thirty_days(world), now=world.now)

        assert not board.scope.is_tenant_wide
        assert funnel_of(board.funnel) == [
            ("new", 3, 100.0, None),
            ("contacted", 2, 66.7, 66.7),
            ("qualified", 1, 33.3, 50.0),
            ("converted", 1, 33.3, 100.0),
        ]
        assert [(r.key, r.leads, r.converted) for r in board.sources] == [("website_form", 2, 0), ("referral", 1, 1)]
        assert [(b.key, b.count) for b in board.bands] == [("cold", 1), ("warm", 1), ("hot", 1)]

    def test_a_rep_of_another_tenant_sees_nothing_of_this_one(self, world):
        board = build_dashboard(user=world.globex_rep, period=thirty_days(world), now=world.now)

        assert [s.count for s in board.funnel.stages] == [3, 2, 2, 1]
        assert [(r.key, r.leads) for r in board.sources] == [("chat", 3)]
        assert (board.first_contact.median, board.first_contact.contacted) == (5 * dt.timedelta(minutes=1), 3)
        assert (board.open_leads_total, board.task_counts.due_today, board.task_counts.overdue) == (2, 0, 0)

    def test_a_tenant_admin_sees_the_whole_tenant(self, world):
        admin = UserFactory(tenant=world.tenant, username="ada", role="admin")

        board = build_dashboard(user=admin, period=thirty_days(world), now=world.now)

        assert board.scope.is_tenant_wide and board.funnel.leads == 8

    def test_a_platform_superuser_without_a_tenant_has_no_scope(self, db):
        root = User.objects.create_superuser("root", "root@example.com", "pw-for-tests-123")

        with pytest.raises(NoWorkspace):
            scope_for(user=root)


class TestPeriod:
    def test_the_period_changes_the_numbers(self, world):
        today = timezone.localdate(world.now)
        counts = {
            days: [
                s.count
                for s in build_dashboard(
                    user=world.manager, period=last_days(days=days, today=today), now=world.now
                ).funnel.stages
            ]
            for days in (7, 30, 90)
        }

        assert counts == {7: [2, 1, 0, 0], 30: [8, 6, 4, 2], 90: [9, 7, 5, 3]}

    def test_a_period_is_whole_days_with_both_ends_included(self):
        period = last_days(days=7, today=dt.date(2026, 3, 10))

        assert (period.first_day, period.last_day, period.days) == (dt.date(2026, 3, 4), dt.date(2026, 3, 10), 7)
        assert period.until - period.since == 7 * DAY

    @pytest.mark.parametrize(
        ("seconds", "shown"),
        [
            (None, "–"),
            (20, "under a minute"),
            (42 * 60, "42 min"),
            (3 * 3600, "3 h"),
            (3 * 3600 + 300, "3 h 5 min"),
            (2 * 86400, "2 d"),
            (2 * 86400 + 4 * 3600 + 59, "2 d 4 h"),
        ],
    )
    def test_waits_read_as_people_say_them(self, seconds, shown):
        assert format_duration(None if seconds is None else dt.timedelta(seconds=seconds)) == shown


class TestPage:
    def test_the_page_needs_a_login(self, client, db):
        response = client.get(URL)

        assert response.status_code == 302
        assert response["Location"] == f"/admin/login/?next={URL}"

    def test_a_signed_in_user_who_is_not_staff_is_sent_to_the_admin_login(self, client, world):
        client.force_login(UserFactory(tenant=world.tenant, username="outsider", is_staff=False))

        response = client.get(URL)

        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")

    def test_a_manager_sees_the_tenants_numbers_with_their_definitions_and_chart_data(self, client, world):
        client.force_login(world.manager)

        response = client.get(URL)

        assert response.status_code == 200
        html = response.content.decode()
        assert "All leads of <strong>Acme Sales</strong>" in html
        assert "Last 30 days" in html and 'value="30" selected' in html
        assert "A lead counts at every stage it reached" in html and "How these numbers are counted" in html
        assert _row(html, 'data-stage="qualified"') == ["Qualified", "4", "50.0%", "66.7%"]
        assert _row(html, 'data-source="website_form"') == ["Website form", "6", "1", "16.7%"]
        assert _row(html, 'data-band="hot"') == ["Hot", "2", "25.0%"]
        assert '<p class="dash-big" id="dash-median">4 h</p>' in html
        chart = _chart_data(html)
        assert chart["funnel"] == {
            "labels": ["New", "Contacted", "Qualified", "Converted"],
            "counts": [8, 6, 4, 2],
            "pct": [100.0, 75.0, 50.0, 25.0],
        }
        assert chart["bands"]["counts"] == [3, 3, 2]
        assert chart["sources"]["labels"] == ["Website form", "Facebook lead ad", "Referral"]
        assert "crm/vendor/chartjs/chart.umd.min.js" in html and "//cdn" not in html

    def test_a_rep_sees_their_scope_their_open_leads_and_tasks(self, client, world):
        client.force_login(world.rep)

        html = client.get(URL).content.decode()

        assert "Your leads in <strong>Acme Sales</strong>" in html
        assert _chart_data(html)["funnel"]["counts"] == [3, 2, 1, 1]
        assert "My open leads (3)" in html and "Rita&#x27;s old" in html
        assert "My tasks due today (1)" in html and "Send the proposal" in html
        assert "1 earlier task still open (overdue)" in html
        assert "Sam&#x27;s" not in html and "Done already" not in html and "Quinn" not in html

    def test_a_rep_of_another_tenant_sees_none_of_this_tenants_leads(self, client, world):
        client.force_login(world.globex_rep)

        html = client.get(URL + "?period=90").content.decode()

        assert "Globex Sales" in html and "Acme Sales" not in html
        assert _chart_data(html)["funnel"]["counts"] == [3, 2, 2, 1]
        for lead in (world.l1, world.l2, world.l4, world.l11):
            assert lead.first_name not in html

    @pytest.mark.parametrize(("query", "counts"), [("?period=7", [2, 1, 0, 0]), ("?period=90", [9, 7, 5, 3])])
    def test_the_period_filter_changes_the_numbers(self, client, world, query, counts):
        client.force_login(world.manager)

        assert _chart_data(client.get(URL + query).content.decode())["funnel"]["counts"] == counts

    def test_custom_dates(self, client, world):
        client.force_login(world.manager)
        created = timezone.localdate(world.l4.created_at)  # Vera, converted, 12 days ago: alone on her day

        html = client.get(URL, {"period": "custom", "start": created, "end": created}).content.decode()

        assert _chart_data(html)["funnel"]["counts"] == [1, 1, 1, 1]
        assert f"created {created:%-d %b %Y} – {created:%-d %b %Y}" in html and "(1 day)" in html

    def test_dates_without_a_period_choice_are_a_custom_period(self, client, world):
        client.force_login(world.manager)
        today = timezone.localdate(world.now)

        response = client.get(URL, {"start": today - dt.timedelta(days=6), "end": today})

        assert _chart_data(response.content.decode())["funnel"]["counts"] == [2, 1, 0, 0]

    @pytest.mark.parametrize(
        ("params", "message"),
        [
            (
                {"period": "custom", "start": "2026-13-01", "end": "2026-01-31"},
                "From: Enter a date as YYYY-MM-DD, e.g. 2026-03-31.",
            ),
            (
                {"period": "custom", "start": "2026-02-01", "end": "2026-01-31"},
                "The period starts (2026-02-01) after it ends (2026-01-31); swap the dates.",
            ),
            ({"period": "custom", "start": "2026-01-01"}, "Give both a from and a to date for a custom period."),
            ({"period": "custom"}, "Give both a from and a to date for a custom period."),
            ({"period": "custom", "start": "2026-01-01", "end": "2999-01-01"}, "pick a to date of today"),
            ({"period": "365"}, "Period: Pick last 7, 30 or 90 days, or custom dates."),
            (
                {"start": "2024-01-01", "end": "2025-01-01"},
                "A custom period covers at most 366 days; this one has 367. Pick a shorter one.",
            ),
        ],
    )
    def test_bad_period_input_gives_a_readable_error(self, client, world, params, message):
        client.force_login(world.manager)

        response = client.get(URL, params)

        assert response.status_code == 400
        html = response.content.decode()
        assert message in html
        assert 'id="dashboard-data"' not in html, "no numbers for a period that was not understood"

    def test_a_platform_superuser_without_a_tenant_gets_a_message(self, client, db):
        client.force_login(User.objects.create_superuser("root", "root@example.com", "pw-for-tests-123"))

        response = client.get(URL)

        assert response.status_code == 200
        assert "signed in as a platform administrator without a workspace" in response.content.decode()

    def test_a_constant_small_number_of_queries(self, client, world, django_assert_num_queries):
        client.force_login(world.manager)
        client.get(URL)  # warm the content-type cache the admin's links use

        # Session, user, its permissions (2) and tenant; the per-rep table's users; from the stored rollups
        # (issue 19, item 6) the leads marked stale (all of them here: no refresh ran) and what they change, the
        # cohort's counts, the counts now, the wait buckets and the medians' exact waits; open-leads count and list,
        # task counts and list; overdue tasks.
        with django_assert_num_queries(17):
            client.get(URL)
        for n in range(20):
            lead = make_lead(
                world.tenant, f"More{n}", age=n * HOUR, owner=world.manager, now=world.now, status=LeadStatus.CONTACTED
            )
            status_change(lead, LeadStatus.NEW, LeadStatus.CONTACTED, after=HOUR)
            ActivityFactory(lead=lead, kind=ActivityKind.TASK, actor=world.manager, due_at=start_of_today(world.now))
        with django_assert_num_queries(17):
            html = client.get(URL).content.decode()
        assert _chart_data(html)["funnel"]["counts"] == [28, 26, 4, 2]

    def test_the_admin_index_links_the_dashboard_and_keeps_the_app_list(self, client, world):
        client.force_login(world.rep)

        html = client.get("/admin/").content.decode()

        assert f'href="{URL}"' in html and "Sales dashboard" in html
        assert 'id="content-main"' in html and "app-leads" in html

    def test_a_user_without_a_tenant_is_not_offered_the_dashboard(self, client, db):
        client.force_login(User.objects.create_superuser("root", "root@example.com", "pw-for-tests-123"))

        assert f'href="{URL}"' not in client.get("/admin/").content.decode()


def _chart_data(html: str) -> dict:
    start = html.index('<script id="dashboard-data" type="application/json">') + len(
        '<script id="dashboard-data" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def _row(html: str, marker: str) -> list[str]:
    row = html[html.index(marker) : html.index("</tr>", html.index(marker))]
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
