from django.core.management.base import BaseCommand, CommandError

from leads import dashboard_rollup


class Command(BaseCommand):
    help = (
        "Store the dashboard's figures of every lead changed since the last refresh (beat does this every "
        "DASHBOARD_REFRESH_SECONDS). With --rebuild, recompute all of them from the leads in one transaction: after "
        "a restore, or if the stored figures are ever in doubt. The dashboard stays exact meanwhile."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="recompute every stored figure from the leads")

    def handle(self, *args, rebuild=False, **options):
        try:
            if rebuild:
                leads = dashboard_rollup.rebuild(progress=lambda message: self.stdout.write(message))
                self.stdout.write(f"Rebuilt the dashboard's figures of {leads:,} lead(s).")
                return
            leads = dashboard_rollup.refresh_stale(
                progress=lambda done: self.stdout.write(f"{done:,} lead(s) refreshed"), busy_ok=False,
            )
        except dashboard_rollup.RefreshRunning as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Refreshed the dashboard's figures of {leads:,} changed lead(s).")
