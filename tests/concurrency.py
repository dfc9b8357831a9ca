"""Starting database work in several threads at the same instant (each thread has its own connection)."""

import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connections


def run_together(worker, n: int = 20) -> list:
    """Run worker(0..n-1) in n threads released together; return what each returned (or raised)."""
    barrier = threading.Barrier(n)

    def call(i):
        barrier.wait()
        try:
            return worker(i)
        except Exception as exc:  # returned, so the test's assertions show it
            return exc
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(call, range(n)))
