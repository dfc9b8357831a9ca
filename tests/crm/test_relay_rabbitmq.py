"""The relay against a real RabbitMQ (marked `rabbitmq`: skipped without one, required in CI)."""

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from kombu import Connection

from crm.broker import BrokerError, EventPublisher
from crm.celery import app as celery_app
from crm.models import Event
from crm.outbox import event_id
from crm.relay import backlog, relay_pending
from leads.conversion import convert_lead
from leads.lifecycle import change_status
from leads.models import Lead
from tests.api_ids import api_id
from tests.crm.events_support import RABBITMQ_URL, EventQueue
from tests.factories import LeadFactory

pytestmark = pytest.mark.rabbitmq

CLOSED_PORT = "amqp://guest:guest@127.0.0.1:1//"


@pytest.fixture
def rabbit_queue(settings):
    settings.EVENTS_BROKER_URL = RABBITMQ_URL
    queue = EventQueue(RABBITMQ_URL, pattern="lead.*")
    yield queue
    queue.close()


def ours(messages, events):
    """Only the messages of these events: other test runs may share this RabbitMQ and its exchange."""
    wanted = {event_id(event) for event in events}
    return [m for m in messages if m.properties.get("message_id") in wanted]


def test_events_reach_a_bound_queue_with_their_routing_keys_persistent_and_in_order(tenant, manager, rabbit_queue):
    lead = LeadFactory(tenant=tenant, email="ada@example.com", source="api")
    change_status(lead=lead, status="contacted", actor=manager)
    result = convert_lead(lead=lead, actor=manager)
    events = list(Event.objects.filter(payload__lead_id=api_id(lead)))

    assert relay_pending() == len(events)
    messages = ours(rabbit_queue.messages(), events)
    assert [m.delivery_info["routing_key"] for m in messages] == ["lead.status_changed", "lead.converted"]
    assert all(m.properties["delivery_mode"] == 2 for m in messages), "persistent: survives a broker restart"
    changed, converted = (json.loads(m.body) for m in messages)
    assert changed["event_type"] == "lead.status_changed"
    assert (changed["old_status"], changed["new_status"], changed["email"], changed["source"]) == (
        "new", "contacted", "ada@example.com", "api")
    assert (converted["contact_id"], converted["deal_id"]) == (result.public_ids["contact_id"], result.public_ids["deal_id"])
    assert converted["tenant"] == tenant.slug


def test_broker_down_then_back_every_waiting_event_goes_out(tenant, manager, settings, rabbit_queue):
    leads = LeadFactory.create_batch(4, tenant=tenant)
    for lead in leads:
        change_status(lead=lead, status="contacted", actor=manager)
    events = list(Event.objects.all())
    settings.EVENTS_BROKER_URL = CLOSED_PORT
    for _ in range(3):  # beat keeps trying while the broker is away
        with pytest.raises(BrokerError):
            relay_pending()
    assert backlog().undelivered == 4

    settings.EVENTS_BROKER_URL = RABBITMQ_URL
    relay_pending()
    assert backlog().undelivered == 0
    received = ours(rabbit_queue.messages(), events)
    assert sorted(m.properties["message_id"] for m in received) == sorted(event_id(e) for e in events)


class DiesMidBatch(EventPublisher):
    def publish_batch(self, messages):
        super().publish_batch(messages[:3])
        raise SystemExit("worker killed")


def test_a_relay_killed_mid_batch_loses_nothing(tenant, manager, rabbit_queue):
    for lead in LeadFactory.create_batch(6, tenant=tenant):
        change_status(lead=lead, status="contacted", actor=manager)
    events = list(Event.objects.all())
    with pytest.raises(SystemExit):
        relay_pending(publisher=DiesMidBatch())
    relay_pending()
    received = ours(rabbit_queue.messages(), events)
    assert {m.properties["message_id"] for m in received} == {event_id(e) for e in events}
    assert len(received) == 9  # the three published before the kill went out again


def _test_database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def _forget_broker_connections() -> None:
    # The app caches its connection and producer pools whatever the broker URL; a changed URL needs new
    # ones. (Not closed: kombu keeps pools per URL, and the next test on that URL reuses them.)
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def real_worker(settings, tmp_path):
    """A `celery -A crm worker` process on RabbitMQ and the test database, on a queue of its own."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    settings.EVENTS_BROKER_URL = RABBITMQ_URL
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "CELERY_BROKER_URL": RABBITMQ_URL,
           "EVENTS_BROKER_URL": RABBITMQ_URL}
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "crm", "worker", "-Q", queue, "--pool", "solo", "-n", f"{queue}@%h",
         "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
        cwd=Path(django_settings.BASE_DIR), env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager", "task_default_queue")}
    celery_app.conf.update(broker_url=RABBITMQ_URL, task_always_eager=False, task_default_queue=queue)
    _forget_broker_connections()
    try:
        yield worker
    finally:
        celery_app.conf.update(saved)
        _forget_broker_connections()
        worker.terminate()
        worker.wait(timeout=30)
        with Connection(RABBITMQ_URL) as conn:  # the worker's task queue is durable: remove it
            conn.default_channel.queue_delete(queue)
        log.close()
        print((tmp_path / "worker.log").read_text()[-3000:])


@pytest.mark.django_db(transaction=True)
def test_a_lead_posted_to_the_api_reaches_rabbitmq_through_a_real_worker(real_worker, rabbit_queue, anon_api, channel):
    response = anon_api.post("/api/v1/leads", {"email": "worker@example.com"}, format="json",
                             HTTP_X_FORM_KEY=channel.form_key)
    assert response.status_code == 201, response.content
    events = list(Event.objects.filter(payload__lead_id=api_id(Lead.objects.get(email="worker@example.com"))))
    received = []
    deadline = time.monotonic() + 60  # a generous wait for the worker to start, not a latency check
    while time.monotonic() < deadline and len(received) < len(events):
        received += ours(rabbit_queue.messages(), events)
        time.sleep(0.2)
    assert real_worker.poll() is None, "the worker died"
    assert [m.delivery_info["routing_key"] for m in received][:1] == ["lead.created"]
    assert len(received) == len(events)
    assert backlog().undelivered == 0


@pytest.mark.django_db(transaction=True)
def test_deep_health_reports_a_running_worker(real_worker, client):
    deadline = time.monotonic() + 60  # the worker takes a few seconds to start
    while time.monotonic() < deadline:
        response = client.get("/health?deep=1")
        if response.status_code == 200:
            break
        time.sleep(0.5)
    assert response.status_code == 200, response.json()
    assert response.json()["broker"] == "ok" and response.json()["worker"].startswith("ok: ")
