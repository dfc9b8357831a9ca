"""Write behind: a thread that writes and commits an import's batches, one at a time, in their order,
while the run's thread decides, scores and routes the next one.

Without it, PostgreSQL waits while Python decides a batch, and Python waits while PostgreSQL copies
and commits it. The thread has its own database connection (Django's are per thread), opened with its
first batch and closed when it ends. The run hands over a batch only after the one before is
committed (wait(), then submit()), so at most one is in flight, and it prepares the next knowing that
one is not visible yet (leads/importers/engine.py, _InFlight). An error in the thread ends it: wait()
raises it in the run's thread, and close() still waits for a batch being committed.
"""

from __future__ import annotations

import queue as queues
import threading
from collections.abc import Callable
from typing import Any

from django.db import connection

STOP = object()


class WriteBehind:
    def __init__(self, write: Callable[[Any], None]):
        self.write = write
        self.todo: queues.Queue = queues.Queue(maxsize=1)
        self.done: queues.Queue = queues.Queue()
        self.in_flight: Any = None
        self.thread = threading.Thread(target=self._work, daemon=True, name="import-write-behind")
        self.thread.start()

    def submit(self, batch: Any) -> None:
        assert self.in_flight is None, "wait() for the batch in flight first"
        self.in_flight = batch
        self.todo.put(batch)

    def wait(self) -> Any:
        """The batch in flight once written and committed (None: there was none); its error, raised here."""
        if self.in_flight is None:
            return None
        batch, error = self.done.get()
        self.in_flight = None
        if error is not None:
            raise error
        return batch

    def close(self) -> None:
        self.todo.put(STOP)
        self.thread.join()

    def _work(self) -> None:
        try:
            while (batch := self.todo.get()) is not STOP:
                try:
                    self.write(batch)
                except BaseException as error:  # noqa: BLE001 - the run's thread raises it
                    self.done.put((batch, error))
                    return
                self.done.put((batch, None))
        finally:
            connection.close()
