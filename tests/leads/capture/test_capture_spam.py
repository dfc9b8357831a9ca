"""The spam trap: caught posts look accepted, store nothing and are counted on their channel."""

import time

import pytest

from crm.models import Activity, Event
from leads.models import Lead
from leads.capture.spam import fill_seconds, spam_reason

pytestmark = pytest.mark.django_db

RECEIVED = {"status": "received"}


def ms(seconds_ago: float) -> int:
    return int((time.time() - seconds_ago) * 1000)


@pytest.fixture
def post(anon_api, channel):
    def send(body):
        return anon_api.post("/api/v1/leads", body, format="json", HTTP_X_FORM_KEY=channel.form_key)

    return send


def assert_caught(response, channel, blocked=1):
    assert response.status_code == 201
    assert response.json() == RECEIVED, "a bot gets the answer a person gets"
    assert not Lead.objects.exists() and not Activity.objects.exists() and not Event.objects.exists()
    channel.refresh_from_db()
    assert channel.blocked_count == blocked


def test_a_filled_honeypot_is_caught(post, channel):
    assert_caught(post({"email": "bot@spam.example", "website_url": "http://spam.example"}), channel)


def test_a_form_sent_faster_than_the_minimum_is_caught(post, channel):
    now = ms(0)
    assert_caught(post({"email": "quick@spam.example", "_ts": now - 800, "_sent": now}), channel)


def test_a_server_clock_check_applies_when_only_the_render_time_is_sent(post, channel):
    assert_caught(post({"email": "quick@spam.example", "_ts": ms(1)}), channel)


def test_caught_posts_are_counted_one_by_one(post, channel):
    for _ in range(3):
        post({"email": "bot@spam.example", "website_url": "x"})

    channel.refresh_from_db()
    assert channel.blocked_count == 3


def test_spam_is_judged_before_validation_so_bots_never_see_field_errors(post, channel):
    assert_caught(post({"email": "not-an-email", "website_url": "x"}), channel)


def test_a_person_who_took_their_time_gets_through(post, channel):
    now = ms(0)
    response = post({"email": "human@x.example", "_ts": now - 12_000, "_sent": now, "website_url": ""})

    assert response.status_code == 201
    assert Lead.objects.get().email == "human@x.example"
    channel.refresh_from_db()
    assert channel.blocked_count == 0


def test_a_visitor_whose_clock_is_hours_off_is_judged_on_their_own_clock(post):
    an_hour_ahead = ms(-3600)

    response = post({"email": "skewed@x.example", "_ts": an_hour_ahead, "_sent": an_hour_ahead + 8_000})

    assert response.status_code == 201
    assert Lead.objects.filter(email="skewed@x.example").exists()


def test_a_post_without_a_timestamp_is_allowed(post):
    """Plain HTML forms and server-side posts send no `_ts`; the honeypot and rate limit still apply."""
    assert post({"email": "plain@x.example"}).status_code == 201
    assert Lead.objects.exists()


def test_the_minimum_fill_time_is_a_setting(post, settings):
    settings.CAPTURE_MIN_FILL_SECONDS = 0.5
    now = ms(0)

    assert post({"email": "fast-typist@x.example", "_ts": now - 1000, "_sent": now}).status_code == 201
    assert Lead.objects.exists()


def test_integrators_are_not_spam_checked(api):
    response = api.post("/api/v1/leads", {"email": "api@x.example", "website_url": "x", "_ts": ms(0)}, format="json")

    assert response.status_code == 201
    assert Lead.objects.get().custom_fields == {}, "the trap's own fields are never stored"


@pytest.mark.parametrize(
    "body, reason",
    [
        ({}, None),
        ({"website_url": "   "}, None),
        ({"website_url": "x"}, "honeypot"),
        ({"_ts": "not-a-number"}, "too_fast"),
        ({"_ts": 1_000, "_sent": 2_000}, "too_fast"),
        ({"_ts": 1_000, "_sent": 9_000}, None),
        ({"_ts": ""}, None),
    ],
)
def test_spam_reasons(body, reason):
    assert spam_reason(body) == reason


def test_fill_seconds_uses_the_server_clock_without_a_send_time():
    assert fill_seconds({"_ts": 10_000}, now=15.0) == 5.0
    assert fill_seconds({"_ts": 10_000, "_sent": 11_000}, now=99.0) == 1.0
    assert fill_seconds({}) is None
