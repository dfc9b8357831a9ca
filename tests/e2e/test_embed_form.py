"""embed.js in a real browser: a customer's page on another origin posts leads to the CRM.

Headless Chromium from Debian (/usr/bin/chromium), driven by playwright (its own browser
download is not used). The customer's site is a tiny http.server on another port, so every
request from the form is cross-origin, with a real CORS preflight.

Screenshots go to a temporary folder; with UPDATE_SCREENSHOTS=1 they refresh docs/img/.
"""

import functools
import http.server
import threading

import pytest

from leads.models import IdempotencyRecord, Lead
from tests.e2e.browser import BROWSER_MARKS
from tests.factories import ChannelFactory, TenantFactory

MIN_FILL_SECONDS = 1.0  # the spam trap's minimum, shortened so the tests wait one second, not three

pytestmark = [*BROWSER_MARKS, pytest.mark.django_db(transaction=True)]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def customer_site(tmp_path_factory):
    """Another origin (127.0.0.1 vs the live server's localhost, another port) serving static pages."""
    root = tmp_path_factory.mktemp("customer-site")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=root))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def short_fill_time(settings):
    settings.CAPTURE_MIN_FILL_SECONDS = MIN_FILL_SECONDS


def customer_page(site, name: str, live_url: str, body: str) -> str:
    root, origin = site
    (root / name).write_text(f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme Analytics</title>
<style>body{{font:16px/1.5 Georgia,serif;color:#222;max-width:40rem;margin:2rem auto;padding:0 1rem}}
form label{{display:block;margin:.5rem 0}}</style></head>
<body><h1>Talk to Acme</h1><p>Tell us about your team and we will call you back.</p>
{body}
<script src="{live_url}/static/crm/embed.js" defer></script>
</body></html>""")
    return f"{origin}/{name}"


def submit_after_min_fill(page, selector="button[type=submit]"):
    page.wait_for_timeout(MIN_FILL_SECONDS * 1000 + 200)
    page.click(selector)


def channel_for(origin: str, **fields):
    return ChannelFactory(tenant=TenantFactory(), allowed_origins=[origin], rate_limit_per_hour=100, **fields)


def test_a_customers_own_form_on_another_origin_posts_a_lead_with_its_utm(live_server, customer_site, page):
    channel = channel_for(customer_site[1])
    url = customer_page(customer_site, "contact.html", live_server.url, f"""
<form data-crm-form-key="{channel.form_key}" novalidate>
  <label>Name <input name="name"></label>
  <label>Work email <input name="email" type="email"></label>
  <label>Team size <select name="team_size"><option>1-10</option><option selected>11-50</option></select></label>
  <button type="submit">Call me back</button>
</form>""")

    page.goto(url + "?utm_source=newsletter&utm_medium=email&utm_campaign=spring")
    page.fill("input[name=name]", "Ada Lovelace")
    page.fill("input[name=email]", "Ada@Analytical.example")
    submit_after_min_fill(page)

    page.wait_for_selector(".crm-thanks")
    assert "Thank you" in page.inner_text(".crm-thanks")
    assert page.is_hidden("form")
    lead = Lead.objects.get()
    assert (lead.channel_id, lead.email, lead.first_name, lead.last_name) == (
        channel.pk, "ada@analytical.example", "Ada", "Lovelace")
    assert (lead.utm_source, lead.utm_medium, lead.utm_campaign) == ("newsletter", "email", "spring")
    assert lead.source_url == page.url
    assert lead.custom_fields == {"team_size": "11-50"}
    assert IdempotencyRecord.objects.filter(scope=f"channel:{channel.pk}").count() == 1

    # A second visit: a bad email is refused by the server and shown next to the email field.
    page.goto(url)
    page.fill("input[name=name]", "Charles Babbage")
    page.fill("input[name=email]", "not-an-email")
    submit_after_min_fill(page)

    page.wait_for_selector(".crm-error")
    assert page.eval_on_selector("input[name=email]", "e => e.nextElementSibling.className") == "crm-error"
    assert "valid email" in page.eval_on_selector("input[name=email]", "e => e.nextElementSibling.textContent")
    assert page.get_attribute("input[name=email]", "aria-invalid") == "true"
    assert page.is_visible("form") and not page.is_visible(".crm-thanks")
    assert Lead.objects.count() == 1


def test_the_default_form_renders_shows_errors_and_thanks(live_server, customer_site, page, screenshot_dir):
    channel = channel_for(customer_site[1])
    url = customer_page(customer_site, "rendered.html", live_server.url,
                        f'<div data-crm-form-key="{channel.form_key}" data-crm-render></div>')

    page.goto(url + "?utm_source=google")
    page.fill(".crm-form [name=name]", "Grace Hopper")
    page.fill(".crm-form [name=email]", "grace@navy")
    page.fill(".crm-form [name=company]", "US Navy")
    page.fill(".crm-form [name=message]", "We would like a demo for 40 people.")
    submit_after_min_fill(page)
    page.wait_for_selector(".crm-error")
    page.screenshot(path=str(screenshot_dir / "embed-form-error.png"), full_page=True)

    page.fill(".crm-form [name=email]", "grace@navy.example")
    page.click(".crm-form button")
    page.wait_for_selector(".crm-thanks")
    assert not page.query_selector(".crm-error"), "old errors are cleared"
    page.screenshot(path=str(screenshot_dir / "embed-form-thanks.png"), full_page=True)

    lead = Lead.objects.get()
    assert (lead.email, lead.company, lead.utm_source) == ("grace@navy.example", "US Navy", "google")


def test_a_form_sent_faster_than_a_person_could_is_thanked_but_not_stored(live_server, customer_site, page):
    channel = channel_for(customer_site[1])
    url = customer_page(customer_site, "bot.html", live_server.url,
                        f'<div data-crm-form-key="{channel.form_key}" data-crm-render></div>')

    page.goto(url)
    page.fill(".crm-form [name=email]", "bot@spam.example")
    page.click(".crm-form button")

    page.wait_for_selector(".crm-thanks")
    assert not Lead.objects.exists()
    channel.refresh_from_db()
    assert channel.blocked_count == 1


def test_a_site_the_channel_does_not_list_cannot_post(live_server, customer_site, page):
    channel = ChannelFactory(tenant=TenantFactory(), allowed_origins=["https://elsewhere.example"])
    url = customer_page(customer_site, "foreign.html", live_server.url,
                        f'<div data-crm-form-key="{channel.form_key}" data-crm-render></div>')

    page.goto(url)
    page.fill(".crm-form [name=email]", "someone@x.example")
    submit_after_min_fill(page)

    page.wait_for_selector(".crm-note")
    # The browser would block the post's preflight, which looks like a network failure to the page;
    # the form-token answer says what really happened.
    assert page.inner_text(".crm-note") == "This form is not allowed on this site."
    assert not Lead.objects.exists()


def test_a_site_removed_from_the_channel_while_the_form_was_open_is_told_so(live_server, customer_site, page):
    channel = channel_for(customer_site[1])
    url = customer_page(customer_site, "removed.html", live_server.url,
                        f'<div data-crm-form-key="{channel.form_key}" data-crm-render></div>')
    page.goto(url)
    page.wait_for_load_state("networkidle")  # the form has its token
    channel.allowed_origins = ["https://elsewhere.example"]
    channel.save()

    page.fill(".crm-form [name=email]", "someone@x.example")
    submit_after_min_fill(page)

    page.wait_for_selector(".crm-note")
    assert page.inner_text(".crm-note") == "This form is not allowed on this site."
    assert not Lead.objects.exists()


def test_the_hosted_form_page_posts_to_its_own_origin(live_server, page, screenshot_dir):
    channel = ChannelFactory(tenant=TenantFactory(name="Acme Analytics"), name="Book a demo", rate_limit_per_hour=100)

    page.goto(f"{live_server.url}/f/{channel.form_key}/?utm_source=linkedin")
    page.wait_for_selector(".crm-form")
    page.screenshot(path=str(screenshot_dir / "hosted-form.png"), full_page=True)
    page.fill(".crm-form [name=name]", "Alan Turing")
    page.fill(".crm-form [name=email]", "alan@bletchley.example")
    submit_after_min_fill(page)

    page.wait_for_selector(".crm-thanks")
    lead = Lead.objects.get()
    assert (lead.channel_id, lead.email, lead.utm_source) == (channel.pk, "alan@bletchley.example", "linkedin")
