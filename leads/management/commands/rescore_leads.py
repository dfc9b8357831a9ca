from django.core.management.base import BaseCommand, CommandError

from crm.models import Tenant
from leads.rules.scoring import DEFAULT_BATCH_SIZE, rescore_leads


class Command(BaseCommand):
    help = (
        "Rescore leads from their workspace's scoring rules, set-based (run it after changing rules). "
        "Batches of leads by id, each in its own transaction; leads reaching the auto-qualify threshold "
        "are qualified as when they are scored one at a time."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", metavar="SLUG", help="Only this workspace (default: every workspace).")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"Leads per transaction (default {DEFAULT_BATCH_SIZE:,}).",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help="Batches rescored at once on PostgreSQL, each on its own connection (default 1; SQLite: always 1).",
        )

    def handle(self, *args, tenant=None, batch_size=DEFAULT_BATCH_SIZE, workers=1, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if workers < 1:
            raise CommandError("--workers must be at least 1.")
        only = None
        if tenant is not None:
            only = Tenant.objects.filter(slug=tenant).first()
            if only is None:
                known = ", ".join(Tenant.objects.order_by("slug").values_list("slug", flat=True)[:20]) or "none yet"
                raise CommandError(f"No workspace with slug '{tenant}'; known slugs: {known}.")

        if self.stdout.isatty():
            summary = self._with_progress_bar(only, batch_size=batch_size, workers=workers)
        else:
            summary = rescore_leads(tenant=only, batch_size=batch_size, workers=workers, progress=self._progress_line)

        for part in summary.tenants:
            self.stdout.write(
                f"{part.tenant.slug}: {_count(part.leads, 'lead')}, {_count(part.rules, 'rule')} "
                f"(version {part.version}), {part.band_changed:,} changed band, {part.qualified:,} auto-qualified"
            )
        rate = f" ({summary.leads / summary.seconds:,.0f} leads/s)" if summary.seconds and summary.leads else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"Rescored {_count(summary.leads, 'lead')} in {summary.seconds:.1f} s{rate}: "
                f"{summary.band_changed:,} changed band, {summary.qualified:,} auto-qualified."
            )
        )

    def _progress_line(self, tenant, done, total):
        if done == 0 and total:
            self.stdout.write(f"{tenant.slug}: rescoring {_count(total, 'lead')}")
        elif total:
            self.stdout.write(f"{tenant.slug}: {done:,}/{total:,} leads ({done * 100 // total}%)")

    def _with_progress_bar(self, only, *, batch_size, workers):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        tasks = {}
        # OutputWrapper._out, the stream it wraps, is private: the stubs omit it.
        console = Console(file=self.stdout._out)  # type: ignore[arg-type]
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=console) as bar:

            def progress(tenant, done, total):
                if tenant.pk not in tasks:
                    tasks[tenant.pk] = bar.add_task(tenant.slug, total=total)
                bar.update(tasks[tenant.pk], completed=done)

            return rescore_leads(tenant=only, batch_size=batch_size, workers=workers, progress=progress)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
