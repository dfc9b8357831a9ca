"""`manage.py privacy_erase --tenant SLUG --email E --yes`: erase a person (docs/privacy.md)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from leads.privacy.erase import privacy_erase

from .privacy_export import workspace_of


class Command(BaseCommand):
    help = "Remove or anonymise a person everywhere in a workspace (GDPR erasure); cannot be undone."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, metavar="SLUG")
        parser.add_argument("--email", required=True)
        parser.add_argument("--yes", action="store_true", help="Confirm: the erasure cannot be undone.")

    def handle(self, *args, tenant, email, yes, **options):
        workspace = workspace_of(tenant)
        if not yes:
            raise CommandError("Erasure cannot be undone: run again with --yes to confirm.")
        try:
            erasure = privacy_erase(tenant=workspace, email=email, actor=None, door="command")
        except ValidationError as exc:
            raise CommandError(f"--email: {' '.join(exc.messages)}") from exc
        if not erasure.found:
            self.stdout.write(self.style.WARNING(
                f"No lead or contact of {workspace.slug} has this email; it is suppressed, so imports skip it."
            ))
            return
        changed = ", ".join(f"{count} {name}" for name, count in sorted(erasure.counts.items()))
        self.stdout.write(self.style.SUCCESS(f"Erased. Rows changed: {changed}."))
