"""The embedded broker of `make run` (kombu's filesystem transport) hands the worker whole messages only: a
message is written under a name the reader skips, then renamed into place (crm/celery.py)."""

import os

from kombu import Connection


def test_messages_are_renamed_into_place_and_half_written_files_are_skipped(tmp_path):
    folders = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)}
    (tmp_path / "partial-being-written").write_bytes(b"")  # what a reader used to take and die on
    with Connection("filesystem://", transport_options=folders) as connection:
        assert type(connection.transport).__module__ == "crm.celery"
        queue = connection.SimpleQueue("nurture")
        queue.put({"task": "leads.tasks.run_nurture"})
        assert sorted(name.endswith(".nurture.msg") for name in os.listdir(tmp_path)) == [False, True]
        message = queue.get(timeout=2)
        assert message.payload == {"task": "leads.tasks.run_nurture"}
        message.ack()
        queue.close()
