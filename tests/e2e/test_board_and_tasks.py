"""The deals pipeline board and My tasks in a real browser, at 1366 × 768 and 1440 × 900: a card dragged to
another column and one moved with the keyboard (its Move form) both land there through change_stage; a task
is completed and another snoozed. Neither page scrolls sideways, and axe-core finds no serious or critical
violation on either. With UPDATE_SCREENSHOTS=1 the screenshots
refresh docs/img/deals-board.png and docs/img/my-tasks.png.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from contacts.models import Deal
from crm.choices import ActivityKind
from crm.models import Activity
from leads.activities import log_activity
from tests.e2e.axe import axe_violations
from tests.e2e.browser import BROWSER_MARKS
from tests.factories import CompanyFactory, ContactFactory, DealFactory, LeadFactory, TenantFactory, UserFactory

pytestmark = [*BROWSER_MARKS, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-123"
VIEWPORTS = [(1366, 768), (1440, 900)]
NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"


@pytest.fixture
def workspace():
    tenant = TenantFactory(name="Acme Analytics", slug="acme-analytics")
    rep = UserFactory(tenant=tenant, username="rita", first_name="Rita", last_name="Rep")
    colleague = UserFactory(tenant=tenant, username="carl", first_name="Carl", last_name="Colleague")
    deals = [
        ("Engines Ltd pilot", "qualification", "12500", "USD", rep, 14),
        ("Navy rollout", "qualification", "240000", "USD", colleague, 40),
        ("Bletchley analytics", "proposal", "48000", "GBP", rep, 20),
        ("Kernel support plan", "proposal", "9900", "EUR", None, 25),
        ("NASA data platform", "negotiation", "310000", "USD", rep, 9),
        ("MIT research seats", "closed_won", "22500", "USD", rep, -3),
        ("TU Eindhoven lab", "closed_lost", "8000", "EUR", colleague, -10),
    ]
    today = timezone.localdate()
    for name, stage, amount, currency, owner, days in deals:
        company = CompanyFactory(tenant=tenant, name=name.split(" ")[0] + " Inc")
        contact = ContactFactory(tenant=tenant, first_name=name.split(" ")[0], last_name="Buyer", company=company,
                                 email=f"{name.split(' ')[0].lower()}@example.com")
        DealFactory(tenant=tenant, name=name, stage=stage, amount=Decimal(amount), currency=currency, owner=owner,
                    company=company, contact=contact, expected_close_date=today + dt.timedelta(days=days))
    now = timezone.now()
    for subject, due, lead_name in [
        ("Call Ada back about pricing", now - dt.timedelta(days=2), "Ada"),
        ("Send the revised proposal", now + dt.timedelta(minutes=30), "Grace"),
        ("Check in after the demo", now + dt.timedelta(days=3), "Alan"),
    ]:
        lead = LeadFactory(tenant=tenant, first_name=lead_name, last_name="Prospect", owner=rep,
                           email=f"{lead_name.lower()}@prospect.example", company=f"{lead_name} Co")
        log_activity(tenant=tenant, kind=ActivityKind.TASK, actor=rep, lead=lead, subject=subject, due_at=due)
    return tenant, rep


def _sign_in(page, live_server, rep, next_url):
    page.goto(f"{live_server.url}/admin/login/?next={next_url}")
    page.fill("input[name=username]", rep.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")


@pytest.mark.parametrize("width,height", VIEWPORTS)
def test_a_rep_moves_deals_on_the_board_by_drag_and_by_keyboard(live_server, page, screenshot_dir, workspace,
                                                                  width, height):
    tenant, rep = workspace
    page.set_viewport_size({"width": width, "height": height})
    _sign_in(page, live_server, rep, "/admin/contacts/deal/board/")
    page.wait_for_selector(".board-columns")
    assert page.evaluate(NO_SIDEWAYS_SCROLL), f"the board scrolls sideways at {width} px"
    qualification = page.locator(".board-column[data-stage=qualification]")
    assert qualification.locator("[data-count]").inner_text() == "2"
    assert "$252,500.00" in qualification.locator("[data-total]").inner_text()
    assert "$50,500.00" in qualification.locator("[data-forecast]").inner_text()  # 20 %
    violations = axe_violations(page)
    assert not violations, "\n".join(violations)
    if width == 1440:
        page.screenshot(path=str(screenshot_dir / "deals-board.png"), full_page=True)

    # Drag: the pilot from Qualification onto Proposal.
    pilot = Deal.objects.get(name="Engines Ltd pilot")
    page.drag_and_drop(f"#deal-{pilot.pk}", ".board-column[data-stage=proposal]")
    page.wait_for_selector(f".board-column[data-stage=proposal] #deal-{pilot.pk}")
    assert "moved to Proposal" in page.inner_text(".messagelist")
    assert Deal.objects.get(pk=pilot.pk).stage == "proposal"

    # Keyboard: focus the NASA deal's stage picker, choose Closed won, press Enter on Move.
    nasa = Deal.objects.get(name="NASA data platform")
    page.focus(f"#move-{nasa.pk}")
    page.select_option(f"#move-{nasa.pk}", "closed_won")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector(f".board-column[data-stage=closed_won] #deal-{nasa.pk}")
    nasa.refresh_from_db()
    assert nasa.stage == "closed_won" and nasa.closed_at is not None
    assert nasa.contact.status == "customer"  # change_stage's rule: a won deal's contact is a customer

    # A colleague's deal has no Move form and cannot be dragged.
    navy = Deal.objects.get(name="Navy rollout")
    assert page.locator(f"#deal-{navy.pk}").get_attribute("draggable") is None
    assert page.locator(f"#move-{navy.pk}").count() == 0

    # Filter by close month: the deal page link opens its timeline.
    page.click(f"#deal-{pilot.pk} .board-card-name")
    page.wait_for_url(f"**/admin/contacts/deal/{pilot.pk}/change/")
    assert "Stage: Qualification → Proposal" in page.content()


@pytest.mark.parametrize("width,height", VIEWPORTS)
def test_a_rep_completes_and_snoozes_tasks(live_server, page, screenshot_dir, workspace, width, height):
    tenant, rep = workspace
    page.set_viewport_size({"width": width, "height": height})
    _sign_in(page, live_server, rep, "/admin/dashboard/")
    page.click("#dash-all-tasks")
    page.wait_for_selector("#tasks-overdue")
    assert page.evaluate(NO_SIDEWAYS_SCROLL), f"My tasks scrolls sideways at {width} px"
    assert "Call Ada back about pricing" in page.inner_text("#tasks-overdue")
    assert "Send the revised proposal" in page.inner_text("#tasks-today") or "Send the revised proposal" in page.inner_text("#tasks-upcoming")
    assert "Check in after the demo" in page.inner_text("#tasks-upcoming")
    violations = axe_violations(page)
    assert not violations, "\n".join(violations)
    if width == 1440:
        page.screenshot(path=str(screenshot_dir / "my-tasks.png"), full_page=True)

    overdue = Activity.objects.get(subject="Call Ada back about pricing")
    page.select_option(f"#snooze-{overdue.pk}", "tomorrow")
    page.click(f"#task-{overdue.pk} button:text('Snooze')")
    page.wait_for_selector(".messagelist")
    assert "Snoozed “Call Ada back about pricing”" in page.inner_text(".messagelist")
    assert "Nothing overdue." in page.inner_text("#tasks-overdue")

    upcoming = Activity.objects.get(subject="Check in after the demo")
    page.focus(f"#task-{upcoming.pk} button:text('Done')")
    page.keyboard.press("Enter")
    page.wait_for_selector(".messagelist")
    assert "Done: “Check in after the demo”." in page.inner_text(".messagelist")
    assert Activity.objects.get(pk=upcoming.pk).done_at is not None
    assert "Check in after the demo" not in page.inner_text("#content-main table") if page.locator(
        "#content-main table").count() else True
