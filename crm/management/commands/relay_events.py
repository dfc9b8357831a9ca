import time

from django.core.management.base import BaseCommand, CommandError

from crm.broker import BrokerError
from crm.relay import relay_pending


class Command(BaseCommand):
    help = (
        "Deliver undelivered outbox events to the broker (EVENTS_BROKER_URL) and webhook endpoints, oldest first. "
        "Once by default; --loop keeps polling (a relay without Celery)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="keep relaying until interrupted")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls with --loop")
        parser.add_argument("--batch-size", type=int, default=None, help="events per batch (EVENTS_RELAY_BATCH)")

    def handle(self, *args, loop, interval, batch_size, **options):
        while True:
            try:
                sent = relay_pending(batch_size=batch_size)
            except BrokerError as exc:
                if not loop:
                    raise CommandError(f"{exc}. The events stay undelivered; run again once the broker is up.") from exc
                self.stderr.write(f"{exc}; retrying in {interval} s")
                sent = 0
            if sent or not loop:
                self.stdout.write(f"Delivered {sent} event(s).")
            if not loop:
                return
            if not sent:
                time.sleep(interval)
