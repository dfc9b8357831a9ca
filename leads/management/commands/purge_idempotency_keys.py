from django.core.management.base import BaseCommand

from leads.capture import ratelimit
from leads.capture.idempotency import purge_expired


class Command(BaseCommand):
    help = (
        "Delete Idempotency-Key records older than their 24-hour life and the form rate-limit counts of "
        "past hours (beat runs this daily; by hand when needed)."
    )

    def handle(self, *args, **options):
        deleted = purge_expired()
        self.stdout.write(f"Deleted {deleted} expired idempotency key(s).")
        counts = ratelimit.purge_expired()
        self.stdout.write(f"Deleted {counts} rate-limit count(s) of past hours.")
