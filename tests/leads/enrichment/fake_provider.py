"""A fake enrichment service on 127.0.0.1 (never the network): answers from a script, records every request."""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Asked:
    query: dict
    headers: dict


@dataclass
class FakeProvider:
    """`answers`: (status, body) in order, body a dict (sent as JSON) or str (sent as is); "hang" answers
    nothing until stopped. The last answer repeats."""

    answers: list = field(default_factory=lambda: [(200, {})])
    asked: list[Asked] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def start(self) -> "FakeProvider":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                fake.asked.append(Asked(query, {k.lower(): v for k, v in self.headers.items()}))
                answer = fake.answers[min(len(fake.asked), len(fake.answers)) - 1]
                if answer == "hang":
                    fake.release.wait(30)
                    return
                status, body = answer
                data = (body if isinstance(body, str) else json.dumps(body)).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v2/combined/find"

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
