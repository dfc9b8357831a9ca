"""Importing the settings touches no disk; a process's startup creates the local folders they name."""

import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import crm.settings
from crm import startup


def test_importing_the_settings_creates_no_folder(tmp_path):
    # The settings module alone in an empty project folder, so its BASE_DIR (and var/) is tmp_path's.
    (tmp_path / "crm").mkdir()
    (tmp_path / "crm" / "__init__.py").write_text("")
    shutil.copy(Path(crm.settings.__file__), tmp_path / "crm" / "settings.py")
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}  # the SQLite default
    env["PYTHONDONTWRITEBYTECODE"] = "1"

    result = subprocess.run(
        [sys.executable, "-c", "import crm.settings as s; print(s.BASE_DIR); print(s.DATABASES['default']['NAME'])"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )

    base_dir, database = result.stdout.splitlines()
    assert Path(base_dir) == tmp_path.resolve()  # the copy was imported, not the project's settings
    assert Path(database) == tmp_path.resolve() / "var" / "crm.sqlite3"
    assert sorted(path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*")) == [
        "crm",
        "crm/__init__.py",
        "crm/settings.py",
    ]


def test_startup_creates_the_sqlite_folder_and_static_root(tmp_path, monkeypatch):
    monkeypatch.setattr(
        startup,
        "settings",
        SimpleNamespace(
            DATABASES={
                "default": {"ENGINE": startup.SQLITE_ENGINE, "NAME": str(tmp_path / "var" / "crm.sqlite3")},
                "memory": {"ENGINE": startup.SQLITE_ENGINE, "NAME": ":memory:"},
                "pg": {"ENGINE": "django.db.backends.postgresql", "NAME": "crm"},
            },
            STATIC_ROOT=tmp_path / "var" / "static",
        ),
    )

    startup.create_local_folders()
    startup.create_local_folders()  # a restart finds them there

    assert sorted(path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*")) == ["var", "var/static"]
