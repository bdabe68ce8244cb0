"""The MIS tests' peer: Medplum's FHIR router with its in-memory repository, on 127.0.0.1 (fhir_server/).

`npm ci` in tests/mis/fhir_server installs it. Without node_modules the tests that need it are skipped,
and with CLINICFLOW_REQUIRE=mis (as .ci/run sets) that skip is a failure.
"""

import shutil
import socket
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

SERVER_DIR = Path(__file__).parent / "fhir_server"
WEBHOOK_TOKEN = "hook-secret-for-tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FhirServer:
    """A running Medplum router, and a small client to seed and change its resources as the MIS would."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url + "/", timeout=10,
                                 headers={"Content-Type": "application/fhir+json"})

    def create(self, resource: dict) -> dict:
        response = self.http.post(resource["resourceType"], json=resource)
        assert response.status_code == 201, response.text
        return response.json()

    def read(self, resource_type: str, mis_id: str) -> dict:
        response = self.http.get(f"{resource_type}/{mis_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def update(self, resource: dict) -> dict:
        resource = {key: value for key, value in resource.items() if key != "meta"}
        response = self.http.put(f"{resource['resourceType']}/{resource['id']}", json=resource)
        assert response.status_code == 200, response.text
        return response.json()

    def delete(self, resource_type: str, mis_id: str) -> None:
        assert self.http.delete(f"{resource_type}/{mis_id}").status_code == 200

    def search(self, resource_type: str, **params) -> list[dict]:
        response = self.http.get(resource_type, params=params)
        assert response.status_code == 200, response.text
        return [entry["resource"] for entry in response.json().get("entry", [])]

    def seed_doctor(self, *, name: str, location: str, days: int = 2, start: datetime | None = None) -> dict:
        """A practitioner with a role, a schedule at a location and 30-minute free slots from `start`."""
        practitioner = self.create({"resourceType": "Practitioner", "active": True, "name": [{"text": name}]})
        found = self.search("Location", name=location)
        place = found[0] if found else self.create({"resourceType": "Location", "status": "active",
                                                   "name": location})
        role = self.create({"resourceType": "PractitionerRole", "active": True,
                            "practitioner": {"reference": f"Practitioner/{practitioner['id']}"},
                            "location": [{"reference": f"Location/{place['id']}"}],
                            "specialty": [{"coding": [{"code": "cardio", "display": "Cardiology"}]}]})
        schedule = self.create({"resourceType": "Schedule", "active": True, "actor": [
            {"reference": f"Practitioner/{practitioner['id']}"}, {"reference": f"Location/{place['id']}"}]})
        start = start or datetime(2030, 3, 4, 6, 0, tzinfo=UTC)  # a Monday, 09:00 in Moscow
        slots = [self.create({"resourceType": "Slot", "status": "free",
                              "schedule": {"reference": f"Schedule/{schedule['id']}"},
                              "start": (start + timedelta(days=day, minutes=30 * n)).isoformat(),
                              "end": (start + timedelta(days=day, minutes=30 * (n + 1))).isoformat()})
                 for day in range(days) for n in range(4)]
        return {"practitioner": practitioner, "location": place, "role": role, "schedule": schedule,
                "slots": slots}


@pytest.fixture(scope="module")
def fhir_server():
    if not (SERVER_DIR / "node_modules" / "@medplum" / "fhir-router").exists() or not shutil.which("node"):
        pytest.skip("the Medplum FHIR server is not installed: run `npm ci` in tests/mis/fhir_server")
    port = free_port()
    process = subprocess.Popen(["node", "server.mjs", str(port)], cwd=SERVER_DIR, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        line = process.stdout.readline()  # "listening <port>", once the definitions are loaded
        assert line.startswith("listening"), f"the FHIR server did not start: {line}{process.stdout.read()}"
        yield FhirServer(f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def mis(fhir_server, settings) -> FhirServer:
    """clinicflow connected to the FHIR server, emptied, with its webhook on."""
    assert fhir_server.http.post("$reset").status_code == 204
    settings.CLINICFLOW_MIS_BASE_URL = fhir_server.base_url
    settings.CLINICFLOW_MIS_WEBHOOK_TOKEN = WEBHOOK_TOKEN
    settings.CLINICFLOW_MIS_SLOT_CACHE_SECONDS = 0
    return fhir_server


@pytest.fixture
def mis_down(settings) -> str:
    """An MIS address where nothing listens: every request fails as when the server is stopped."""
    url = f"http://127.0.0.1:{free_port()}"
    settings.CLINICFLOW_MIS_BASE_URL = url
    settings.CLINICFLOW_MIS_TIMEOUT_SECONDS = 2
    return url


def hook_headers(token: str = WEBHOOK_TOKEN) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}", "content_type": "application/fhir+json"}

