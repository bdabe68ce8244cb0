"""A provider's API on 127.0.0.1 for outbound tests: it records what we sent and answers what the test
queued, in the provider's own wire format (the tests write those answers). No network beyond localhost.

    with FakeProvider() as provider:
        provider.answer(200, {"ok": True, "result": {"message_id": 7}})
        ... settings.X_API_BASE = provider.url ...
        provider.requests[0].json
"""

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)

    @property
    def form(self) -> dict[str, str]:
        return {name: values[-1] for name, values in parse_qs(self.body.decode()).items()}


class FakeProvider:
    def __init__(self):
        self.requests: list[Received] = []
        self.answers: list[tuple[int, bytes, float]] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self):
                size = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                provider.requests.append(Received(self.command, parts.path, parse_qs(parts.query),
                                                  dict(self.headers), self.rfile.read(size)))
                status, body, delay = provider.answers.pop(0) if provider.answers else (200, b"{}", 0)
                if delay:
                    threading.Event().wait(delay)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _any

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True  # a deliberately slow answer must not hold the test's end
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def answer(self, status: int, body: dict | str | bytes, *, delay: float = 0) -> None:
        """Queue the next answer (answered in order; an empty queue answers 200 {})."""
        if not isinstance(body, bytes):
            body = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        raw = body
        self.answers.append((status, raw, delay))

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
