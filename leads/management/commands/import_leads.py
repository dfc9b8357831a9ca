from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from crm.models import Tenant, User
from leads.choices import DuplicatePolicy, LeadSource
from leads.importers import DEFAULT_BATCH_SIZE, ImportFileError, ImportOptions, import_leads, inspect_file
from leads.importers.dates import ORDERS
from leads.importers.mappings import saved_mapping_options
from leads.importers.profiles import PROFILES
from leads.importers.progress import PlainProgress, progress_bar
from leads.models import Channel, ImportMapping


class Command(BaseCommand):
    help = (
        "Import leads from a CSV file into a workspace: headers matched automatically (or --map), rows "
        "validated, normalised and deduplicated as captured leads are, then scored and routed. Each batch "
        "commits on its own; running the same file again resumes or skips what is already there."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV file (UTF-8 with or without BOM, or Windows-1252; , ; tab or |).")
        parser.add_argument("--tenant", metavar="SLUG", required=True, help="The workspace to import into.")
        parser.add_argument("--dry-run", action="store_true", help="Validate and report; write no leads.")
        parser.add_argument("--source", choices=LeadSource.values, default=LeadSource.IMPORT,
                            help="Source for rows without one (default: import).")
        parser.add_argument("--owner", metavar="EMAIL_OR_USERNAME", help="Owner for rows without one (no routing).")
        parser.add_argument("--channel", metavar="NAME", help="Channel for rows without one.")
        parser.add_argument("--campaign", default="", help="Campaign for rows without one.")
        parser.add_argument("--map", dest="mapping", action="append", default=[], metavar='"Column Name=field"',
                            help="Feed a column to a lead field (repeatable); 'custom:<name>' or 'ignore' also work.")
        parser.add_argument("--map-value", dest="value_mapping", action="append", default=[],
                            metavar='"field:Their word=our value"',
                            help="Read a word of a status, lifecycle_stage, source or priority column as one of ours "
                                 "(repeatable), e.g. \"status:Working - Contacted=contacted\".")
        parser.add_argument("--profile", choices=[*PROFILES, "none"], default="",
                            help="Read the file as this CRM's export (default: recognised by its header).")
        parser.add_argument("--mapping", dest="saved_mapping", metavar="NAME",
                            help="Use the workspace's saved mapping NAME (columns, values, profile); --map, "
                                 "--map-value and --profile given too win over it.")
        parser.add_argument("--date-order", choices=list(ORDERS), default="",
                            help="Read d/m dates in this order (default: settled per column from its values).")
        parser.add_argument("--on-duplicate", choices=DuplicatePolicy.values, default=DuplicatePolicy.SKIP,
                            help="A row whose person is already known: skip it, or fill the lead's empty fields.")
        parser.add_argument("--errors", metavar="FILE", help="Write every rejected row (line, column, message) here.")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE,
                            help=f"Rows per transaction (default {DEFAULT_BATCH_SIZE:,}).")

    def handle(self, *args, file, tenant, errors=None, batch_size=DEFAULT_BATCH_SIZE, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No file at {path}: give the path of the CSV to import.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        workspace = Tenant.objects.filter(slug=tenant).first()
        if workspace is None:
            known = ", ".join(Tenant.objects.order_by("slug").values_list("slug", flat=True)[:20]) or "none yet"
            raise CommandError(f"No workspace with slug '{tenant}'; known slugs: {known}.")
        mapping, value_mapping, profile = options["mapping"], options["value_mapping"], options["profile"]
        if options.get("saved_mapping"):
            saved = ImportMapping.objects.filter(tenant=workspace, name=options["saved_mapping"]).first()
            if saved is None:
                names = ", ".join(ImportMapping.objects.filter(tenant=workspace).values_list("name", flat=True))
                raise CommandError(f"No saved mapping '{options['saved_mapping']}' in {workspace.slug}; "
                                   f"its mappings: {names or 'none yet'}.")
            mapping, value_mapping, profile = saved_mapping_options(
                saved, mapping=mapping, value_mapping=value_mapping, profile=profile)
        import_options = ImportOptions(
            dry_run=options["dry_run"],
            source=options["source"],
            owner=self._owner(workspace, options["owner"]),
            channel=self._channel(workspace, options["channel"]),
            campaign=options["campaign"],
            mapping=mapping,
            value_mapping=value_mapping,
            profile=profile,
            date_order=options["date_order"],
            on_duplicate=options["on_duplicate"],
            batch_size=batch_size,
        )
        try:
            _csv_file, plan = inspect_file(path=path, mapping=mapping, value_mapping=value_mapping, profile=profile,
                                           date_order=options["date_order"])
            for note in plan.notes:
                self.stdout.write(note)
            if self.stdout.isatty():
                with progress_bar(self.stdout._out, description=path.name) as progress:
                    job = self._run(workspace, path, import_options, progress)
            else:
                job = self._run(workspace, path, import_options, PlainProgress(self.stdout.write))
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        if errors:
            Path(errors).write_text(job.error_report, encoding="utf-8")
        self._summary(job, errors)

    def _run(self, workspace, path, options, progress):
        return import_leads(tenant=workspace, path=path, options=options, file_name=path.name, progress=progress)

    def _owner(self, workspace, who):
        if not who:
            return None
        users = User.objects.filter(tenant=workspace, is_active=True)
        owner = users.filter(username=who).first() or users.filter(email__iexact=who).first()
        if owner is None:
            raise CommandError(f"No active user '{who}' in {workspace.slug}: give a member's username or email.")
        return owner

    def _channel(self, workspace, name):
        if not name:
            return None
        channel = Channel.objects.filter(tenant=workspace, name__iexact=name).first()
        if channel is None:
            names = ", ".join(Channel.objects.filter(tenant=workspace).values_list("name", flat=True)) or "none"
            raise CommandError(f"No channel '{name}' in {workspace.slug}; its channels: {names}.")
        return channel

    def _summary(self, job, errors):
        seconds = (job.finished_at - job.started_at).total_seconds() if job.finished_at else 0
        rate = f", {job.rows_read / seconds:,.0f} rows/s" if seconds and job.rows_read else ""
        what = "Dry run (nothing written)" if job.dry_run else f"Import {job.pk}"
        self.stdout.write(
            f"{what} of {job.file_name} ({job.encoding}, {_delimiter(job.delimiter)}): "
            f"{job.rows_read:,} rows in {seconds:.1f} s{rate}"
        )
        line = (
            f"created {job.created:,}, updated {job.updated:,}, skipped {job.skipped:,} (already known), "
            f"rejected {job.rejected:,}"
        )
        self.stdout.write(self.style.SUCCESS(line) if not job.rejected else self.style.WARNING(line))
        if job.warned:
            rows = "row" if job.warned == 1 else "rows"
            self.stdout.write(f"{job.warned:,} {rows} imported with a warning (the value kept in custom fields):")
            for group in job.findings.get("warnings", [])[:10]:
                self.stdout.write(f"  {group['count']:,} x {group['column']}: {group['message']}")
        if job.rejected:
            for group in job.findings.get("rejected", [])[:10]:
                self.stdout.write(f"  {group['count']:,} rejected, {group['column']}: {group['message']}")
            where = f"see {errors}" if errors else "rerun with --errors FILE for the list, or see the import in the admin"
            self.stdout.write(f"Rejected rows name their line, column and reason: {where}.")
        if not job.rows_read:
            self.stdout.write("The file has a header but no rows.")


def _delimiter(delimiter):
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(delimiter, delimiter)
