"""Anonymous form posts are limited per client address and channel; integrators are not."""

import os
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import RequestFactory
from rest_framework.test import APIClient

from crm.client_ip import client_ip
from leads.capture.ratelimit import MAX_BUCKET, RateLimited, hit
from leads.models import FormPostCount, Lead
from tests.concurrency import run_together
from tests.factories import ChannelFactory, TenantFactory

pytestmark = pytest.mark.django_db


def post_from(client, channel, ip, n=1, forwarded=None, **extra):
    headers = {"HTTP_X_FORM_KEY": channel.form_key, "REMOTE_ADDR": ip}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    responses = []
    for i in range(n):
        body = {"email": f"visitor{i}-{time.monotonic_ns()}@x.example"}
        responses.append(client.post("/api/v1/leads", body, format="json", **headers, **extra))
    return responses


def test_the_eleventh_post_in_an_hour_is_429_with_retry_after(anon_api, channel):
    responses = post_from(anon_api, channel, "203.0.113.7", n=11)

    assert [r.status_code for r in responses] == [201] * 10 + [429]
    refused = responses[-1]
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert "Too many submissions" in refused.json()["detail"]
    assert Lead.objects.count() == 10


def test_the_limit_is_per_channel_setting(anon_api, tenant):
    strict = ChannelFactory(tenant=tenant, rate_limit_per_hour=2)

    assert [r.status_code for r in post_from(anon_api, strict, "203.0.113.8", n=3)] == [201, 201, 429]


def test_each_address_and_each_channel_has_its_own_count(anon_api, tenant):
    one = ChannelFactory(tenant=tenant, rate_limit_per_hour=1)
    two = ChannelFactory(tenant=tenant, rate_limit_per_hour=1)

    assert post_from(anon_api, one, "198.51.100.1")[0].status_code == 201
    assert post_from(anon_api, one, "198.51.100.2")[0].status_code == 201
    assert post_from(anon_api, two, "198.51.100.1")[0].status_code == 201
    assert post_from(anon_api, one, "198.51.100.1")[0].status_code == 429


