from django.conf import settings
from django.core.management.base import BaseCommand

from leads.importers.retention import purge_abandoned_uploads, purge_old_error_reports


class Command(BaseCommand):
    help = (
        "Remove uploaded import files nobody imported (older than IMPORT_UPLOAD_TTL_HOURS) and clear import "
        "error reports older than IMPORT_REPORT_DAYS (they hold rejected rows as they came). Beat runs this daily."
    )

    def handle(self, *args, **options):
        files = purge_abandoned_uploads()
        reports = purge_old_error_reports()
        self.stdout.write(
            f"Removed {files} abandoned upload(s) older than {settings.IMPORT_UPLOAD_TTL_HOURS} hours; "
            f"cleared {reports} error report(s) older than {settings.IMPORT_REPORT_DAYS} days."
        )
