import json

from django.core.management.base import BaseCommand, CommandError

from demo.data import build_demo
from leads.workspaces import TenantSetupError


class Command(BaseCommand):
    help = "Build a demo workspace (Demo Sales, plus Globex Sales) and print how to sign in. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--url-base", default="http://127.0.0.1:8000", help="Where the site runs, for the printed links."
        )

    def handle(self, *args, **options):
        try:
            demo = build_demo()
        except TenantSetupError as exc:
            raise CommandError(str(exc)) from exc

        base = options["url_base"].rstrip("/")
        counts = ", ".join(f"{n} {what}" for what, n in demo.counts.items())
        if demo.created:
            self.stdout.write(self.style.SUCCESS(f"Created demo workspace '{demo.tenant.name}': {counts}."))
        else:
            self.stdout.write(
                f"Demo workspace '{demo.tenant.name}' already exists ({counts}); nothing changed "
                "but the API token: here is a new one, the one printed before is revoked."
            )
        self.stdout.write("")
        self.stdout.write(f"Admin: {base}/admin/")
        width = max(len(login.username) for login in demo.logins)
        for login in demo.logins:
            self.stdout.write(f"  {login.username:<{width}}  {login.password:<18}  {login.role}, {login.tenant}")
        self.stdout.write("")
        self.stdout.write(f"Website form key: {demo.form_key}")
        self.stdout.write(f"API token:        {demo.api_token}")
        self.stdout.write("")
        self.stdout.write("Try the API:")
        body = json.dumps({"name": "Ada Lovelace", "email": "ada@analytical-engines.example"})
        self.stdout.write(
            f"  curl -X POST {base}/api/v1/leads -H 'X-Form-Key: {demo.form_key}' "
            f"-H 'Content-Type: application/json' -d '{body}'"
        )
        self.stdout.write(f"  curl {base}/api/v1/leads -H 'Authorization: Bearer {demo.api_token}'")
