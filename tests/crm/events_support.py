"""Helpers for event tests: a queue bound to crm.events on whichever broker a test relays to."""

import json
import uuid

from django.conf import settings
from kombu import Connection, Exchange, Queue


class EventQueue:
    """A queue bound to the crm.events exchange for `pattern`; `drain()` returns (routing key, body) pairs."""

    def __init__(self, url: str, pattern: str = "#") -> None:
        self.url = url
        self.connection = Connection(url, connect_timeout=2)
        exchange = Exchange(settings.EVENTS_EXCHANGE, type="topic", durable=True)
        self.queue = Queue(f"test-{uuid.uuid4().hex[:8]}", exchange, routing_key=pattern, auto_delete=False)
        self.queue(self.connection.default_channel).declare()

    def drain(self) -> list[tuple[str, dict]]:
        received = []
        bound = self.queue(self.connection.default_channel)
        while (message := bound.get(no_ack=True)) is not None:
            received.append((message.delivery_info["routing_key"], json.loads(message.body)))
        return received

    def close(self) -> None:
        try:
            self.queue(self.connection.default_channel).delete()
        finally:
            self.connection.release()
