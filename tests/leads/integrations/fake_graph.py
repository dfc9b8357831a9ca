"""A fake Graph API on 127.0.0.1 (a http.server thread): tests and the benchmark never reach Facebook."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class FakeGraph:
    """Serves `GET /v0/{leadgen_id}?access_token=...` from `leads`; `failures` answers 500 that many times first."""

    def __init__(self):
        self.leads: dict[str, dict] = {}
        self.failures = 0
        self.requests: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        graph = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                url = urlsplit(self.path)
                leadgen_id = url.path.rsplit("/", 1)[-1]
                with graph.lock:
                    graph.requests.append((leadgen_id, parse_qs(url.query)))
                    failing = graph.failures > 0
                    if failing:
                        graph.failures -= 1
                lead = graph.leads.get(leadgen_id)
                if failing:
                    self._answer(500, {"error": {"message": "An unexpected error has occurred.", "code": 2}})
                elif lead is None:
                    self._answer(404, {"error": {"message": "Unsupported get request.", "code": 100}})
                else:
                    self._answer(200, lead)

            def _answer(self, status: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v0"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeGraph:
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def add_lead(self, leadgen_id: str, answers: dict[str, str], **more) -> dict:
        lead = {
            "id": leadgen_id, "created_time": "2026-01-05T10:00:00+0000",
            "field_data": [{"name": name, "values": [value]} for name, value in answers.items()], **more,
        }
        self.leads[leadgen_id] = lead
        return lead


def delivery(*changes: dict, page_id: str = "1001") -> bytes:
    """A webhook body as Facebook sends it: one page entry with leadgen changes."""
    return json.dumps({
        "object": "page",
        "entry": [{"id": page_id, "time": 1767607200, "changes": [
            {"field": "leadgen", "value": {"page_id": page_id, "created_time": 1767607200, **change}}
            for change in changes
        ]}],
    }).encode()
