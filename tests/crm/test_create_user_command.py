"""manage.py create_user: an operator adds someone to a workspace, the password from standard input only."""

import io

import pytest
from django.core.management import CommandError, call_command

from crm.choices import Role
from crm.models import User

pytestmark = pytest.mark.django_db

STRONG = "a-long-and-unusual-passphrase-42"


def run(*args, stdin: str | None = None) -> str:
    out = io.StringIO()
    options = {"stdout": out}
    if stdin is not None:
        options["stdin"] = io.StringIO(stdin)
    call_command("create_user", *args, **options)
    return out.getvalue()


def test_creates_a_rep_with_a_password_read_from_stdin(tenant, client, without_lockout):
    out = run("--tenant", "acme", "--username", "nora", "--email", "Nora@Example.com", "--role", "rep",
              "--first-name", "Nora", "--capacity", "15", "--password-from-stdin", stdin=STRONG + "\n")

    assert "Created sales rep 'nora' <nora@example.com> in workspace 'acme'" in out
    nora = User.objects.get(username="nora")
    assert (nora.tenant, nora.role, nora.lead_capacity, nora.is_available, nora.is_staff) == (
        tenant, Role.REP, 15, True, True
    )
    assert client.login(username="nora", password=STRONG)


def test_an_admin_without_a_password(tenant):
    out = run("--tenant", "acme", "--username", "ada", "--email", "ada@example.com", "--role", "admin",
              "--no-password", "--away")

    ada = User.objects.get(username="ada")
    assert ada.role == Role.ADMIN and not ada.has_usable_password() and not ada.is_available
    assert "manage.py changepassword ada" in out


@pytest.mark.parametrize(
    ("args", "stdin", "says"),
    [
        (["--tenant", "nope"], STRONG, "No workspace with the slug 'nope'"),
        (["--username", "rita"], STRONG, "--username: The username 'rita' is taken"),
        (["--email", "not-an-email"], STRONG, "--email: Enter a valid email address"),
        ([], "123", "--password:"),
        ([], "", "read no password"),
        (["--capacity", "-3"], STRONG, "--capacity:"),
    ],
)
def test_clear_errors_and_nothing_created(tenant, rep, args, stdin, says):
    base = {"--tenant": "acme", "--username": "nora", "--email": "nora@example.com", "--role": "rep"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    argv = [item for pair in base.items() for item in pair] + ["--password-from-stdin"]

    with pytest.raises(CommandError) as error:
        run(*argv, stdin=stdin)

    assert says in str(error.value)
    assert User.objects.count() == 1  # rita only


def test_a_password_mode_is_required(tenant):
    with pytest.raises(CommandError, match="--password-from-stdin --no-password|one of the arguments"):
        run("--tenant", "acme", "--username", "nora", "--email", "nora@example.com", "--role", "rep")
    assert not User.objects.filter(username="nora").exists()


def test_an_unknown_role_is_refused(tenant):
    with pytest.raises(CommandError, match="invalid choice"):
        run("--tenant", "acme", "--username", "nora", "--email", "n@example.com", "--role", "boss", "--no-password")
