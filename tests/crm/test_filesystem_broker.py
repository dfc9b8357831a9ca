"""The embedded broker of `make run` (kombu's filesystem transport) hands the worker whole messages only: a
message is written under a name the reader skips, then renamed into place (crm/celery.py)."""

from kombu import Connection


def test_messages_are_renamed_into_place_and_half_written_files_are_skipped(tmp_path):
    folders = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path),
               "control_folder": str(tmp_path / "control")}
    (tmp_path / "partial-being-written").write_bytes(b"")  # what a reader used to take and die on
    with Connection("filesystem://", transport_options=folders) as connection:
        assert type(connection.transport).__module__ == "crm.celery"
        queue = connection.SimpleQueue("nurture")
        queue.put({"task": "leads.tasks.run_nurture"})
        files = [p.name for p in tmp_path.iterdir() if p.is_file()]
        assert sorted(name.endswith(".nurture.msg") for name in files) == [False, True]
        message = queue.get(timeout=2)
        assert message.payload == {"task": "leads.tasks.run_nurture"}
        message.ack()
        queue.close()
