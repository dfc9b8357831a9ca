"""`manage.py privacy_export --tenant SLUG --email E [--out FILE.json]`: a person's data (docs/privacy.md)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from crm.models import Tenant
from leads.privacy.export import privacy_export


def workspace_of(slug: str) -> Tenant:
    workspace = Tenant.objects.filter(slug=slug).first()
    if workspace is None:
        raise CommandError(f"No workspace with slug '{slug}'.")
    return workspace


class Command(BaseCommand):
    help = "Everything a workspace holds about a person (GDPR access and portability): JSON and a readable summary."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, metavar="SLUG")
        parser.add_argument("--email", required=True)
        parser.add_argument("--out", metavar="FILE", help="Write the JSON here (default: print it after the summary).")

    def handle(self, *args, tenant, email, out, **options):
        try:
            result = privacy_export(tenant=workspace_of(tenant), email=email, actor=None, door="command")
        except ValidationError as exc:
            raise CommandError(f"--email: {' '.join(exc.messages)}") from exc
        self.stdout.write(result.summary)
        if out:
            with open(out, "w", encoding="utf-8") as handle:
                handle.write(result.json)
            self.stdout.write(self.style.SUCCESS(f"JSON written to {out}."))
        else:
            self.stdout.write(result.json)
