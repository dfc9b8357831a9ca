"""The background engine: one Celery app, configured from Django settings (CELERY_* names).

Workers and beat start with `celery -A crm worker` / `celery -A crm beat` (Procfile); `make run`
starts both beside the web server on the embedded filesystem broker.
"""

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each installed app's tasks.py, in workers; apps also import theirs in ready(), because services
# queue tasks by name (crm/outbox.py) from any process.
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_filesystem_broker_folders(sender, **kwargs) -> None:
    # kombu's filesystem transport expects its folders to exist; they live under var/ (not in git).
    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        folder = (sender.conf.broker_transport_options or {}).get(key)
        if folder and sender.conf.broker_url.startswith("filesystem://"):
            Path(folder).mkdir(parents=True, exist_ok=True)
