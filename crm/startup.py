"""What a process does before Django starts: create the local folders the settings name.

The settings only name paths; importing them touches no disk (tools such as mypy's Django plugin
import them too). manage.py, wsgi.py and asgi.py call create_local_folders() before setup.
"""

from pathlib import Path

from django.conf import settings

SQLITE_ENGINE = "django.db.backends.sqlite3"


def local_folders() -> list[Path]:
    """The folders nothing else creates: a SQLite database's folder (Django's backend creates the
    file, not its folder) and STATIC_ROOT (WhiteNoise warns when it is missing at startup)."""
    folders = []
    for database in settings.DATABASES.values():
        name = str(database.get("NAME") or "")
        if database.get("ENGINE") == SQLITE_ENGINE and name and name != ":memory:" and not name.startswith("file:"):
            folders.append(Path(name).parent)
    if settings.STATIC_ROOT:
        folders.append(Path(settings.STATIC_ROOT))
    return folders


def create_local_folders() -> None:
    for folder in local_folders():
        folder.mkdir(parents=True, exist_ok=True)
