"""Helpers for event tests: a queue bound to crm.events on whichever broker a test relays to."""

import json
import os
import uuid

from django.conf import settings
from kombu import Connection, Exchange, Queue

RABBITMQ_URL = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")


def rabbitmq_reachable() -> bool:
    try:
        with Connection(RABBITMQ_URL, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception:
        return False
    return True


class EventQueue:
    """A queue bound to the crm.events exchange for `pattern`; `drain()` returns (routing key, body) pairs."""

    def __init__(self, url: str, pattern: str = "#") -> None:
        self.url = url
        self.connection = Connection(url, connect_timeout=2)
        exchange = Exchange(settings.EVENTS_EXCHANGE, type="topic", durable=True)
        # Exclusive: RabbitMQ drops it with this connection, so a crashed test leaves nothing bound.
        self.queue = Queue(f"test-events-{uuid.uuid4().hex[:8]}", exchange, routing_key=pattern, exclusive=True)
        self.queue(self.connection.default_channel).declare()

    def drain(self) -> list[tuple[str, dict]]:
        return [(message.delivery_info["routing_key"], json.loads(message.body)) for message in self.messages()]

    def messages(self) -> list:
        received = []
        bound = self.queue(self.connection.default_channel)
        while (message := bound.get(no_ack=True)) is not None:
            received.append(message)
        return received

    def close(self) -> None:
        try:
            self.queue(self.connection.default_channel).delete()
        finally:
            self.connection.release()
