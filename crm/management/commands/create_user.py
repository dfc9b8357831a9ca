import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from crm.choices import Role
from crm.models import Tenant
from crm.users import user_create


class Command(BaseCommand):
    help = (
        "Create a user in a workspace (operators: no role check). The password is read from standard input, "
        "never from the command line, where shells and process lists keep it: "
        "`printf '%s' \"$PASSWORD\" | manage.py create_user --tenant acme --username rita "
        "--email rita@acme.example --role rep --password-from-stdin`."
    )

    stealth_options = ("stdin",)  # tests and callers hand in their own stream (as createsuperuser's)

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, metavar="SLUG", help="The workspace's slug, e.g. acme-sales.")
        parser.add_argument("--username", required=True, help="Unique across the installation; used to sign in.")
        parser.add_argument("--email", required=True, help="Lead notifications go here.")
        parser.add_argument("--role", required=True, choices=Role.values, help="rep, manager or admin.")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument(
            "--capacity", type=int, default=None, help="Most open leads routing gives them; omit for no limit."
        )
        parser.add_argument("--away", action="store_true", help="Create them away: routing gives them no leads yet.")
        password = parser.add_mutually_exclusive_group(required=True)
        password.add_argument(
            "--password-from-stdin", action="store_true",
            help="Read the password from standard input (its first line); it must pass the password rules.",
        )
        password.add_argument(
            "--no-password", action="store_true",
            help="No password sign-in until one is set (manage.py changepassword USERNAME).",
        )

    def handle(self, *args, **options):
        tenant = Tenant.objects.filter(slug=options["tenant"].strip()).first()
        if tenant is None:
            known = ", ".join(Tenant.objects.order_by("slug").values_list("slug", flat=True)[:10]) or "none yet"
            raise CommandError(
                f"No workspace with the slug '{options['tenant']}' (workspaces: {known}); "
                "create one with manage.py create_tenant."
            )
        password = self._password(options) if options["password_from_stdin"] else None
        try:
            user = user_create(
                tenant=tenant,
                actor=None,
                username=options["username"],
                email=options["email"],
                role=options["role"],
                first_name=options["first_name"],
                last_name=options["last_name"],
                password=password,
                is_available=not options["away"],
                lead_capacity=options["capacity"],
            )
        except ValidationError as exc:
            problems = [f"--{field.replace('_', '-')}: {' '.join(messages)}" for field, messages in _fields(exc)]
            raise CommandError("The user was not created.\n" + "\n".join(problems)) from exc
        self.stdout.write(self.style.SUCCESS(
            f"Created {user.get_role_display().lower()} '{user.username}' <{user.email}> in workspace '{tenant.slug}'."
        ))
        if password is None:
            self.stdout.write(f"No password yet: set one with `manage.py changepassword {user.username}`.")

    def _password(self, options) -> str:
        stdin = options.get("stdin") or sys.stdin
        if stdin.isatty():
            raise CommandError("--password-from-stdin reads a pipe or a file, e.g. printf '%s' \"$PASSWORD\" | ...")
        password = stdin.readline().rstrip("\r\n")
        if not password:
            raise CommandError("--password-from-stdin read no password; pipe one in, or use --no-password.")
        return password


def _fields(exc: ValidationError) -> list[tuple[str, list[str]]]:
    names = {"lead_capacity": "capacity"}
    if not hasattr(exc, "error_dict"):
        return [("input", exc.messages)]
    return [(names.get(field, field), exc.message_dict[field]) for field in exc.message_dict]
