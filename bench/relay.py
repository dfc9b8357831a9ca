"""How fast does the outbox relay drain a backlog to RabbitMQ, and how soon after a commit does an event leave?

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_relay_bench \\
    CELERY_BROKER_URL=amqp://guest:guest@127.0.0.1:5672// .venv/bin/python bench/relay.py
    ... bench/relay.py --events 20000 --latency-events 500      # a quicker run
    ... bench/relay.py --batch 500                              # EVENTS_RELAY_BATCH's default
    ... bench/relay.py --events 0 --webhook-events 2000          # only the webhook section, quickly

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

4. webhook delivery (`--webhook-events`, 0 skips it): a receiver on 127.0.0.1 (a separate process,
   threaded http.server: answers 200 at once, counts distinct webhook-ids, verifies a sample of the
   Standard Webhooks signatures) and one endpoint for a second workspace, which gets that many
   events. First the baseline: a bare loop of the same signed POSTs (same bodies, headers,
   `crm.webhooks.sign`, `requests.post` as `deliver()` makes them), split over --webhook-workers
   processes; then the same with a keep-alive session, for reference. Then the backlog drains as in
   production: a real `celery -A crm worker` (--webhook-workers prefork processes) on RabbitMQ runs the
   relay task (kicked once, then every second as beat does), which publishes to crm.events and
   records the deliveries, and one `deliver_webhook` task per delivery; beat's 2 s sweep
   (`dispatch_due_webhooks`) is sent too (--no-sweep leaves it out). Timed until every delivery is
   marked succeeded.

It prints events/s for each, the relay's share of the bare loop, and latency p50/p99/max.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.databases import fresh_postgres  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crm_relay_bench"
BROKER = os.environ.setdefault("CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
os.environ.setdefault("EVENTS_BROKER_URL", BROKER)
os.environ["WEBHOOK_ALLOW_PRIVATE"] = "1"  # the webhook receiver listens on 127.0.0.1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--confirm-sample", type=int, default=10_000,
                        help="messages for the confirm-per-message loop (it is slow)")
    parser.add_argument("--latency-events", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=100.0, help="commits per second during the latency run")
    parser.add_argument("--webhook-events", type=int, default=20_000,
                        help="events for the webhook section (0 skips it); --events 0 runs only that section")
    parser.add_argument("--webhook-workers", type=int, default=os.cpu_count() or 1,
                        help="worker processes (the Procfile's worker: one per core)")
    parser.add_argument("--verify-every", type=int, default=100, help="the receiver verifies every n-th signature")
    parser.add_argument("--no-sweep", action="store_true",
                        help="leave out beat's dispatch_due_webhooks sweep (every 2 s) during the webhook drain")
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
    if args.events:  # 0: only the webhook section
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

    if args.webhook_events:
        measure_webhooks(args)


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


# --- Webhooks ------------------------------------------------------------------------------------


class ReceiverServer(ThreadingHTTPServer):
    """A webhook receiver on 127.0.0.1: answers 200 at once, counts, verifies a sample of signatures."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Receiver)
        self.lock = threading.Lock()
        self.secret, self.verify_every = "", 100
        self.reset()

    def reset(self) -> None:
        self.stats = {"requests": 0, "verified": 0, "bad_signatures": 0}
        self.ids: set[str] = set()


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps a connection open for a client that reuses it
    server: ReceiverServer

    def do_POST(self) -> None:
        from standardwebhooks.webhooks import Webhook

        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        server = self.server
        with server.lock:
            server.stats["requests"] += 1
            sample = server.stats["requests"] % server.verify_every == 0
            server.ids.add(self.headers.get("webhook-id", ""))
        if sample:
            try:
                Webhook(server.secret).verify(body, dict(self.headers.items()))
                outcome = "verified"
            except Exception:
                outcome = "bad_signatures"
            with server.lock:
                server.stats[outcome] += 1
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def do_GET(self) -> None:  # /stats, /reset
        server = self.server
        with server.lock:
            if self.path == "/reset":
                server.reset()
            body = json.dumps({**server.stats, "distinct": len(server.ids)}).encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def serve(pipe, verify_every: int) -> None:
    """The receiver process: tells its port, learns the endpoint's secret, serves until terminated."""
    server = ReceiverServer()
    pipe.send(server.server_port)
    server.secret, server.verify_every = pipe.recv(), verify_every
    server.serve_forever()


