"""The sales dashboard in a real browser: a manager signs in, opens it from the admin index, picks a
period, and the vendored Chart.js draws the funnel, source and band charts from the page's numbers.

Uses the demo workspace (leads/demo.py) so the screenshot in docs/img/dashboard.png looks like real use.
"""

import datetime as dt

import pytest
from django.utils import timezone

from crm.choices import ActivityKind
from crm.models import User
from demo.data import build_demo
from leads.activities import log_activity
from leads.dashboard.figures import build_dashboard, last_days
from tests.e2e.axe import axe_violations
from tests.e2e.browser import BROWSER_MARKS

pytestmark = [*BROWSER_MARKS, pytest.mark.django_db(transaction=True)]

CHARTS = ("chart-funnel", "chart-sources", "chart-bands")
CHARTS_DRAWN = "ids => typeof Chart !== 'undefined' && ids.every(id => Chart.getChart(document.getElementById(id)))"

# For every chart: its labels, its first dataset's numbers, and how many of its pixels are painted.
READ_CHARTS = """ids => ids.map(id => {
    const canvas = document.getElementById(id);
    const chart = Chart.getChart(canvas);
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) painted++; }
    return {id, labels: chart.data.labels, data: chart.data.datasets[0].data, painted,
            area: canvas.width * canvas.height};
})"""


@pytest.fixture
def maya(db):
    build_demo()
    manager = User.objects.get(username="maya")
    lead = manager.owned_leads.filter(status="contacted").first()
    today = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(16, 0)))
    log_activity(
        tenant=manager.tenant,
        kind=ActivityKind.TASK,
        actor=manager,
        lead=lead,
        subject="Send the revised proposal",
        due_at=today,
    )
    return manager


def test_the_dashboard_renders_its_charts(live_server, page, screenshot_dir, maya):
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "maya")
    page.fill("#id_password", "demo-manager-pass")
    page.click("input[type=submit]")
    page.click("text=Open the dashboard")
    page.wait_for_function(CHARTS_DRAWN, arg=list(CHARTS))  # dashboard.js has run
    assert page.is_hidden("[data-custom-dates]"), "custom dates only show for a custom period"
    page.select_option("#id_period", "90")
    page.click("button:text('Show')")
    page.wait_for_url("**/admin/dashboard/?period=90*")
    page.wait_for_function(CHARTS_DRAWN, arg=list(CHARTS))

    board = build_dashboard(user=maya, period=last_days(days=90, today=timezone.localdate()))
    charts = {chart["id"]: chart for chart in page.evaluate(READ_CHARTS, list(CHARTS))}
    assert charts["chart-funnel"]["labels"] == ["New", "Contacted", "Qualified", "Converted"]
    assert charts["chart-funnel"]["data"] == [stage.count for stage in board.funnel.stages]
    assert board.funnel.leads > 0 and board.funnel.count("converted") > 0, "the demo has leads in 90 days"
    assert charts["chart-sources"]["labels"] == [row.label for row in board.sources]
    assert charts["chart-sources"]["data"] == [row.leads for row in board.sources]
    assert charts["chart-bands"]["labels"] == ["Cold", "Warm", "Hot"]
    assert charts["chart-bands"]["data"] == [band.count for band in board.bands]
    for chart in charts.values():
        assert chart["painted"] > chart["area"] * 0.02, f"{chart['id']} is blank"

    assert "Send the revised proposal" in page.inner_text("#dash-my-tasks-title + table")
    assert page.inner_text("#dash-median") not in ("", "–")
    assert all(url.startswith(live_server.url) for url in requests), "no CDN, nothing beyond the CRM itself"
    page.screenshot(path=str(screenshot_dir / "dashboard.png"), full_page=True)


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (1440, 900)])
def test_the_dashboard_fits_a_laptop_and_passes_axe(live_server, page, maya, width, height):
    """Every period's page, the managers' per-rep table included, without sideways scroll and with no serious or
    critical axe-core violation (issue 19)."""
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{live_server.url}/admin/login/?next=/admin/dashboard/")
    page.fill("#id_username", "maya")
    page.fill("#id_password", "demo-manager-pass")
    page.click("input[type=submit]")
    page.wait_for_function(CHARTS_DRAWN, arg=list(CHARTS))
    for period in ("7", "30", "90", "custom"):
        if period == "custom":
            today = timezone.localdate()
            page.goto(f"{live_server.url}/admin/dashboard/?period=custom&start={today - dt.timedelta(days=364)}"
                      f"&end={today}")
        else:
            page.goto(f"{live_server.url}/admin/dashboard/?period={period}")
        page.wait_for_function(CHARTS_DRAWN, arg=list(CHARTS))
        assert page.evaluate(
            "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        ), f"the dashboard scrolls sideways at {width} px ({period})"
        assert page.locator("#content-main table").count() > 0
        violations = axe_violations(page)
        assert not violations, f"{period}: " + "\n".join(violations)
