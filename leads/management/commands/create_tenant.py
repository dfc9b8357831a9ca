import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from leads.workspaces import TenantSetupError, create_tenant


class Command(BaseCommand):
    help = "Create a workspace: tenant, its admin user, a website form channel and the admin's API token."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="Short unique name, e.g. acme-sales (lowercase letters, digits, hyphens).")
        parser.add_argument("--name", default="", help="Display name; defaults to the slug in title case.")
        parser.add_argument("--admin-username", required=True)
        parser.add_argument("--admin-password", required=True, help="Must pass the configured password validators.")
        parser.add_argument("--admin-email", default="")
        parser.add_argument(
            "--url-base", default="http://127.0.0.1:8000", help="Where the site runs, for the admin link."
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of text.")

    def handle(self, *args, **options):
        try:
            setup = create_tenant(
                slug=options["slug"],
                name=options["name"],
                admin_username=options["admin_username"],
                admin_password=options["admin_password"],
                admin_email=options["admin_email"],
            )
        except TenantSetupError as exc:
            raise CommandError(str(exc)) from exc

        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "tenant": setup.tenant.slug,
                        "tenant_id": setup.tenant.pk,
                        "admin_username": setup.admin.username,
                        "form_key": setup.form_key,
                        "api_token": setup.api_token,
                    }
                )
            )
            return
        admin_url = f"{options['url_base'].rstrip('/')}/admin/"
        self.stdout.write(self.style.SUCCESS(f"Created tenant '{setup.tenant.slug}' ({setup.tenant.name})."))
        self.stdout.write(f"Admin login:      {setup.admin.username} (the password you gave) at {admin_url}")
        self.stdout.write(f"Website form key: {setup.form_key}  (send as X-Form-Key to POST /api/v1/leads)")
        self.stdout.write(f"API token:        {setup.api_token}  (send as Authorization: Bearer <token>)")
        self.stdout.write(
            f"                  shown only now (the database keeps its hash); it expires in {settings.API_TOKEN_DAYS} days"
        )
