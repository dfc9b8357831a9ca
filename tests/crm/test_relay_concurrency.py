"""Several relays on PostgreSQL share the backlog (SKIP LOCKED) without reordering a lead's events."""

import threading

import pytest
from django.db import connections, transaction

from crm.choices import EventType
from crm.models import Event
from crm.relay import relay_pending
from tests.crm.events_support import EventQueue

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_relay_skips_events_another_relay_holds_and_never_overtakes_that_leads_older_event(tenant, settings, monkeypatch):
    settings.EVENTS_BROKER_URL = "memory://"
    monkeypatch.setattr("crm.outbox._kick_relay", lambda: None)  # only the relays this test runs
    queue = EventQueue("memory://")
    older_a = Event.objects.create(tenant=tenant, type=EventType.LEAD_CREATED, payload={"lead_id": 1})
    Event.objects.create(tenant=tenant, type=EventType.LEAD_CREATED, payload={"lead_id": 2})
    newer_a = Event.objects.create(tenant=tenant, type=EventType.LEAD_STATUS_CHANGED,
                                   payload={"lead_id": 1, "from": "new", "to": "contacted"})
    locked, release = threading.Event(), threading.Event()

    def other_relay_holding_the_older_event():
        try:
            with transaction.atomic():
                Event.objects.select_for_update().get(pk=older_a.pk)
                locked.set()
                release.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=other_relay_holding_the_older_event)
    holder.start()
    try:
        assert locked.wait(30)
        assert relay_pending() == 1
        assert [body["lead_id"] for _, body in queue.drain()] == [2], "lead 1 waits for its older event"
        assert set(Event.objects.filter(delivered_at__isnull=True).values_list("pk", flat=True)) == {older_a.pk, newer_a.pk}
    finally:
        release.set()
        holder.join()

    relay_pending()
    assert [(key, body["lead_id"]) for key, body in queue.drain()] == [("lead.created", 1), ("lead.status_changed", 1)]
    queue.close()
