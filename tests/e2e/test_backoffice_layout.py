"""The lead list and the lead page at laptop sizes (issue 19): no horizontal scroll at 1366 x 768 and
1440 x 900, keyboard-reachable saved views and actions, no serious or critical axe-core violations, and a quick
log that keeps what was typed. Screenshots (1366 px) go to docs/img with UPDATE_SCREENSHOTS=1."""

import pytest

from crm.models import Activity
from tests.e2e.axe import axe_violations, horizontal_overflow
from tests.e2e.browser import BROWSER_MARKS
from tests.e2e.test_admin_rep_flow import PASSWORD, workspace  # noqa: F401  (the fixture)

pytestmark = [*BROWSER_MARKS, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, user, next_url="/admin/leads/lead/"):
    page.goto(f"{live_server.url}/admin/login/?next={next_url}")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (1440, 900)])
def test_the_list_and_the_lead_page_fit_a_laptop_and_pass_axe(live_server, page, screenshot_dir, workspace,  # noqa: F811
                                                              width, height):
    tenant, rep, hot = workspace
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, live_server, rep)
    page.wait_for_selector("#result_list")

    # The list: every column visible without scrolling sideways, in the CRM's words.
    assert horizontal_overflow(page) <= 0
    header = page.inner_text("#result_list thead")
    for column in ("LEAD", "SCORE", "STATUS", "OWNER", "SOURCE", "AGE"):
        assert column in header.upper()
    assert page.inner_text("#content h1") == "Leads"
    assert "Select lead to change" not in page.content() and "Leads › Leads" not in page.inner_text(".breadcrumbs")
    first_row = page.inner_text("#result_list tbody tr:first-child")
    assert "@" in first_row  # name, company and email in the one cell
    violations = axe_violations(page)
    assert not violations, "\n".join(violations)

    # Saved views, by keyboard: focus the tab and press Enter.
    page.focus(".crm-saved-views a:text-is('My hot leads')")
    page.keyboard.press("Enter")
    page.wait_for_url("**view=my-hot**")
    rows = page.inner_text("#result_list tbody")
    assert "Ada Lovelace" in rows and "Katherine Johnson" not in rows  # hers only, not the unassigned hot one
    page.click(".crm-saved-views a:text-is('Unassigned')")
    page.wait_for_url("**view=unassigned**")
    rows = page.inner_text("#result_list tbody")
    assert "Katherine Johnson" in rows and "Ada Lovelace" not in rows
    page.click(".crm-saved-views a:text-is('All leads')")
    page.wait_for_selector("#result_list")
    if width == 1366:
        page.screenshot(path=str(screenshot_dir / "admin-lead-list-1366.png"))

    # The lead page: header, details beside the timeline, no sideways scroll.
    page.click("#result_list a:text-is('Ada Lovelace')")
    page.wait_for_selector(".crm-lead-header")
    assert horizontal_overflow(page) <= 0
    head = page.inner_text(".crm-lead-header")
    assert "Ada Lovelace" in head and "Engines Ltd" in head and "$25 M revenue" in head and "800 employees" in head
    assert "Rita Rep" in head
    details = page.locator(".crm-details").bounding_box()
    timeline = page.locator(".crm-timeline-col").bounding_box()
    assert timeline["x"] > details["x"] + details["width"] - 1  # side by side
    emails = page.locator("#timeline-entries li[data-kind=email_opened]").all_inner_texts()
    assert ["Demo confirmation" in e for e in emails] == [True, False, False]  # newest first
    panel = page.inner_text(".crm-score-panel")
    assert "likely to convert" in panel and "model -" not in panel and "rules " not in panel
    violations = axe_violations(page)
    assert not violations, "\n".join(violations)

    # Filter the timeline by kind.
    page.select_option("#timeline-kind", "email_opened")
    assert page.locator("#timeline-entries li.crm-entry:visible").count() == 3

    # A task without a due date: nothing is logged, and what was typed is still there to finish.
    page.click(".crm-lead-actions a:text-is('Log')")
    assert page.evaluate("() => document.activeElement.id") == "quick-subject"
    page.keyboard.type("Send the proposal")
    page.fill("#quick-body", "Pricing for 12 seats")
    page.click("#quick-log button[value=task]")
    page.wait_for_selector(".messagelist .error")
    assert page.input_value("#quick-subject") == "Send the proposal"
    assert page.input_value("#quick-body") == "Pricing for 12 seats"
    assert "A task needs a due date." in page.inner_text("#quick-log")
    page.fill("#quick-due", "2030-01-15T09:30")
    page.click("#quick-log button[value=task]")
    page.wait_for_selector(".messagelist .success")
    assert Activity.objects.filter(lead=hot, kind="task", subject="Send the proposal").exists()
    assert "Send the proposal" in page.inner_text(".crm-lead-header")  # now the next task
    assert horizontal_overflow(page) <= 0
    if width == 1366:
        page.screenshot(path=str(screenshot_dir / "admin-lead-page-1366.png"))
