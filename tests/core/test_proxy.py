"""Behind a reverse proxy: each visitor has their own rate-limit bucket and consent address.

The real WSGI app runs under waitress exactly as `clinicflow run` serves it (`cli.web_server`). In front
of it sits a tiny reverse proxy of our own that appends the peer's address to X-Forwarded-For, as nginx's
`$proxy_add_x_forwarded_for` does. Visitors connect from different loopback addresses (127.0.0.2, ...).
"""

import http.client
import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connections
from waitress import wasyncore

from clinicflow.cli import web_server
from clinicflow.compliance.models import Consent
from clinicflow.wsgi import application

URL = "/api/v1/public/inquiries"
PROXY_ADDRESS = "127.0.0.1"

pytestmark = pytest.mark.django_db(transaction=True)  # the app answers from waitress' own threads


@pytest.fixture
def app_port(monkeypatch):
    """The app under waitress on a free port; stopped from its own loop thread when the test ends."""
    # Each request closes its connection, so no waitress thread keeps one open to the test database.
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    server = web_server(application, host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield server.effective_port
    server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
    thread.join(timeout=10)
    server.task_dispatcher.shutdown()


class ForwardingProxy(BaseHTTPRequestHandler):
    """POST to the app, appending the address this proxy saw to X-Forwarded-For."""

    app_port: int

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        seen = self.client_address[0]
        forwarded = f"{self.headers['X-Forwarded-For']}, {seen}" if self.headers["X-Forwarded-For"] else seen
        upstream = http.client.HTTPConnection("127.0.0.1", self.app_port, timeout=10,
                                              source_address=(PROXY_ADDRESS, 0))
        upstream.request("POST", self.path, body=body, headers={
            "Content-Type": self.headers["Content-Type"], "Host": self.headers["Host"],
            "X-Forwarded-For": forwarded})
        response = upstream.getresponse()
        payload = response.read()
        upstream.close()
        self.send_response(response.status)
        self.send_header("Content-Type", response.getheader("Content-Type", ""))
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass  # quiet tests


@pytest.fixture
def proxy_port(app_port):
    handler = type("Proxy", (ForwardingProxy,), {"app_port": app_port})
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    yield proxy.server_address[1]
    proxy.shutdown()
    proxy.server_close()


@pytest.fixture(autouse=True)
def behind_the_proxy(settings, time_machine, moscow):
    settings.CLINICFLOW_TRUSTED_PROXIES = [PROXY_ADDRESS]
    settings.CLINICFLOW_CLIENT_IP_HEADER = "X-Forwarded-For"
    settings.CLINICFLOW_PUBLIC_RATE_LIMIT = 2
    # Well inside one rate-limit minute, so a window boundary cannot split a test's requests.
    time_machine.move_to(datetime(2025, 3, 12, 7, 0, 5, tzinfo=UTC), tick=True)


phones = iter(range(1_000_000))


def send_inquiry(port: int, *, source: str, forwarded_for: str = "") -> int:
    """Leave an inquiry as the website form does, from the loopback address `source`."""
    payload = {"name": "Ivan Petrov", "phone": f"+7916{next(phones):07d}", "consent": True}
    headers = {"Content-Type": "application/json", **({"X-Forwarded-For": forwarded_for} if forwarded_for else {})}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        connection.request("POST", URL, body=json.dumps(payload), headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def consent_addresses() -> list[str]:
    consents = Consent.objects.filter(purpose=Consent.Purpose.PROCESSING).order_by("id")
    return list(consents.values_list("ip_address", flat=True))


def test_each_visitor_behind_the_proxy_has_their_own_rate_limit(proxy_port):
    assert [send_inquiry(proxy_port, source="127.0.0.2") for _ in range(3)] == [201, 201, 429]
    assert [send_inquiry(proxy_port, source="127.0.0.3") for _ in range(2)] == [201, 201]


def test_the_consent_records_the_visitors_address_not_the_proxys(proxy_port):
    send_inquiry(proxy_port, source="127.0.0.2")
    send_inquiry(proxy_port, source="127.0.0.3")
    assert consent_addresses() == ["127.0.0.2", "127.0.0.3"]


def test_a_header_forged_through_the_proxy_does_not_change_the_address(proxy_port):
    send_inquiry(proxy_port, source="127.0.0.4", forwarded_for="203.0.113.66")
    send_inquiry(proxy_port, source="127.0.0.4", forwarded_for=f"203.0.113.66, {PROXY_ADDRESS}")
    assert consent_addresses() == ["127.0.0.4", "127.0.0.4"]


def test_a_client_that_forges_the_header_directly_at_the_app_cannot_choose_its_address(app_port, proxy_port):
    assert send_inquiry(app_port, source="127.0.0.5", forwarded_for="203.0.113.66") == 201
    assert consent_addresses() == ["127.0.0.5"]


def test_forging_another_visitors_address_does_not_use_up_their_limit(app_port, proxy_port):
    for _ in range(3):
        send_inquiry(app_port, source="127.0.0.6", forwarded_for="127.0.0.2")
    assert send_inquiry(proxy_port, source="127.0.0.2") == 201
