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


# kombu's filesystem transport creates a message file, then writes it: a worker polling the folder can take
# the file while it is still empty and die on the JSON ("Unrecoverable error: JSONDecodeError", kombu issue
# #1551), which stops `make run`. Here a message is written under a name the reader skips (no ".<queue>.msg"
# suffix), then renamed into place, which is atomic: the reader sees whole messages only.
def _atomic_filesystem_transport():
    import uuid

    from kombu.transport import TRANSPORT_ALIASES, filesystem
    from kombu.utils.json import dumps

    class AtomicChannel(filesystem.Channel):
        def _put(self, queue, payload, **kwargs):  # type: ignore[override]  # kombu's own two bases disagree
            final = os.path.join(self.data_folder_out, f"{int(round(filesystem.monotonic() * 1000))}_"
                                 f"{uuid.uuid4()}.{queue}.msg")
            partial = os.path.join(self.data_folder_out, f"partial-{uuid.uuid4().hex}")
            try:
                with open(partial, "wb") as f:
                    f.write(dumps(payload).encode())
                os.replace(partial, final)
            except OSError as exc:
                raise filesystem.ChannelError(f"Cannot add file {final!r} to directory") from exc

    class Transport(filesystem.Transport):
        Channel = AtomicChannel

    TRANSPORT_ALIASES["filesystem"] = f"{__name__}:AtomicFilesystemTransport"
    return Transport


AtomicFilesystemTransport = _atomic_filesystem_transport()
