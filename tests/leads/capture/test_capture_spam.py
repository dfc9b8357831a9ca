"""The spam trap: caught posts look accepted, store nothing and are counted on their channel.

Fill time is measured from a token the server signed when the form was shown, never from the
visitor's own `_ts`/`_sent`.
"""

import time

import pytest

from crm.models import Activity, Event
from leads.capture.spam import TOKEN_FIELD, issue_token, spam_reason, token_age
from leads.models import Lead
from tests.factories import ChannelFactory
from tests.receipts import assert_receipt

pytestmark = pytest.mark.django_db

SITE = "https://www.acme.example"


def ms(seconds_ago: float) -> int:
    return int((time.time() - seconds_ago) * 1000)


def shown(channel, seconds_ago: float) -> str:
    """The token the form got from the server `seconds_ago`."""
    return issue_token(channel=channel, now=time.time() - seconds_ago)


@pytest.fixture
def channel(tenant):
    return ChannelFactory(tenant=tenant, name="Website", allowed_origins=[SITE])


@pytest.fixture
def post(anon_api, channel):
    def send(body, origin=SITE):
        headers = {"HTTP_X_FORM_KEY": channel.form_key}
        if origin:
            headers["HTTP_ORIGIN"] = origin
        return anon_api.post("/api/v1/leads", body, format="json", **headers)

    return send


def assert_caught(response, channel, blocked=1):
    assert response.status_code == 201
    assert_receipt(response.json())  # a bot gets the answer a person gets
    assert not Lead.objects.exists() and not Activity.objects.exists() and not Event.objects.exists()
    channel.refresh_from_db()
    assert channel.blocked_count == blocked


def test_a_filled_honeypot_is_caught(post, channel):
    assert_caught(post({"email": "bot@spam.example", "website_url": "http://spam.example", TOKEN_FIELD: shown(channel, 10)}),
                  channel)


def test_a_filled_honeypot_is_caught_from_a_server_too(post, channel):
    assert_caught(post({"email": "bot@spam.example", "website_url": "x"}, origin=None), channel)


def test_a_form_sent_faster_than_the_minimum_after_its_token_is_caught(post, channel):
    assert_caught(post({"email": "quick@spam.example", TOKEN_FIELD: shown(channel, 0.8)}), channel)


def test_the_visitors_own_clock_is_not_believed(post, channel):
    """Yesterday's embed.js sent `_ts`/`_sent`; a bot could write any pair, so only the token counts."""
    now = ms(0)
    body = {"email": "quick@spam.example", "_ts": now - 60_000, "_sent": now, TOKEN_FIELD: shown(channel, 0.5)}

    assert_caught(post(body), channel)


@pytest.mark.parametrize("token", ["1700000000000", "1700000000000:forged", "", 42, ["x"]])
def test_a_forged_token_is_caught(post, channel, token):
    response = post({"email": "forger@spam.example", TOKEN_FIELD: token}, origin=None if token == "" else SITE)

    if token == "":  # no token at all, from a server: not judged on time
        assert response.status_code == 201 and Lead.objects.exists()
    else:
        assert_caught(response, channel)


def test_a_token_of_another_form_is_caught(post, channel, tenant):
    other = ChannelFactory(tenant=tenant)

    assert_caught(post({"email": "moved@spam.example", TOKEN_FIELD: shown(other, 60)}), channel)


def test_an_expired_token_is_caught(post, channel, settings):
    token = shown(channel, settings.CAPTURE_FORM_TOKEN_MAX_AGE_SECONDS + 5)

    assert_caught(post({"email": "late@spam.example", TOKEN_FIELD: token}), channel)


def test_caught_posts_are_counted_one_by_one(post, channel):
    for _ in range(3):
        post({"email": "bot@spam.example", "website_url": "x"})

    channel.refresh_from_db()
    assert channel.blocked_count == 3


def test_spam_is_judged_before_validation_so_bots_never_see_field_errors(post, channel):
    assert_caught(post({"email": "not-an-email", "website_url": "x"}), channel)