def test_a_forged_forwarded_header_cannot_reset_the_limit_without_trusted_proxies(anon_api, tenant, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    channel = ChannelFactory(tenant=tenant, rate_limit_per_hour=1)

    first = post_from(anon_api, channel, "203.0.113.9", forwarded="1.1.1.1")[0]
    second = post_from(anon_api, channel, "203.0.113.9", forwarded="2.2.2.2")[0]

    assert (first.status_code, second.status_code) == (201, 429)


def test_behind_one_proxy_the_client_is_the_rightmost_forwarded_address(anon_api, tenant, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    channel = ChannelFactory(tenant=tenant, rate_limit_per_hour=1)
    proxy = "10.0.0.5"

    assert post_from(anon_api, channel, proxy, forwarded="198.51.100.20")[0].status_code == 201
    # The same client prepends a made-up address: our proxy still appended the real one.
    assert post_from(anon_api, channel, proxy, forwarded="9.9.9.9, 198.51.100.20")[0].status_code == 429
    assert post_from(anon_api, channel, proxy, forwarded="198.51.100.21")[0].status_code == 201


def test_the_spam_trap_counts_against_the_limit(anon_api, tenant):
    channel = ChannelFactory(tenant=tenant, rate_limit_per_hour=1)
    headers = {"HTTP_X_FORM_KEY": channel.form_key, "REMOTE_ADDR": "203.0.113.30"}

    anon_api.post("/api/v1/leads", {"email": "bot@x.example", "website_url": "x"}, format="json", **headers)
    response = anon_api.post("/api/v1/leads", {"email": "bot@x.example"}, format="json", **headers)

    assert response.status_code == 429


def test_integrators_with_a_token_are_not_form_rate_limited(api, channel):
    channel.rate_limit_per_hour = 1
    channel.save()

    codes = [
        api.post("/api/v1/leads", {"email": f"bulk{i}@x.example"}, format="json",
                 HTTP_X_FORM_KEY=channel.form_key).status_code
        for i in range(3)
    ]

    assert codes == [201, 201, 201]


@pytest.mark.parametrize(
    "proxies, remote, forwarded, expected",
    [
        (0, "203.0.113.1", "1.2.3.4", "203.0.113.1"),
        (1, "10.0.0.1", "1.2.3.4", "1.2.3.4"),
        (1, "10.0.0.1", "6.6.6.6, 1.2.3.4", "1.2.3.4"),
        (2, "10.0.0.2", "6.6.6.6, 1.2.3.4, 10.0.0.1", "1.2.3.4"),
        (2, "10.0.0.2", "1.2.3.4", "1.2.3.4"),
        (1, "10.0.0.1", "", "10.0.0.1"),
        (1, "10.0.0.1", "not-an-ip", "10.0.0.1"),
        (1, "10.0.0.1", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_ip(settings, proxies, remote, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().post("/api/v1/leads", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == expected


def test_the_count_starts_again_in_the_next_hour(tenant):
    channel = ChannelFactory(tenant=tenant, rate_limit_per_hour=1)
    start = 1_800_000_000.0 - 10  # ten seconds before an hour boundary

    hit(channel=channel, client="198.51.100.50", now=start)
    with pytest.raises(RateLimited) as refused:
        hit(channel=channel, client="198.51.100.50", now=start + 1)
    assert refused.value.retry_after == 9
    hit(channel=channel, client="198.51.100.50", now=start + 11)


# --- one count for every process --------------------------------------------------------------


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


HIT_TWICE = """
import sys
import django
django.setup()
from leads.capture.ratelimit import hit
from leads.models import Channel
channel = Channel.objects.get(form_key=sys.argv[1])
hit(channel=channel, client=sys.argv[2])
hit(channel=channel, client=sys.argv[2])
"""


@pytest.mark.django_db(transaction=True)
def test_another_web_process_shares_the_count_without_redis(anon_api):
    """Four gunicorn workers with no REDIS_URL once let 37 of 40 posts through a limit of 10."""
    channel = ChannelFactory(tenant=TenantFactory(), rate_limit_per_hour=3)
    ip = "203.0.113.40"

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "crm.settings", "DATABASE_URL": database_url()}
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "-c", HIT_TWICE, channel.form_key, ip], env=env, check=True,
                   cwd=django_settings.BASE_DIR, timeout=120)

    assert [r.status_code for r in post_from(anon_api, channel, ip, n=2)] == [201, 429]


def test_the_count_survives_this_process_forgetting_its_cache(anon_api, tenant):
    channel = ChannelFactory(tenant=tenant, rate_limit_per_hour=1)

    assert post_from(anon_api, channel, "203.0.113.41")[0].status_code == 201
    cache.clear()  # what a second worker would see: nothing of this one's memory
    assert post_from(anon_api, channel, "203.0.113.41")[0].status_code == 429


@pytest.mark.django_db(transaction=True)
def test_simultaneous_posts_from_one_address_hold_exactly_the_limit():
    channel = ChannelFactory(tenant=TenantFactory(), rate_limit_per_hour=10)

    def send(i):
        client = APIClient()
        return client.post("/api/v1/leads", {"email": f"racer{i}@x.example"}, format="json",
                           HTTP_X_FORM_KEY=channel.form_key, REMOTE_ADDR="203.0.113.42").status_code

    codes = run_together(send, n=20)

    assert sorted(codes) == [201] * 10 + [429] * 10, f"{connection.vendor}: {codes}"
    assert Lead.objects.count() == 10
    assert FormPostCount.objects.get().count == 20


def test_with_redis_the_count_lives_in_the_cache(anon_api, tenant, settings):
    settings.CAPTURE_RATE_LIMIT_STORE = "cache"
    channel = ChannelFactory(tenant=tenant, rate_limit_per_hour=1)

    codes = [r.status_code for r in post_from(anon_api, channel, "203.0.113.43", n=2)]

    assert codes == [201, 429]
    assert not FormPostCount.objects.exists()


def test_counts_of_past_hours_are_purged_by_the_daily_command(tenant):
    channel = ChannelFactory(tenant=tenant)
    hit(channel=channel, client="198.51.100.60", now=time.time() - 2 * 3600)
    hit(channel=channel, client="198.51.100.60")

    call_command("purge_idempotency_keys")

    (kept,) = FormPostCount.objects.all()
    assert kept.expires_at > datetime.now(tz=UTC)


def test_the_bucket_is_cut_to_the_columns_length():
    assert MAX_BUCKET == FormPostCount._meta.get_field("bucket").max_length
