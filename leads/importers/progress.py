"""Progress of an import for a person watching: a rich bar with rows/s on a terminal, plain lines otherwise."""

from __future__ import annotations

import time
from contextlib import contextmanager

from ..models import ImportJob

PLAIN_EVERY_SECONDS = 5.0


class PlainProgress:
    """A line every few seconds (logs and CI keep them; a bar would be one garbled line)."""

    def __init__(self, write):
        self.write = write
        self.started = time.monotonic()
        self.last = 0.0
        self.shown = None

    def __call__(self, job: ImportJob, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < PLAIN_EVERY_SECONDS and done < total:
            return
        if (done, job.rows_read) == self.shown:
            return  # the end of the last batch and the end of the file are one line
        self.last, self.shown = now, (done, job.rows_read)
        seconds = max(now - self.started, 1e-6)
        share = f"{done * 100 // total}%" if total else "-"
        self.write(
            f"{share} of the file, {job.rows_read:,} rows ({job.rows_read / seconds:,.0f} rows/s): "
            f"{job.created:,} created, {job.updated:,} updated, {job.skipped:,} skipped, {job.rejected:,} rejected"
        )


@contextmanager
def progress_bar(stream, *, description: str):
    """Yields a progress callback drawing a rich bar over the file's bytes, with rows/s."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

    started = time.monotonic()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rows]:,} rows, {task.fields[rate]:,.0f} rows/s"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(file=stream)) as bar:
        task = bar.add_task(description, total=None, rows=0, rate=0.0)

        def progress(job: ImportJob, done: int, total: int) -> None:
            rate = job.rows_read / max(time.monotonic() - started, 1e-6)
            bar.update(task, completed=done, total=total, rows=job.rows_read, rate=rate)

        yield progress
