"""A provider's API on 127.0.0.1 for tests. It records each request and answers what the test queued, written
in the provider's own wire format (the JSON its documentation shows), so the code under test speaks real HTTP."""

import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl


@dataclass
class Recorded:
    method: str
    path: str  # with its query string
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)

    def form(self) -> dict:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))


class FakeProvider:
    def __init__(self):
        self.requests: list[Recorded] = []
        self._answers: deque = deque()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def answer(self, status: int = 200, json_body=None, body: bytes = b"", content_type="application/json",
               headers: dict | None = None):
        """Queue the answer to the next request."""
        if json_body is not None:
            body = json.dumps(json_body).encode()
        self._answers.append((status, body, content_type, headers or {}))

    def _respond(self, request: Recorded) -> tuple[int, bytes, str, dict]:
        self.requests.append(request)
        return self._answers.popleft() if self._answers else (500, b"no answer queued", "text/plain", {})

    def start(self):
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()


def _handler_for(provider: FakeProvider):
    class Handler(BaseHTTPRequestHandler):
        def _serve(self):
            length = int(self.headers.get("Content-Length") or 0)
            request = Recorded(self.command, self.path, dict(self.headers), self.rfile.read(length))
            status, body, content_type, headers = provider._respond(request)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _serve

        def log_message(self, *args):  # quiet test output
            pass

    return Handler