def post_loop(url: str, secret: str, payloads, keep_alive: bool, ready, go, results) -> None:
    """The bare baseline: signed POSTs as deliver() makes them (same headers, signing and client), no task, no rows."""
    import django

    django.setup()
    import requests
    from django.utils import timezone

    from crm.models import WebhookEndpoint
    from crm.webhooks import sign

    endpoint = WebhookEndpoint(url=url, secret=secret)
    client = requests.Session() if keep_alive else requests
    failed = 0
    ready.put(True)
    go.wait()
    for message_id, payload in payloads:
        headers = {"content-type": "application/json", "user-agent": "lead-crm-webhooks/1",
                   **sign(endpoint, message_id=message_id, payload=payload, at=timezone.now())}
        response = client.post(endpoint.url, data=payload.encode(), headers=headers, timeout=5, allow_redirects=False)
        failed += response.status_code != 200
    results.put(failed)


def measure_webhooks(args) -> None:
    """Drain a backlog to one webhook endpoint as production does, beside a bare loop of signed POSTs.

    Production: the relay task (`crm.tasks.relay_events`, kicked once by the commit that wrote the
    backlog, then every EVENTS_RELAY_POLL_SECONDS by beat) publishes each batch to crm.events and
    records one delivery per event; each committed batch queues one `crm.tasks.deliver_webhook` task
    per delivery; beat's `dispatch_due_webhooks` sweep runs every 2 s. Here a real `celery -A crm
    worker` (--webhook-workers prefork processes) on RabbitMQ runs all of those tasks, and a thread of
    this process sends the two periodic tasks on beat's schedule (with beat's expires=30).
    """
    import requests
    from django.conf import settings
    from django.db.models import Avg
    from django.utils import timezone
    from kombu import Connection, Exchange, Queue

    from crm.celery import app
    from crm.models import Event, Tenant, WebhookDelivery
    from crm.outbox import event_id, event_message
    from crm.webhook_models import DeliveryStatus
    from crm.webhooks import endpoint_create

    count, workers = args.webhook_events, args.webhook_workers
    # Spawned, not forked: a forked child closes the parent's pooled broker connections (kombu's after-fork hook).
    spawn = multiprocessing.get_context("spawn")
    pipe, child_end = spawn.Pipe()
    receiver = spawn.Process(target=serve, args=(child_end, args.verify_every), daemon=True)
    receiver.start()
    base = f"http://127.0.0.1:{pipe.recv()}"
    tenant = Tenant.objects.create(name="Bench webhooks", slug="bench-hooks")
    endpoint = endpoint_create(tenant=tenant, url=f"{base}/hook", description="bench receiver")
    pipe.send(endpoint.secret)
    write_backlog(Event, tenant, count, timezone.now())
    payloads = [(event_id(e), json.dumps(event_message(e, tenant_slug=tenant.slug)))
                for e in Event.objects.filter(tenant=tenant).select_related("tenant").order_by("id")]
    stats = lambda path="/stats": requests.get(base + path, timeout=10).json()  # noqa: E731
    print(f"webhook receiver: {base}/hook (a separate process, threaded http.server), verifies every "
          f"{args.verify_every}th signature; {count:,} events to one endpoint, {workers} worker processes")

    baselines = {}
    for label, keep_alive in (("requests.post, a connection per request, as deliver() posts", False),
                              ("one requests.Session per process, keep-alive", True)):
        stats("/reset")
        ready, go, results = spawn.Queue(), spawn.Event(), spawn.Queue()
        loops = [spawn.Process(target=post_loop, args=(endpoint.url, endpoint.secret, payloads[i::workers], keep_alive, ready, go, results))
                 for i in range(workers)]
        for loop in loops:
            loop.start()
        for _ in loops:
            ready.get()
        started = time.perf_counter()
        go.set()
        failed = sum(results.get() for _ in loops)
        elapsed = time.perf_counter() - started
        for loop in loops:
            loop.join()
        got = stats()
        assert failed == 0 and got["distinct"] == count, (failed, got)
        baselines[label] = count / elapsed
        print(f"bare signed-POST loop, {workers} processes, {label}: {count:,} in {elapsed:.1f} s = "
              f"{baselines[label]:,.0f} events/s (receiver: {got})")
    baseline = baselines["requests.post, a connection per request, as deliver() posts"]

    task_queue = f"bench-hooks-{os.getpid()}"
    node = f"bench-hooks-{uuid.uuid4().hex[:6]}@{socket.gethostname()}"
    code = (f"import sys; sys.path.insert(0, {str(BASE_DIR)!r}); from crm.celery import app; "
            f"app.conf.task_default_queue = {task_queue!r}; "  # the deliveries its relay queues stay in this run
            f"app.worker_main({['worker', '--concurrency', str(workers), '--loglevel', 'WARNING', '-n', node, '-Q', task_queue]!r})")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "LOG_LEVEL": "WARNING"}
    stop = threading.Event()
    with Connection(BROKER) as conn:
        # A consumer's queue bound to crm.events, so the relay's messages are routed and stored as in the
        # broker section (deleted at the end; expires half an hour after its last use if this run dies).
        events_queue = Queue(f"bench-hooks-{uuid.uuid4().hex[:8]}", Exchange("crm.events", type="topic", durable=True),
                             routing_key="lead.#", durable=True, expires=1800)
        events_queue(conn.default_channel).declare()
        worker = subprocess.Popen([sys.executable, "-c", code], cwd=BASE_DIR, env=env)
        try:
            for _ in range(60):  # wait for the worker to answer before timing anything
                if app.control.inspect(destination=[node], timeout=1).ping():
                    break
            stats("/reset")

            def beat() -> None:  # beat's two periodic tasks that matter here, on its schedule
                poll, started_at = settings.EVENTS_RELAY_POLL_SECONDS, time.monotonic()
                next_relay, next_sweep = started_at + poll, started_at + 2.0
                while not stop.wait(0.05):
                    now = time.monotonic()
                    if now >= next_relay:
                        app.send_task("crm.tasks.relay_events", queue=task_queue, expires=30)
                        next_relay += poll
                    if not args.no_sweep and now >= next_sweep:
                        app.send_task("crm.tasks.dispatch_due_webhooks", queue=task_queue, expires=30)
                        next_sweep += 2.0

            started = time.perf_counter()
            app.send_task("crm.tasks.relay_events", queue=task_queue)  # the kick of the commit that wrote them
            ticker = threading.Thread(target=beat, daemon=True)
            ticker.start()
            relayed_at, next_report, deadline = None, started + 10, started + max(300.0, count / 20)
            while time.perf_counter() < deadline:
                time.sleep(0.25)
                now = time.perf_counter()
                if relayed_at is None and not Event.objects.filter(tenant=tenant, delivered_at__isnull=True).exists():
                    relayed_at = now - started
                got = stats()
                if got["distinct"] >= count:
                    break
                if now >= next_report:
                    print(f"  {now - started:5.0f} s: {got['distinct']:,} delivered to the receiver")
                    next_report += 10
            arrived_at = time.perf_counter() - started
            while time.perf_counter() < deadline and WebhookDelivery.objects.filter(
                    endpoint=endpoint, status=DeliveryStatus.SUCCEEDED).count() < count:
                time.sleep(0.1)
            drained = time.perf_counter() - started
            got = stats()
        finally:
            stop.set()
            worker.terminate()
            worker.wait(timeout=60)
            conn.default_channel.queue_delete(task_queue)
            events_queue(conn.default_channel).delete()
            receiver.terminate()
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint)
    outcome = {status: deliveries.filter(status=status).count() for status in DeliveryStatus.values}
    figures = deliveries.aggregate(mean_ms=Avg("duration_ms"), attempts=Avg("attempts"))
    rate = count / drained
    print(f"relay (task on the worker, beat every {settings.EVENTS_RELAY_POLL_SECONDS:g} s"
          f"{'' if args.no_sweep else ', sweep every 2 s'}): all {count:,} events published and their deliveries "
          f"recorded after {relayed_at if relayed_at is None else round(relayed_at, 1)} s")
    print(f"webhook drain: {count:,} events at the receiver after {arrived_at:.1f} s, every delivery marked "
          f"succeeded after {drained:.1f} s = {rate:,.0f} events/s; {rate / baseline:.0%} of the bare loop "
          f"({baseline:,.0f}/s); deliveries {outcome}, mean attempts {figures['attempts']:.2f}, "
          f"mean recorded POST {figures['mean_ms']:.1f} ms")
    print(f"receiver after the drain: {got}")


if __name__ == "__main__":
    main()
