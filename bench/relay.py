"""How fast does the outbox relay drain a backlog to RabbitMQ, and how soon after a commit does an event leave?

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_relay_bench \\
    CELERY_BROKER_URL=amqp://guest:guest@127.0.0.1:5672// .venv/bin/python bench/relay.py
    ... bench/relay.py --events 20000 --latency-events 500      # a quicker run
    ... bench/relay.py --batch 500                              # EVENTS_RELAY_BATCH's default

Builds a fresh PostgreSQL database (dropped and created: the name must contain "bench"), writes
`--events` undelivered LeadStatusChanged events (as lead services write them), binds a durable queue
to `crm.events` (so every message is routed and stored, as a consumer would make it), then measures:

1. a bare kombu publish loop of the same bodies to the same exchange, persistent, with no outbox
   and no confirms (the broker's ceiling on this machine), and the same with kombu's per-message
   publisher confirms (`confirm_publish`);
2. the relay draining the whole backlog (`crm.relay.relay_pending`: lock a batch, build bodies from
   the rows, publish with batched confirms, mark delivered), with `--batch` events per batch;
3. commit-to-arrival latency: a real `celery -A crm worker` (2 processes) on RabbitMQ; this process
   commits `--latency-events` events one transaction each at `--rate` per second (each commit kicks
   the relay task, as captures do) while a consumer on the bound queue notes when each arrives.

It prints events/s for each, the relay's share of the bare loop, and latency p50/p99/max.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.databases import fresh_postgres  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crm_relay_bench"
BROKER = os.environ.setdefault("CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
os.environ.setdefault("EVENTS_BROKER_URL", BROKER)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--confirm-sample", type=int, default=10_000,
                        help="messages for the confirm-per-message loop (it is slow)")
    parser.add_argument("--latency-events", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=100.0, help="commits per second during the latency run")
    args = parser.parse_args()

    database = fresh_postgres(DEFAULT_URL)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.utils import timezone
    from kombu import Connection, Exchange, Producer, Queue

    from crm.models import Event, Tenant
    from crm.outbox import event_message, routing_key
    from crm.relay import relay_pending

    print(f"database: {database}; broker: {Connection(BROKER).as_uri()}; {os.cpu_count()} cores")
    from crm.celery import app

    # The relay kicks this run's commits queue go to this run's worker (below), not to a shared queue.
    app.conf.task_default_queue = f"bench-tasks-{os.getpid()}"
    tenant = Tenant.objects.create(name="Bench", slug="bench")
    write_backlog(Event, tenant, args.events, timezone.now())

    exchange = Exchange("crm.events", type="topic", durable=True)
    queue_name = f"bench-{uuid.uuid4().hex[:8]}"
    with Connection(BROKER) as conn:
        # Expires a minute after its last use, so a crashed run does not leave it collecting events.
        queue = Queue(queue_name, exchange, routing_key="lead.#", durable=True, expires=60)
        queue(conn.default_channel).declare()

        bodies = [(routing_key(e.type), json.dumps(event_message(e, tenant_slug="bench")))
                  for e in Event.objects.order_by("id")[: args.events]]
        results = {}
        for label, options, sample in (
            ("bare kombu publish, no confirms", {}, bodies),
            ("bare kombu publish, confirm per message", {"confirm_publish": True}, bodies[: args.confirm_sample]),
        ):
            with Connection(BROKER, transport_options=options) as bare:
                producer = Producer(bare.channel(), exchange=exchange)
                started = time.perf_counter()
                for key, body in sample:
                    producer.publish(body, routing_key=key, delivery_mode=2, content_type="application/json",
                                     content_encoding="utf-8", retry=False)
                results[label] = len(sample) / (time.perf_counter() - started)
            queue(conn.default_channel).purge()
            print(f"{label}: {len(sample):,} messages, {results[label]:,.0f} events/s")

        started = time.perf_counter()
        sent = relay_pending(batch_size=args.batch)
        elapsed = time.perf_counter() - started
        assert sent == args.events and not Event.objects.filter(delivered_at__isnull=True).exists()
        relay_rate = sent / elapsed
        print(f"relay drain ({args.batch}/batch, confirmed, marked delivered): {sent:,} events in {elapsed:.1f} s = "
              f"{relay_rate:,.0f} events/s; {relay_rate / results['bare kombu publish, no confirms']:.0%} of the bare "
              f"loop, {relay_rate / results['bare kombu publish, confirm per message']:.1f}x confirm-per-message")
        queue(conn.default_channel).purge()

        latencies = measure_latency(Event, tenant, conn, queue, args.latency_events, args.rate)
        queue(conn.default_channel).delete()
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    print(f"commit-to-arrival over {len(latencies)} events at {args.rate:g} commits/s: p50 {p(0.5):.0f} ms, "
          f"p99 {p(0.99):.0f} ms, max {latencies[-1] * 1000:.0f} ms, mean {statistics.mean(latencies) * 1000:.0f} ms")


def write_backlog(Event, tenant, count: int, now) -> None:
    sources = ["website_form", "api", "import", "referral"]
    rows = [
        Event(tenant=tenant, type="LeadStatusChanged", created_at=now, payload={
            "lead_id": 1 + i // 3, "email": f"lead{i // 3}@example.com", "source": sources[i % 4],
            "from": "new", "to": "contacted", "reason": "",
        })
        for i in range(count)
    ]
    started = time.perf_counter()
    Event.objects.bulk_create(rows, batch_size=5000)
    print(f"backlog: {count:,} undelivered events written in {time.perf_counter() - started:.1f} s")


def measure_latency(Event, tenant, conn, queue, count: int, rate: float) -> list[float]:
    from django.db import connection as db
    from django.db import transaction

    from crm.outbox import event_id

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "LOG_LEVEL": "WARNING"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "crm", "worker", "--concurrency", "2", "--loglevel", "WARNING",
         "-n", f"bench-{uuid.uuid4().hex[:6]}@%h", "-Q", f"bench-tasks-{os.getpid()}"],
        cwd=BASE_DIR, env=env,
    )
    from crm.celery import app

    committed: dict[str, float] = {}
    arrived: dict[str, float] = {}
    stop = threading.Event()

    def consume():
        with conn.clone() as consumer_conn:
            bound = queue(consumer_conn.default_channel)
            bound.consume(no_ack=True, callback=lambda m: arrived.setdefault(m.properties["message_id"],
                                                                             time.perf_counter()))
            while not stop.is_set():
                try:
                    consumer_conn.drain_events(timeout=0.2)
                except TimeoutError:
                    pass

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    try:
        for _ in range(60):  # wait for the worker to answer before timing anything
            if app.control.inspect(timeout=1).ping():
                break
        interval = 1.0 / rate
        next_at = time.perf_counter()
        for i in range(count):
            with transaction.atomic():
                event = Event.objects.create(tenant=tenant, type="LeadStatusChanged", payload={
                    "lead_id": 10_000_000 + i, "email": f"live{i}@example.com", "source": "website_form",
                    "from": "new", "to": "contacted"})
            committed[event_id(event)] = time.perf_counter()
            next_at += interval
            time.sleep(max(0.0, next_at - time.perf_counter()))
        deadline = time.perf_counter() + 30
        while len(arrived.keys() & committed.keys()) < count and time.perf_counter() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join()
        worker.terminate()
        worker.wait(timeout=30)
        conn.default_channel.queue_delete(app.conf.task_default_queue)
        db.close()
    missing = count - len(arrived.keys() & committed.keys())
    if missing:
        print(f"WARNING: {missing} events did not arrive within 30 s")
    return [arrived[key] - committed[key] for key in committed if key in arrived]


if __name__ == "__main__":
    main()
