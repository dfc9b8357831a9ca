
from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date

from crm.models import Tenant
from leads.choices import LeadSource, LeadStatus
from leads.exporting import write_leads_csv
from leads.models import Lead


class Command(BaseCommand):
    help = (
        "Export a workspace's leads as CSV that spreadsheets open safely (formula-like cells escaped) "
        "and import_leads reads back unchanged. FILE '-' writes to standard output."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Where to write the CSV ('-' for standard output).")
        parser.add_argument("--tenant", metavar="SLUG", required=True, help="The workspace to export.")
        parser.add_argument("--status", action="append", choices=LeadStatus.values, help="Only these statuses (repeatable).")
        parser.add_argument("--source", action="append", choices=LeadSource.values, help="Only these sources (repeatable).")
        parser.add_argument("--owner", metavar="EMAIL_OR_USERNAME", help="Only leads this user owns.")
        parser.add_argument("--created-from", metavar="YYYY-MM-DD", help="Only leads created on or after this day.")
        parser.add_argument("--created-to", metavar="YYYY-MM-DD", help="Only leads created on or before this day.")

    def handle(self, *args, file, tenant, **options):
        workspace = Tenant.objects.filter(slug=tenant).first()
        if workspace is None:
            known = ", ".join(Tenant.objects.order_by("slug").values_list("slug", flat=True)[:20]) or "none yet"
            raise CommandError(f"No workspace with slug '{tenant}'; known slugs: {known}.")
        leads = Lead.objects.for_tenant(workspace)
        if options["status"]:
            leads = leads.filter(status__in=options["status"])
        if options["source"]:
            leads = leads.filter(source__in=options["source"])
        if options["owner"]:
            who = options["owner"]
            users = workspace.users.filter(username=who) | workspace.users.filter(email__iexact=who)
            if not users.exists():
                raise CommandError(f"No user '{who}' in {workspace.slug}: give a member's username or email.")
            leads = leads.filter(owner__in=users)
        for option, lookup in (("created_from", "created_at__date__gte"), ("created_to", "created_at__date__lte")):
            if options[option]:
                day = parse_date(options[option])
                if day is None:
                    raise CommandError(f"--{option.replace('_', '-')} takes a date as YYYY-MM-DD.")
                leads = leads.filter(**{lookup: day})
        if file == "-":
            # OutputWrapper._out, the stream it wraps, is private: the stubs omit it.
            write_leads_csv(queryset=leads, out=self.stdout._out, tenant=workspace, description="command export_leads")  # type: ignore[arg-type]
            return
        with open(file, "w", encoding="utf-8", newline="") as out:
            count = write_leads_csv(queryset=leads, out=out, tenant=workspace, description="command export_leads")
        self.stdout.write(self.style.SUCCESS(f"Exported {count:,} lead{'s' if count != 1 else ''} to {file}."))
