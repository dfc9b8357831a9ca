"""Benchmark (by hand, not a test): the Facebook Lead Ads webhook against the website form capture, same run.

    .venv/bin/python bench/ad_webhooks.py [--leads 300] [--rate 20]

A fresh PostgreSQL database (crm_bench_ads on 127.0.0.1:5432, or DATABASE_URL naming a "bench" database),
one workspace with a Facebook channel and its website form, and the fake Graph API of the tests on
127.0.0.1. Requests go through Django's full stack in process (middleware, views, the database; no HTTP
server). Celery runs as in production minus the network: tasks are published to an in-memory broker and
a worker thread takes them one at a time (like `celery worker --pool solo`) while the webhooks arrive.

Figures: the webhook endpoint's p50/p99 (it verifies, records the lead's id and queues), the website form
capture endpoint's p50/p99 as the baseline (it captures the lead in the request), and, per Facebook lead,
webhook-to-lead-visible: from the webhook's arrival until the lead is in the database (what the lead
list reads), p50/p95. Webhooks are sent at `--rate` per second, interleaved with form posts.
"""

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.databases import fresh_postgres  # noqa: E402


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0, help="webhooks per second")
    args = parser.parse_args()

    fresh_postgres("postgres://postgres@127.0.0.1:5432/crm_bench_ads")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ["LOG_LEVEL"] = "ERROR"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    settings.ALLOWED_HOSTS = ["*"]
    settings.SECURE_SSL_REDIRECT = False
    call_command("migrate", "--noinput", verbosity=0)

    from crm.celery import app as celery_app
    from leads.choices import ChannelKind, LeadSource
    from leads.integrations.facebook import sign
    from leads.models import Channel, Lead
    from leads.workspaces import create_tenant
    from tests.leads.integrations.fake_graph import FakeGraph, delivery

    celery_app.conf.update(broker_url="memory://", broker_transport_options={}, task_always_eager=False)
    setup = create_tenant(slug="bench", admin_username="bench-admin", admin_password="bench-admin-pass-2026")
    Channel.objects.update(rate_limit_per_hour=10**9)
    settings.CAPTURE_MIN_FILL_SECONDS = 0
    website = setup.channel
    secret = "bench-app-secret-0001"
    Channel.objects.create(
        tenant=setup.tenant, name="Facebook", kind=ChannelKind.FACEBOOK_LEAD_ADS, page_id="1001", app_secret=secret,
        page_access_token="bench-token", default_source=LeadSource.FACEBOOK_LEAD_AD,
    )

    with FakeGraph() as graph:
        settings.FACEBOOK_GRAPH_URL = graph.url
        sent_at: dict[str, float] = {}
        visible_at: dict[str, float] = {}
        stop = threading.Event()

        def worker() -> None:
            with celery_app.connection_for_read() as conn:
                queue = conn.SimpleQueue("celery")
                while not stop.is_set() or len(queue):
                    try:
                        message = queue.get(timeout=0.05)
                    except queue.Empty:
                        continue
                    # Every task the requests queued (the fetches, and the event relay's kicks), in order.
                    task_args, task_kwargs, _ = message.payload
                    celery_app.tasks[message.headers["task"]].apply(args=task_args, kwargs=task_kwargs)
                    message.ack()
                    found = Lead.objects.filter(external_id__in=[k for k in sent_at if k not in visible_at])
                    now = time.perf_counter()
                    for external_id in found.values_list("external_id", flat=True):
                        visible_at.setdefault(external_id, now)
            from django.db import connection

            connection.close()

        thread = threading.Thread(target=worker, daemon=True)
        thread.start()
        client = Client()
        hook_ms, form_ms = [], []
        gap = 1.0 / args.rate
        # A short warm-up of both endpoints (imports, first queries), not counted.
        for i in range(args.leads + 20):
            leadgen_id = f"L{i}"
            graph.add_lead(leadgen_id, {"full_name": f"Ada {i}", "email": f"ada{i}@example.com",
                                        "phone_number": "+14155550100", "company_name": "Engines"},
                           campaign_id="C1", campaign_name="Spring")
            body = delivery({"leadgen_id": leadgen_id, "ad_id": "A1", "form_id": "F1"})
            header = sign(body=body, app_secret=secret)
            start = time.perf_counter()
            if i >= 20:
                sent_at[leadgen_id] = start
            response = client.post("/hooks/facebook", body, content_type="application/json",
                                   HTTP_X_HUB_SIGNATURE_256=header)
            took = time.perf_counter() - start
            assert response.status_code == 200, response.content
            start = time.perf_counter()
            response = client.post("/api/v1/leads", {"email": f"form{i}@example.com", "first_name": "Form"},
                                   content_type="application/json", HTTP_X_FORM_KEY=website.form_key)
            form_took = time.perf_counter() - start
            assert response.status_code == 201, response.content
            if i >= 20:
                hook_ms.append(took * 1000)
                form_ms.append(form_took * 1000)
            time.sleep(max(0.0, gap - took - form_took))
        deadline = time.perf_counter() + 60
        while len(visible_at) < len(sent_at) and time.perf_counter() < deadline:
            time.sleep(0.05)
        stop.set()
        thread.join(timeout=10)

    lag = [(visible_at[k] - sent_at[k]) * 1000 for k in sent_at if k in visible_at]
    print(f"leads: {args.leads} webhooks at {args.rate}/s, {len(lag)} visible, {Lead.objects.count()} leads in all")
    print(f"webhook endpoint  p50 {statistics.median(hook_ms):6.1f} ms  p99 {pct(hook_ms, 99):6.1f} ms")
    print(f"form capture      p50 {statistics.median(form_ms):6.1f} ms  p99 {pct(form_ms, 99):6.1f} ms (baseline)")
    print(f"ratio webhook/form p50 {statistics.median(hook_ms) / statistics.median(form_ms):.2f}  "
          f"p99 {pct(hook_ms, 99) / pct(form_ms, 99):.2f}")
    if lag:
        print(f"webhook to lead visible  p50 {statistics.median(lag):6.1f} ms  p95 {pct(lag, 95):6.1f} ms  "
              f"max {max(lag):6.1f} ms")


if __name__ == "__main__":
    main()