def test_a_person_who_took_their_time_gets_through(post, channel):
    response = post({"email": "human@x.example", TOKEN_FIELD: shown(channel, 12), "website_url": ""})

    assert response.status_code == 201
    assert Lead.objects.get().email == "human@x.example"
    assert Lead.objects.get().custom_fields == {}, "the token is not stored"
    channel.refresh_from_db()
    assert channel.blocked_count == 0


def test_a_browser_post_without_a_token_is_asked_to_reload_the_page(post, channel):
    """A page that loaded embed.js before tokens existed: told so, rather than silently losing the lead."""
    now = ms(0)

    response = post({"email": "old-page@x.example", "_ts": now - 12_000, "_sent": now})

    assert response.status_code == 400
    assert "reload the page" in response.json()[TOKEN_FIELD][0]
    assert not Lead.objects.exists()
    channel.refresh_from_db()
    assert channel.blocked_count == 0


def test_a_server_post_without_a_token_is_not_judged_on_time(post):
    """Your own backend or curl (no Origin) cannot know the rule; the honeypot and rate limit still apply."""
    assert post({"email": "plain@x.example"}, origin=None).status_code == 201
    assert Lead.objects.exists()


def test_the_minimum_fill_time_is_a_setting(post, channel, settings):
    settings.CAPTURE_MIN_FILL_SECONDS = 0.5

    assert post({"email": "fast-typist@x.example", TOKEN_FIELD: shown(channel, 1)}).status_code == 201
    assert Lead.objects.exists()


def test_integrators_are_not_spam_checked(api):
    response = api.post("/api/v1/leads", {"email": "api@x.example", "website_url": "x", "_ts": ms(0)}, format="json",
                        HTTP_ORIGIN=SITE)

    assert response.status_code == 201
    assert Lead.objects.get().custom_fields == {}, "the trap's own fields are never stored"


# --- the token page ----------------------------------------------------------------------------


def test_the_token_page_issues_a_token_the_capture_accepts_later(client, channel):
    response = client.get(f"/f/{channel.form_key}/token", HTTP_ORIGIN=SITE)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SITE
    assert "no-cache" in response["Cache-Control"] and "Origin" in response["Vary"]
    body = response.json()
    assert body["min_fill_seconds"] == 3 and body["max_age_seconds"] == 24 * 3600
    assert 0 <= token_age(body["token"], channel=channel) < 5


def test_the_token_page_serves_posts_without_an_origin(client, channel):
    assert client.get(f"/f/{channel.form_key}/token").status_code == 200


@pytest.mark.parametrize("active", [True, False])
def test_the_token_page_of_an_unknown_or_inactive_key_is_404(client, channel, active):
    channel.is_active = active
    channel.save()
    key = "no-such-key" if active else channel.form_key

    response = client.get(f"/f/{key}/token", HTTP_ORIGIN=SITE)

    assert response.status_code == 404
    assert response.json()["detail"] == "Unknown or inactive form key."


def test_the_hosted_page_carries_a_token_for_its_own_form(client, channel):
    response = client.get(f"/f/{channel.form_key}/")

    html = response.content.decode()
    token = html.split('data-crm-token="', 1)[1].split('"', 1)[0]
    assert 0 <= token_age(token, channel=channel) < 5
    assert "no-cache" in response["Cache-Control"], "a cached page would hand out an old token"


@pytest.mark.parametrize(
    "body, from_browser, reason",
    [
        ({}, False, None),
        ({"website_url": "   "}, False, None),
        ({"website_url": "x"}, True, "honeypot"),
        ({"_ts": 1_000, "_sent": 9_000}, False, None),
        ({TOKEN_FIELD: "not-a-token"}, False, "bad_token"),
    ],
)
def test_spam_reasons(channel, body, from_browser, reason):
    assert spam_reason(body, channel=channel, from_browser=from_browser) == reason


def test_a_token_is_measured_on_the_servers_clock(channel):
    token = issue_token(channel=channel, now=1_000.0)

    assert token_age(token, channel=channel, now=1_004.5) == 4.5
    assert spam_reason({TOKEN_FIELD: token}, channel=channel, from_browser=True, now=1_002.0) == "too_fast"
    assert spam_reason({TOKEN_FIELD: token}, channel=channel, from_browser=True, now=1_010.0) is None
