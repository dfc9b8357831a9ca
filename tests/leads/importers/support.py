"""Shared by the import tests (no tests here): write a CSV as real exports do, run the command."""

from io import StringIO
from pathlib import Path

from django.core.management import call_command


def write_csv(tmp_path: Path, text: str, *, name: str = "leads.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run_import(path, *args, tenant: str = "acme") -> str:
    out = StringIO()
    call_command("import_leads", str(path), "--tenant", tenant, *args, stdout=out)
    return out.getvalue()
